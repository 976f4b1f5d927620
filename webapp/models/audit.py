"""The patient's access history: append-only, one HMAC chain per patient."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DDL,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, UTCDateTime


class AccessEvent(Base):
    __tablename__ = "access_events"
    __table_args__ = (
        UniqueConstraint("patient_id", "seq", name="uq_access_events_patient_seq"),
        Index("ix_access_events_patient_time", "patient_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    seq: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_account_id: Mapped[int | None] = mapped_column(Integer)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    actor_profession: Mapped[str] = mapped_column(String(60), default="")
    actor_structure: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(40))
    resource_type: Mapped[str] = mapped_column(String(40), default="")
    resource_id: Mapped[str] = mapped_column(String(64), default="")
    mode: Mapped[str] = mapped_column(String(16), default="normal")
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")
    prev_hmac: Mapped[str] = mapped_column(String(64))
    hmac: Mapped[str] = mapped_column(String(64))


def append_only_ddl(dialect: str) -> list[str]:
    """Statements that make access_events append-only; shared by models and migrations."""
    if dialect == "sqlite":
        return [
            "CREATE TRIGGER IF NOT EXISTS access_events_no_update BEFORE UPDATE ON access_events "
            "BEGIN SELECT RAISE(ABORT, 'access_events is append-only'); END",
            "CREATE TRIGGER IF NOT EXISTS access_events_no_delete BEFORE DELETE ON access_events "
            "BEGIN SELECT RAISE(ABORT, 'access_events is append-only'); END",
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION access_events_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'access_events is append-only'; END; $$ LANGUAGE plpgsql",
            "CREATE TRIGGER access_events_no_change BEFORE UPDATE OR DELETE ON access_events "
            "FOR EACH ROW EXECUTE FUNCTION access_events_append_only()",
            "CREATE TRIGGER access_events_no_truncate BEFORE TRUNCATE ON access_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION access_events_append_only()",
        ]
    raise RuntimeError(f"No append-only triggers for {dialect}")


for _dialect in ("sqlite", "postgresql"):
    for _statement in append_only_ddl(_dialect):
        event.listen(
            AccessEvent.__table__,
            "after_create",
            DDL(_statement).execute_if(dialect=_dialect),  # type: ignore[no-untyped-call]
        )
