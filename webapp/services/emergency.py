"""Emergency access (SPEC §4.5): open a read-only window on one record, tell the patient and
the médecin traitant at once, flag it in the history, keep it for review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from webapp import policy
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    Account,
    Authorisation,
    AuthorisationKind,
    EmergencyAccess,
    Patient,
)
from webapp.policy import Mode, Permission
from webapp.services import notify
from webapp.services.audit import Action, record_access

# The short list of reasons (the free text says the rest).
REASONS = {
    "unconscious": _l("Patient inconscient ou hors d'état d'exprimer sa volonté"),
    "vital_distress": _l("Détresse vitale (cardiaque, respiratoire, neurologique)"),
    "trauma": _l("Accident ou traumatisme grave"),
    "intoxication": _l("Intoxication ou surdosage suspecté"),
    "regulation_call": _l("Appel au centre 15 concernant ce patient"),
}
MIN_JUSTIFICATION = 20


class EmergencyRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def window_length() -> timedelta:
    minutes: int = current_app.extensions["carnet.settings"].emergency_minutes
    return timedelta(minutes=minutes)


def open_window(
    actor: Account,
    patient: Patient,
    *,
    mode: Mode,
    reason_code: str,
    justification: str,
) -> EmergencyAccess:
    """Decide, then open and record; a refusal is recorded too (and committed by the caller)."""
    pro = actor.professional
    assert pro is not None
    decision = policy.decide(actor, Permission.EMERGENCY_OPEN, patient, mode)
    if not decision:
        record_access(
            patient,
            actor,
            Action.EMERGENCY_REFUSED,
            allowed=False,
            reason=decision.reason,
            mode=mode.value,
        )
        raise EmergencyRefused(decision.reason)
    if reason_code not in REASONS or len(justification.strip()) < MIN_JUSTIFICATION:
        raise ValueError("reason and justification are checked by the form")
    now = clock.now()
    # One patient at a time: a new window ends every earlier one of this professional, on
    # this record or another; a window is never renewed without a new reason.
    db.session.execute(
        update(EmergencyAccess)
        .where(
            EmergencyAccess.professional_id == pro.id,
            EmergencyAccess.ended_at.is_(None),
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    window = EmergencyAccess(
        patient_id=patient.id,
        professional_id=pro.id,
        account_id=actor.id,
        mode=mode.value,
        reason_code=reason_code,
        justification=justification.strip(),
        opened_at=now,
        expires_at=now + window_length(),
    )
    db.session.add(window)
    db.session.flush()
    record_access(
        patient,
        actor,
        Action.EMERGENCY_OPENED,
        reason=reason_code,
        mode=mode.value,
        resource_type="emergency",
        resource_id=window.id,
    )
    _tell(patient, actor, mode, now)
    return window


def _tell(patient: Patient, actor: Account, mode: Mode, when: datetime) -> None:
    """At once, whatever the patient chose for routine notices; never any medical content."""
    who = actor.display_name
    structure = actor.professional.structure if actor.professional else ""
    if patient.account is not None:
        notify.enqueue(
            patient.account,
            "emergency_access",
            who=who,
            structure=structure or "",
            when=when,
            regulation=mode == Mode.REGULATION,
        )
    traitant = db.session.scalar(
        select(Authorisation)
        .where(
            Authorisation.patient_id == patient.id,
            Authorisation.kind == AuthorisationKind.AUTHORISED,
            Authorisation.is_medecin_traitant.is_(True),
            Authorisation.revoked_at.is_(None),
        )
        .options(selectinload(Authorisation.professional))
        .limit(1)
    )
    if traitant is not None and traitant.professional.account is not None:
        doctor = traitant.professional.account
        if doctor.id != actor.id:
            notify.enqueue(
                doctor,
                "emergency_access_traitant",
                who=who,
                structure=structure or "",
                when=when,
                patient_name=f"{patient.first_names} {patient.last_name}",
                regulation=mode == Mode.REGULATION,
            )


def open_for(actor: Account, patient_id: int | None = None) -> EmergencyAccess | None:
    """The professional's window open now, if any (for the red banner), or the one on a
    given record."""
    pro = actor.professional
    if pro is None:
        return None
    query = select(EmergencyAccess).where(
        EmergencyAccess.professional_id == pro.id,
        EmergencyAccess.ended_at.is_(None),
        EmergencyAccess.expires_at > clock.now(),
    )
    if patient_id is not None:
        query = query.where(EmergencyAccess.patient_id == patient_id)
    return db.session.scalar(
        query.order_by(EmergencyAccess.opened_at.desc())
        .options(selectinload(EmergencyAccess.patient))
        .limit(1)
    )


def end(actor: Account, window: EmergencyAccess) -> None:
    window.ended_at = clock.now()
    record_access(
        window.patient,
        actor,
        Action.EMERGENCY_ENDED,
        mode=window.mode,
        resource_type="emergency",
        resource_id=window.id,
    )


@dataclass(frozen=True)
class ReviewLine:
    window: EmergencyAccess
    professional: str
    rpps: str
    structure: str


def for_review(since: datetime | None = None, *, unreviewed_only: bool = False) -> list[ReviewLine]:
    """Every emergency access, newest first, for the after-the-fact review."""
    query = (
        select(EmergencyAccess)
        .order_by(EmergencyAccess.opened_at.desc(), EmergencyAccess.id.desc())
        .options(selectinload(EmergencyAccess.professional), selectinload(EmergencyAccess.patient))
    )
    if since is not None:
        query = query.where(EmergencyAccess.opened_at >= since)
    if unreviewed_only:
        query = query.where(EmergencyAccess.reviewed_at.is_(None))
    return [
        ReviewLine(
            row,
            row.professional.display_name,
            row.professional.rpps,
            row.professional.structure or "",
        )
        for row in db.session.scalars(query)
    ]


def mark_reviewed(window_id: int, note: str) -> EmergencyAccess | None:
    window = db.session.get(EmergencyAccess, window_id)
    if window is None:
        return None
    window.reviewed_at = clock.now()
    window.review_note = note.strip()[:2000]
    return window
