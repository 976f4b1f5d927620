"""Emergency access (*bris de glace*) and the SAMU regulation mode: one window, one patient."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.account import Patient, Professional
from webapp.models.base import Base, UTCDateTime


class EmergencyMode(StrEnum):
    BREAK_GLASS = "emergency"  # any professional (L1111-17 I a)
    REGULATION = "regulation"  # the SAMU regulating physician (L1111-17 I b)


class EmergencyAccess(Base):
    """A read-only window on one record, opened with a reason and an attestation.

    Kept for the after-the-fact review (`flask audit emergencies`); never renewed: a new
    window needs a new justification.
    """

    __tablename__ = "emergency_accesses"
    __table_args__ = (
        Index("ix_emergency_pair", "professional_id", "patient_id", "expires_at"),
        Index("ix_emergency_opened", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    professional_id: Mapped[int] = mapped_column(ForeignKey("professionals.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    mode: Mapped[str] = mapped_column(String(12))
    reason_code: Mapped[str] = mapped_column(String(32))
    justification: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str] = mapped_column(Text, default="")

    patient: Mapped[Patient] = relationship()
    professional: Mapped[Professional] = relationship()
