from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from webapp.blueprints.auth import pending
from webapp.blueprints.auth.forms import CodeForm
from webapp.blueprints.settings import bp
from webapp.core.extensions import db
from webapp.models import Account, Patient
from webapp.models.account import RecordState
from webapp.policy import Permission, loaders
from webapp.services import auth, codes, lifecycle, notify, sessions
from webapp.web.security import current_account, current_session, require_recent_auth


@bp.before_request
def _own_settings() -> None:
    loaders.require(current_account(), Permission.SETTINGS_MANAGE)


@bp.get("/")
def index() -> ResponseReturnValue:
    account = current_account()
    return render_template(
        "settings/index.html",
        account=account,
        active=sessions.active_for(account),
        this_session=current_session(),
        recovery_left=codes.remaining_recovery_codes(account),
        describe_device=sessions.describe_device,
        describe_place=sessions.describe_place,
    )


@bp.post("/sessions/<int(max=2147483647):session_id>/end")
def end_session(session_id: int) -> ResponseReturnValue:
    target = auth.end_session(current_account(), session_id)
    if target is None:
        flash(_("Cette session était déjà fermée."), "info")
        return redirect(url_for("settings.index"), 303)
    db.session.commit()
    if target.id == current_session().id:
        flash(_("Cette session est fermée. Vous êtes déconnecté."), "success")
        return _signed_out()
    flash(_("La session a été fermée. Cet appareil devra se reconnecter."), "success")
    return redirect(url_for("settings.index"), 303)


def _signed_out(to: str = "auth.login") -> ResponseReturnValue:
    """A redirect that also drops the session cookie of this browser."""
    response = redirect(url_for(to), 303)
    response.delete_cookie(sessions.cookie_name(), path="/")
    return response


@bp.post("/notifications")
def notifications() -> ResponseReturnValue:
    if notify.set_routine_notices(current_account(), request.form.get("routine", "")):
        db.session.commit()
        flash(_("Votre choix est enregistré."), "success")
    return redirect(url_for("settings.index"), 303)


@bp.post("/sessions/end-all")
def end_all_sessions() -> ResponseReturnValue:
    auth.sign_out_everywhere(current_account())
    db.session.commit()
    flash(_("Vous êtes déconnecté de tous vos appareils, celui-ci compris."), "success")
    return _signed_out()


@bp.route("/authenticator", methods=["GET", "POST"])
@require_recent_auth
def authenticator() -> ResponseReturnValue:
    """A patient links an authenticator app instead of codes by e-mail or SMS."""
    account = current_account()
    if not auth.may_link_authenticator(account):
        return redirect(url_for("settings.index"), 303)
    form = CodeForm()
    secret = pending.setup_secret()
    if form.validate_on_submit():
        recovery = auth.link_authenticator(account, secret, form.code.data or "")
        if recovery is not None:
            db.session.commit()
            pending.drop_setup_secret()
            return render_template(
                "auth/recovery_codes.html", codes=recovery, next_url=url_for("settings.index")
            )
        form.code.errors = [_("Ce code ne correspond pas. Saisissez le code affiché maintenant.")]
    uri = codes.provisioning_uri(account, secret)
    return render_template(
        "settings/authenticator.html",
        form=form,
        qr=codes.qr_svg(uri),
        secret=codes.display_secret(secret),
    ), (422 if form.errors else 200)


@bp.post("/authenticator/remove")
@require_recent_auth
def remove_authenticator() -> ResponseReturnValue:
    if auth.unlink_authenticator(current_account()):
        db.session.commit()
        flash(_("Vos codes de connexion vous seront de nouveau envoyés par e-mail."), "success")
    return redirect(url_for("settings.index"), 303)


@bp.post("/recovery-codes")
@require_recent_auth
def new_recovery_codes() -> ResponseReturnValue:
    account = current_account()
    if not account.uses_totp:
        return redirect(url_for("settings.index"), 303)
    recovery = codes.issue_recovery_codes(account)
    db.session.commit()
    return render_template(
        "auth/recovery_codes.html", codes=recovery, next_url=url_for("settings.index")
    )


@bp.route("/close", methods=["GET", "POST"])
@require_recent_auth
def close_record() -> ResponseReturnValue:
    """The patient closes their record, after re-authenticating and reading what it means."""
    account = current_account()
    patient = loaders.own_patient(account)
    if patient.record_state != RecordState.ACTIVE:
        abort(404)
    if request.method == "POST" and request.form.get("understood"):
        return _close(account, patient, wants_deletion=request.form.get("delete") == "yes")
    error = None
    if request.method == "POST":
        error = _("Cochez la case pour confirmer que vous avez compris.")
    return render_template("settings/close.html", error=error), (422 if error else 200)


def _close(account: Account, patient: Patient, *, wants_deletion: bool) -> ResponseReturnValue:
    try:
        lifecycle.close_by_holder(patient, account, delete=wants_deletion)
    except lifecycle.ChangedMeanwhile:
        db.session.rollback()
        flash(_("Votre dossier vient de changer d'état : vérifiez-le avant de recommencer."))
        return redirect(url_for("settings.index"), 303)
    db.session.commit()
    session["closed_with_deletion"] = wants_deletion
    return _signed_out("enrolment.closed")
