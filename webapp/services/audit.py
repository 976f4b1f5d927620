"""The access history: one `record_access` for every feature, and the chain verifier."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Patient, Role
from webapp.services import crypto

GENESIS = "0" * 64


class Action(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_REFUSED = "sign_in_refused"
    SECOND_FACTOR_REFUSED = "second_factor_refused"
    RECOVERY_CODE_USED = "recovery_code_used"
    PASSWORD_RESET = "password_reset"
    PASSWORD_RESET_REFUSED = "password_reset_refused"
    SIGN_OUT = "sign_out"
    SESSION_ENDED = "session_ended"
    SIGN_OUT_EVERYWHERE = "sign_out_everywhere"
    REAUTHENTICATED = "reauthenticated"
    AUTHENTICATOR_ENROLLED = "authenticator_enrolled"
    AUTHENTICATOR_REMOVED = "authenticator_removed"
    HISTORY_EXPORTED = "history_exported"
    DOCUMENT_VIEWED = "document_viewed"
    DOCUMENT_DOWNLOADED = "document_downloaded"
    DOCUMENT_DEPOSITED = "document_deposited"
    DOCUMENT_REPLACED = "document_replaced"
    DOCUMENT_MASKED = "document_masked"
    DOCUMENT_UNMASKED = "document_unmasked"
    DOCUMENT_DELETED = "document_deleted"
    DOCUMENT_REFUSED = "document_refused"
    RECORD_PENDING = "record_pending"
    RECORD_OPENED = "record_opened"
    RECORD_REOPENED = "record_reopened"
    RECORD_OPPOSED = "record_opposed"
    RECORD_CLOSED = "record_closed"
    RECORD_SUSPENDED = "record_suspended"
    RECORD_SUSPENSION_LIFTED = "record_suspension_lifted"
    RECORD_DELETED = "record_deleted"
    DELETION_REQUESTED = "deletion_requested"
    CODE_ISSUED = "code_issued"
    CODE_REFUSED = "code_refused"
    ONLINE_ACCESS_OPENED = "online_access_opened"
    EMERGENCY_SETTINGS_CHANGED = "emergency_settings_changed"
    COUNTER_IDENTIFIED = "counter_identified"
    COUNTER_CONSENT = "counter_consent"
    RECORD_CONSULTED = "record_consulted"
    AUTHORISATION_GRANTED = "authorisation_granted"
    CONSENT_DECLARED = "consent_declared"
    AUTHORISATION_REVOKED = "authorisation_revoked"
    PROFESSIONAL_BLOCKED = "professional_blocked"
    PROFESSIONAL_UNBLOCKED = "professional_unblocked"
    TRAITANT_DECLARED = "traitant_declared"
    TRAITANT_RIGHTS_GIVEN = "traitant_rights_given"
    TRAITANT_RIGHTS_REMOVED = "traitant_rights_removed"
    EMERGENCY_OPENED = "emergency_opened"
    EMERGENCY_REFUSED = "emergency_refused"
    EMERGENCY_ENDED = "emergency_ended"
    EMERGENCY_SUMMARY_VIEWED = "emergency_summary_viewed"
    DOCUMENT_RELEASED = "document_released"
    HOLD_NOTICE_SENT = "hold_notice_sent"
    PROFILE_ENTRY_ADDED = "profile_entry_added"
    PROFILE_ENTRY_CHANGED = "profile_entry_changed"
    PROFILE_ENTRY_DELETED = "profile_entry_deleted"
    PROFILE_ENTRY_MASKED = "profile_entry_masked"
    PROFILE_ENTRY_UNMASKED = "profile_entry_unmasked"
    PROFILE_VIEWED = "profile_viewed"
    SAFETY_WARNING_ACKNOWLEDGED = "safety_warning_acknowledged"
    MESSAGE_SENT = "message_sent"
    CONVERSATION_READ = "conversation_read"
    CONVERSATION_CLOSED = "conversation_closed"
    CONVERSATION_ARCHIVED = "conversation_archived"
    CONVERSATION_UNARCHIVED = "conversation_unarchived"
    CONVERSATION_REFUSED = "conversation_refused"
    ATTACHMENT_SAVED = "attachment_saved"
    APPOINTMENT_CREATED = "appointment_created"
    APPOINTMENT_CHANGED = "appointment_changed"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_REFUSED = "appointment_refused"
    REMINDER_UPDATED = "reminder_updated"
    FEED_CREATED = "feed_created"
    FEED_REVOKED = "feed_revoked"
    FEED_READ = "feed_read"
    REIMBURSEMENTS_RECEIVED = "reimbursements_received"  # detail: how many lines
    REIMBURSEMENTS_EXPORTED = "reimbursements_exported"
    CERTIFICATE_DEPOSITED = "certificate_deposited"  # a vaccination certificate, by the insurer
    BENEFICIARY_UPDATED = "beneficiary_updated"  # the register changed over the API
    RECORD_EXPORTED = "record_exported"  # the whole record taken away as a ZIP
    PAPER_COPY_DOWNLOADED = "paper_copy_downloaded"
    PAPER_COPY_REQUESTED = "paper_copy_requested"  # by post, asked at the counter


class ActorKind(StrEnum):
    PATIENT = "patient"
    PROFESSIONAL = "professional"
    AGENT = "agent"
    SYSTEM = "system"
    INSURER = "insurer"  # the Assurance Maladie's systems, over the API
    UNKNOWN = "unknown"
    OTHER_PATIENT = "other_patient"  # someone else's account: kept by id, not named here


def _actor_fields(actor: Account | None) -> tuple[str, str, str, str]:
    """Kind, name, profession and structure as they stand at the time of the event."""
    if actor is None:
        return ActorKind.UNKNOWN, "", "", ""
    # The role first: asking a patient for her professional or agent row costs a query each.
    if actor.role == Role.PROFESSIONAL and actor.professional is not None:
        pro = actor.professional
        return ActorKind.PROFESSIONAL, pro.display_name, pro.profession, pro.structure or ""
    if actor.role == Role.AGENT and actor.agent is not None:
        agent = actor.agent
        return (
            ActorKind.AGENT,
            actor.display_name,
            "agent",
            f"{agent.organisation}, {agent.counter}",
        )
    return ActorKind.PATIENT, actor.display_name, "", ""


def _kind_for(patient: Patient, actor: Account | None, kind: str) -> tuple[str, bool]:
    """A patient acting on another's record is not "you" in that record's history."""
    if kind == ActorKind.PATIENT and (
        actor is None or actor.patient is None or actor.patient.id != patient.id
    ):
        return ActorKind.OTHER_PATIENT, False
    return kind, True


def _payload(event: AccessEvent) -> bytes:
    fields = [
        event.patient_id,
        event.seq,
        event.occurred_at.isoformat(timespec="microseconds"),
        event.actor_account_id,
        event.actor_kind,
        event.actor_label,
        event.actor_profession,
        event.actor_structure,
        event.action,
        event.resource_type,
        event.resource_id,
        event.mode,
        event.allowed,
        event.reason,
        event.detail,
        event.prev_hmac,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def _sign(event: AccessEvent) -> str:
    key = crypto.settings().audit_key
    return hmac.new(key, _payload(event), hashlib.sha256).hexdigest()


def record_access(
    patient: Patient,
    actor: Account | None,
    action: str,
    *,
    allowed: bool = True,
    reason: str = "",
    mode: str = "normal",
    resource_type: str = "",
    resource_id: str | int = "",
    detail: str = "",
    actor_kind: str | None = None,
) -> AccessEvent:
    """Append one event to the patient's chain, inside the caller's transaction.

    The patient's row is locked while the chain grows, so appends for one patient are
    serialised and appends for different patients never wait for each other.
    """
    head_seq, head_hmac = db.session.execute(
        select(Patient.audit_head_seq, Patient.audit_head_hmac)
        .where(Patient.id == patient.id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: inserts referencing the patient go on
    ).one()
    kind, label, profession, structure = _actor_fields(actor)
    kind, named = _kind_for(patient, actor, kind)
    label = label if named else ""
    event = AccessEvent(
        patient_id=patient.id,
        seq=head_seq + 1,
        occurred_at=clock.now(),
        actor_account_id=actor.id if actor else None,
        actor_kind=actor_kind or kind,
        actor_label=label[:200],
        actor_profession=profession[:60],
        actor_structure=structure[:200],
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id),
        mode=mode,
        allowed=allowed,
        reason=reason[:200],
        detail=detail[:300],
        prev_hmac=head_hmac or GENESIS,
    )
    event.hmac = _sign(event)
    db.session.add(event)
    db.session.execute(
        update(Patient)
        .where(Patient.id == patient.id)
        .values(audit_head_seq=event.seq, audit_head_hmac=event.hmac)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return event


def record_system_events(
    details: Mapping[int, str], action: str, *, actor_kind: str = ActorKind.SYSTEM
) -> None:
    """Append one event with no account behind it to each patient's chain (patient id →
    detail), inside the caller's transaction: the same rows `record_access` writes, in a
    bounded number of statements whatever the number of patients.

    The heads are locked in the order of the patients' ids, the order every bulk writer
    takes, so two batches touching the same records wait for each other, never deadlock.
    """
    ids = sorted(details)
    now = clock.now()
    key = crypto.settings().audit_key
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        heads = db.session.execute(
            select(Patient.id, Patient.audit_head_seq, Patient.audit_head_hmac)
            .where(Patient.id.in_(chunk))
            .order_by(Patient.id)
            .with_for_update(key_share=True)
        ).all()
        events = []
        for patient_id, head_seq, head_hmac in heads:
            event = AccessEvent(
                patient_id=patient_id,
                seq=head_seq + 1,
                occurred_at=now,
                actor_account_id=None,
                actor_kind=actor_kind,
                actor_label="",
                actor_profession="",
                actor_structure="",
                action=action,
                resource_type="",
                resource_id="",
                mode="normal",
                allowed=True,
                reason="",
                detail=details[patient_id][:300],
                prev_hmac=head_hmac or GENESIS,
            )
            event.hmac = hmac.new(key, _payload(event), hashlib.sha256).hexdigest()
            events.append(event)
        db.session.add_all(events)
        db.session.execute(
            update(Patient).execution_options(synchronize_session=False),
            [
                {"id": e.patient_id, "audit_head_seq": e.seq, "audit_head_hmac": e.hmac}
                for e in events
            ],
        )
    db.session.flush()


_CHUNK = 500  # patients a statement locks at a time


@dataclass(frozen=True)
class ChainBreak:
    patient_id: int
    seq: int
    problem: str


def _verify_patient(patient_id: int, head_seq: int, head_hmac: str | None) -> ChainBreak | None:
    rows = db.session.scalars(
        select(AccessEvent)
        .where(AccessEvent.patient_id == patient_id)
        .order_by(AccessEvent.seq)
        .execution_options(yield_per=500)
    )
    try:
        return _first_break(patient_id, rows, head_seq, head_hmac)
    finally:
        rows.close()


def _first_break(
    patient_id: int, rows: Iterable[AccessEvent], head_seq: int, head_hmac: str | None
) -> ChainBreak | None:
    expected_seq = 1
    previous = GENESIS
    for event in rows:
        if event.seq != expected_seq:
            return ChainBreak(patient_id, expected_seq, "missing or reordered row")
        if event.prev_hmac != previous:
            return ChainBreak(patient_id, event.seq, "link to the previous row broken")
        if not crypto.same(_sign(event), event.hmac):
            return ChainBreak(patient_id, event.seq, "row altered")
        previous = event.hmac
        expected_seq += 1
    if expected_seq - 1 != head_seq or (head_seq and previous != head_hmac):
        return ChainBreak(patient_id, expected_seq, "rows missing at the end of the chain")
    return None


def verify_all() -> tuple[int, list[ChainBreak]]:
    """Check every patient's chain; report the first broken row of each."""
    breaks: list[ChainBreak] = []
    heads = db.session.execute(
        select(Patient.id, Patient.audit_head_seq, Patient.audit_head_hmac).order_by(Patient.id)
    ).all()
    for patient_id, head_seq, head_hmac in heads:
        found = _verify_patient(patient_id, head_seq, head_hmac)
        if found is not None:
            breaks.append(found)
        db.session.expunge_all()
    return len(heads), breaks
