"""Secure messaging (SPEC §6): a conversation between one professional and one patient, its
messages (the text sealed like a document's file) and their attachments (encrypted blobs)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, UTCDateTime

if TYPE_CHECKING:
    from webapp.models.account import Patient


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # The patient's inbox (archived or not, newest first) and its unread count.
        Index("ix_conversations_patient", "patient_id", "archived_at", "last_message_at", "id"),
        Index("ix_conversations_patient_unread", "patient_id", "patient_unread"),
        # The professional's conversations and their unread count.
        Index("ix_conversations_professional", "professional_id", "last_message_at", "id"),
        Index("ix_conversations_professional_unread", "professional_id", "professional_unread"),
        UniqueConstraint("professional_id", "submission_key", name="uq_conversations_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    professional_id: Mapped[int] = mapped_column(ForeignKey("professionals.id"))
    subject: Mapped[str] = mapped_column(String(200))
    # The professional as the patient sees them, at the time of writing (never an address).
    professional_label: Mapped[str] = mapped_column(String(200))
    professional_profession: Mapped[str] = mapped_column(String(60), default="")
    professional_structure: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    patient_unread: Mapped[int] = mapped_column(Integer, default=0)
    professional_unread: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by the patient
    # Kept from a minor's legal representatives (R1111-50), as documents can be.
    hidden_from_legal_reps: Mapped[bool] = mapped_column(Boolean, default=False)
    submission_key: Mapped[str | None] = mapped_column(String(64))
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    # Loaded with the inbox's own join, never one row at a time.
    patient: Mapped[Patient] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": row_version}

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def __repr__(self) -> str:
        return f"<Conversation {self.id} {'open' if self.is_open else 'closed'}>"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation", "conversation_id", "id"),
        # A form sent twice (double click, a resend after a timeout) makes one message.
        UniqueConstraint("conversation_id", "submission_key", name="uq_messages_submission"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    author_kind: Mapped[str] = mapped_column(String(16))  # patient or professional
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    author_label: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by the other party
    # The text, sealed under a data key of its own wrapped by the master key.
    key_id: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_body: Mapped[bytes] = mapped_column(LargeBinary)
    submission_key: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:  # never the text
        return f"<Message {self.id} of {self.conversation_id}>"


class MessageAttachment(Base):
    __tablename__ = "message_attachments"
    __table_args__ = (Index("ix_message_attachments_message", "message_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    original_name: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(40))
    blob_id: Mapped[str] = mapped_column(String(32), unique=True)
    key_id: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The document the patient saved it as (its own blob: deleting one leaves the other).
    saved_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))

    def __repr__(self) -> str:
        return f"<MessageAttachment {self.id} of message {self.message_id}>"
