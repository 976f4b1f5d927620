"""The lists agree with the decisions: for every world of the policy table, what the SQL form
of the policy (policy.queries) lists is exactly what `decide(READ)` allows, resource by
resource, for documents, profile entries, measurements, profile sections, conversations,
appointments and reimbursement lines;
and the patients a professional may write to are those `decide(MESSAGE_START)` allows.

Each world of tests/test_policy.py (the actor, the grants, the record's state, the window,
the oppositions...) is built once, then filled with a spread of resources that every rule
cares about: each document type, masked or not, held or not, an older version, by the
holder, by the actor and by another professional; an entry of each section, masked or not,
by each author; measurements likewise; conversations open and closed, with the actor and
with another professional, and one on another record. Cases that differ only by the
permission they ask make the same world, and it is run once.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from tests.builders import make_appointment, make_document, make_patient, make_professional
from tests.test_policy import CASES, ENTRY_KIND, Case, _build
from webapp import policy
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    Account,
    Appointment,
    Conversation,
    Document,
    Patient,
    Reimbursement,
)
from webapp.models.profile import MeasureKind, Measurement, ProfileEntry, Section
from webapp.policy import Permission, SectionOf, queries

TYPES = {
    "11502-2": "biologie",
    "18748-4": "imagerie",
    "57833-6": "ordonnances",
    "42348-3": "ma_sante",
    "15508-5": "comptes_rendus",
    "11369-6": "prevention",
    "CARNET-CERT": "certificats",
    "CARNET-REMB": "administratif",
    "CARNET-AUTRE": "autres",
}
Row = Document | ProfileEntry | Measurement


def _world_key(case: Case) -> str:
    """What makes a world: everything but the permission asked and the expected answer."""
    return repr(
        (
            case.actor,
            case.on.split(":")[0],
            case.doc,
            case.author,
            case.entry,
            case.grants,
            case.record_state,
            case.profession,
            case.specialty,
            case.window,
            case.patient_flags,
            case.samu_regulator,
            case.closed,
        )
    )


def _worlds() -> list[Case]:
    seen: dict[str, Case] = {}
    for case in CASES:
        if case.actor == "anonymous" or case.on == "none":
            continue  # no one to list for, or no record to list from
        seen.setdefault(_world_key(case), case)
    return list(seen.values())


WORLDS = _worlds()


def _patient_of(resource: object) -> Patient:
    if isinstance(resource, Patient):
        return resource
    if isinstance(resource, SectionOf):
        return resource.patient
    assert isinstance(
        resource, Document | ProfileEntry | Measurement | Conversation | Appointment
    ), resource
    patient = db.session.get(Patient, resource.patient_id)
    assert patient is not None
    return patient


def _fill(patient: Patient, actor: Account) -> None:
    """Resources of every kind the rules tell apart, by up to three authors."""
    holder = db.session.get(Account, patient.account_id)
    assert holder is not None
    authors = [holder, make_professional()]
    if actor.professional is not None:
        authors.append(actor)
    for author in authors:
        by: dict[str, object] = {
            "author_account_id": author.id,
            "author_kind": "patient" if author is holder else "professional",
        }
        for type_code, category in TYPES.items():
            make_document(holder, type_code=type_code, category=category, **by)
        make_document(holder, masked_from_pros=True, **by)
        make_document(holder, hidden_from_patient_until=clock.now() + timedelta(days=3), **by)
        make_document(holder, state="superseded", **by)
        for section, kind in ENTRY_KIND.items():
            for masked in (False, True):
                db.session.add(
                    ProfileEntry(
                        section=section.value,
                        kind=kind.value,
                        label="Entrée",
                        **_common(patient, author, masked),
                    )
                )
        for masked in (False, True):
            db.session.add(
                Measurement(
                    kind=MeasureKind.WEIGHT.value,
                    measured_on=clock.now().date(),
                    value=70.0,
                    unit="kg",
                    **_common(patient, author, masked),
                )
            )
    db.session.commit()


def _fill_conversations(patient: Patient, actor: Account) -> None:
    """Open and closed conversations of this record with the actor (a professional) and with
    another professional, and one elsewhere: on the actor's own record, or on another record
    with the actor (a professional)."""
    others = [make_professional()]
    if actor.professional is not None:
        others.append(actor)
    for pro in others:
        for closed in (False, True):
            _add_conversation(patient, pro, closed=closed)
    elsewhere = actor.patient if actor.patient is not None else _new_patient()
    if elsewhere.id != patient.id:
        _add_conversation(elsewhere, others[-1])
    db.session.commit()


def _fill_appointments(patient: Patient, actor: Account) -> None:
    """Appointments of this record with the actor (a professional), with another professional,
    with none, one cancelled; and one elsewhere, like the conversations."""
    others = [make_professional()]
    if actor.professional is not None:
        others.append(actor)
    for n, pro in enumerate(others):
        _add_appointment(patient, pro, hour=2 * n)
        _add_appointment(patient, pro, hour=2 * n + 1, cancelled=True)
    _add_appointment(patient, None, hour=9)
    elsewhere = actor.patient if actor.patient is not None else _new_patient()
    if elsewhere.id != patient.id:
        _add_appointment(elsewhere, others[-1], hour=10)
    db.session.commit()


def _add_appointment(
    patient: Patient, professional: Account | None, *, hour: int, cancelled: bool = False
) -> None:
    pro = professional.professional if professional is not None else None
    start = clock.now() + timedelta(days=30, hours=hour)  # clear of the world's own appointment
    make_appointment(patient, pro.id if pro is not None else None, start, cancelled=cancelled)


def _new_patient() -> Patient:
    account = make_patient()
    assert account.patient is not None
    return account.patient


def _add_conversation(patient: Patient, professional: Account, *, closed: bool = False) -> None:
    pro = professional.professional
    assert pro is not None
    now = clock.now()
    db.session.add(
        Conversation(
            patient_id=patient.id,
            professional_id=pro.id,
            subject="Objet",
            professional_label=pro.display_name,
            professional_profession=pro.profession,
            professional_structure=pro.structure or "",
            started_at=now,
            last_message_at=now,
            message_count=1,
            patient_unread=1,
            professional_unread=0,
            closed_at=now if closed else None,
        )
    )


def _common(patient: Patient, author: Account, masked: bool) -> dict[str, object]:
    now = clock.now()
    return {
        "patient_id": patient.id,
        "author_kind": "patient" if author.patient is not None else "professional",
        "author_account_id": author.id,
        "author_label": author.display_name,
        "created_at": now,
        "updated_at": now,
        "masked_from_pros": masked,
    }


def _allowed(actor: Account, permission: Permission, rows: list[Row]) -> set[int]:
    return {row.id for row in rows if policy.decide(actor, permission, row)}


def _fill_reimbursements(patient: Patient) -> None:
    """Lines of the record: today, on the first day shown, the day before it; and another
    record's line."""
    first = queries.reimbursements_shown_from()
    other = make_patient().patient
    assert other is not None
    days = [
        (patient, clock.to_paris(clock.now()).date()),
        (patient, first),
        (patient, first - timedelta(days=1)),
        (other, first),
    ]
    for number, (owner, day) in enumerate(days):
        db.session.add(
            Reimbursement(
                line_id=f"world-{owner.id}-{number}",
                patient_id=owner.id,
                care_date=day,
                act_code="G",
                act_label="Consultation",
                professional="Dr Martin",
                profession="Médecin généraliste",
                amount_paid=Decimal("30.00"),
                amount_reimbursed=Decimal("19.00"),
                content_hash="0" * 64,
                received_at=clock.now(),
            )
        )
    db.session.flush()


def test_the_worlds_are_many() -> None:
    assert len(WORLDS) >= 100


@pytest.mark.parametrize("case", WORLDS, ids=[case.name for case in WORLDS])
def test_lists_equal_what_decide_allows(app: Flask, case: Case) -> None:
    actor, resource = _build(case)
    assert actor is not None
    patient = _patient_of(resource)
    _fill(patient, actor)

    current: list[Row] = list(
        db.session.scalars(
            select(Document).where(Document.patient_id == patient.id, Document.state == "current")
        )
    )
    listed = {doc.id for doc in db.session.scalars(queries.documents_query(actor, patient))}
    assert listed == _allowed(actor, Permission.DOCUMENT_READ, current), "documents"

    entries: list[Row] = list(
        db.session.scalars(select(ProfileEntry).where(ProfileEntry.patient_id == patient.id))
    )
    listed = {row.id for row in db.session.scalars(queries.entries_query(actor, patient))}
    assert listed == _allowed(actor, Permission.ENTRY_READ, entries), "profile entries"

    measures: list[Row] = list(
        db.session.scalars(select(Measurement).where(Measurement.patient_id == patient.id))
    )
    listed = {row.id for row in db.session.scalars(queries.measurements_query(actor, patient))}
    assert listed == _allowed(actor, Permission.ENTRY_READ, measures), "measurements"

    readable = set(queries.readable_sections(actor, patient))
    allowed = {
        section
        for section in Section
        if policy.decide(actor, Permission.PROFILE_READ, SectionOf(patient, section))
    }
    assert readable == allowed, "sections"

    _fill_conversations(patient, actor)
    conversations = list(db.session.scalars(select(Conversation)))
    listed = {row.id for row in db.session.scalars(queries.conversations_query(actor))}
    readable_conversations = {
        row.id for row in conversations if policy.decide(actor, Permission.CONVERSATION_READ, row)
    }
    assert listed == readable_conversations, "conversations"

    _fill_appointments(patient, actor)
    appointments = list(db.session.scalars(select(Appointment)))
    listed = {row.id for row in db.session.scalars(queries.appointments_query(actor))}
    readable_appointments = {
        row.id for row in appointments if policy.decide(actor, Permission.APPOINTMENT_READ, row)
    }
    assert listed == readable_appointments, "appointments"

    _fill_reimbursements(patient)
    lines = list(db.session.scalars(select(Reimbursement)))
    listed = {row.id for row in db.session.scalars(queries.reimbursements_query(actor, patient))}
    shown = {
        row.id
        for row in lines
        if row.patient_id == patient.id and row.care_date >= queries.reimbursements_shown_from()
    }
    allowed_lines = shown if policy.decide(actor, Permission.REIMBURSEMENT_LIST, patient) else set()
    assert listed == allowed_lines, "reimbursements"

    reachable = {row.id for row in db.session.scalars(queries.reachable_patients(actor))}
    patients = list(db.session.scalars(select(Patient)))
    writable = {row.id for row in patients if policy.decide(actor, Permission.MESSAGE_START, row)}
    assert reachable == writable, "patients a professional may write to"
    assert (patient.id in reachable) == bool(
        policy.decide(actor, Permission.MESSAGE_START, patient)
    )
