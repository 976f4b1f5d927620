"""The demo patients' appointments (`agenda.toml`), checked when read and written through the
agenda service, so that their histories and their professionals' agendas show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from functools import lru_cache

from sqlalchemy import delete, func, select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Appointment, DigestEntry, OutboxMessage, Patient
from webapp.services import agenda
from webapp.services.demo import people
from webapp.services.demo.data import Entry, parse_toml, read_text

FILE = "agenda.toml"
KEY_PREFIX = "demo"


@dataclass(frozen=True)
class DemoAppointment:
    key: str
    patient: str  # a demo patient's identifier
    title: str
    days: int
    at: time
    duration: int
    professional: str | None
    by_professional: bool
    place: str
    note: str
    cancelled: bool


def _appointment(entry: Entry, accounts: people.DemoAccounts) -> DemoAppointment:
    key = entry.text("key")
    if not (key.isascii() and key.isalnum() and key.islower()) or len(key) > 40:
        entry.fail(f'"key" must be lowercase letters and digits, got {key!r}')
    raw = entry.text("time")
    try:
        at = time.fromisoformat(raw)
    except ValueError:
        entry.fail(f'"time" must be HH:MM, got {raw!r}')
    duration = entry.integer("duration")
    if not agenda.DURATION_MIN <= duration <= agenda.DURATION_MAX:
        entry.fail(f'"duration" must be {agenda.DURATION_MIN} to {agenda.DURATION_MAX} minutes')
    by = entry.optional_text("by") or "patient"
    if by not in ("patient", "professional"):
        entry.fail(f'"by" must be patient or professional, got {by!r}')
    patient = entry.optional_text("patient") or accounts.patient.identifier
    if patient not in {demo.identifier for demo in accounts.patients}:
        entry.fail(f'"patient" must be a demo patient of {people.FILE}, got {patient!r}')
    professional = entry.optional_text("professional")
    if professional is not None and professional not in {
        pro.identifier for pro in accounts.professionals
    }:
        entry.fail(f'"professional" must be a demo professional of {people.FILE}')
    if by == "professional" and professional is None:
        entry.fail('"by" = "professional" needs a "professional"')
    demo = DemoAppointment(
        key=key,
        patient=patient,
        title=entry.text("title")[: agenda.TITLE_MAX],
        days=entry.integer("days"),
        at=at,
        duration=duration,
        professional=professional,
        by_professional=by == "professional",
        place=(entry.optional_text("place") or "")[: agenda.PLACE_MAX],
        note=(entry.optional_text("note") or "")[: agenda.NOTE_MAX],
        cancelled=entry.flag("cancelled"),
    )
    entry.done()
    return demo


def parse(text: str, accounts: people.DemoAccounts) -> tuple[DemoAppointment, ...]:
    top = parse_toml(FILE, text)
    found = tuple(_appointment(entry, accounts) for entry in top.tables("appointments", "key"))
    top.done()
    keys = [demo.key for demo in found]
    if len(keys) != len(set(keys)):
        top.fail("two appointments share a key")
    return found


@lru_cache(maxsize=1)
def current() -> tuple[DemoAppointment, ...]:
    return parse(read_text(FILE), people.current())


def add(patient: Patient) -> int:
    """The patient's appointments not loaded yet, each once; returns how many were added."""
    holder = db.session.get(Account, patient.account_id)
    assert holder is not None
    today = clock.to_paris(clock.now()).date()
    last_notice = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    last_entry = db.session.scalar(select(func.max(DigestEntry.id))) or 0
    added = 0
    for demo in current():
        if demo.patient != holder.identifier:
            continue
        key = KEY_PREFIX + demo.key
        if db.session.scalar(
            select(Appointment.id).where(
                Appointment.patient_id == patient.id, Appointment.submission_key == key
            )
        ):
            continue
        pro_account = _account(demo.professional) if demo.professional else None
        actor = pro_account if demo.by_professional and pro_account is not None else holder
        details = agenda.Details(
            title=demo.title,
            day=today + timedelta(days=demo.days),
            at=demo.at,
            duration=demo.duration,
            place=demo.place,
            note=demo.note,
            professional=pro_account.professional if pro_account is not None else None,
        )
        row = agenda.create(actor, patient, details, submission_key=key)
        if demo.cancelled:
            agenda.cancel(holder, row)
        added += 1
    # Loading the demo is not news: no "new appointment" notice to anyone.
    for model, last in ((OutboxMessage, last_notice), (DigestEntry, last_entry)):
        db.session.execute(delete(model).where(model.id > last, model.kind == "appointment_notice"))
    db.session.flush()
    return added


def _account(identifier: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.identifier == identifier))
    assert account is not None, identifier
    return account
