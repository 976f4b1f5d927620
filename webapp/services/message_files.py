"""The files of secure messaging: attachments stored as encrypted blobs with the documents'
checks and limits, read back, and kept by the patient among her documents (a copy with a
blob of its own, attributed to the message's author)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Conversation, Document, Message, MessageAttachment
from webapp.policy.relations import patient_of
from webapp.services import documents, file_safety, storage
from webapp.services.audit import Action, record_access

if TYPE_CHECKING:
    from webapp.services.messages import Upload

ATTACHMENT_LIMIT = documents.PATIENT_LIMIT  # 5 MB, as the patient's own documents (SPEC §6)


def attach(message: Message, upload: Upload) -> MessageAttachment:
    blob = file_safety.store_upload(upload.stream, max_bytes=ATTACHMENT_LIMIT)
    attachment = MessageAttachment(
        message_id=message.id,
        conversation_id=message.conversation_id,
        original_name=documents.safe_file_name(upload.file_name) or "piece-jointe",
        size=blob.size,
        sha256=blob.sha256,
        media_type=blob.media_type,
        blob_id=blob.blob_id,
        key_id=blob.key_id,
        wrapped_key=blob.wrapped_key,
    )
    db.session.add(attachment)
    try:
        db.session.flush()
    except BaseException:
        storage.delete(blob.blob_id)
        raise
    return attachment


def attachments_of(rows: list[Message]) -> dict[int, list[MessageAttachment]]:
    if not rows:
        return {}
    found: dict[int, list[MessageAttachment]] = {}
    for attachment in db.session.scalars(
        select(MessageAttachment)
        .where(MessageAttachment.message_id.in_([row.id for row in rows]))
        .order_by(MessageAttachment.id)
    ):
        found.setdefault(attachment.message_id, []).append(attachment)
    return found


def attachment_in(conversation: Conversation, attachment_id: int) -> MessageAttachment | None:
    attachment = db.session.get(MessageAttachment, attachment_id)
    if attachment is None or attachment.conversation_id != conversation.id:
        return None
    return attachment


def read_attachment(attachment: MessageAttachment) -> Iterator[bytes]:
    return storage.read(attachment.blob_id, attachment.key_id, attachment.wrapped_key)


def save_attachment(
    actor: Account, conversation: Conversation, attachment: MessageAttachment, *, category: str
) -> Document:
    """The patient keeps an attachment among her documents, in the category she chose; the
    document keeps the message's author, and has a blob of its own."""
    message = db.session.get(Message, attachment.message_id)
    assert message is not None
    author = (
        db.session.get(Account, message.author_account_id) if message.author_account_id else None
    )
    document = documents.add(
        actor,
        patient_of(conversation.patient_id),
        stream=_ChunkReader(read_attachment(attachment)),
        file_name=attachment.original_name,
        title=_title(attachment, conversation),
        category=category,
        care_date=clock.to_paris(message.sent_at).date(),
        author=author,
    )
    attachment.saved_document_id = document.id
    db.session.flush()
    record_access(
        patient_of(conversation.patient_id),
        actor,
        Action.ATTACHMENT_SAVED,
        resource_type="document",
        resource_id=document.id,
        detail=f"conversation {conversation.id}",
    )
    return document


def _title(attachment: MessageAttachment, conversation: Conversation) -> str:
    stem = attachment.original_name.rsplit(".", 1)[0].strip()
    return (stem or conversation.subject)[:200]


class _ChunkReader:
    """A file-like reader over decrypted chunks, for storing them again."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int = -1, /) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data
