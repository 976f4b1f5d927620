"""A consultation of a record, recorded in its history; a professional's first one is told to
the patient at once (SPEC §5). An emergency access has its own notice, sent when it opens."""

from __future__ import annotations

from sqlalchemy import select, true

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Patient
from webapp.services import notify
from webapp.services.audit import Action, record_access

# What counts as opening a record, for the "first access" notice.
OPENINGS = (
    Action.DOCUMENT_VIEWED,
    Action.DOCUMENT_DOWNLOADED,
    Action.RECORD_CONSULTED,
    Action.PROFILE_VIEWED,
    Action.EMERGENCY_SUMMARY_VIEWED,
)


def note(
    patient: Patient,
    actor: Account,
    action: Action,
    *,
    reason: str,
    mode: str,
    resource_type: str = "",
    resource_id: str | int = "",
    detail: str = "",
) -> None:
    first = actor.professional is not None and not has_opened_before(patient, actor)
    record_access(
        patient,
        actor,
        action,
        reason=reason,
        mode=mode,
        resource_type=resource_type,
        resource_id=resource_id,
        detail=detail,
    )
    if first and mode == "normal" and patient.account is not None:
        notify.enqueue(patient.account, "first_access", who=actor.display_name, when=clock.now())


def has_opened_before(patient: Patient, actor: Account) -> bool:
    found = db.session.scalar(
        select(AccessEvent.id)
        .where(
            AccessEvent.patient_id == patient.id,
            AccessEvent.actor_account_id == actor.id,
            AccessEvent.allowed == true(),
            AccessEvent.action.in_(list(OPENINGS)),
        )
        .limit(1)
    )
    return found is not None
