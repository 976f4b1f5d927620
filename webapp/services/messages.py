"""Secure messaging (SPEC §6): a professional writes to a patient, the patient answers while the
conversation is open, the professional closes it. Texts are sealed like documents, attachments
are encrypted blobs with the documents' checks and limits; every step is in the history, and
the notice of a new message never holds its text.

Who may do what is decided by the policy (`webapp.policy`); these functions take the acting
account and trust the route to have asked it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.pagination import Page, paginate
from webapp.models import (
    Account,
    Conversation,
    Message,
    MessageAttachment,
    Patient,
    Professional,
    Role,
)
from webapp.models.document import AuthorKind
from webapp.policy import queries
from webapp.services import message_files, notify, storage
from webapp.services.audit import Action, record_access

SUBJECT_MAX = 150
BODY_MAX = 5000
THREAD_PAGE = 25
INBOX_PAGE = 25


class DuplicateSubmission(Exception):
    """The same form came twice: the first one's result stands."""

    def __init__(self, conversation: Conversation) -> None:
        super().__init__("duplicate submission")
        self.conversation = conversation


@dataclass(frozen=True)
class Upload:
    stream: IO[bytes]
    file_name: str


@dataclass(frozen=True)
class ShownMessage:
    """A message as a page shows it: its row, its opened text, its attachments."""

    message: Message
    body: str
    attachments: list[MessageAttachment]


# --- writing --------------------------------------------------------------------------------


def start(
    actor: Account,
    patient: Patient,
    *,
    subject: str,
    body: str,
    attachment: Upload | None = None,
    hidden_from_legal_reps: bool = False,
    submission_key: str | None = None,
) -> Conversation:
    """A professional opens a conversation with its first message (the caller commits)."""
    pro = actor.professional
    assert pro is not None
    if submission_key and (found := _started(pro, submission_key)) is not None:
        raise DuplicateSubmission(found)
    now = clock.now()
    conversation = Conversation(
        patient_id=patient.id,
        professional_id=pro.id,
        subject=subject.strip(),
        professional_label=pro.display_name,
        professional_profession=pro.profession,
        professional_structure=pro.structure or "",
        started_at=now,
        last_message_at=now,
        message_count=0,
        patient_unread=0,
        professional_unread=0,
        hidden_from_legal_reps=hidden_from_legal_reps,
        submission_key=submission_key,
    )
    db.session.add(conversation)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        found = _started(pro, submission_key or "")
        if found is None:
            raise
        raise DuplicateSubmission(found) from None
    _append(actor, patient, conversation, body, attachment, None)
    return conversation


def reply(
    actor: Account,
    conversation: Conversation,
    *,
    body: str,
    attachment: Upload | None = None,
    submission_key: str | None = None,
) -> Message:
    """A new message in an open conversation (the caller commits)."""
    if submission_key and (found := _sent(conversation, submission_key)) is not None:
        return found
    patient = _patient(conversation)
    return _append(actor, patient, conversation, body, attachment, submission_key)


def _append(
    actor: Account,
    patient: Patient,
    conversation: Conversation,
    body: str,
    attachment: Upload | None,
    submission_key: str | None,
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        author_kind=AuthorKind.PROFESSIONAL if actor.professional else AuthorKind.PATIENT,
        author_account_id=actor.id,
        author_label=actor.display_name,
        sent_at=clock.now(),
        key_id="",
        wrapped_key=b"",
        sealed_body=b"",
        submission_key=submission_key,
    )
    db.session.add(message)
    db.session.flush()
    sealed = storage.seal_text(_label(message), body.strip())
    message.key_id, message.wrapped_key, message.sealed_body = (
        sealed.key_id,
        sealed.wrapped_key,
        sealed.sealed,
    )
    if attachment is not None:
        message_files.attach(message, attachment)
    from_patient = message.author_kind == AuthorKind.PATIENT
    _count_new(conversation, message, from_patient)
    record_access(
        patient,
        actor,
        Action.MESSAGE_SENT,
        resource_type="conversation",
        resource_id=conversation.id,
    )
    if not from_patient and patient.account is not None:
        _tell_patient(patient.account, conversation)
    return message


def _count_new(conversation: Conversation, message: Message, from_patient: bool) -> None:
    """One UPDATE, so that two messages at once both count."""
    unread = (
        {"professional_unread": Conversation.professional_unread + 1}
        if from_patient
        else {"patient_unread": Conversation.patient_unread + 1}
    )
    db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(
            last_message_at=message.sent_at,
            message_count=Conversation.message_count + 1,
            row_version=Conversation.row_version + 1,
            **unread,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(conversation)


def _tell_patient(holder: Account, conversation: Conversation) -> None:
    """A routine notice that says only that a message is waiting: never its text, nor even
    its subject."""
    with force_locale(holder.language):
        summary = _("Un message vous attend dans votre messagerie Carnet.")
    notify.routine(holder, "new_message", summary, when=clock.now())


def close(actor: Account, conversation: Conversation) -> bool:
    """The professional ends the conversation; False when it was closed already."""
    closed = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.closed_at.is_(None))
        .values(closed_at=clock.now(), row_version=Conversation.row_version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(conversation)
    if getattr(closed, "rowcount", 0) != 1:
        return False
    record_access(
        _patient(conversation),
        actor,
        Action.CONVERSATION_CLOSED,
        resource_type="conversation",
        resource_id=conversation.id,
    )
    return True


def set_archived(actor: Account, conversation: Conversation, *, archived: bool) -> None:
    if (conversation.archived_at is not None) == archived:
        return
    conversation.archived_at = clock.now() if archived else None
    db.session.flush()
    record_access(
        _patient(conversation),
        actor,
        Action.CONVERSATION_ARCHIVED if archived else Action.CONVERSATION_UNARCHIVED,
        resource_type="conversation",
        resource_id=conversation.id,
    )


# --- reading --------------------------------------------------------------------------------


def inbox(actor: Account, *, archived: bool, search: str, page: int) -> Page[Conversation]:
    """The actor's conversations, newest first: archived or not (the patient's choice), and
    those whose subject or correspondent matches `search`."""
    query = queries.conversations_query(actor, archived=archived)
    words = search.strip()[:100]
    if words:
        pattern = "%" + words.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(
            or_(
                func.lower(Conversation.subject).like(func.lower(pattern)),
                func.lower(Conversation.professional_label).like(func.lower(pattern)),
                func.lower(Patient.last_name).like(func.lower(pattern)),
            )
        )
    return paginate(query, page, size=INBOX_PAGE)


def writable_patients(actor: Account, limit: int = 1000) -> list[tuple[int, str]]:
    """The patients a professional may write to, for the form's list: name and birth date."""
    rows = db.session.scalars(queries.reachable_patients(actor).limit(limit))
    return [(row.id, patient_label(row)) for row in rows]


def patient_label(patient: Patient) -> str:
    return f"{patient.last_name} {patient.first_names} ({patient.birth_date:%d/%m/%Y})"


def unread_count(actor: Account) -> int:
    """Messages waiting for the actor, for the badge the pages poll."""
    return int(db.session.scalar(queries.unread_query(actor)) or 0)


def thread(actor: Account, conversation: Conversation, page: int) -> Page[ShownMessage]:
    """One page of the thread: page 1 holds the newest messages; each page reads oldest first.
    What was waiting for the reader is marked read, and the reading is in the history."""
    query = (
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
    )
    newest_first = paginate(query, page, size=THREAD_PAGE, total=conversation.message_count)
    rows = list(reversed(newest_first.items))
    files = message_files.attachments_of(rows)
    shown = [ShownMessage(row, _open(row), files.get(row.id, [])) for row in rows]
    _mark_read(actor, conversation)
    return Page(shown, newest_first.number, newest_first.total, newest_first.size)


def _mark_read(actor: Account, conversation: Conversation) -> None:
    reader_is_patient = actor.role == Role.PATIENT  # participants only reach here (the policy)
    waiting = conversation.patient_unread if reader_is_patient else conversation.professional_unread
    if not waiting:
        return
    other = AuthorKind.PROFESSIONAL if reader_is_patient else AuthorKind.PATIENT
    db.session.execute(
        update(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.author_kind == other,
            Message.read_at.is_(None),
        )
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    counter = "patient_unread" if reader_is_patient else "professional_unread"
    db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values({counter: 0, "row_version": Conversation.row_version + 1})
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(conversation)
    record_access(
        _patient(conversation),
        actor,
        Action.CONVERSATION_READ,
        resource_type="conversation",
        resource_id=conversation.id,
        detail=f"{waiting} new",
    )


def text_of(message: Message) -> str:
    """A message's text, unsealed, without marking anything read (the record's export)."""
    return _open(message)


def _open(message: Message) -> str:
    return storage.open_text(
        _label(message), message.key_id, message.wrapped_key, message.sealed_body
    )


def _label(message: Message) -> str:
    return label_of(message.id)


def label_of(message_id: int) -> str:
    """What a message's sealed text and wrapped key are bound to."""
    return f"message-{message_id}"


# --- small lookups ----------------------------------------------------------------------------


def _patient(conversation: Conversation) -> Patient:
    patient = db.session.get(Patient, conversation.patient_id)
    assert patient is not None
    return patient


def _started(pro: Professional, key: str) -> Conversation | None:
    return db.session.scalar(
        select(Conversation).where(
            Conversation.professional_id == pro.id, Conversation.submission_key == key
        )
    )


def _sent(conversation: Conversation, key: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(
            Message.conversation_id == conversation.id, Message.submission_key == key
        )
    )
