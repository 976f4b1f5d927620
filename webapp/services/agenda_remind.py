"""`flask agenda remind`, run daily from cron: the notices of the day before and of the day
itself, for appointments and for prevention reminders, each sent once.

Each notice has a key (what, which, for which moment, which of the two days); the key is
unique in the database and inserted in the same transaction as the e-mail, so a second run,
or two runs at once, find the key taken and send nothing. A moved appointment has a new start,
hence new keys: its new time is announced."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, AgendaNotice, Appointment, Patient
from webapp.models.account import RecordState
from webapp.services import agenda, notify, prevention

BATCH = 500


@dataclass
class Sent:
    appointments: int = 0
    reminders: int = 0


def _which(day: date, today: date) -> str | None:
    if day == today:
        return "same-day"
    if day == today + timedelta(days=1):
        return "day-before"
    return None


def _claim(key: str, patient_id: int) -> bool:
    """Take the notice's key; False when another run has it already."""
    try:
        with db.session.begin_nested():
            db.session.add(AgendaNotice(key=key, patient_id=patient_id, sent_at=clock.now()))
            db.session.flush()
    except IntegrityError:
        return False
    return True


def run(today: date) -> Sent:
    sent = Sent()
    sent.appointments = _appointments(today)
    sent.reminders = _reminders(today)
    return sent


def _appointments(today: date) -> int:
    start, end = agenda.day_bounds(today, 2)
    rows = db.session.scalars(
        select(Appointment)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.cancelled_at.is_(None),
            Patient.record_state == RecordState.ACTIVE,
            Patient.account_id.is_not(None),
        )
        .options(joinedload(Appointment.patient), joinedload(Appointment.professional))
        .order_by(Appointment.id)
    ).all()
    count = 0
    for row in rows:
        which = _which(agenda.paris_day(row.starts_at), today)
        account = db.session.get(Account, row.patient.account_id)
        if which is None or account is None:
            continue
        key = f"appt:{row.id}:{row.starts_at:%Y%m%dT%H%M}:{which}"
        if not _claim(key, row.patient_id):
            db.session.rollback()
            continue
        notify.enqueue(
            account,
            "agenda_reminder",
            about="appointment",
            which=which,
            starts_at=row.starts_at,
            with_whom=row.professional.display_name if row.professional else "",
        )
        db.session.commit()
        count += 1
    return count


def _patients() -> Iterator[Patient]:
    """Every open record with an account, a batch at a time."""
    last = 0
    while True:
        batch = db.session.scalars(
            select(Patient)
            .where(
                Patient.id > last,
                Patient.record_state == RecordState.ACTIVE,
                Patient.account_id.is_not(None),
            )
            .order_by(Patient.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def _reminders(today: date) -> int:
    count = 0
    for patient in _patients():
        account = db.session.get(Account, patient.account_id)
        if account is None:
            continue
        with force_locale(account.language):  # the label, in the reader's language
            reminders = prevention.for_patient(patient, today)
        for reminder in reminders:
            if reminder.status == "dismissed":
                continue
            which = _which(reminder.due_on, today)
            if which is None:
                continue
            key = f"rem:{patient.id}:{reminder.code}:{reminder.due_on:%Y%m%d}:{which}"
            if not _claim(key, patient.id):
                db.session.rollback()
                continue
            notify.enqueue(
                account,
                "agenda_reminder",
                about="prevention",
                which=which,
                label=reminder.label,
                due_on=reminder.due_on,
            )
            db.session.commit()
            count += 1
    return count
