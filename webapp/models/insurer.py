"""What the insurer's systems feed: their API tokens and the reimbursement lines (SPEC §8b)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, UTCDateTime

# Amounts in euros with cents, up to 9,999,999.99: exact decimals, never floats.
Amount = Numeric(9, 2, asdecimal=True)


class InsurerToken(Base):
    """A bearer token of one of the insurer's systems; only its SHA-256 is kept."""

    __tablename__ = "insurer_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reimbursement(Base):
    """One line of care reimbursed, as the insurer sent it; `line_id` is the insurer's own.

    `content_hash` is the SHA-256 of the line's normalised content: the same line sent again
    is recognised as unchanged, the same id with other content as a conflict.
    """

    __tablename__ = "reimbursements"
    __table_args__ = (
        # The patient's page: newest first within the 24 months, and its filters.
        Index("ix_reimbursements_patient_care", "patient_id", "care_date", "id"),
        # The purge of lines older than 24 months.
        Index("ix_reimbursements_care_date", "care_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    care_date: Mapped[date] = mapped_column(Date)
    act_code: Mapped[str] = mapped_column(String(20))
    act_label: Mapped[str] = mapped_column(String(200))
    professional: Mapped[str] = mapped_column(String(200))
    profession: Mapped[str] = mapped_column(String(100))
    amount_paid: Mapped[Decimal] = mapped_column(Amount)
    amount_reimbursed: Mapped[Decimal] = mapped_column(Amount)
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("insurer_tokens.id"))
