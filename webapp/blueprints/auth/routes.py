from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from webapp.blueprints.auth import bp, pending
from webapp.blueprints.auth.forms import CodeForm, LoginForm, NewPasswordForm, ReauthForm
from webapp.blueprints.auth.pending import Pending, Purpose
from webapp.core.extensions import db, limiter
from webapp.models import Account, ActivationToken
from webapp.policy import Permission, loaders
from webapp.services import accounts, auth, codes, sessions
from webapp.services.crypto import settings
from webapp.web.security import (
    current_account,
    current_account_or_none,
    current_session,
    current_session_or_none,
    public,
    request_device,
    safe_next,
)


def _identifier_key() -> str:
    return "login:" + auth.normalise_identifier(request.form.get("identifier", ""))


def _pending_key() -> str:
    found = pending.load()
    return f"factor:{found[1].id}" if found else f"factor-ip:{request.remote_addr}"


def _home_for(account: Account) -> str:
    if loaders.can(account, Permission.PRO_WORKSPACE):
        return url_for("pro.home")
    if loaders.can(account, Permission.COUNTER_WORKSPACE):
        return url_for("counter.home")
    return url_for("main.home")


def _set_session_cookie(response: Response, token: str) -> Response:
    response.set_cookie(
        sessions.cookie_name(),
        token,
        httponly=True,
        secure=settings().secure_cookies,
        samesite="Lax",
        path="/",
    )
    return response


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute;200 per hour", methods=["POST"])
@limiter.limit("5 per minute;30 per hour", key_func=_identifier_key, methods=["POST"])
def login() -> ResponseReturnValue:
    if current_account_or_none() is not None:
        return redirect(url_for("main.home"))
    form = LoginForm()
    next_url = safe_next(request.args.get("next"), "")
    if form.validate_on_submit():
        account, closed = auth.sign_in_attempt(form.identifier.data or "", form.password.data or "")
        if closed:
            db.session.commit()
            return render_template("auth/record_closed.html")
        if account is not None and auth.needs_totp_enrolment(account):
            form.password.errors = [_NO_APP_LINKED]
        elif account is not None:
            channel = auth.send_code(account)
            pending.begin(account, Purpose.SIGN_IN, next_url, channel)
            db.session.commit()
            return redirect(url_for("auth.verify"), 303)
        else:
            db.session.commit()  # keeps the record of the refused attempt
            form.password.errors = [
                _("Identifiant ou mot de passe incorrect. Vérifiez-les et réessayez.")
            ]
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, next_url=next_url), status


@bp.route("/verify", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", methods=["POST"])
@limiter.limit("6 per minute;30 per hour", key_func=_pending_key, methods=["POST"])
def verify() -> ResponseReturnValue:
    found = pending.load()
    if found is None or found[0].purpose == Purpose.ENROL:
        flash(_("Votre demande de connexion a expiré. Recommencez, s'il vous plaît."), "info")
        return redirect(url_for("auth.login"), 303)
    state, account = found
    form = CodeForm()
    if form.validate_on_submit():
        result = auth.check_second_factor(account, form.code.data or "")
        if result != auth.FactorResult.REFUSED:
            return _signed_in(state, account, result)
        db.session.commit()
        form.code.errors = [
            _("Ce code n'est pas le bon, ou il a expiré. Vérifiez-le et réessayez.")
        ]
    status = 422 if request.method == "POST" else 200
    return render_template(
        "auth/verify.html", form=form, state=state, account=account, masked=_masked(account)
    ), status


def _signed_in(state: Pending, account: Account, result: auth.FactorResult) -> Response:
    """The second factor is right: open the session (a step-up replaces the current one)."""
    replacing = current_session_or_none() if state.purpose == Purpose.REAUTH else None
    if replacing is not None and replacing.account_id != account.id:
        replacing = None
    token = auth.open_session(account, request_device(), replacing=replacing)
    db.session.commit()
    pending.end()
    if result == auth.FactorResult.RECOVERY:
        flash(_("Code de secours accepté. Il ne servira plus."), "info")
    response = redirect(safe_next(state.next, _home_for(account)), 303)
    return _set_session_cookie(response, token)


@bp.post("/verify/resend")
@public
@limiter.limit("3 per minute;10 per hour", key_func=_pending_key)
def resend() -> ResponseReturnValue:
    found = pending.load()
    if found is None or found[0].purpose == Purpose.ENROL:
        return redirect(url_for("auth.login"), 303)
    state, account = found
    if auth.send_code(account) is not None:
        db.session.commit()
        flash(_("Un nouveau code vient d'être envoyé. L'ancien ne marche plus."), "success")
    return redirect(url_for("auth.verify"), 303)


_NO_APP_LINKED = _l(
    "Aucune application d'authentification n'est reliée à ce compte. Demandez un nouveau lien "
    "d'activation à la personne qui gère les comptes de votre établissement."
)


def _masked(account: Account) -> str:
    channel = auth.code_channel(account)
    if channel == "email" and account.email:
        name, _sep, domain = account.email.partition("@")
        return f"{name[:1]}****@{domain[:1]}****.{domain.rsplit('.', 1)[-1]}"
    if channel == "sms" and account.mobile:
        return f"•• •• •• {account.mobile[-4:-2]} {account.mobile[-2:]}"
    return ""


@bp.route("/enrol", methods=["GET", "POST"])
@public
@limiter.limit("6 per minute;30 per hour", key_func=_pending_key, methods=["POST"])
def enrol() -> ResponseReturnValue:
    """The second step of activation: link an app. Only a live activation link leads here."""
    found = pending.load()
    if found is None or found[0].purpose != Purpose.ENROL:
        return redirect(url_for("auth.login"), 303)
    state, account = found
    activation = accounts.live_activation(state.activation_id, account)
    if activation is None:
        pending.end()
        return render_template("auth/activation_invalid.html"), 404
    secret = pending.setup_secret()
    form = CodeForm()
    if form.validate_on_submit():
        recovery = codes.confirm_enrolment(account, secret, form.code.data or "")
        if recovery is not None:
            return _activated(state, account, activation, recovery)
        form.code.errors = [_("Ce code ne correspond pas. Saisissez le code affiché maintenant.")]
    uri = codes.provisioning_uri(account, secret)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "auth/enrol.html", form=form, qr=codes.qr_svg(uri), secret=codes.display_secret(secret)
    ), status


def _activated(
    state: Pending, account: Account, activation: ActivationToken, recovery: list[str]
) -> ResponseReturnValue:
    """The app is linked: spend the link, open the session, show the recovery codes once."""
    try:
        accounts.complete_activation(activation, account)
    except accounts.AccountError:
        db.session.rollback()
        pending.end()
        return render_template("auth/activation_invalid.html"), 404
    token = auth.open_session(account, request_device())
    db.session.commit()
    pending.end()
    response = make_response(
        render_template("auth/recovery_codes.html", codes=recovery, next_url=state.next)
    )
    return _set_session_cookie(response, token)


@bp.get("/activate/<token>")
@public
@limiter.limit("20 per minute")
def open_activation_link(token: str) -> ResponseReturnValue:
    """Move the one-time token out of the address bar, logs and Referer headers at once."""
    activation = accounts.find_activation(token)
    if activation is None:
        return render_template("auth/activation_invalid.html"), 404
    pending.hold_activation(activation.id)
    return redirect(url_for("auth.activate"), 303)


@bp.route("/activate", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def activate() -> ResponseReturnValue:
    held = pending.held_activation()
    if held is None:
        return render_template("auth/activation_invalid.html"), 404
    activation, account = held
    form = NewPasswordForm()
    if form.validate_on_submit() and form.check_policy((account.identifier,)):
        accounts.set_first_password(activation, form.password.data or "")
        pending.begin(account, Purpose.ENROL, "", activation_id=activation.id)
        db.session.commit()
        flash(
            _("Mot de passe enregistré. Reliez maintenant votre application d'authentification."),
            "success",
        )
        return redirect(url_for("auth.enrol"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/activate.html", form=form, account=account), status


@bp.route("/reauth", methods=["GET", "POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"])
def reauth() -> ResponseReturnValue:
    account = current_account()
    form = ReauthForm()
    next_url = safe_next(request.args.get("next"), _home_for(account))
    if form.validate_on_submit():
        checked = auth.check_password(account.identifier, form.password.data or "")
        if checked is not None and checked.id == account.id:
            channel = auth.send_code(account)
            pending.begin(account, Purpose.REAUTH, next_url, channel)
            db.session.commit()
            return redirect(url_for("auth.verify"), 303)
        db.session.commit()
        form.password.errors = [_("Ce mot de passe n'est pas le bon. Réessayez.")]
    status = 422 if request.method == "POST" else 200
    return render_template("auth/reauth.html", form=form, next_url=next_url), status


@bp.post("/logout")
@public
def logout() -> ResponseReturnValue:
    account = current_account_or_none()
    if account is not None:
        auth.sign_out(account, current_session())
        db.session.commit()
    pending.end()
    flash(_("Vous êtes déconnecté. À bientôt."), "success")
    response = redirect(url_for("auth.login"), 303)
    response.delete_cookie(sessions.cookie_name(), path="/")
    return response
