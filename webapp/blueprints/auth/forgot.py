"""A forgotten password, online (SPEC §1): identifier → code and second proof → new password.

Where the person is in these steps lives in the signed session cookie: the identifier typed
(nothing more, so the cookie is the same whether or not an account exists) and, once the
proofs were accepted, the ticket for the new password, sealed. The code and the ticket are
rows bound to the account in the database: single use, 10 minutes, five tries.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from webapp.blueprints.auth import bp
from webapp.blueprints.auth.forgot_forms import ForgotForm, ProofForm
from webapp.blueprints.auth.forms import NewPasswordForm
from webapp.core import clock
from webapp.core.extensions import db, limiter
from webapp.services import auth, crypto, recovery, sessions
from webapp.web.security import current_account_or_none, public

KEY = "password_recovery"
LIFETIME_SECONDS = 1800
# Every answer to a step with an identifier or a code comes after the same time, whether
# anything matched or not: the work differs by a few milliseconds, the floor hides it.
ANSWER_FLOOR_SECONDS = 0.2


@dataclass(frozen=True)
class Flow:
    identifier: str
    ticket: str | None


def _begin(identifier: str) -> None:
    session[KEY] = {"identifier": identifier, "started": clock.now().timestamp()}


def _flow() -> Flow | None:
    raw = session.get(KEY)
    if not isinstance(raw, dict) or not isinstance(raw.get("identifier"), str):
        return None
    if clock.now().timestamp() - float(raw.get("started", 0)) > LIFETIME_SECONDS:
        session.pop(KEY, None)
        return None
    return Flow(raw["identifier"], _open_ticket(raw.get("ticket")))


def _hold_ticket(ticket: str) -> None:
    sealed = crypto.seal("recovery-ticket", ticket.encode())
    session[KEY] = {**session[KEY], "ticket": base64.urlsafe_b64encode(sealed).decode()}


def _open_ticket(sealed: object) -> str | None:
    if not isinstance(sealed, str):
        return None
    try:
        return crypto.unseal("recovery-ticket", base64.urlsafe_b64decode(sealed)).decode()
    except (ValueError, InvalidTag):
        return None


def _level(started: float) -> None:
    remaining = ANSWER_FLOOR_SECONDS - (time.perf_counter() - started)
    if remaining > 0:
        time.sleep(remaining)


def _identifier_key() -> str:
    return "forgot:" + auth.normalise_identifier(request.form.get("identifier", ""))


def _flow_key() -> str:
    flow = _flow()
    return f"forgot:{flow.identifier}" if flow else f"forgot-ip:{request.remote_addr}"


def _start_again() -> ResponseReturnValue:
    flash(_("Votre demande a expiré. Recommencez, s'il vous plaît."), "info")
    return redirect(url_for("auth.forgot"), 303)


@bp.route("/forgot", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute;50 per hour", methods=["POST"])
@limiter.limit("5 per hour;10 per day", key_func=_identifier_key, methods=["POST"])
def forgot() -> ResponseReturnValue:
    if current_account_or_none() is not None:
        return redirect(url_for("main.home"))
    started = time.perf_counter()
    form = ForgotForm()
    if form.validate_on_submit():
        identifier = auth.normalise_identifier(form.identifier.data or "")
        recovery.request_code(identifier)
        db.session.commit()
        _begin(identifier)
        _level(started)
        return redirect(url_for("auth.forgot_code"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form), status


@bp.route("/forgot/code", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute;100 per hour", methods=["POST"])
@limiter.limit("10 per hour;30 per day", key_func=_flow_key, methods=["POST"])
def forgot_code() -> ResponseReturnValue:
    started = time.perf_counter()
    flow = _flow()
    if flow is None:
        return _start_again()
    form = ProofForm()
    refused = False
    if form.validate_on_submit():
        ticket = recovery.prove(flow.identifier, form.code.data or "", form.evidence())
        db.session.commit()
        _level(started)
        if ticket is not None:
            _hold_ticket(ticket)
            return redirect(url_for("auth.forgot_password"), 303)
        refused = True
    status = 422 if request.method == "POST" else 200
    return render_template(
        "auth/forgot_code.html", form=form, identifier=flow.identifier, refused=refused
    ), status


@bp.route("/forgot/password", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    flow = _flow()
    account = recovery.recoverable(flow.identifier) if flow and flow.ticket else None
    if flow is None or flow.ticket is None or account is None:
        return _start_again()
    form = NewPasswordForm()
    if form.validate_on_submit() and form.check_policy(recovery.personal_words(account)):
        if not recovery.set_new_password(account, flow.ticket, form.password.data or ""):
            db.session.rollback()
            session.pop(KEY, None)
            return _start_again()
        db.session.commit()
        session.pop(KEY, None)
        flash(
            _(
                "Votre nouveau mot de passe est enregistré et toutes vos sessions sont fermées. "
                "Connectez-vous avec ce nouveau mot de passe."
            ),
            "success",
        )
        response = redirect(url_for("auth.login"), 303)
        response.delete_cookie(sessions.cookie_name(), path="/")
        return response
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status
