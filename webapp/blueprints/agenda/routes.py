"""Appointments: the patient's agenda (upcoming, past, reminders), a professional's day and
week, adding, moving and cancelling.

Every appointment is reached through `loaders.get_appointment_for`: the holder and the
professional concerned only; anyone else gets a 404, written in the record's history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from webapp.blueprints.agenda import bp
from webapp.blueprints.agenda.forms import FIRST_DAY, LAST_DAY, AppointmentForm, PlainForm
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Appointment, Patient, Professional
from webapp.policy import Permission, loaders
from webapp.services import agenda, messages, prevention
from webapp.services.audit import Action
from webapp.web.labels import profession_label, specialty_label
from webapp.web.security import current_account


def _holder_or_pro() -> tuple[Account, bool]:
    """(actor, is the holder): a counter agent has no agenda."""
    actor = current_account()
    if loaders.can(actor, Permission.DASHBOARD_PATIENT):
        return actor, True
    if loaders.can(actor, Permission.PRO_WORKSPACE):
        return actor, False
    abort(404)


def _own_patient(actor: Account) -> Patient:
    patient = actor.patient
    if patient is None:
        abort(404)
    return patient


def _page_arg(name: str) -> int:
    raw = request.args.get(name, "1")
    return min(max(int(raw), 1), 10_000) if raw.isascii() and raw.isdigit() and len(raw) <= 5 else 1


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "hm": _hm,
        "day_heading": _day_heading,
        "professional_label": professional_label,
        "by_day": _by_day,
        "starts": _starts,
    }


def _starts(value: datetime) -> str:
    locale = get_locale()
    return agenda.describe_start(value, locale.language if locale is not None else "fr")


def _hm(value: datetime) -> str:
    return format_time(clock.to_paris(value), "HH:mm")


def _day_heading(day: date, today: date) -> str:
    long = format_date(day, "EEEE d MMMM y")
    if day == today:
        return _("Aujourd'hui, %(day)s", day=long)
    if day == today + timedelta(days=1):
        return _("Demain, %(day)s", day=long)
    return long[:1].upper() + long[1:]


def _by_day(rows: Sequence[Appointment]) -> list[tuple[date, list[Appointment]]]:
    groups: dict[date, list[Appointment]] = {}
    for row in rows:
        groups.setdefault(agenda.paris_day(row.starts_at), []).append(row)
    return list(groups.items())


# --- the agenda --------------------------------------------------------------------------------


@bp.get("/")
def index() -> ResponseReturnValue:
    actor, holder = _holder_or_pro()
    if not holder:
        return _professional_agenda(actor)
    patient = _own_patient(actor)
    today = clock.to_paris(clock.now()).date()
    return render_template(
        "agenda/index.html",
        upcoming=agenda.upcoming(actor, _page_arg("page")),
        past=agenda.past(actor, _page_arg("past")),
        reminders=prevention.for_patient(patient, today),
        today=today,
        plain_form=PlainForm(),
    )


def _professional_agenda(actor: Account) -> ResponseReturnValue:
    """One day or one week of the professional's appointments, across patients."""
    view = "day" if request.args.get("view") == "day" else "week"
    today = clock.to_paris(clock.now()).date()
    raw = request.args.get("date", "")
    try:
        chosen = date.fromisoformat(raw) if len(raw) == 10 else today
    except ValueError:
        chosen = today
    if not FIRST_DAY <= chosen <= LAST_DAY:  # the week around year 1 or 9999 overflows
        chosen = today
    first = chosen if view == "day" else chosen - timedelta(days=chosen.weekday())
    days = 1 if view == "day" else 7
    start, end = agenda.day_bounds(first, days)
    rows = agenda.between(actor, start, end)
    by_day: dict[date, list[Appointment]] = {first + timedelta(days=n): [] for n in range(days)}
    for row in rows:
        by_day.setdefault(agenda.paris_day(row.starts_at), []).append(row)
    step = timedelta(days=days)
    return render_template(
        "agenda/professional.html",
        view=view,
        first=first,
        last=first + timedelta(days=days - 1),
        by_day=by_day,
        today=today,
        previous=first - step,
        following=first + step,
        count=len(rows),
    )


# --- adding ------------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    actor, holder = _holder_or_pro()
    form = AppointmentForm()
    if holder:
        own = _own_patient(actor)
        loaders.require(actor, Permission.APPOINTMENT_CREATE, own)
        del form.patient
        _offer_professionals(form, own, None)
        patient: Patient | None = own
    else:
        del form.professional
        del form.professional_search
        patient = _chosen_patient(actor, form)
    if request.method == "GET" and not form.date.data:
        form.date.show(clock.to_paris(clock.now()).date() + timedelta(days=1))
    searching = request.method == "POST" and "find" in request.form
    if not searching and form.validate_on_submit():
        if patient is None:
            assert form.patient is not None
            form.patient.errors = [_("Choisissez le patient.")]
        else:
            created = _create(actor, patient, form)
            if created is not None:
                return created
    status = 422 if request.method == "POST" and not searching else 200
    return render_template("agenda/new.html", form=form, holder=holder), status


def _chosen_patient(actor: Account, form: AppointmentForm) -> Patient | None:
    """The patient a professional books for: one of those they may reach, or the one whose
    record page they came from (identified in this session); anyone else is a refused
    attempt, written in that record's history."""
    offered = messages.writable_patients(actor)
    wanted = (request.form if request.method == "POST" else request.args).get("patient", "")
    chosen: Patient | None = None
    if wanted:
        if not (wanted.isascii() and wanted.isdigit()) or len(wanted) > 9:
            abort(404)
        chosen, _decision = loaders.get_patient_for(
            actor,
            int(wanted),
            Permission.APPOINTMENT_CREATE,
            refusal=Action.APPOINTMENT_REFUSED,
            what="appointment",
        )
        if all(pid != chosen.id for pid, _name in offered):
            offered.append((chosen.id, messages.patient_label(chosen)))
    form.offer_patients([(str(pid), name) for pid, name in offered])
    if request.method == "GET" and chosen is not None:
        form.patient.data = str(chosen.id)
    return chosen


def _offer_professionals(
    form: AppointmentForm, patient: Patient, current: Professional | None
) -> None:
    """Her professionals, the one already chosen, and the directory's answers to a search."""
    known = agenda.known_professionals(patient)
    if current is not None and all(p.id != current.id for p in known):
        known.append(current)
    words = (form.professional_search.data or "").strip() if form.professional_search else ""
    found = agenda.search_directory(words) if words and request.method == "POST" else []
    wanted = request.form.get("professional", "") if request.method == "POST" else ""
    if (
        wanted.isascii()
        and wanted.isdigit()
        and len(wanted) <= 9
        and all(str(p.id) != wanted for p in known + found)
    ):
        picked = db.session.get(Professional, int(wanted))  # chosen from an earlier search
        if picked is not None:
            found.append(picked)
    seen: set[int] = set()
    choices: list[tuple[str, str]] = []
    for pro in known + found:
        if pro.id not in seen:
            seen.add(pro.id)
            choices.append((str(pro.id), professional_label(pro)))
    form.offer_professionals(choices)
    form.found = found if words else None  # type: ignore[attr-defined]


def professional_label(pro: Professional) -> str:
    parts = [pro.display_name, _profession(pro)]
    if pro.city:
        parts.append(pro.city)
    return " — ".join(part for part in parts if part)


def _profession(pro: Professional) -> str:
    return specialty_label(pro.specialty) if pro.specialty else profession_label(pro.profession)


def _details(form: AppointmentForm, professional: Professional | None) -> agenda.Details | None:
    day, at = form.date.day, form.time.at
    if day is None or at is None or form.duration.data is None:
        return None
    return agenda.Details(
        title=(form.title.data or "").strip(),
        day=day,
        at=at,
        duration=int(form.duration.data),
        place=(form.place.data or "").strip(),
        note=(form.note.data or "").strip(),
        professional=professional,
    )


def _form_professional(actor: Account, holder: bool, form: AppointmentForm) -> Professional | None:
    if not holder:
        return actor.professional
    raw = form.professional.data if form.professional is not None else ""
    if not raw:
        return None
    return (
        db.session.get(Professional, int(raw))
        if raw.isascii() and raw.isdigit() and len(raw) <= 9
        else None
    )


def _create(actor: Account, patient: Patient, form: AppointmentForm) -> ResponseReturnValue | None:
    holder = actor.patient is not None and actor.patient.id == patient.id
    details = _details(form, _form_professional(actor, holder, form))
    if details is None:
        return None
    try:
        appointment = agenda.create(actor, patient, details, submission_key=form.submission_key())
        db.session.commit()
    except agenda.AgendaError as problem:
        db.session.rollback()
        getattr(form, problem.field).errors = [problem.message]
        return None
    _after_save_notes(appointment, details)
    flash(_("Le rendez-vous est enregistré."), "success")
    if holder:
        return redirect(url_for(".index"), 303)
    return redirect(url_for(".index", view="day", date=details.day.isoformat()), 303)


def _after_save_notes(appointment: Appointment, details: agenda.Details) -> None:
    if appointment.ends_at <= clock.now():
        flash(
            _("Ce rendez-vous est dans le passé : il est rangé avec les rendez-vous passés."),
            "info",
        )
    if agenda.happens_twice(details.day, details.at):
        flash(
            _(
                "Cette nuit-là, on recule d'une heure : %(time)s arrive deux fois. Le rendez-vous "
                "est à la première (heure d'été).",
                time=details.at.strftime("%H:%M"),
            ),
            "info",
        )


# --- one appointment ---------------------------------------------------------------------------


@bp.route("/<int(max=2147483647):appointment_id>", methods=["GET", "POST"])
def edit(appointment_id: int) -> ResponseReturnValue:
    actor, holder = _holder_or_pro()
    permission = (
        Permission.APPOINTMENT_EDIT if request.method == "POST" else Permission.APPOINTMENT_READ
    )
    appointment = loaders.get_appointment_for(actor, appointment_id, permission)
    editable = loaders.can(actor, Permission.APPOINTMENT_EDIT, appointment)
    form = AppointmentForm(formdata=request.form if request.method == "POST" else None)
    del form.patient
    if holder:
        _offer_professionals(form, appointment.patient, appointment.professional)
    else:
        del form.professional
        del form.professional_search
    if request.method == "GET":
        _fill(form, appointment)
    searching = request.method == "POST" and "find" in request.form
    status = 200
    if request.method == "POST" and not searching:
        saved = _save(actor, holder, appointment, form)
        if saved is not None:
            return saved
        status = 409 if form.errors.get("version") else 422
    return render_template(
        "agenda/edit.html",
        appointment=appointment,
        form=form,
        holder=holder,
        editable=editable,
        note=agenda.note_of(appointment),
        plain_form=PlainForm(),
    ), status


def _fill(form: AppointmentForm, appointment: Appointment) -> None:
    local = clock.to_paris(appointment.starts_at)
    form.title.data = appointment.title
    form.date.show(local.date())
    form.time.show(local.time().replace(second=0, microsecond=0))
    form.duration.data = appointment.duration_minutes
    form.place.data = appointment.place
    form.note.data = agenda.note_of(appointment)
    form.version.data = str(appointment.row_version)
    if form.professional is not None:
        form.professional.data = str(appointment.professional_id or "")


def _save(
    actor: Account, holder: bool, appointment: Appointment, form: AppointmentForm
) -> ResponseReturnValue | None:
    if not form.validate():
        return None
    professional = _form_professional(actor, holder, form) if holder else appointment.professional
    details = _details(form, professional)
    expected = form.expected_version()
    if details is None or expected is None:
        return None
    try:
        agenda.update(actor, appointment, details, expected_version=expected)
        db.session.commit()
    except agenda.AgendaError as problem:
        db.session.rollback()
        getattr(form, problem.field).errors = [problem.message]
        return None
    except (agenda.ChangedMeanwhile, StaleDataError):
        db.session.rollback()
        form.version.errors = [
            _(
                "Ce rendez-vous vient d'être modifié par quelqu'un d'autre. Voici sa version "
                "actuelle : refaites votre changement si besoin."
            )
        ]
        fresh = loaders.get_appointment_for(actor, appointment.id, Permission.APPOINTMENT_READ)
        _fill(form, fresh)
        return None
    _after_save_notes(appointment, details)
    flash(_("Le rendez-vous est modifié. L'autre personne en est avertie."), "success")
    return redirect(url_for(".edit", appointment_id=appointment.id), 303)


@bp.post("/<int(max=2147483647):appointment_id>/cancel")
def cancel(appointment_id: int) -> ResponseReturnValue:
    actor, _holder = _holder_or_pro()
    appointment = loaders.get_appointment_for(actor, appointment_id, Permission.APPOINTMENT_CANCEL)
    agenda.cancel(actor, appointment)
    db.session.commit()
    flash(_("Le rendez-vous est annulé. L'autre personne en est avertie."), "success")
    return redirect(url_for(".edit", appointment_id=appointment.id), 303)
