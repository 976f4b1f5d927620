"""Activating a record with a provisional code, opposing it, and asking for a new code."""

from __future__ import annotations

import time

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from webapp.blueprints.enrolment import bp, state
from webapp.blueprints.enrolment.forms import (
    AccountForm,
    ActivationForm,
    ChoiceForm,
    ContactCheckForm,
    ContactsForm,
    EmergencyForm,
    LostCodeForm,
    OppositionForm,
)
from webapp.core.extensions import db, limiter
from webapp.core.security import public
from webapp.models.account import RecordState
from webapp.services import enrolment, lifecycle, notify, passwords, provisional
from webapp.ui.identity_fields import nir_problem, serial_problem

STEPS = 4
# Attempts with a code or identity details all answer after the same time, matched or not:
# the work differs by a few milliseconds (a row updated, a page rendered), the floor hides it.
ANSWER_FLOOR_SECONDS = 0.2


def _level(started: float) -> None:
    remaining = ANSWER_FLOOR_SECONDS - (time.perf_counter() - started)
    if remaining > 0:
        time.sleep(remaining)


def _no_enrolment() -> ResponseReturnValue:
    flash(_("Votre démarche a expiré ou le code n'est plus valable. Recommencez avec votre code."))
    return redirect(url_for("enrolment.activate"), 303)


@bp.route("/activate", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute;60 per hour", methods=["POST"])
def activate() -> ResponseReturnValue:
    started = time.perf_counter()
    form = ActivationForm()
    refused = False
    if form.validate_on_submit():
        assert form.birth_date.data is not None
        match = provisional.check(
            form.code.data or "",
            form.nir.data or "",
            form.vitale_serial.data or "",
            form.birth_date.data,
        )
        db.session.commit()
        if match is not None:
            state.begin(match)
            _level(started)
            return redirect(url_for("enrolment.choice"), 303)
        refused = True
    status = 422 if form.errors or refused else 200
    page = render_template("enrolment/activate.html", form=form, refused=refused)
    if refused:
        _level(started)
    return page, status


@bp.post("/check")
@public
@limiter.limit("60 per minute")
def check_field() -> ResponseReturnValue:
    """Inline help while typing: is the NIR's key right, has the serial the right shape?"""
    name = request.form.get("field", "")
    value = request.form.get(name, "") if name in ("nir", "vitale_serial") else ""
    problem = None
    if value.strip():
        problem = nir_problem(value) if name == "nir" else serial_problem(value)
    return render_template("enrolment/_check.html", name=name, value=value, problem=problem)


@bp.get("/choice")
@public
def choice() -> ResponseReturnValue:
    found = state.current()
    pair = state.people(found) if found else None
    if pair is None:
        return _no_enrolment()
    patient, beneficiary = pair
    return render_template(
        "enrolment/choice.html",
        form=ChoiceForm(),
        patient=patient,
        beneficiary=beneficiary,
        can_oppose=patient.record_state == RecordState.PENDING,
        masked_email=enrolment.mask_email(beneficiary.email),
        masked_mobile=enrolment.mask_mobile(beneficiary.mobile),
    )


@bp.route("/oppose", methods=["GET", "POST"])
@public
def oppose() -> ResponseReturnValue:
    found = state.current()
    pair = state.people(found) if found else None
    if found is None or pair is None:
        return _no_enrolment()
    patient, beneficiary = pair
    if patient.record_state != RecordState.PENDING:
        return redirect(url_for("enrolment.choice"), 303)
    form = OppositionForm()
    if form.validate_on_submit():
        try:
            enrolment.oppose(int(found["code"]), patient.id)
        except (enrolment.EnrolmentError, lifecycle.ChangedMeanwhile):
            db.session.rollback()
            return _no_enrolment()
        db.session.commit()
        state.end()
        session["opposed_by_post"] = not bool(beneficiary.email)
        return redirect(url_for("enrolment.opposed"), 303)
    status = 422 if form.errors else 200
    return render_template("enrolment/oppose.html", form=form), status


@bp.get("/opposed")
@public
def opposed() -> ResponseReturnValue:
    return render_template("enrolment/opposed.html", by_post=session.get("opposed_by_post"))


@bp.route("/contacts", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", methods=["POST"])
def contacts() -> ResponseReturnValue:
    found = state.current()
    pair = state.people(found) if found else None
    if found is None or pair is None:
        return _no_enrolment()
    _patient, beneficiary = pair
    form = ContactsForm()
    if request.method == "GET":
        form.keep_email.data = "keep" if beneficiary.email else "change"
        form.keep_mobile.data = "keep" if beneficiary.mobile else "change"
    if form.validate_on_submit():
        email = beneficiary.email if form.keep_email.data == "keep" else (form.email.data or None)
        mobile = (
            beneficiary.mobile if form.keep_mobile.data == "keep" else (form.mobile.data or None)
        )
        if form.keep_email.data == "change" and not form.email.data and beneficiary.email:
            form.email.errors = [
                _("Saisissez la nouvelle adresse, ou gardez celle que nous avons.")
            ]
        elif form.keep_mobile.data == "change" and not form.mobile.data and beneficiary.mobile:
            form.mobile.errors = [_("Saisissez le nouveau numéro, ou gardez celui que nous avons.")]
        elif not email and not mobile:
            form.email.errors = [
                _(
                    "Indiquez au moins une adresse e-mail ou un portable : "
                    "vos codes de connexion y arriveront."
                )
            ]
        else:
            state.update(email=state.seal_text(email or ""), mobile=state.seal_text(mobile or ""))
            state.update(checks={})
            changed = False
            if email and email != beneficiary.email:
                code = state.new_check("email", email)
                notify.enqueue_contact(email, "email", "contact_check", sensitive=True, code=code)
                changed = True
            if mobile and mobile != beneficiary.mobile:
                code = state.new_check("sms", mobile)
                notify.enqueue_contact(mobile, "sms", "contact_check", sensitive=True, code=code)
                changed = True
            db.session.commit()
            state.update(contacts_done=not changed)
            target = "enrolment.check_contacts" if changed else "enrolment.account"
            return redirect(url_for(target), 303)
    status = 422 if form.errors else 200
    return render_template(
        "enrolment/contacts.html",
        form=form,
        step=1,
        steps=STEPS,
        masked_email=enrolment.mask_email(beneficiary.email),
        masked_mobile=enrolment.mask_mobile(beneficiary.mobile),
    ), status


@bp.route("/contacts/check", methods=["GET", "POST"])
@public
@limiter.limit("20 per hour", methods=["POST"])
def check_contacts() -> ResponseReturnValue:
    found = state.current()
    if found is None:
        return _no_enrolment()
    pending = state.pending_checks()
    if not pending:
        return redirect(url_for("enrolment.account"), 303)
    form = ContactCheckForm()
    if form.validate_on_submit():
        typed = {"email": form.email_code.data or "", "sms": form.mobile_code.data or ""}
        for kind in list(pending):
            if state.try_check(kind, typed[kind]) is None:
                # Counted in the database too: replaying an older cookie gains no tries.
                provisional.spend_try(int(found["code"]))
                target = form.email_code if kind == "email" else form.mobile_code
                target.errors = [
                    _("Ce code ne correspond pas ou a expiré. Vérifiez le message reçu.")
                ]
        db.session.commit()
        if not form.errors:
            state.update(contacts_done=True)
            return redirect(url_for("enrolment.account"), 303)
    status = 422 if form.errors else 200
    return render_template(
        "enrolment/check_contacts.html", form=form, pending=pending, step=1, steps=STEPS
    ), status


@bp.route("/account", methods=["GET", "POST"])
@public
def account() -> ResponseReturnValue:
    found = state.current()
    pair = state.people(found) if found else None
    if found is None or pair is None:
        return _no_enrolment()
    if not found.get("contacts_done") or state.pending_checks():
        return redirect(url_for("enrolment.contacts"), 303)
    patient, beneficiary = pair
    email = state.open_text(found.get("email")) or None
    mobile = state.open_text(found.get("mobile")) or None
    form = AccountForm()
    if request.method == "GET" and patient.account is not None:
        form.identifier.data = patient.account.identifier
    if form.validate_on_submit():
        problem = enrolment.identifier_problem(form.identifier.data or "", patient)
        if problem is not None:
            form.identifier.errors = [
                {
                    "short": _("L'identifiant compte au moins 3 caractères."),
                    "characters": _("Utilisez des lettres, des chiffres, le point ou le tiret."),
                    "taken": _("Cet identifiant est déjà pris : choisissez-en un autre."),
                }[problem]
            ]
        personal = (
            form.identifier.data or "",
            beneficiary.first_names,
            beneficiary.last_name,
            beneficiary.birth_date.isoformat(),
        )
        found_problems = passwords.problems(form.password.data or "", personal=personal)
        if found_problems:
            form.password.errors = found_problems
        if not form.errors:
            state.update(
                identifier=form.identifier.data,
                password=state.seal_text(passwords.hash_password(form.password.data or "")),
                second_factor=enrolment.second_factor_for(
                    email, mobile, form.second_factor.data or "email"
                ),
            )
            return redirect(url_for("enrolment.emergency"), 303)
    status = 422 if form.errors else 200
    return render_template(
        "enrolment/account.html",
        form=form,
        step=2,
        steps=STEPS,
        has_email=bool(email),
        has_mobile=bool(mobile),
    ), status


@bp.route("/emergency", methods=["GET", "POST"])
@public
def emergency() -> ResponseReturnValue:
    found = state.current()
    pair = state.people(found) if found else None
    if found is None or pair is None:
        return _no_enrolment()
    password_hash = state.open_text(found.get("password"))
    if not found.get("identifier") or not password_hash:
        return redirect(url_for("enrolment.account"), 303)
    patient, _beneficiary = pair
    form = EmergencyForm()
    if form.validate_on_submit():
        choice = enrolment.Activation(
            identifier=str(found["identifier"]),
            password_hash=password_hash,
            email=state.open_text(found.get("email")) or None,
            mobile=state.open_text(found.get("mobile")) or None,
            second_factor=str(found.get("second_factor", "email")),
            oppose_emergency=form.emergency.data == "oppose",
            oppose_regulation=form.regulation.data == "oppose",
        )
        try:
            created = enrolment.activate(int(found["code"]), patient.id, choice)
        except enrolment.CodeGone:
            db.session.rollback()
            return _no_enrolment()
        except (enrolment.EnrolmentError, IntegrityError):
            db.session.rollback()
            flash(_("Cet identifiant vient d'être pris : choisissez-en un autre."))
            return redirect(url_for("enrolment.account"), 303)
        except lifecycle.ChangedMeanwhile:
            db.session.rollback()
            return _no_enrolment()
        db.session.commit()
        state.end()
        session["activated_identifier"] = created.identifier
        return redirect(url_for("enrolment.done"), 303)
    status = 422 if form.errors else 200
    return render_template("enrolment/emergency.html", form=form, step=3, steps=STEPS), status


@bp.get("/done")
@public
def done() -> ResponseReturnValue:
    identifier = session.get("activated_identifier")
    if not isinstance(identifier, str):
        return redirect(url_for("auth.login"), 303)
    return render_template("enrolment/done.html", identifier=identifier, step=4, steps=STEPS)


@bp.route("/code", methods=["GET", "POST"])
@public
@limiter.limit("5 per minute;20 per hour", methods=["POST"])
def lost_code() -> ResponseReturnValue:
    started = time.perf_counter()
    form = LostCodeForm()
    if form.validate_on_submit():
        assert form.birth_date.data is not None
        enrolment.request_lost_code(
            form.nir.data or "",
            form.vitale_serial.data or "",
            form.birth_date.data,
            form.channel.data or "email",
        )
        db.session.commit()
        page = render_template("enrolment/code_sent.html", channel=form.channel.data)
        _level(started)
        return page
    status = 422 if form.errors else 200
    return render_template("enrolment/lost_code.html", form=form), status


@bp.get("/closed")
@public
def closed() -> ResponseReturnValue:
    """Shown once the patient has closed their record (they are signed out by then)."""
    return render_template(
        "enrolment/closed.html", deletion=bool(session.get("closed_with_deletion"))
    )
