"""Who among the professionals may open a patient's record, as the patient decided."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.account import Professional
from webapp.models.base import Base, UTCDateTime


class AuthorisationKind(StrEnum):
    AUTHORISED = "authorised"
    BLOCKED = "blocked"  # gets nothing, emergency included


class Authorisation(Base):
    __tablename__ = "authorisations"
    __table_args__ = (Index("ix_authorisations_pair", "patient_id", "professional_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    professional_id: Mapped[int] = mapped_column(ForeignKey("professionals.id"))
    kind: Mapped[str] = mapped_column(String(12))
    # The médecin traitant, or a professional given the same rights by the patient.
    traitant_rights: Mapped[bool] = mapped_column(Boolean, default=False)
    is_medecin_traitant: Mapped[bool] = mapped_column(Boolean, default=False)
    granted_by: Mapped[str] = mapped_column(String(16))  # "patient" or "professional"
    granted_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Occupational physicians and fire-brigade doctors: the patient read what they will see.
    express: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    professional: Mapped[Professional] = relationship()
