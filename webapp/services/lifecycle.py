"""The life of a record: one small state machine, and the timed transitions.

pending → active → closed → deleted, with opposed (the person refused) and suspended (fraud).
Every transition is one conditional UPDATE on the state it starts from, so two requests (or
two `flask lifecycle run` at once) never both carry it out, and each is written to the
record's access history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Beneficiary, Document, DocumentState, Patient, UserSession
from webapp.models.account import AccountState, RecordState
from webapp.models.base import affected
from webapp.services import documents, notify, provisional, purge, reimbursements, storage
from webapp.services.audit import Action, ActorKind, record_access

AUTO_OPEN_AFTER = timedelta(weeks=6)
ARCHIVE_FOR = timedelta(days=3653)  # ten years, leap days included
SUSPENSION_CLOSES_AFTER = timedelta(weeks=6)

S = RecordState
# From each state (None: no record yet), the states a record may move to.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({S.PENDING, S.ACTIVE, S.OPPOSED}),
    S.PENDING: frozenset({S.ACTIVE, S.OPPOSED}),
    S.OPPOSED: frozenset({S.PENDING, S.ACTIVE}),
    S.ACTIVE: frozenset({S.CLOSED, S.SUSPENDED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.CLOSED}),
    S.CLOSED: frozenset({S.ACTIVE, S.DELETED}),
    S.DELETED: frozenset({S.PENDING, S.ACTIVE}),  # a new, empty record
}


class InvalidTransition(ValueError):
    """This record cannot go from its state to the one asked."""


class ChangedMeanwhile(RuntimeError):
    """Another request changed the record's state first."""


def allowed(current: str | None, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


_ACTIONS: dict[str, Action] = {
    S.PENDING: Action.RECORD_PENDING,
    S.OPPOSED: Action.RECORD_OPPOSED,
    S.CLOSED: Action.RECORD_CLOSED,
    S.SUSPENDED: Action.RECORD_SUSPENDED,
    S.DELETED: Action.RECORD_DELETED,
}
_BACK_TO_ACTIVE: dict[str, Action] = {
    S.CLOSED: Action.RECORD_REOPENED,
    S.SUSPENDED: Action.RECORD_SUSPENSION_LIFTED,
}


def _action_for(current: str | None, target: str) -> Action:
    if target == S.ACTIVE:
        return _BACK_TO_ACTIVE.get(current or "", Action.RECORD_OPENED)
    return _ACTIONS[target]


def _dates(target: str, now: datetime) -> dict[str, object]:
    values: dict[str, object] = {"record_state": target, "state_changed_at": now}
    if target == S.PENDING:
        values["pending_since"] = now
    elif target == S.OPPOSED:
        values["opposed_at"] = now
    elif target == S.CLOSED:
        values["closed_at"] = now
    elif target == S.SUSPENDED:
        values["suspended_at"] = now
    elif target == S.ACTIVE:
        values.update(closed_at=None, suspended_at=None, deletion_requested_at=None)
    return values


def transition(
    patient: Patient,
    target: str,
    *,
    actor: Account | None,
    detail: str = "",
    actor_kind: str | None = None,
) -> None:
    """Move the record to `target`, or raise; written to its history in the same transaction."""
    current = patient.record_state
    if not allowed(current, target):
        raise InvalidTransition(f"{current} → {target}")
    now = clock.now()
    result = db.session.execute(
        update(Patient)
        .where(Patient.id == patient.id, Patient.record_state == current)
        .values(**_dates(target, now))
        .execution_options(synchronize_session=False)
    )
    if affected(result) != 1:
        raise ChangedMeanwhile(f"record {patient.id} is no longer {current}")
    db.session.refresh(patient)
    record_access(
        patient,
        actor,
        _action_for(current, target),
        resource_type="record",
        resource_id=patient.id,
        detail=detail,
        actor_kind=actor_kind or (ActorKind.SYSTEM if actor is None else None),
    )
    if target in (S.CLOSED, S.SUSPENDED):
        _end_online_access(patient)
    if target == S.SUSPENDED:
        provisional.supersede_all(patient)  # no code may reopen a record under suspicion


def record_for(beneficiary: Beneficiary) -> Patient | None:
    return db.session.scalar(select(Patient).where(Patient.nir == beneficiary.nir))


def create(
    beneficiary: Beneficiary, target: str, *, actor: Account | None, detail: str = ""
) -> Patient:
    """The record of a person who had none, created straight in `target`."""
    if not allowed(None, target):
        raise InvalidTransition(f"none → {target}")
    now = clock.now()
    patient = Patient(
        nir=beneficiary.nir,
        last_name=beneficiary.last_name,
        first_names=beneficiary.first_names,
        birth_date=beneficiary.birth_date,
        sex=beneficiary.sex,
        audit_head_seq=0,
        **_dates(target, now),
    )
    db.session.add(patient)
    db.session.flush()
    record_access(
        patient,
        actor,
        _action_for(None, target),
        resource_type="record",
        resource_id=patient.id,
        detail=detail,
        actor_kind=ActorKind.SYSTEM if actor is None else None,
    )
    return patient


def ensure_for_code(beneficiary: Beneficiary, *, actor: Account | None) -> Patient:
    """The record a new provisional code is bound to, created pending if there is none."""
    patient = record_for(beneficiary)
    if patient is None:
        return create(beneficiary, S.PENDING, actor=actor)
    if patient.record_state == S.PENDING:
        patient.pending_since = clock.now()  # six weeks from the code the person now holds
    # An opposed or deleted record keeps its state: only the person, activating with the
    # code, turns it into an open record; nothing opens it behind their back.
    return patient


def can_receive_code(patient: Patient | None) -> bool:
    """A code can open a record, reopen a closed one, or give online access to an open one."""
    if patient is None:
        return True
    if patient.record_state == S.ACTIVE:
        account = patient.account
        return account is None or account.state == AccountState.DISABLED
    return patient.record_state in (S.PENDING, S.OPPOSED, S.CLOSED, S.DELETED)


def request_deletion(patient: Patient, *, actor: Account | None) -> None:
    """An express deletion request on a closed record, carried out by the next run."""
    if patient.record_state != S.CLOSED:
        raise InvalidTransition("only a closed record can be deleted")
    patient.deletion_requested_at = clock.now()
    record_access(
        patient, actor, Action.DELETION_REQUESTED, resource_type="record", resource_id=patient.id
    )


def _end_online_access(patient: Patient) -> None:
    """Closing: every session ends and the account cannot sign in until the record reopens."""
    if patient.account_id is None:
        return
    now = clock.now()
    db.session.execute(
        update(UserSession)
        .where(UserSession.account_id == patient.account_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Account)
        .where(Account.id == patient.account_id)
        .values(state=AccountState.DISABLED)
        .execution_options(synchronize_session=False)
    )


@dataclass
class RunReport:
    opened: int = 0
    codes_expired: int = 0
    deleted: int = 0
    closed_after_suspension: int = 0
    hold_notices: int = 0
    released: int = 0
    reimbursements_purged: int = 0
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"held documents announced at day 14: {self.hold_notices}",
            f"held documents released at day 30: {self.released}",
            f"records opened after six weeks: {self.opened}",
            f"provisional codes expired: {self.codes_expired}",
            f"suspended records closed: {self.closed_after_suspension}",
            f"records deleted: {self.deleted}",
            f"reimbursement lines older than 24 months deleted: {self.reimbursements_purged}",
        ]


def _ids(*conditions: object) -> list[int]:
    return list(db.session.scalars(select(Patient.id).where(*conditions).order_by(Patient.id)))  # type: ignore[arg-type]


def _step(patient_id: int, expected: str, target: str, detail: str) -> Patient | None:
    """One timed transition in its own transaction; None when another run got there first."""
    patient = db.session.get(Patient, patient_id, populate_existing=True)
    if patient is None or patient.record_state != expected:
        db.session.rollback()
        return None
    try:
        transition(patient, target, actor=None, detail=detail)
    except ChangedMeanwhile:
        db.session.rollback()
        return None
    return patient


def run(*, extra: list[str] | None = None) -> RunReport:
    """Carry out what is due now. Idempotent; safe to run twice at the same time."""
    report = RunReport()
    now = clock.now()
    for patient_id in _ids(
        Patient.record_state == S.PENDING, Patient.pending_since <= now - AUTO_OPEN_AFTER
    ):
        patient = _step(patient_id, S.PENDING, S.ACTIVE, "six weeks without opposition")
        if patient is not None:
            notify_person(patient, "record_opened", opened_on=now.date())
            db.session.commit()
            report.opened += 1
    report.codes_expired = provisional.expire_due()
    db.session.commit()
    for patient_id in _ids(
        Patient.record_state == S.SUSPENDED,
        Patient.suspended_at <= now - SUSPENSION_CLOSES_AFTER,
    ):
        patient = _step(patient_id, S.SUSPENDED, S.CLOSED, "suspension without objection")
        if patient is not None:
            notify_person(patient, "record_closed", closed_on=now.date(), deletion_requested=False)
            db.session.commit()
            report.closed_after_suspension += 1
    for patient_id in _ids(
        Patient.record_state == S.CLOSED,
        (Patient.deletion_requested_at.is_not(None)) | (Patient.closed_at <= now - ARCHIVE_FOR),
    ):
        patient = _step(patient_id, S.CLOSED, S.DELETED, "")
        if patient is None:
            continue
        blobs = purge.purge_record(patient)
        db.session.commit()
        for blob_id in blobs:
            storage.delete(blob_id)
        report.deleted += 1
    report.hold_notices = _send_hold_notices(now)
    report.released = _release_held(now)
    # Lines leave the page the day they turn 24 months old (the policy's query); here they go.
    report.reimbursements_purged = reimbursements.purge_older()
    db.session.commit()
    return report


def _send_hold_notices(now: datetime) -> int:
    """SPEC §4.4: tell the patient at day 14 that the record was updated (released at day 30).

    Each document is claimed by one conditional UPDATE, so two runs never act twice.
    """
    notices = 0
    due_notice = db.session.scalars(
        select(Document.id).where(
            Document.state == DocumentState.CURRENT,
            Document.hidden_from_patient_until > now,
            Document.hold_notice_sent_at.is_(None),
            Document.deposited_at <= now - documents.HOLD_NOTICE_AFTER,
        )
    ).all()
    for doc_id in due_notice:
        claimed = db.session.execute(
            update(Document)
            .where(
                Document.id == doc_id,
                Document.hold_notice_sent_at.is_(None),
                Document.state == DocumentState.CURRENT,
                Document.released_at.is_(None),
                Document.hidden_from_patient_until > now,
            )
            .values(hold_notice_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if not affected(claimed):
            db.session.rollback()
            continue
        doc = db.session.get(Document, doc_id, populate_existing=True)
        assert doc is not None
        patient = db.session.get(Patient, doc.patient_id)
        assert patient is not None
        record_access(
            patient,
            None,
            Action.HOLD_NOTICE_SENT,
            resource_type="document",
            resource_id=doc_id,
            actor_kind="system",
        )
        notify_person(patient, "record_updated_see_doctor")
        db.session.commit()
        notices += 1
    return notices


def _release_held(now: datetime) -> int:
    """SPEC §4.4: a document held from the patient is released 30 days after its deposit."""
    released = 0
    due_release = db.session.scalars(
        select(Document.id).where(
            Document.state == DocumentState.CURRENT,
            Document.hidden_from_patient_until.is_not(None),
            Document.hidden_from_patient_until <= now,
            Document.released_at.is_(None),
        )
    ).all()
    for doc_id in due_release:
        doc = db.session.get(Document, doc_id, populate_existing=True)
        if doc is None or not documents.release(None, doc, detail="30 days after the deposit"):
            db.session.rollback()
            continue
        db.session.commit()
        released += 1
    return released


def notify_person(patient: Patient, kind: str, **context: Any) -> None:
    """Tell the person by e-mail, or by post when the insurer has no e-mail for them."""
    beneficiary = db.session.scalar(select(Beneficiary).where(Beneficiary.nir == patient.nir))
    account = patient.account
    names: dict[str, Any] = {"first_names": patient.first_names, "last_name": patient.last_name}
    if account is not None and account.email and account.state != AccountState.DISABLED:
        notify.enqueue(account, kind, **names, **context)
        return
    email = account.email if account is not None and account.email else None
    email = email or (beneficiary.email if beneficiary is not None else None)
    if email:
        notify.enqueue_contact(email, "email", kind, **names, **context)
    elif beneficiary is not None and beneficiary.address:
        notify.enqueue_letter(beneficiary.postal_address, kind, **names, **context)


def close_by_holder(patient: Patient, actor: Account, *, delete: bool) -> None:
    """The holder closes her record from her settings, asking for its deletion or not, and is
    told by e-mail or by post. Raises ChangedMeanwhile when the record moved meanwhile."""
    transition(patient, S.CLOSED, actor=actor)
    if delete:
        request_deletion(patient, actor=actor)
    notify_person(patient, "record_closed", closed_on=clock.now().date(), deletion_requested=delete)
