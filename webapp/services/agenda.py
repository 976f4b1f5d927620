"""Appointments (SPEC §7): created by the patient or by a professional who may reach her,
seen by the two of them only, moved or cancelled by either, the other told.

Times are entered and shown in Europe/Paris and stored in UTC. A local time that does not
exist (the spring change skips 02:00–03:00) is refused; one that happens twice (the autumn
change) is the first of the two, and the page says which."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import format_date, format_time
from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from webapp.core import clock
from webapp.core.clock import PARIS
from webapp.core.extensions import db
from webapp.models import (
    Account,
    Appointment,
    Authorisation,
    AuthorisationKind,
    Patient,
    Professional,
    Role,
)
from webapp.models.agenda import OVERLAP
from webapp.policy.queries import appointments_query
from webapp.services import notify, storage
from webapp.services.audit import Action, record_access

TITLE_MAX = 120
PLACE_MAX = 200
NOTE_MAX = 2000
DURATION_MIN = 5
DURATION_MAX = 12 * 60  # a day surgery is the longest appointment worth a slot
PAGE_SIZE = 20


class AgendaError(Exception):
    """A refusal the form shows beside the field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Overlap(AgendaError):
    def __init__(self) -> None:
        super().__init__(
            "time",
            _(
                "Ce professionnel a déjà un rendez-vous à ce moment-là. "
                "Choisissez une autre heure ou une durée plus courte."
            ),
        )


class ChangedMeanwhile(Exception):
    """Someone else changed the appointment after the page was shown."""


@dataclass(frozen=True)
class Details:
    """What a form says about an appointment, already checked for shape."""

    title: str
    day: date
    at: time
    duration: int
    place: str
    note: str
    professional: Professional | None


def paris_start(day: date, at: time) -> datetime:
    """The UTC instant of a Paris wall-clock time; AgendaError when that time never happens."""
    local = datetime.combine(day, at).replace(tzinfo=PARIS, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(PARIS).replace(tzinfo=None) != datetime.combine(day, at):
        raise AgendaError(
            "time",
            _(
                "Cette heure n'existe pas ce jour-là : on avance d'une heure à 2 h du matin "
                "(passage à l'heure d'été). Choisissez 3 h ou plus tard."
            ),
        )
    return instant


def happens_twice(day: date, at: time) -> bool:
    """The autumn change: 02:00–03:00 happens twice; the first one is kept."""
    first = datetime.combine(day, at).replace(tzinfo=PARIS, fold=0).utcoffset()
    second = datetime.combine(day, at).replace(tzinfo=PARIS, fold=1).utcoffset()
    return first != second


def _patient(appointment: Appointment) -> Patient:
    """Its record, from the session's identity map when the page loaded it already."""
    patient = db.session.get(Patient, appointment.patient_id)
    assert patient is not None
    return patient


def _professional(appointment: Appointment) -> Professional | None:
    if appointment.professional_id is None:
        return None
    return db.session.get(Professional, appointment.professional_id)


def _kind(actor: Account) -> str:
    return "patient" if actor.role == Role.PATIENT else "professional"


def _seal_note(appointment: Appointment, note: str) -> None:
    if not note:
        appointment.key_id = appointment.wrapped_key = appointment.note_sealed = None
        return
    sealed = storage.seal_text(note_label(appointment.id), note)
    appointment.key_id = sealed.key_id
    appointment.wrapped_key = sealed.wrapped_key
    appointment.note_sealed = sealed.sealed


def note_label(appointment_id: int) -> str:
    """Bound into the note's encryption: a note copied to another row does not open."""
    return f"appointment-note:{appointment_id}"


def note_of(appointment: Appointment) -> str:
    if (
        appointment.note_sealed is None
        or appointment.key_id is None
        or appointment.wrapped_key is None
    ):
        return ""
    return storage.open_text(
        note_label(appointment.id),
        appointment.key_id,
        appointment.wrapped_key,
        appointment.note_sealed,
    )


def _apply(appointment: Appointment, details: Details) -> None:
    starts = paris_start(details.day, details.at)
    appointment.title = details.title
    appointment.place = details.place
    appointment.starts_at = starts
    appointment.ends_at = starts + timedelta(minutes=details.duration)
    appointment.duration_minutes = details.duration
    appointment.professional_id = details.professional.id if details.professional else None


def _flush_or_overlap() -> None:
    """The database has the last word on overlaps; its refusal becomes the form's message."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        if OVERLAP in str(exc.orig):
            raise Overlap() from exc
        raise


def create(
    actor: Account, patient: Patient, details: Details, *, submission_key: str | None = None
) -> Appointment:
    """A new appointment (the caller decided APPOINTMENT_CREATE); the other party is told."""
    if submission_key:
        existing = db.session.scalar(
            select(Appointment).where(
                Appointment.patient_id == patient.id,
                Appointment.submission_key == submission_key,
            )
        )
        if existing is not None:  # the same form sent twice makes one appointment
            return existing
    now = clock.now()
    appointment = Appointment(
        patient_id=patient.id,
        created_by_kind=_kind(actor),
        created_by_account_id=actor.id,
        created_at=now,
        updated_at=now,
        updated_by_kind=_kind(actor),
        hidden_from_legal_reps=False,
        submission_key=submission_key or None,
    )
    _apply(appointment, details)
    db.session.add(appointment)
    _flush_or_overlap()
    _seal_note(appointment, details.note)
    db.session.flush()
    record_access(
        patient,
        actor,
        Action.APPOINTMENT_CREATED,
        resource_type="appointment",
        resource_id=appointment.id,
    )
    _tell_other_party(actor, appointment, patient, details.professional, "created")
    return appointment


def update(
    actor: Account, appointment: Appointment, details: Details, *, expected_version: int
) -> Appointment:
    """Move it or change its words (the caller decided APPOINTMENT_EDIT)."""
    if appointment.row_version != expected_version:
        raise ChangedMeanwhile()
    moved = paris_start(details.day, details.at) != appointment.starts_at or (
        details.duration != appointment.duration_minutes
    )
    before = _professional(appointment)
    _apply(appointment, details)
    appointment.updated_at = clock.now()
    appointment.updated_by_kind = _kind(actor)
    _flush_or_overlap()
    _seal_note(appointment, details.note)
    db.session.flush()
    record_access(
        _patient(appointment),
        actor,
        Action.APPOINTMENT_CHANGED,
        resource_type="appointment",
        resource_id=appointment.id,
        detail="moved" if moved else "",
    )
    if (
        before is not None
        and details.professional is not None
        and before.id != details.professional.id
    ):
        _tell_other_party(actor, appointment, _patient(appointment), before, "cancelled")
        _tell_other_party(
            actor, appointment, _patient(appointment), details.professional, "created"
        )
    else:
        _tell_other_party(
            actor, appointment, _patient(appointment), details.professional or before, "changed"
        )
    return appointment


def cancel(actor: Account, appointment: Appointment) -> None:
    """Cancelled, not deleted: both parties keep seeing it, marked cancelled."""
    appointment.cancelled_at = clock.now()
    appointment.updated_at = appointment.cancelled_at
    appointment.updated_by_kind = _kind(actor)
    db.session.flush()
    record_access(
        _patient(appointment),
        actor,
        Action.APPOINTMENT_CANCELLED,
        resource_type="appointment",
        resource_id=appointment.id,
    )
    _tell_other_party(
        actor, appointment, _patient(appointment), _professional(appointment), "cancelled"
    )


def describe_start(value: datetime, language: str) -> str:
    """ "mardi 3 mars 2026 à 10:30" in the reader's language, Paris time."""
    local = clock.to_paris(value)
    if language == "fr":
        return f"{format_date(local, 'EEEE d MMMM y')} à {format_time(local, 'HH:mm')}"
    return f"{format_date(local, 'EEEE d MMMM y')} at {format_time(local, 'HH:mm')}"


def _tell_other_party(
    actor: Account,
    appointment: Appointment,
    patient: Patient,
    professional: Professional | None,
    what: str,
) -> None:
    """A routine notice to whoever did not make the change: the time and who, never the note
    nor the title (an e-mail leaves the secure space)."""
    if actor.role == Role.PATIENT:
        if professional is None or professional.account_id is None:
            return
        recipient = db.session.get(Account, professional.account_id)
        by = f"{patient.first_names} {patient.last_name}"
    else:
        if patient.account_id is None:
            return
        recipient = db.session.get(Account, patient.account_id)
        by = actor.display_name
    if recipient is None:
        return
    notify.routine(
        recipient,
        "appointment_notice",
        f"{what}: {by}",
        what=what,
        by=by,
        starts_at=appointment.starts_at,
        for_professional=recipient.role == Role.PROFESSIONAL,
    )


# --- lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    """A page of appointments fetched one row beyond the page, so no COUNT is needed."""

    items: Sequence[Appointment]
    number: int
    has_more: bool


def _slice(stmt: Select[Appointment], page: int) -> Slice:
    rows = db.session.scalars(
        stmt.options(joinedload(Appointment.professional))
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return Slice(items=rows[:PAGE_SIZE], number=page, has_more=len(rows) > PAGE_SIZE)


def upcoming(actor: Account, page: int = 1) -> Slice:
    """Those not yet over, soonest first (cancelled ones stay, marked, so nobody goes)."""
    now = clock.now()
    stmt = appointments_query(actor).where(Appointment.ends_at > now)
    return _slice(stmt.order_by(Appointment.starts_at, Appointment.id), page)


def next_ones(actor: Account, limit: int = 2) -> Sequence[Appointment]:
    """The next appointments still on, for the home page."""
    stmt = appointments_query(actor).where(
        Appointment.ends_at > clock.now(), Appointment.cancelled_at.is_(None)
    )
    return db.session.scalars(
        stmt.options(joinedload(Appointment.professional))
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(limit)
    ).all()


def past(actor: Account, page: int = 1) -> Slice:
    now = clock.now()
    stmt = appointments_query(actor).where(Appointment.ends_at <= now)
    return _slice(stmt.order_by(Appointment.starts_at.desc(), Appointment.id.desc()), page)


def between(actor: Account, start: datetime, end: datetime) -> Sequence[Appointment]:
    """A professional's day or week (bounded by the slots: they never overlap)."""
    stmt = appointments_query(actor).where(Appointment.starts_at < end, Appointment.ends_at > start)
    return db.session.scalars(stmt.order_by(Appointment.starts_at, Appointment.id)).all()


def paris_day(value: datetime) -> date:
    return clock.to_paris(value).date()


def day_bounds(first: date, days: int) -> tuple[datetime, datetime]:
    """UTC bounds of `days` Paris days from `first` (a day of 23 or 25 hours included)."""
    start = datetime.combine(first, time()).replace(tzinfo=PARIS).astimezone(UTC)
    last = first + timedelta(days=days)
    end = datetime.combine(last, time()).replace(tzinfo=PARIS).astimezone(UTC)
    return start, end


# --- who the patient may choose -----------------------------------------------------------------


def known_professionals(patient: Patient) -> list[Professional]:
    """The professionals the patient already deals with: those she authorised (or declared
    as médecin traitant) and those of her appointments."""
    from_grants = select(Authorisation.professional_id).where(
        Authorisation.patient_id == patient.id,
        Authorisation.kind == AuthorisationKind.AUTHORISED,
    )
    from_appointments = select(Appointment.professional_id).where(
        Appointment.patient_id == patient.id, Appointment.professional_id.is_not(None)
    )
    return list(
        db.session.scalars(
            select(Professional)
            .where(or_(Professional.id.in_(from_grants), Professional.id.in_(from_appointments)))
            .order_by(Professional.last_name, Professional.first_names, Professional.id)
        ).all()
    )


def search_directory(words: str, limit: int = 20) -> list[Professional]:
    """Professionals whose name or city starts with the words typed (accents as typed)."""
    terms = [term for term in words.split() if term][:4]
    if not terms:
        return []
    stmt = select(Professional)
    for term in terms:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"{escaped}%"
        stmt = stmt.where(
            or_(
                Professional.last_name.ilike(pattern, escape="\\"),
                Professional.first_names.ilike(pattern, escape="\\"),
                Professional.city.ilike(pattern, escape="\\"),
            )
        )
    return list(
        db.session.scalars(
            stmt.order_by(Professional.last_name, Professional.first_names).limit(limit)
        ).all()
    )
