"""Activating a record with a provisional code, opposing it, and asking for a new code."""

from __future__ import annotations

import time
from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
from webapp.models import Beneficiary, Patient
from webapp.models.account import RecordState
from webapp.services import enrolment, lifecycle, notify, passwords, provisional, recovery
from webapp.web.identity_fields import nir_problem, serial_problem
from webapp.web.security import public

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
    progress = state.in_progress()
    if progress is None:
        return _no_enrolment()
    patient, beneficiary = progress.patient, progress.beneficiary
    return render_template(
        "enrolment/choice.html",
        form=ChoiceForm(),
        patient=patient,
        beneficiary=beneficiary,
        can_oppose=patient.record_state == RecordState.PENDING,
        recovering=recovery.online(patient),
        masked_email=enrolment.mask_email(beneficiary.email),
        masked_mobile=enrolment.mask_mobile(beneficiary.mobile),
    )


@bp.route("/oppose", methods=["GET", "POST"])
@public
def oppose() -> ResponseReturnValue:
    progress = state.in_progress()
    if progress is None:
        return _no_enrolment()
    patient = progress.patient
    if patient.record_state != RecordState.PENDING:
        return redirect(url_for("enrolment.choice"), 303)
    form = OppositionForm()
    if form.validate_on_submit():
        try:
            enrolment.oppose(int(progress.found["code"]), patient.id)
        except (enrolment.EnrolmentError, lifecycle.ChangedMeanwhile):
            db.session.rollback()
            return _no_enrolment()
        db.session.commit()
        state.end()
        session["opposed_by_post"] = not bool(progress.beneficiary.email)
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
    progress = state.in_progress()
    if progress is None:
        return _no_enrolment()
    beneficiary = progress.beneficiary
    form = ContactsForm()
    if request.method == "GET":
        form.keep_email.data = "keep" if beneficiary.email else "change"
        form.keep_mobile.data = "keep" if beneficiary.mobile else "change"
    if form.validate_on_submit():
        chosen = _chosen_contacts(form, beneficiary)
        if chosen is not None:
            return _check_new_contacts(beneficiary, *chosen)
    status = 422 if form.errors else 200
    return render_template(
        "enrolment/contacts.html",
        form=form,
        step=1,
        steps=STEPS,
        masked_email=enrolment.mask_email(beneficiary.email),
        masked_mobile=enrolment.mask_mobile(beneficiary.mobile),
    ), status


def _chosen_contacts(
    form: ContactsForm, beneficiary: Beneficiary
) -> tuple[str | None, str | None] | None:
    """The e-mail and mobile the person keeps or types; None with the problem on the form."""
    email = beneficiary.email if form.keep_email.data == "keep" else (form.email.data or None)
    mobile = beneficiary.mobile if form.keep_mobile.data == "keep" else (form.mobile.data or None)
    if form.keep_email.data == "change" and not form.email.data and beneficiary.email:
        form.email.errors = [_("Saisissez la nouvelle adresse, ou gardez celle que nous avons.")]
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
        return email, mobile
    return None


def _check_new_contacts(
    beneficiary: Beneficiary, email: str | None, mobile: str | None
) -> ResponseReturnValue:
    """Keep the chosen contacts in the steps, and send a code to each new one."""
    state.update(email=state.seal_text(email or ""), mobile=state.seal_text(mobile or ""))
    state.update(checks={})
    changed = False
    for kind, address, on_file in (
        ("email", email, beneficiary.email),
        ("sms", mobile, beneficiary.mobile),
    ):
        if address and address != on_file:
            code = state.new_check(kind, address)
            notify.enqueue_contact(address, kind, "contact_check", sensitive=True, code=code)
            changed = True
    db.session.commit()
    state.update(contacts_done=not changed)
    target = "enrolment.check_contacts" if changed else "enrolment.account"
    return redirect(url_for(target), 303)


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
        _try_checks(form, pending, code_id=int(found["code"]))
        db.session.commit()
        if not form.errors:
            state.update(contacts_done=True)
            return redirect(url_for("enrolment.account"), 303)
    status = 422 if form.errors else 200
    return render_template(
        "enrolment/check_contacts.html", form=form, pending=pending, step=1, steps=STEPS
    ), status


def _try_checks(form: ContactCheckForm, pending: dict[str, Any], *, code_id: int) -> None:
    """Each code typed against its check; a wrong one costs a try and shows on its field."""
    typed = {"email": form.email_code.data or "", "sms": form.mobile_code.data or ""}
    for kind in list(pending):
        if state.try_check(kind, typed[kind]) is None:
            # Counted in the database too: replaying an older cookie gains no tries.
            provisional.spend_try(code_id)
            target = form.email_code if kind == "email" else form.mobile_code
            target.errors = [_("Ce code ne correspond pas ou a expiré. Vérifiez le message reçu.")]


@bp.route("/account", methods=["GET", "POST"])
@public
def account() -> ResponseReturnValue:
    progress = state.in_progress()
    if progress is None:
        return _no_enrolment()
    found = progress.found
    if not found.get("contacts_done") or state.pending_checks():
        return redirect(url_for("enrolment.contacts"), 303)
    email = state.open_text(found.get("email")) or None
    mobile = state.open_text(found.get("mobile")) or None
    form = AccountForm()
    if request.method == "GET" and progress.patient.account is not None:
        form.identifier.data = progress.patient.account.identifier
    if form.validate_on_submit() and _account_chosen(form, progress, email, mobile):
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


IDENTIFIER_PROBLEMS = {
    "short": _l("L'identifiant compte au moins 3 caractères."),
    "characters": _l("Utilisez des lettres, des chiffres, le point ou le tiret."),
    "taken": _l("Cet identifiant est déjà pris : choisissez-en un autre."),
}


def _account_chosen(
    form: AccountForm, progress: state.Progress, email: str | None, mobile: str | None
) -> bool:
    """Keep the identifier, the password's hash and the second factor in the steps; False
    with the problems on the form."""
    problem = enrolment.identifier_problem(form.identifier.data or "", progress.patient)
    if problem is not None:
        form.identifier.errors = [str(IDENTIFIER_PROBLEMS[problem])]
    beneficiary = progress.beneficiary
    personal = (
        form.identifier.data or "",
        beneficiary.first_names,
        beneficiary.last_name,
        beneficiary.birth_date.isoformat(),
    )
    found_problems = passwords.problems(form.password.data or "", personal=personal)
    if found_problems:
        form.password.errors = found_problems
    if form.errors:
        return False
    state.update(
        identifier=form.identifier.data,
        password=state.seal_text(passwords.hash_password(form.password.data or "")),
        second_factor=enrolment.second_factor_for(
            email, mobile, form.second_factor.data or "email"
        ),
    )
    return True


@bp.route("/emergency", methods=["GET", "POST"])
@public
def emergency() -> ResponseReturnValue:
    progress = state.in_progress()
    if progress is None:
        return _no_enrolment()
    found = progress.found
    password_hash = state.open_text(found.get("password"))
    if not found.get("identifier") or not password_hash:
        return redirect(url_for("enrolment.account"), 303)
    form = EmergencyForm()
    patient = progress.patient
    if request.method == "GET" and patient.account is not None:
        # Someone who had an account keeps her choices unless she changes them here.
        form.emergency.data = "oppose" if patient.oppose_emergency_access else "allow"
        form.regulation.data = "oppose" if patient.oppose_regulation_access else "allow"
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
        return _open_record(int(found["code"]), progress.patient, choice)
    status = 422 if form.errors else 200
    return render_template(
        "enrolment/emergency.html",
        form=form,
        step=3,
        steps=STEPS,
        recovering=recovery.online(patient),
    ), status


def _open_record(
    code_id: int, patient: Patient, choice: enrolment.Activation
) -> ResponseReturnValue:
    """The last step: the account is created and the record opens, or the person is told why
    not."""
    recovering = recovery.online(patient)
    try:
        created = enrolment.activate(code_id, patient.id, choice)
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
    session["activation_reset_password"] = recovering
    return redirect(url_for("enrolment.done"), 303)


@bp.get("/done")
@public
def done() -> ResponseReturnValue:
    identifier = session.get("activated_identifier")
    if not isinstance(identifier, str):
        return redirect(url_for("auth.login"), 303)
    return render_template(
        "enrolment/done.html",
        identifier=identifier,
        step=4,
        steps=STEPS,
        reset=bool(session.get("activation_reset_password")),
    )


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
