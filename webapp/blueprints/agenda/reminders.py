"""Prevention reminders: done (a vaccination or a dated note), postponed, dismissed, restored.

The holder's alone (AGENDA_MANAGE): a professional or an agent gets a 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from webapp.blueprints.agenda import bp
from webapp.blueprints.agenda.forms import DoneForm, PostponeForm
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Patient
from webapp.policy import Permission, loaders
from webapp.services import prevention
from webapp.web.security import current_account

CODE = "<string(minlength=2,maxlength=32):code>"


def _holder() -> tuple[Account, Patient]:
    actor = current_account()
    patient = actor.patient if actor is not None else None
    if patient is None:
        abort(404)
    loaders.require(actor, Permission.AGENDA_MANAGE, patient)
    return actor, patient


def _reminder(patient: Patient, code: str) -> prevention.Reminder:
    today = clock.to_paris(clock.now()).date()
    for reminder in prevention.for_patient(patient, today):
        if reminder.code == code:
            return reminder
    abort(404)


@bp.route(f"/reminders/{CODE}/done", methods=["GET", "POST"])
def reminder_done(code: str) -> ResponseReturnValue:
    actor, patient = _holder()
    reminder = _reminder(patient, code)
    form = DoneForm()
    if form.validate_on_submit() and form.date.day is not None:
        try:
            prevention.mark_done(actor, patient, code, form.date.day)
            db.session.commit()
        except prevention.ReminderError as problem:
            db.session.rollback()
            form.date.errors = [problem.message]
        else:
            if reminder.vaccine:
                flash(
                    _("C'est noté : la vaccination est ajoutée à votre profil médical."), "success"
                )
            else:
                flash(_("C'est noté. Le prochain rappel viendra en temps voulu."), "success")
            return redirect(url_for(".index") + "#reminders", 303)
    if not form.is_submitted():
        form.date.show(clock.to_paris(clock.now()).date())
    status = 422 if form.is_submitted() else 200
    return render_template(
        "agenda/reminder.html", reminder=reminder, form=form, action="done"
    ), status


@bp.route(f"/reminders/{CODE}/postpone", methods=["GET", "POST"])
def reminder_postpone(code: str) -> ResponseReturnValue:
    actor, patient = _holder()
    reminder = _reminder(patient, code)
    form = PostponeForm()
    today = clock.to_paris(clock.now()).date()
    if form.validate_on_submit() and form.date.day is not None:
        try:
            prevention.postpone(actor, patient, code, form.date.day, today)
            db.session.commit()
        except prevention.ReminderError as problem:
            db.session.rollback()
            form.date.errors = [problem.message]
        else:
            flash(_("Le rappel est reporté."), "success")
            return redirect(url_for(".index") + "#reminders", 303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "agenda/reminder.html", reminder=reminder, form=form, action="postpone"
    ), status


@bp.post(f"/reminders/{CODE}/dismiss")
def reminder_dismiss(code: str) -> ResponseReturnValue:
    actor, patient = _holder()
    _reminder(patient, code)
    prevention.dismiss(actor, patient, code)
    db.session.commit()
    flash(
        _("Le rappel est retiré. Vous pouvez le remettre depuis la liste des rappels retirés."),
        "success",
    )
    return redirect(url_for(".index") + "#reminders", 303)


@bp.post(f"/reminders/{CODE}/restore")
def reminder_restore(code: str) -> ResponseReturnValue:
    actor, patient = _holder()
    _reminder(patient, code)
    prevention.restore(actor, patient, code)
    db.session.commit()
    flash(_("Le rappel est remis."), "success")
    return redirect(url_for(".index") + "#reminders", 303)
