"""Provisional codes: 12 Crockford base32 characters, six weeks, single use, kept as a keyed HMAC.

A code is bound to one record (a pending, opposed or closed one, or an active one without
online access); a newer code supersedes the older; five wrong tries kill it. Codes never
appear in a URL or a log: they leave this module only to be put in a message or a letter.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Beneficiary, Patient, ProvisionalCode
from webapp.models.base import affected
from webapp.services import crypto

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
LENGTH = 12
LIFETIME = timedelta(weeks=6)
MAX_TRIES = 5
# Limits of the lost-code form, counted in the database so that they hold across processes.
PER_RECORD_PER_DAY = 3
PER_DESTINATION_PER_DAY = 3
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(typed: str) -> str:
    """What a person typed, as stored: capitals, no spaces or dashes, O→0 and I/L→1."""
    kept = "".join(ch for ch in typed.upper() if ch.isalnum())
    return kept.translate(_CONFUSABLE)


def well_formed(typed: str) -> bool:
    code = normalise(typed)
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


def display(code: str) -> str:
    code = normalise(code)
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def _digest(code: str) -> str:
    return crypto.keyed_digest("provisional-code", normalise(code))


def destination_digest(destination: str) -> str:
    return crypto.keyed_digest("code-destination", destination.strip().lower())


def _live() -> ColumnElement[bool]:
    return and_(
        ProvisionalCode.consumed_at.is_(None),
        ProvisionalCode.superseded_at.is_(None),
        ProvisionalCode.expires_at > clock.now(),
        ProvisionalCode.attempts < MAX_TRIES,
    )


def issue(
    patient: Patient,
    *,
    channel: str,
    issued_by: str,
    actor_id: int | None = None,
    destination: str | None = None,
) -> str:
    """A new code for this record; every earlier live code stops working."""
    now = clock.now()
    db.session.execute(
        update(ProvisionalCode)
        .where(ProvisionalCode.patient_id == patient.id, _live())
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    code = new_code()
    db.session.add(
        ProvisionalCode(
            patient_id=patient.id,
            code_hmac=_digest(code),
            channel=channel,
            destination_digest=destination_digest(destination) if destination else None,
            issued_by=issued_by,
            issued_by_account_id=actor_id,
            issued_at=now,
            expires_at=now + LIFETIME,
            attempts=0,
        )
    )
    db.session.flush()
    return code


def supersede_all(patient: Patient) -> None:
    db.session.execute(
        update(ProvisionalCode)
        .where(ProvisionalCode.patient_id == patient.id, _live())
        .values(superseded_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def waiting(patient: Patient) -> ProvisionalCode | None:
    """The code that can open this record now, if one was sent and not used yet."""
    return db.session.scalars(
        select(ProvisionalCode)
        .where(ProvisionalCode.patient_id == patient.id, _live())
        .order_by(ProvisionalCode.issued_at.desc(), ProvisionalCode.id.desc())
        .limit(1)
    ).first()


def recently_issued(patient: Patient) -> int:
    since = clock.now() - timedelta(days=1)
    return (
        db.session.scalar(
            select(func.count(ProvisionalCode.id)).where(
                ProvisionalCode.patient_id == patient.id, ProvisionalCode.issued_at > since
            )
        )
        or 0
    )


def recently_sent_to(destination: str) -> int:
    since = clock.now() - timedelta(days=1)
    return (
        db.session.scalar(
            select(func.count(ProvisionalCode.id)).where(
                ProvisionalCode.destination_digest == destination_digest(destination),
                ProvisionalCode.issued_at > since,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Match:
    code_id: int
    patient: Patient
    beneficiary: Beneficiary


def check(code: str, nir: str, vitale_serial: str, birth_date: date) -> Match | None:
    """The record a live code opens, if every detail agrees; otherwise None.

    The same statements run whether or not anything matched (one HMAC, two look-ups, one
    UPDATE that may touch no row), so a wrong answer and a right one take the same time.
    A wrong try costs the code a try when the code, or the person's details, are known.
    """
    found = db.session.scalar(
        select(ProvisionalCode).where(ProvisionalCode.code_hmac == _digest(code), _live())
    )
    beneficiary = db.session.scalar(select(Beneficiary).where(Beneficiary.nir == nir))
    patient = db.session.get(Patient, found.patient_id) if found is not None else None
    matched = (
        found is not None
        and patient is not None
        and beneficiary is not None
        and crypto.same(patient.nir, beneficiary.nir)
        and crypto.same(beneficiary.vitale_serial, vitale_serial)
        and beneficiary.birth_date == birth_date
    )
    if matched:
        target = ProvisionalCode.id == -1  # no row: the same UPDATE, touching nothing
    elif found is not None:
        target = ProvisionalCode.id == found.id
    elif (
        beneficiary is not None
        and crypto.same(beneficiary.vitale_serial, vitale_serial)
        and beneficiary.birth_date == birth_date
    ):
        # The person's own details with a wrong code: a try spent on their code. A NIR alone
        # (easy to learn) must not let a stranger use up someone's tries.
        owner = select(Patient.id).where(Patient.nir == beneficiary.nir).scalar_subquery()
        target = ProvisionalCode.patient_id == owner
    else:
        target = ProvisionalCode.id == -1
    db.session.execute(
        update(ProvisionalCode)
        .where(target, _live())
        .values(attempts=ProvisionalCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if not matched or found is None or patient is None or beneficiary is None:
        return None
    return Match(code_id=found.id, patient=patient, beneficiary=beneficiary)


def still_live(code_id: int) -> bool:
    return (
        db.session.scalar(select(ProvisionalCode.id).where(ProvisionalCode.id == code_id, _live()))
        is not None
    )


def spend_try(code_id: int) -> None:
    """A wrong answer during the steps a code opened (a contact check) costs the code a try."""
    db.session.execute(
        update(ProvisionalCode)
        .where(ProvisionalCode.id == code_id, _live())
        .values(attempts=ProvisionalCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def consume(code_id: int) -> bool:
    """Use the code once: one conditional UPDATE, so two requests cannot both succeed."""
    result = db.session.execute(
        update(ProvisionalCode)
        .where(ProvisionalCode.id == code_id, _live())
        .values(consumed_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return affected(result) == 1


def expire_due() -> int:
    """Mark codes past their six weeks as superseded (they already fail); returns how many."""
    now = clock.now()
    result = db.session.execute(
        update(ProvisionalCode)
        .where(
            ProvisionalCode.consumed_at.is_(None),
            ProvisionalCode.superseded_at.is_(None),
            ProvisionalCode.expires_at <= now,
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    return affected(result)
