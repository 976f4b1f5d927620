"""Adding, replacing, masking and deleting documents; every change is in the access history."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from typing import IO

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Document, DocumentState, MessageAttachment, Patient, Role
from webapp.models.base import affected
from webapp.models.document import AuthorKind
from webapp.services import catalogue, file_safety, notify, storage
from webapp.services.audit import Action, ActorKind, record_access

PATIENT_LIMIT = 5 * 1024 * 1024
PROFESSIONAL_LIMIT = 20 * 1024 * 1024
# The insurer's deposits come whole in an API request, whose body is limited to 5 Mo.
INSURER_LIMIT = 5 * 1024 * 1024
INSURER_LABEL = "Assurance Maladie"


class DuplicateSubmission(Exception):
    """The same form arrived twice; the first document stands."""

    def __init__(self, existing: Document) -> None:
        super().__init__("duplicate submission")
        self.existing = existing


class ReplacedMeanwhile(Exception):
    """Another tab replaced or deleted this document first."""


def upload_limit(actor: Account) -> int:
    return PROFESSIONAL_LIMIT if actor.role == Role.PROFESSIONAL else PATIENT_LIMIT


def safe_file_name(name: str) -> str:
    """A file name for display and download: no path, no control or direction characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(
        ch
        for ch in unicodedata.normalize("NFC", name)
        if unicodedata.category(ch)[0] != "C" and ch not in '"<>|*?:'
    )
    return kept.strip(" .")[:150]


def _author_fields(actor: Account | None) -> dict[str, object]:
    if actor is None:  # the insurer's systems: no account, the institution's name
        return {"author_kind": AuthorKind.INSURER, "author_label": INSURER_LABEL}
    if actor.professional is not None:
        pro = actor.professional
        return {
            "author_kind": AuthorKind.PROFESSIONAL,
            "author_label": pro.display_name,
            "author_profession": pro.profession,
            "author_structure": pro.structure or "",
        }
    return {"author_kind": AuthorKind.PATIENT, "author_label": actor.display_name}


def _find_submission(patient: Patient, key: str) -> Document | None:
    return db.session.scalar(
        select(Document).where(Document.patient_id == patient.id, Document.submission_key == key)
    )


def add(
    actor: Account | None,
    patient: Patient,
    *,
    stream: storage.Readable,
    file_name: str,
    title: str,
    category: str,
    care_date: date,
    type_code: str | None = None,
    submission_key: str | None = None,
    hold_from_patient: bool = False,
    hidden_from_legal_reps: bool = False,
    author: Account | None = None,
    insurer: bool = False,
) -> Document:
    """Store the file encrypted, then the row; the caller commits (a blob without a row is
    swept later, a row never points to a missing blob).

    `author`: who wrote it, when not the actor (a professional's attachment the patient keeps).

    `hold_from_patient` (a professional's deposit only): the patient sees a neutral
    placeholder until the author releases it, or for 30 days at most (SPEC §4.4).

    `insurer`: the insurer's systems deposit it over their API (a vaccination certificate,
    SPEC §8b); there is no account then (`actor` is None), the author is "Assurance Maladie".
    """
    if (actor is None) is not insurer:
        raise ValueError("only the insurer's deposits come without an account")
    hold_from_patient = hold_from_patient and actor is not None and actor.professional is not None
    if submission_key and (found := _find_submission(patient, submission_key)) is not None:
        raise DuplicateSubmission(found)
    limit = upload_limit(actor) if actor is not None else INSURER_LIMIT
    blob = file_safety.store_upload(stream, max_bytes=limit)
    writer = author or actor
    document = Document(
        patient_id=patient.id,
        title=title.strip(),
        category=category,
        type_code=type_code or catalogue.current().default_type(category),
        care_date=care_date,
        author_account_id=writer.id if writer is not None else None,
        deposited_at=clock.now(),
        original_name=safe_file_name(file_name),
        size=blob.size,
        sha256=blob.sha256,
        media_type=blob.media_type,
        blob_id=blob.blob_id,
        key_id=blob.key_id,
        wrapped_key=blob.wrapped_key,
        masked_from_pros=False,
        hidden_from_patient_until=clock.now() + HOLD_AT_MOST if hold_from_patient else None,
        hidden_from_legal_reps=(
            hidden_from_legal_reps and actor is not None and actor.professional is not None
        ),
        version=1,
        state=DocumentState.CURRENT,
        submission_key=submission_key,
        **_author_fields(writer),
    )
    _flush_first_version(document, patient, blob.blob_id, submission_key)
    _record_deposit(actor, patient, document, held=hold_from_patient)
    return document


def _flush_first_version(
    document: Document, patient: Patient, blob_id: str, submission_key: str | None
) -> None:
    """Flush a new document as the first of its own series.

    A submission that lost the race with its twin deletes its blob and raises
    DuplicateSubmission with the document that stands.
    """
    db.session.add(document)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        storage.delete(blob_id)
        existing = _find_submission(patient, submission_key or "")
        if existing is None:
            raise
        raise DuplicateSubmission(existing) from None
    document.series_id = document.id


def _record_deposit(
    actor: Account | None, patient: Patient, document: Document, *, held: bool
) -> None:
    if actor is None:  # the insurer deposits nothing but vaccination certificates (SPEC §8b)
        record_access(
            patient,
            None,
            Action.CERTIFICATE_DEPOSITED,
            actor_kind=ActorKind.INSURER,
            resource_type="document",
            resource_id=document.id,
        )
        _tell_patient_of_deposit(None, patient)
        return
    record_access(
        patient,
        actor,
        Action.DOCUMENT_DEPOSITED,
        resource_type="document",
        resource_id=document.id,
        detail="held from the patient until an announcement consultation" if held else "",
    )
    if not held:  # a held result is announced by a professional, not an e-mail
        _tell_patient_of_deposit(actor, patient)


HOLD_AT_MOST = timedelta(days=30)
HOLD_NOTICE_AFTER = timedelta(days=14)


def release(actor: Account | None, doc: Document, *, detail: str = "") -> bool:
    """End an announcement hold: the author after the consultation, or the 30-day limit.

    One conditional UPDATE claims the release: two at once (a double click, the author and
    the daily run) release, record and notify once. Returns whether this call released it.
    """
    now = clock.now()
    claimed = db.session.execute(
        update(Document)
        .where(
            Document.id == doc.id,
            Document.released_at.is_(None),
            Document.hidden_from_patient_until.is_not(None),
        )
        .values(hidden_from_patient_until=now, released_at=now)
        .execution_options(synchronize_session=False)
    )
    if not affected(claimed):
        return False
    db.session.refresh(doc)
    patient = db.session.get(Patient, doc.patient_id)
    assert patient is not None
    record_access(
        patient,
        actor,
        Action.DOCUMENT_RELEASED,
        resource_type="document",
        resource_id=doc.id,
        detail=detail,
        actor_kind=None if actor is not None else "system",
    )
    holder = patient.account
    if holder is not None:
        author = doc.author_label
        notify.routine(
            holder,
            "new_document",
            _summary_new_document(holder, author),
            author=author,
            when=now,
        )
    return True


def _tell_patient_of_deposit(actor: Account | None, patient: Patient) -> None:
    """A routine notice to the holder, unless she deposited it herself; `actor` None is the
    insurer."""
    if actor is not None and actor.patient is not None and actor.patient.id == patient.id:
        return
    holder = patient.account
    if holder is not None:
        author = actor.display_name if actor is not None else INSURER_LABEL
        notify.routine(
            holder,
            "new_document",
            _summary_new_document(holder, author),
            author=author,
            when=clock.now(),
        )


def _summary_new_document(holder: Account, author: str) -> str:

    with force_locale(holder.language):
        return _("%(author)s a ajouté un document à votre dossier.", author=author)


def replace(actor: Account, old: Document, *, stream: IO[bytes], file_name: str) -> Document:
    """A new version; the earlier one stays listed. Two tabs: the second gets a conflict."""
    patient = db.session.get(Patient, old.patient_id)
    assert patient is not None
    blob = file_safety.store_upload(stream, max_bytes=upload_limit(actor))
    superseded = db.session.execute(
        update(Document)
        .where(
            Document.id == old.id,
            Document.state == DocumentState.CURRENT,
            Document.row_version == old.row_version,
        )
        .values(state=DocumentState.SUPERSEDED, row_version=old.row_version + 1)
        .execution_options(synchronize_session=False)
    )
    if affected(superseded) != 1:
        storage.delete(blob.blob_id)
        raise ReplacedMeanwhile()
    document = Document(
        patient_id=old.patient_id,
        title=old.title,
        category=old.category,
        type_code=old.type_code,
        care_date=old.care_date,
        author_account_id=actor.id,
        deposited_at=clock.now(),
        original_name=safe_file_name(file_name),
        size=blob.size,
        sha256=blob.sha256,
        media_type=blob.media_type,
        blob_id=blob.blob_id,
        key_id=blob.key_id,
        wrapped_key=blob.wrapped_key,
        masked_from_pros=old.masked_from_pros,
        hidden_from_patient_until=old.hidden_from_patient_until,
        hidden_from_legal_reps=old.hidden_from_legal_reps,
        series_id=old.series_id,
        version=old.version + 1,
        state=DocumentState.CURRENT,
        **_author_fields(actor),
    )
    db.session.add(document)
    db.session.flush()
    record_access(
        patient,
        actor,
        Action.DOCUMENT_REPLACED,
        resource_type="document",
        resource_id=document.id,
        detail=f"version {document.version}",
    )
    return document


def set_masked(actor: Account, doc: Document, *, masked: bool) -> None:
    patient = db.session.get(Patient, doc.patient_id)
    assert patient is not None
    doc.masked_from_pros = masked
    db.session.flush()
    record_access(
        patient,
        actor,
        Action.DOCUMENT_MASKED if masked else Action.DOCUMENT_UNMASKED,
        resource_type="document",
        resource_id=doc.id,
    )


def delete(actor: Account, doc: Document) -> list[str]:
    """Tombstone every version of the document; returns the blobs to destroy after commit."""
    patient = db.session.get(Patient, doc.patient_id)
    assert patient is not None
    versions = db.session.scalars(
        select(Document).where(
            Document.series_id == doc.series_id, Document.state != DocumentState.DELETED
        )
    ).all()
    blobs = [v.blob_id for v in versions if v.blob_id]
    now = clock.now()
    for version in versions:
        version.state = DocumentState.DELETED
        version.deleted_at = now
        version.blob_id = None
    # An attachment kept as this document may be kept again.
    db.session.execute(
        update(MessageAttachment)
        .where(MessageAttachment.saved_document_id.in_([v.id for v in versions]))
        .values(saved_document_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    record_access(
        patient,
        actor,
        Action.DOCUMENT_DELETED,
        resource_type="document",
        resource_id=doc.id,
        detail=f"{len(versions)} version(s)",
    )
    return blobs


def destroy_files(blob_ids: list[str]) -> None:
    """After the commit: a file that fails to go now is an orphan the sweeper removes."""
    for blob_id in blob_ids:
        storage.delete(blob_id)


def content(doc: Document) -> Iterator[bytes]:
    if doc.blob_id is None:
        raise storage.BlobMissing(str(doc.id))
    return storage.read(doc.blob_id, doc.key_id, doc.wrapped_key)


def versions_of(doc: Document) -> list[Document]:
    return list(
        db.session.scalars(
            select(Document)
            .where(Document.series_id == doc.series_id, Document.state != DocumentState.DELETED)
            .order_by(Document.version.desc())
            .limit(50)
        )
    )
