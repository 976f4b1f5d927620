"""Enrolment in person: a counter agent (or a professional) with the person in front of them.

A visit starts when the person is identified by their carte Vitale and lasts two hours. It
records what was explained and the oral consent; it never reaches medical content. A code
is never shown to the helper: it goes by message, or into a letter kept sealed for printing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    Account,
    AssistedEnrolment,
    Authorisation,
    AuthorisationKind,
    Beneficiary,
    CodeIssuer,
    CounterAction,
    Patient,
)
from webapp.models.account import AccountState, RecordState, Role
from webapp.policy import queries
from webapp.services import crypto, enrolment, letters, lifecycle, provisional, recovery
from webapp.services.audit import Action, record_access

VISIT_LIFETIME = timedelta(hours=2)
# States from which the person's consent, given here, opens the record.
OPENABLE = (RecordState.PENDING, RecordState.OPPOSED, RecordState.CLOSED, RecordState.DELETED)
PHARMACIST_GRANT = timedelta(days=3)
LETTER_LIFETIME = timedelta(minutes=30)

# The *présentation du DMP*: what the person must have been told before consenting.
INFORMATION_ITEMS = {
    "purpose": _l(
        "À quoi sert le dossier : garder ses documents de santé et les partager avec ses soignants."
    ),
    "control": _l(
        "C'est la personne qui décide quels professionnels peuvent le lire ; "
        "elle peut en bloquer un."
    ),
    "masking": _l("Elle peut masquer un document aux professionnels, ou le supprimer."),
    "history": _l("Chaque consultation est inscrite dans un historique qu'elle peut lire."),
    "emergency": _l("En urgence, un médecin peut le consulter, sauf si elle s'y oppose."),
    "close": _l("Elle peut fermer son dossier à tout moment ; il est alors archivé dix ans."),
}


class VisitError(ValueError):
    """The step is not possible now; the message is for the helper."""


def start(actor: Account, beneficiary: Beneficiary) -> AssistedEnrolment:
    now = clock.now()
    visit = AssistedEnrolment(
        actor_account_id=actor.id,
        beneficiary_id=beneficiary.id,
        started_at=now,
        expires_at=now + VISIT_LIFETIME,
        items_explained="",
    )
    db.session.add(visit)
    db.session.flush()
    _log(visit, actor, "identified")
    patient = lifecycle.record_for(beneficiary)
    if patient is not None:
        record_access(
            patient,
            actor,
            Action.COUNTER_IDENTIFIED,
            resource_type="record",
            resource_id=patient.id,
        )
    return visit


def load(visit_id: int, actor: Account) -> AssistedEnrolment | None:
    """The helper's own visit while it lasts; anyone else's is as if it did not exist."""
    visit = db.session.get(AssistedEnrolment, visit_id)
    if visit is None or visit.actor_account_id != actor.id or visit.expires_at <= clock.now():
        return None
    return visit


def _log(visit: AssistedEnrolment, actor: Account, action: str, detail: str = "") -> None:
    db.session.add(
        CounterAction(
            beneficiary_id=visit.beneficiary_id,
            enrolment_id=visit.id,
            actor_account_id=actor.id,
            action=action,
            detail=detail[:300],
            at=clock.now(),
        )
    )
    db.session.flush()


def past_actions(beneficiary: Beneficiary, viewer: Account, limit: int = 20) -> list[CounterAction]:
    """The counter actions on this person the viewer may see (policy.queries), newest first."""
    query = queries.counter_actions_query(viewer, beneficiary)
    return list(
        db.session.scalars(
            query.order_by(CounterAction.at.desc(), CounterAction.id.desc()).limit(limit)
        )
    )


def actions_today(actor: Account, limit: int = 50) -> list[CounterAction]:
    since = clock.now() - timedelta(hours=14)
    return list(
        db.session.scalars(
            select(CounterAction)
            .where(CounterAction.actor_account_id == actor.id, CounterAction.at >= since)
            .order_by(CounterAction.at.desc(), CounterAction.id.desc())
            .limit(limit)
        )
    )


def inform(visit: AssistedEnrolment, actor: Account, items: list[str]) -> None:
    unknown = [item for item in items if item not in INFORMATION_ITEMS]
    if unknown or set(items) != set(INFORMATION_ITEMS):
        raise VisitError("every item must be explained")
    visit.items_explained = ",".join(sorted(items))
    visit.informed_at = clock.now()
    _log(visit, actor, "informed", visit.items_explained)


def record_consent(visit: AssistedEnrolment, actor: Account) -> None:
    if visit.informed_at is None:
        raise VisitError("inform first")
    visit.consent_at = clock.now()
    _log(visit, actor, "consent", visit.items_explained)


def where(actor: Account) -> str:
    if actor.agent is not None:
        return f"{actor.agent.organisation}, {actor.agent.counter}"
    if actor.professional is not None:
        return actor.professional.structure or actor.professional.display_name
    return ""


@dataclass(frozen=True)
class Outcome:
    patient: Patient
    channel: str | None  # where the code went; None when no online access was wanted


def open_record(visit: AssistedEnrolment, actor: Account, channel: str | None) -> Outcome:
    """Create (or reopen) the record with the consent just given; optionally send a code."""
    if visit.consent_at is None:
        raise VisitError("consent first")
    beneficiary = visit.beneficiary
    patient = lifecycle.record_for(beneficiary)
    detail = f"{where(actor)} · {visit.items_explained}"
    if patient is None:
        patient = lifecycle.create(beneficiary, RecordState.ACTIVE, actor=actor, detail=detail)
    elif patient.record_state in OPENABLE:
        lifecycle.transition(patient, RecordState.ACTIVE, actor=actor, detail=detail)
        if patient.account is not None and patient.account.state == AccountState.DISABLED:
            lifecycle.notify_person(patient, "record_reopened")
    else:
        # Open already (or suspended): nothing to consent to here, and no way to gain access.
        raise VisitError("the record is not waiting to be opened")
    record_access(
        patient,
        actor,
        Action.COUNTER_CONSENT,
        resource_type="record",
        resource_id=patient.id,
        detail=detail,
    )
    _log(visit, actor, "record_opened")
    if actor.role == Role.PROFESSIONAL and actor.professional is not None:
        _authorise(patient, actor)
    if channel is not None and patient.account_id is None:
        send_code(visit, actor, channel)
    return Outcome(patient=patient, channel=channel if patient.account_id is None else None)


def _authorise(patient: Patient, actor: Account) -> None:
    assert actor.professional is not None
    existing = db.session.scalar(
        select(Authorisation).where(
            Authorisation.patient_id == patient.id,
            Authorisation.professional_id == actor.professional.id,
            Authorisation.revoked_at.is_(None),
        )
    )
    if existing is not None:
        return
    db.session.add(
        Authorisation(
            patient_id=patient.id,
            professional_id=actor.professional.id,
            kind=AuthorisationKind.AUTHORISED,
            traitant_rights=False,
            is_medecin_traitant=False,
            granted_by="professional",
            since=clock.now(),
            # As when the patient grants it: a pharmacist for three days, others until revoked.
            until=clock.now() + PHARMACIST_GRANT
            if actor.professional.profession == "pharmacien"
            else None,
        )
    )
    db.session.flush()


def channels(beneficiary: Beneficiary) -> list[str]:
    """Where a code can go: the mobile and the e-mail on file, and always a letter printed here."""
    found = []
    if beneficiary.mobile:
        found.append("sms")
    if beneficiary.email:
        found.append("email")
    found.append("print")
    return found


def send_code(visit: AssistedEnrolment, actor: Account, channel: str) -> None:
    """A new code by SMS or e-mail to the contact on file, or in a letter printed here."""
    beneficiary = visit.beneficiary
    patient = lifecycle.record_for(beneficiary)
    if not lifecycle.can_receive_code(patient) and not recovery.counter_may_reissue(patient, actor):
        raise VisitError("no code for this record")
    issuer = CodeIssuer.PROFESSIONAL if actor.role == Role.PROFESSIONAL else CodeIssuer.AGENT
    if channel == "print":
        patient, code = enrolment.send_code(
            beneficiary, "letter", issued_by=issuer, actor=actor, deliver=False
        )
        html = letters.render_html(
            "activation",
            "fr",
            first_names=beneficiary.first_names,
            last_name=beneficiary.last_name,
            postal_address=beneficiary.postal_address,
            code=provisional.display(code),
            expires_on=(clock.now() + provisional.LIFETIME).date(),
            public_url=crypto.settings().public_url,
        )
        pdf = letters.to_pdf(html)
        visit.letter_sealed = crypto.seal(f"counter-letter:{visit.id}", pdf)
        visit.letter_until = clock.now() + LETTER_LIFETIME
    else:
        enrolment.send_code(beneficiary, channel, issued_by=issuer, actor=actor)
    _log(visit, actor, "code_sent", channel)


def letter(visit: AssistedEnrolment) -> bytes | None:
    if visit.letter_sealed is None or visit.letter_until is None:
        return None
    if visit.letter_until <= clock.now():
        return None
    return crypto.unseal(f"counter-letter:{visit.id}", visit.letter_sealed)


def oppose(visit: AssistedEnrolment, actor: Account) -> Patient:
    """The person refuses a record, in front of the helper."""
    beneficiary = visit.beneficiary
    patient = lifecycle.record_for(beneficiary)
    detail = where(actor)
    if patient is None:
        patient = lifecycle.create(beneficiary, RecordState.OPPOSED, actor=actor, detail=detail)
    elif patient.record_state == RecordState.PENDING:
        lifecycle.transition(patient, RecordState.OPPOSED, actor=actor, detail=detail)
        provisional.supersede_all(patient)
    else:
        raise VisitError("only a pending record can be opposed")
    _log(visit, actor, "opposed")
    lifecycle.notify_person(patient, "opposition_confirmed", opposed_on=clock.now().date())
    return patient


def end(visit: AssistedEnrolment) -> None:
    visit.letter_sealed = None
    visit.letter_until = None
    visit.expires_at = clock.now()
