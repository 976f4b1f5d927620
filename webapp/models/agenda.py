"""The agenda (SPEC §7): appointments shared between a patient and one professional, the state
of the patient's prevention reminders, the notices already sent, and the private calendar feed.

Two appointments of one professional never overlap: the database refuses it (an exclusion
constraint on PostgreSQL, a trigger on SQLite, which serialises its writers), so two requests
racing for one slot get one success whatever the application checked before."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    DDL,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, UTCDateTime

if TYPE_CHECKING:
    from webapp.models.account import Patient, Professional

OVERLAP = "appointment_overlap"  # the name both engines' refusals carry


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_patient", "patient_id", "starts_at", "id"),
        Index("ix_appointments_professional", "professional_id", "starts_at", "id"),
        # The feed's validator: the latest change of one patient's agenda, from the index.
        Index("ix_appointments_patient_updated", "patient_id", "updated_at"),
        UniqueConstraint("patient_id", "submission_key", name="uq_appointments_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    professional_id: Mapped[int | None] = mapped_column(ForeignKey("professionals.id"))
    title: Mapped[str] = mapped_column(String(120))
    place: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # The note, sealed like a message's text; absent when empty.
    key_id: Mapped[str | None] = mapped_column(String(16))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_kind: Mapped[str] = mapped_column(String(16))  # patient or professional
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_kind: Mapped[str] = mapped_column(String(16))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept from a minor's legal representatives (R1111-50), as documents can be.
    hidden_from_legal_reps: Mapped[bool] = mapped_column(Boolean, default=False)
    submission_key: Mapped[str | None] = mapped_column(String(64))
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    professional: Mapped[Professional | None] = relationship(lazy="raise")
    patient: Mapped[Patient] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": row_version}

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def __repr__(self) -> str:
        return f"<Appointment {self.id} {self.starts_at:%Y-%m-%d %H:%M}Z>"


_SQLITE_OVERLAP_CHECK = """
CREATE TRIGGER appointments_no_overlap_{when} BEFORE {event} ON appointments
WHEN NEW.professional_id IS NOT NULL AND NEW.cancelled_at IS NULL
BEGIN
  SELECT RAISE(ABORT, '{name}') FROM appointments
  WHERE professional_id = NEW.professional_id AND cancelled_at IS NULL AND id IS NOT NEW.id
    AND starts_at < NEW.ends_at AND NEW.starts_at < ends_at;
END
"""
SQLITE_TRIGGERS = tuple(
    _SQLITE_OVERLAP_CHECK.format(when=when, event=evt, name=OVERLAP)
    for when, evt in (("insert", "INSERT"), ("update", "UPDATE"))
)
POSTGRES_EXTENSION = "CREATE EXTENSION IF NOT EXISTS btree_gist"
POSTGRES_EXCLUSION = (
    f"ALTER TABLE appointments ADD CONSTRAINT {OVERLAP} EXCLUDE USING gist "
    "(professional_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    "WHERE (cancelled_at IS NULL AND professional_id IS NOT NULL)"
)


def _ddl(statement: str, dialect: str) -> DDL:
    return DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


for _statement in SQLITE_TRIGGERS:
    event.listen(Appointment.__table__, "after_create", _ddl(_statement, "sqlite"))
event.listen(Appointment.__table__, "before_create", _ddl(POSTGRES_EXTENSION, "postgresql"))
event.listen(Appointment.__table__, "after_create", _ddl(POSTGRES_EXCLUSION, "postgresql"))


class ReminderStatus:
    DONE = "done"
    POSTPONED = "postponed"
    DISMISSED = "dismissed"


class ReminderState(Base):
    """What the patient did with one prevention reminder; no row means "as the rules say"."""

    __tablename__ = "reminder_states"
    __table_args__ = (UniqueConstraint("patient_id", "code", name="uq_reminder_states_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12))
    until: Mapped[date | None] = mapped_column(Date)  # postponed to this day
    done_on: Mapped[date | None] = mapped_column(Date)  # a screening done, as a dated note
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaNotice(Base):
    """One notice sent (the day before, or the day itself): its key is unique, so a second run
    of `flask agenda remind`, or two at once, never sends it again."""

    __tablename__ = "agenda_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaFeed(Base):
    """The private calendar address: only the token's SHA-256 is kept."""

    __tablename__ = "agenda_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    include_notes: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The history records a calendar's reading once per day, not once per poll.
    last_logged_on: Mapped[date | None] = mapped_column(Date)
