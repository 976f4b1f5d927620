"""What the patient decides about professionals (SPEC §4.2): grant, revoke, block, the
médecin traitant and his rights, and the consent a professional declares in consultation.

Every change is one transaction with its line in the access history; the policy reads the
rows again at the professional's next request, so a change takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Authorisation, AuthorisationKind, Patient, Professional
from webapp.services import catalogue, notify
from webapp.services.audit import Action, record_access

# Defaults by profession when the patient does not choose (SPEC §4.2).
DEFAULT_DAYS = {"pharmacien": 3}


class AuthorisationError(ValueError):
    """A change the rules forbid; `code` says which, for a message in the user's language."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _note(
    patient: Patient, actor: Account, action: Action, pro: Professional, *, named: bool = True
) -> None:
    """One line of the history about a professional: who, by id (and name when the actor
    is someone else)."""
    record_access(
        patient,
        actor,
        action,
        resource_type="professional",
        resource_id=pro.id,
        detail=pro.display_name if named else "",
    )


def default_until(pro: Professional) -> datetime | None:
    days = DEFAULT_DAYS.get(pro.profession)
    return clock.now() + timedelta(days=days) if days else None


def find_professional(professional_id: int) -> Professional | None:
    """The professional a patient names from the directory (any of them may be let in)."""
    return db.session.get(Professional, professional_id)


def _live(patient: Patient, pro: Professional | None = None) -> list[Authorisation]:
    now = clock.now()
    query = (
        select(Authorisation)
        .where(
            Authorisation.patient_id == patient.id,
            Authorisation.revoked_at.is_(None),
            (Authorisation.until.is_(None)) | (Authorisation.until > now),
        )
        .order_by(Authorisation.since.desc(), Authorisation.id.desc())
        .options(selectinload(Authorisation.professional))
    )
    if pro is not None:
        query = query.where(Authorisation.professional_id == pro.id)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class AccessList:
    authorised: list[Authorisation]
    blocked: list[Authorisation]

    @property
    def traitant(self) -> Authorisation | None:
        return next((row for row in self.authorised if row.is_medecin_traitant), None)


def access_list(patient: Patient) -> AccessList:
    """The professionals in force for this record, in two queries whatever their number."""
    rows = _live(patient)
    return AccessList(
        authorised=[row for row in rows if row.kind == AuthorisationKind.AUTHORISED],
        blocked=[row for row in rows if row.kind == AuthorisationKind.BLOCKED],
    )


def _current(patient: Patient, pro: Professional) -> Authorisation | None:
    rows = [row for row in _live(patient, pro) if row.kind == AuthorisationKind.AUTHORISED]
    return rows[0] if rows else None


def _blocked(patient: Patient, pro: Professional) -> bool:
    return any(row.kind == AuthorisationKind.BLOCKED for row in _live(patient, pro))


def _end(rows: list[Authorisation]) -> None:
    now = clock.now()
    for row in rows:
        row.revoked_at = now


def grant(
    patient: Patient,
    pro: Professional,
    *,
    actor: Account,
    until: datetime | None,
    express: bool = False,
) -> Authorisation:
    """The patient authorises a professional (replacing any earlier authorisation)."""
    if _blocked(patient, pro):
        raise AuthorisationError("blocked")
    if catalogue.current().needs_express_grant(pro.specialty) and not express:
        raise AuthorisationError("express_needed")
    if until is not None and until <= clock.now():
        raise AuthorisationError("until_past")
    previous = _current(patient, pro)
    traitant = previous is not None and previous.is_medecin_traitant
    rights = previous is not None and previous.traitant_rights
    if traitant and until is not None:
        raise AuthorisationError("traitant_is_permanent")
    _end([row for row in _live(patient, pro) if row.kind == AuthorisationKind.AUTHORISED])
    row = Authorisation(
        patient_id=patient.id,
        professional_id=pro.id,
        kind=AuthorisationKind.AUTHORISED,
        traitant_rights=rights,
        is_medecin_traitant=traitant,
        granted_by="patient",
        granted_by_account_id=actor.id,
        since=clock.now(),
        until=until,
        express=express,
    )
    db.session.add(row)
    db.session.flush()
    _note(patient, actor, Action.AUTHORISATION_GRANTED, pro)
    return row


def declare_consent(patient: Patient, pro_account: Account) -> Authorisation:
    """A professional declares the patient agreed during the consultation: authorised at once
    (the profession's default duration), and the patient is told at once (SPEC §4.2, §5)."""
    pro = pro_account.professional
    assert pro is not None
    if _blocked(patient, pro):
        raise AuthorisationError("blocked")
    existing = _current(patient, pro)
    if existing is not None:
        return existing
    until = default_until(pro)
    row = Authorisation(
        patient_id=patient.id,
        professional_id=pro.id,
        kind=AuthorisationKind.AUTHORISED,
        traitant_rights=False,
        is_medecin_traitant=False,
        granted_by="professional",
        granted_by_account_id=pro_account.id,
        since=clock.now(),
        until=until,
        express=False,
    )
    db.session.add(row)
    db.session.flush()
    _note(patient, pro_account, Action.CONSENT_DECLARED, pro, named=False)
    if patient.account is not None:
        notify.enqueue(
            patient.account,
            "consent_declared",
            who=pro.display_name,
            structure=pro.structure or "",
            when=clock.now(),
            until=until,
        )
    return row


def revoke(patient: Patient, pro: Professional, *, actor: Account) -> None:
    rows = [row for row in _live(patient, pro) if row.kind == AuthorisationKind.AUTHORISED]
    if not rows:
        raise AuthorisationError("not_authorised")
    _end(rows)
    _note(patient, actor, Action.AUTHORISATION_REVOKED, pro)


def block(patient: Patient, pro: Professional, *, actor: Account) -> None:
    """A blocked professional gets nothing, emergency included, until unblocked."""
    if _blocked(patient, pro):
        return
    _end([row for row in _live(patient, pro) if row.kind == AuthorisationKind.AUTHORISED])
    db.session.add(
        Authorisation(
            patient_id=patient.id,
            professional_id=pro.id,
            kind=AuthorisationKind.BLOCKED,
            traitant_rights=False,
            is_medecin_traitant=False,
            granted_by="patient",
            granted_by_account_id=actor.id,
            since=clock.now(),
            until=None,
        )
    )
    db.session.flush()
    _note(patient, actor, Action.PROFESSIONAL_BLOCKED, pro)


def unblock(patient: Patient, pro: Professional, *, actor: Account) -> None:
    rows = [row for row in _live(patient, pro) if row.kind == AuthorisationKind.BLOCKED]
    if not rows:
        raise AuthorisationError("not_blocked")
    _end(rows)
    _note(patient, actor, Action.PROFESSIONAL_UNBLOCKED, pro)


def declare_traitant(patient: Patient, pro: Professional, *, actor: Account) -> None:
    """One médecin traitant: a physician, authorised until revoked, with every right."""
    if pro.profession != "medecin" or catalogue.current().needs_express_grant(pro.specialty):
        raise AuthorisationError("traitant_physician_only")
    if _blocked(patient, pro):
        raise AuthorisationError("blocked")
    for row in access_list(patient).authorised:
        if row.is_medecin_traitant and row.professional_id != pro.id:
            row.is_medecin_traitant = False
            row.traitant_rights = False
    current = _current(patient, pro)
    if current is None or current.until is not None:
        current = grant(patient, pro, actor=actor, until=None)
    current.is_medecin_traitant = True
    current.traitant_rights = True
    db.session.flush()
    _note(patient, actor, Action.TRAITANT_DECLARED, pro)


def set_traitant_rights(
    patient: Patient, pro: Professional, *, actor: Account, given: bool
) -> None:
    """Give an authorised professional the médecin traitant's rights, or take them back."""
    current = _current(patient, pro)
    if current is None:
        raise AuthorisationError("not_authorised")
    if current.is_medecin_traitant:
        raise AuthorisationError("is_traitant")
    if given and catalogue.current().needs_express_grant(pro.specialty):
        raise AuthorisationError("express_limited")
    current.traitant_rights = given
    db.session.flush()
    _note(
        patient,
        actor,
        Action.TRAITANT_RIGHTS_GIVEN if given else Action.TRAITANT_RIGHTS_REMOVED,
        pro,
    )


def set_emergency_settings(
    patient: Patient, *, actor: Account, oppose_emergency: bool, oppose_regulation: bool
) -> bool:
    """The two oppositions of SPEC §4.5; returns whether anything changed."""
    if (
        patient.oppose_emergency_access == oppose_emergency
        and patient.oppose_regulation_access == oppose_regulation
    ):
        return False
    patient.oppose_emergency_access = oppose_emergency
    patient.oppose_regulation_access = oppose_regulation
    db.session.flush()
    record_access(
        patient,
        actor,
        Action.EMERGENCY_SETTINGS_CHANGED,
        reason=(
            f"emergency:{'opposed' if oppose_emergency else 'allowed'};"
            f"regulation:{'opposed' if oppose_regulation else 'allowed'}"
        ),
    )
    return True
