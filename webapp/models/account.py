"""Accounts and the role profiles attached to them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, UTCDateTime


class Role(StrEnum):
    PATIENT = "patient"
    PROFESSIONAL = "professional"
    AGENT = "agent"


class AccountState(StrEnum):
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    DISABLED = "disabled"


class SecondFactor(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    TOTP = "totp"


class RecordState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    OPPOSED = "opposed"
    CLOSED = "closed"
    DELETED = "deleted"
    SUSPENDED = "suspended"


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24), default=AccountState.ACTIVE)
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(20))
    second_factor: Mapped[str] = mapped_column(String(8), default=SecondFactor.EMAIL)
    # Sealed with the master key (services.crypto); never shown, logged or put in a repr.
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2), default="fr")
    # Routine notifications (new document…): "immediate" or "digest" (once a day).
    routine_notices: Mapped[str] = mapped_column(
        String(10), default="immediate", server_default="immediate"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patient: Mapped[Patient | None] = relationship(back_populates="account", uselist=False)
    professional: Mapped[Professional | None] = relationship(
        back_populates="account", uselist=False
    )
    agent: Mapped[Agent | None] = relationship(back_populates="account", uselist=False)

    # Flask-Login protocol; the session itself is checked in services.sessions.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def uses_totp(self) -> bool:
        return self.totp_confirmed_at is not None

    @property
    def display_name(self) -> str:
        if self.patient is not None:
            return f"{self.patient.first_names} {self.patient.last_name}"
        if self.professional is not None:
            return self.professional.display_name
        if self.agent is not None:
            return f"{self.agent.first_names} {self.agent.last_name}"
        return self.identifier

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.role}>"


class Patient(Base):
    """A record holder. The account is optional: a record exists before online access."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), unique=True)
    nir: Mapped[str] = mapped_column(String(15), unique=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_names: Mapped[str] = mapped_column(String(150))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    record_state: Mapped[str] = mapped_column(String(16), default=RecordState.ACTIVE)
    # Head of this patient's access-history chain, checked by `flask audit verify`.
    audit_head_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head_hmac: Mapped[str | None] = mapped_column(String(64))
    # The life of the record (services.lifecycle): when it entered its present state, and
    # the dates the timed transitions count from.
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Emergency access (SPEC 4.5): the person may oppose each mode separately.
    oppose_emergency_access: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    oppose_regulation_access: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    account: Mapped[Account | None] = relationship(back_populates="patient")

    def __repr__(self) -> str:
        return f"<Patient {self.id}>"


class Professional(Base):
    """A directory entry; the account appears once the professional is activated."""

    __tablename__ = "professionals"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), unique=True)
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_names: Mapped[str] = mapped_column(String(150))
    profession: Mapped[str] = mapped_column(String(40))
    specialty: Mapped[str | None] = mapped_column(String(60))
    structure: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    samu_regulator: Mapped[bool] = mapped_column(Boolean, default=False)

    account: Mapped[Account | None] = relationship(back_populates="professional")

    @property
    def display_name(self) -> str:
        title = "Dr " if self.profession in ("medecin", "chirurgien_dentiste") else ""
        return f"{title}{self.first_names} {self.last_name}"

    def __repr__(self) -> str:
        return f"<Professional {self.id} {self.profession}>"


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_names: Mapped[str] = mapped_column(String(150))
    organisation: Mapped[str] = mapped_column(String(200))
    counter: Mapped[str] = mapped_column(String(100))

    account: Mapped[Account] = relationship(back_populates="agent")

    def __repr__(self) -> str:
        return f"<Agent {self.id}>"
