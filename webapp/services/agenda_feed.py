"""The private calendar feed (SPEC §7): a long random token, shown once, kept as its SHA-256;
regenerating or revoking it kills the old address at once.

A calendar application polls every few minutes: `lookup` answers the token, the record's
state and the agenda's validator in one indexed statement, so an unchanged agenda costs that
statement and a 304. The history gets one line per day a calendar read it, not one per poll."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import icalendar
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, AgendaFeed, Appointment, Patient
from webapp.models.base import affected
from webapp.policy import queries
from webapp.services import agenda
from webapp.services.audit import Action, ActorKind, record_access

TOKEN_BYTES = 32
TOKEN_LENGTH = 43  # token_urlsafe(32): 43 characters of [A-Za-z0-9_-]
KEEP_PAST = timedelta(days=365)  # a calendar shows the past year, not the whole life


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current(patient: Patient) -> AgendaFeed | None:
    return db.session.scalar(select(AgendaFeed).where(AgendaFeed.patient_id == patient.id))


def create(actor: Account, patient: Patient, *, include_notes: bool) -> str:
    """A new token (the old one, if any, stops working); returned once, never kept."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = current(patient)
    if feed is None:
        feed = AgendaFeed(patient_id=patient.id)
        db.session.add(feed)
    feed.token_hash = _hash(token)
    feed.include_notes = include_notes
    feed.created_at = clock.now()
    feed.last_used_at = None
    feed.last_logged_on = None
    db.session.flush()
    record_access(
        patient,
        actor,
        Action.FEED_CREATED,
        resource_type="agenda_feed",
        resource_id=feed.id,
        detail="with_notes" if include_notes else "",
    )
    return token


def revoke(actor: Account, patient: Patient) -> bool:
    feed = current(patient)
    if feed is None:
        return False
    db.session.delete(feed)
    db.session.flush()
    record_access(patient, actor, Action.FEED_REVOKED, resource_type="agenda_feed")
    return True


@dataclass(frozen=True)
class Found:
    feed_id: int
    patient_id: int
    include_notes: bool
    logged_on: date | None
    etag: str


def lookup(token: str) -> Found | None:
    """The feed a token opens, on an open record, with its validator; None otherwise."""
    if len(token) != TOKEN_LENGTH or not all(c.isalnum() or c in "-_" for c in token):
        return None
    latest = (
        select(func.max(Appointment.updated_at))
        .where(Appointment.patient_id == AgendaFeed.patient_id)
        .scalar_subquery()
    )
    count = (
        select(func.count(Appointment.id))
        .where(Appointment.patient_id == AgendaFeed.patient_id)
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            AgendaFeed.id,
            AgendaFeed.patient_id,
            AgendaFeed.include_notes,
            AgendaFeed.last_logged_on,
            AgendaFeed.created_at,
            latest,
            count,
        )
        .join(Patient, Patient.id == AgendaFeed.patient_id)
        .where(AgendaFeed.token_hash == _hash(token), queries.feed_opens())
    ).first()
    if row is None:
        return None
    feed_id, patient_id, notes, logged_on, created_at, changed, total = row
    today = clock.to_paris(clock.now()).date()
    # The day is in the validator: the past year's window slides, so yesterday's copy is stale.
    seed = f"{feed_id}:{created_at.isoformat()}:{notes}:{changed}:{total}:{today.isoformat()}"
    etag = hashlib.sha256(seed.encode()).hexdigest()[:32]
    return Found(feed_id, patient_id, bool(notes), logged_on, etag)


def note_reading(found: Found) -> None:
    """One history line per day a calendar read the agenda: the first poll of the day wins
    the conditional update, the others change nothing."""
    today = clock.to_paris(clock.now()).date()
    if found.logged_on == today:
        return
    won = affected(
        db.session.execute(
            update(AgendaFeed)
            .where(
                AgendaFeed.id == found.feed_id,
                or_(AgendaFeed.last_logged_on.is_(None), AgendaFeed.last_logged_on != today),
            )
            .values(last_logged_on=today, last_used_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    )
    if won:
        patient = db.session.get(Patient, found.patient_id)
        if patient is not None:
            record_access(
                patient,
                None,
                Action.FEED_READ,
                resource_type="agenda_feed",
                resource_id=found.feed_id,
                actor_kind=ActorKind.SYSTEM,
            )
    db.session.commit()


def calendar(found: Found, host: str) -> bytes:
    """The agenda as iCalendar: titles and times, the professional and the place; the note
    only when the patient chose it. Cancelled appointments stay, marked, so that a calendar
    that has them removes them."""
    since = clock.now() - KEEP_PAST
    rows = db.session.scalars(
        select(Appointment)
        .where(Appointment.patient_id == found.patient_id, Appointment.ends_at >= since)
        .order_by(Appointment.starts_at, Appointment.id)
        .options(joinedload(Appointment.professional))
    ).all()
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Carnet//Agenda//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Carnet")
    cal.add("x-wr-timezone", "Europe/Paris")
    for row in rows:
        cal.add_component(_event(row, host, found.include_notes))
    return bytes(cal.to_ical())


def _event(row: Appointment, host: str, include_notes: bool) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"appointment-{row.id}@{host}")
    event.add("dtstamp", row.updated_at)
    event.add("last-modified", row.updated_at)
    event.add("sequence", row.row_version)
    event.add("dtstart", row.starts_at)
    event.add("dtend", row.ends_at)
    event.add("summary", row.title)
    if row.place:
        event.add("location", row.place)
    lines = []
    if row.professional is not None:
        lines.append(row.professional.display_name)
    if include_notes:
        note = agenda.note_of(row)
        if note:
            lines.append(note)
    if lines:
        event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if row.cancelled else "CONFIRMED")
    return event
