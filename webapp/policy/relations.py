"""The facts a decision about a professional rests on, read from the database."""

from __future__ import annotations

from sqlalchemy import or_, select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Authorisation, AuthorisationKind, Document, Patient, Professional
from webapp.models.emergency import EmergencyAccess
from webapp.policy.permissions import Mode, Relation


def relation(professional: Professional, patient: Patient) -> Relation:
    """Two queries: the authorisations in force between this professional and this patient,
    and the emergency window they may have open on it."""
    now = clock.now()
    rows = db.session.scalars(
        select(Authorisation).where(
            Authorisation.patient_id == patient.id,
            Authorisation.professional_id == professional.id,
            Authorisation.revoked_at.is_(None),
            or_(Authorisation.until.is_(None), Authorisation.until > now),
        )
    ).all()
    window = db.session.execute(
        select(EmergencyAccess.id, EmergencyAccess.mode)
        .where(
            EmergencyAccess.patient_id == patient.id,
            EmergencyAccess.professional_id == professional.id,
            EmergencyAccess.ended_at.is_(None),
            EmergencyAccess.expires_at > now,
        )
        .order_by(EmergencyAccess.opened_at.desc())
        .limit(1)
    ).first()
    return Relation(
        authorised=any(row.kind == AuthorisationKind.AUTHORISED for row in rows),
        blocked=any(row.kind == AuthorisationKind.BLOCKED for row in rows),
        traitant_rights=any(
            row.traitant_rights for row in rows if row.kind == AuthorisationKind.AUTHORISED
        ),
        emergency=Mode(window.mode) if window else None,
        emergency_id=window.id if window else None,
    )


def is_blocked(professional: Professional, patient: Patient) -> bool:
    """One query: the patient blocks this professional now."""
    now = clock.now()
    found = db.session.scalar(
        select(Authorisation.id)
        .where(
            Authorisation.patient_id == patient.id,
            Authorisation.professional_id == professional.id,
            Authorisation.kind == AuthorisationKind.BLOCKED,
            Authorisation.revoked_at.is_(None),
            or_(Authorisation.until.is_(None), Authorisation.until > now),
        )
        .limit(1)
    )
    return found is not None


def emergency_in_force(patient: Patient, link: Relation) -> bool:
    """An emergency window is open and the patient does not oppose its mode (read again at
    every request: lifting or setting an opposition takes effect at once)."""
    if link.emergency is None:
        return False
    if link.emergency == Mode.EMERGENCY:
        return not patient.oppose_emergency_access
    return not patient.oppose_regulation_access


def is_held(doc: Document) -> bool:
    """A result the author holds until they have explained it (SPEC §4.4)."""
    held = doc.hidden_from_patient_until
    return held is not None and held > clock.now()


def patient_of(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    assert patient is not None
    return patient
