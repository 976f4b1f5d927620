"""The beneficiary register, provisional codes, and enrolments assisted at a counter."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.account import Account
from webapp.models.base import Base, UTCDateTime


class Beneficiary(Base):
    """A person known to the insurer (filled by the insurer feed or `flask beneficiaries import`).

    Contacts here are the ones the insurer holds: codes are only ever sent to them.
    """

    __tablename__ = "beneficiaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    nir: Mapped[str] = mapped_column(String(15), unique=True)
    vitale_serial: Mapped[str] = mapped_column(String(12))
    last_name: Mapped[str] = mapped_column(String(100))
    first_names: Mapped[str] = mapped_column(String(150))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def postal_address(self) -> str:
        lines = [f"{self.first_names} {self.last_name}", self.address or ""]
        lines.append(f"{self.postcode or ''} {self.city or ''}".strip())
        return "\n".join(line for line in lines if line)

    def __repr__(self) -> str:
        return f"<Beneficiary {self.id}>"


class CodeIssuer(StrEnum):
    CAMPAIGN = "campaign"  # the insurer's mailing (`flask enrolment send-codes`)
    SELF_SERVICE = "self_service"  # the lost-code form
    AGENT = "agent"
    PROFESSIONAL = "professional"


class ProvisionalCode(Base):
    """A 12-character code, stored only as a keyed HMAC of its normalised form."""

    __tablename__ = "provisional_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    code_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(8))  # email, sms or letter
    # Keyed digest of where it went, for the per-destination limit (never the address itself).
    destination_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    issued_by: Mapped[str] = mapped_column(String(16))
    issued_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AssistedEnrolment(Base):
    """A person helped in person by a counter agent or a professional, step by step.

    Holds what was explained and the oral consent; the activation letter is kept sealed for
    printing only while the visit lasts, then wiped.
    """

    __tablename__ = "assisted_enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    items_explained: Mapped[str] = mapped_column(String(300), default="")
    informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    letter_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    letter_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    beneficiary: Mapped[Beneficiary] = relationship()
    actor: Mapped[Account] = relationship()


class CounterAction(Base):
    """What an agent or a professional did for a person in person, shown at the counter.

    Only administrative facts: the medical content is never reachable from here.
    """

    __tablename__ = "counter_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("assisted_enrolments.id"))
    actor_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    actor: Mapped[Account] = relationship()
