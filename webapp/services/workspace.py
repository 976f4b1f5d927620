"""The professional's workspace: finding a patient in front of them, the records they acted
on lately, the results they hold, their own past accesses to a record."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import func, select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Document, DocumentState, Patient
from webapp.models.account import RecordState
from webapp.services.audit import Action, record_access


def folded(text: str) -> str:
    """Case and accents ignored, spaces and hyphens alike: DUPONT-MARTIN = dupont martin."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().replace("-", " ").replace("'", " ").split())


def find_patient(
    actor: Account, nir: str, last_name: str, birth_date: date | None
) -> Patient | None:
    """The open record these details name, or None. When the NIR is an open record's but the
    name or birth date is not, the attempt is written in that record's history."""
    patient = db.session.scalar(select(Patient).where(Patient.nir == "".join(nir.split())))
    if patient is None or patient.record_state != RecordState.ACTIVE:
        return None
    name = folded(last_name)
    if (name and name != folded(patient.last_name)) or (
        birth_date is not None and birth_date != patient.birth_date
    ):
        record_access(
            patient, actor, Action.RECORD_CONSULTED, allowed=False, reason="identity_mismatch"
        )
        return None
    return patient


def recent_patients(account: Account) -> list[tuple[Patient, datetime]]:
    """The records this professional acted on lately, newest first (one query)."""
    last = (
        select(AccessEvent.patient_id, func.max(AccessEvent.occurred_at).label("at"))
        .where(AccessEvent.actor_account_id == account.id, AccessEvent.allowed.is_(True))
        .group_by(AccessEvent.patient_id)
        .order_by(func.max(AccessEvent.occurred_at).desc())
        .limit(10)
    ).subquery()
    rows = db.session.execute(
        select(Patient, last.c.at)
        .join(last, last.c.patient_id == Patient.id)
        .where(Patient.record_state == RecordState.ACTIVE)
        .order_by(last.c.at.desc())
    ).all()
    return [(patient, at) for patient, at in rows]


def held_deposits(account: Account) -> list[tuple[Document, Patient]]:
    """Results this professional holds until they have explained them, soonest due first."""
    rows = db.session.execute(
        select(Document, Patient)
        .join(Patient, Patient.id == Document.patient_id)
        .where(
            Document.author_account_id == account.id,
            Document.state == DocumentState.CURRENT,
            Document.hidden_from_patient_until > clock.now(),
        )
        .order_by(Document.hidden_from_patient_until)
        .limit(50)
    ).all()
    return [(doc, patient) for doc, patient in rows]


def my_accesses(account: Account, patient: Patient) -> list[AccessEvent]:
    """This professional's last ten entries in the record's history."""
    return list(
        db.session.scalars(
            select(AccessEvent)
            .where(AccessEvent.patient_id == patient.id, AccessEvent.actor_account_id == account.id)
            .order_by(AccessEvent.occurred_at.desc(), AccessEvent.id.desc())
            .limit(10)
        )
    )


def age(born: date) -> int:
    today = clock.to_paris(clock.now()).date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
