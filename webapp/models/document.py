"""Documents of a record, in the nine categories, with their encrypted file and versions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, UTCDateTime


class Category(StrEnum):
    """The nine categories of Mon Espace Santé, in their official order."""

    SUMMARY = "ma_sante"
    PRESCRIPTIONS = "ordonnances"
    IMAGING = "imagerie"
    LABORATORY = "biologie"
    REPORTS = "comptes_rendus"
    PREVENTION = "prevention"
    CERTIFICATES = "certificats"
    ADMINISTRATIVE = "administratif"
    OTHER = "autres"


class DocumentState(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"  # an earlier version, still listed under the current one
    DELETED = "deleted"  # the file is destroyed; the row stays as a tombstone


class AuthorKind(StrEnum):
    PATIENT = "patient"
    PROFESSIONAL = "professional"
    INSURER = "insurer"


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_patient_state_care", "patient_id", "state", "care_date", "id"),
        # Covers the counts per category of every viewer without reading the rows.
        Index(
            "ix_documents_counts",
            "patient_id",
            "state",
            "category",
            "masked_from_pros",
            "type_code",
            "hidden_from_patient_until",
            "author_account_id",
        ),
        Index("ix_documents_held", "patient_id", "hidden_from_patient_until"),
        Index("ix_documents_category_care", "patient_id", "state", "category", "care_date", "id"),
        Index("ix_documents_series", "series_id", "version"),
        # A form submitted twice (double click, resent after a timeout) creates one document.
        UniqueConstraint("patient_id", "submission_key", name="uq_documents_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(24))
    type_code: Mapped[str] = mapped_column(String(20))
    care_date: Mapped[date] = mapped_column(Date)
    author_kind: Mapped[str] = mapped_column(String(16))
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    author_label: Mapped[str] = mapped_column(String(200))
    author_profession: Mapped[str] = mapped_column(String(60), default="")
    author_structure: Mapped[str] = mapped_column(String(200), default="")
    deposited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    original_name: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(40))
    blob_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    key_id: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    masked_from_pros: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_from_patient_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_from_legal_reps: Mapped[bool] = mapped_column(Boolean, default=False)
    # The announcement hold (SPEC §4.4): the day-14 notice, and when the hold ended.
    hold_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    series_id: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(12), default=DocumentState.CURRENT)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submission_key: Mapped[str | None] = mapped_column(String(64))
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}

    def __repr__(self) -> str:
        return f"<Document {self.id} v{self.version} {self.state}>"
