from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.blueprints.auth import pending
from webapp.blueprints.auth.forms import CodeForm
from webapp.blueprints.settings import bp
from webapp.core.extensions import db
from webapp.core.security import current_account, current_session, require_recent_auth
from webapp.models import UserSession
from webapp.models.account import RecordState, Role
from webapp.services import access, clock, codes, lifecycle, notify, sessions
from webapp.services.audit import Action, record_access


@bp.before_request
def _own_settings() -> None:
    access.require(current_account(), access.Permission.SETTINGS_MANAGE)


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
    account = current_account()
    target = db.session.scalar(
        select(UserSession).where(
            UserSession.id == session_id, UserSession.account_id == account.id
        )
    )
    if target is None or target.revoked_at is not None:
        flash(_("Cette session était déjà fermée."), "info")
        return redirect(url_for("settings.index"), 303)
    sessions.revoke(target)
    if account.patient is not None:
        record_access(account.patient, account, Action.SESSION_ENDED, resource_id=target.id)
    db.session.commit()
    if target.id == current_session().id:
        response = redirect(url_for("auth.login"), 303)
        response.delete_cookie(sessions.cookie_name(), path="/")
        flash(_("Cette session est fermée. Vous êtes déconnecté."), "success")
        return response
    flash(_("La session a été fermée. Cet appareil devra se reconnecter."), "success")
    return redirect(url_for("settings.index"), 303)


@bp.post("/notifications")
def notifications() -> ResponseReturnValue:
    account = current_account()
    choice = request.form.get("routine")
    if choice in ("immediate", "digest"):
        account.routine_notices = choice
        db.session.commit()
        flash(_("Votre choix est enregistré."), "success")
    return redirect(url_for("settings.index"), 303)


@bp.post("/sessions/end-all")
def end_all_sessions() -> ResponseReturnValue:
    account = current_account()
    sessions.revoke_all(account)
    if account.patient is not None:
        record_access(account.patient, account, Action.SIGN_OUT_EVERYWHERE)
    db.session.commit()
    flash(_("Vous êtes déconnecté de tous vos appareils, celui-ci compris."), "success")
    response = redirect(url_for("auth.login"), 303)
    response.delete_cookie(sessions.cookie_name(), path="/")
    return response


@bp.route("/authenticator", methods=["GET", "POST"])
@require_recent_auth
def authenticator() -> ResponseReturnValue:
    """A patient links an authenticator app instead of codes by e-mail or SMS."""
    account = current_account()
    if account.role != Role.PATIENT or account.uses_totp:
        return redirect(url_for("settings.index"), 303)
    form = CodeForm()
    secret = pending.setup_secret()
    if form.validate_on_submit():
        recovery = codes.confirm_enrolment(account, secret, form.code.data or "")
        if recovery is not None:
            assert account.patient is not None
            record_access(account.patient, account, Action.AUTHENTICATOR_ENROLLED)
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
    account = current_account()
    if account.role == Role.PATIENT and account.uses_totp:
        codes.remove_authenticator(account)
        assert account.patient is not None
        record_access(account.patient, account, Action.AUTHENTICATOR_REMOVED)
        notify.enqueue(account, "authenticator_removed", when=clock.now())
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
    patient = account.patient
    if patient is None or patient.record_state != RecordState.ACTIVE:
        abort(404)
    error = None
    if request.method == "POST":
        if not request.form.get("understood"):
            error = _("Cochez la case pour confirmer que vous avez compris.")
        else:
            wants_deletion = request.form.get("delete") == "yes"
            try:
                lifecycle.transition(patient, RecordState.CLOSED, actor=account)
            except lifecycle.ChangedMeanwhile:
                db.session.rollback()
                flash(
                    _("Votre dossier vient de changer d'état : vérifiez-le avant de recommencer.")
                )
                return redirect(url_for("settings.index"), 303)
            if wants_deletion:
                lifecycle.request_deletion(patient, actor=account)
            lifecycle.notify_person(
                patient,
                "record_closed",
                closed_on=clock.now().date(),
                deletion_requested=wants_deletion,
            )
            db.session.commit()
            session["closed_with_deletion"] = wants_deletion
            response = redirect(url_for("enrolment.closed"), 303)
            response.delete_cookie(sessions.cookie_name(), path="/")
            return response
    return render_template("settings/close.html", error=error), (422 if error else 200)
