"""The in-person enrolment steps, shared by the counter console and the professional workspace.

Each blueprint that includes them has already checked the role; every view here also checks
that the visit is the signed-in helper's own and still open (else 404).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired

from webapp.core.extensions import db, limiter
from webapp.core.security import current_account
from webapp.models import Account, AssistedEnrolment
from webapp.services import assisted, enrolment, lifecycle
from webapp.services.enrolment import EnrolmentError
from webapp.ui.identity_fields import nir_field, serial_field


class IdentifyForm(FlaskForm):
    nir = nir_field()
    vitale_serial = serial_field()


class AccessForm(FlaskForm):
    online = RadioField(
        "",
        choices=[SelectChoice("yes", ""), SelectChoice("no", "")],
        validators=[DataRequired()],
    )
    channel = RadioField(
        "",
        choices=[SelectChoice("sms", ""), SelectChoice("email", ""), SelectChoice("print", "")],
        validate_choice=False,
    )


def _per_helper() -> str:
    """Limits per helper as well as per address: one office shares one address."""
    return f"helper:{current_account().id}"


def _visit(visit_id: int) -> AssistedEnrolment:
    visit = assisted.load(visit_id, current_account())
    if visit is None:
        abort(404)
    return visit


def _channels(visit: AssistedEnrolment) -> list[str]:
    beneficiary = visit.beneficiary
    found = []
    if beneficiary.mobile:
        found.append("sms")
    if beneficiary.email:
        found.append("email")
    found.append("print")
    return found


def install(bp: Blueprint, template_prefix: str) -> None:
    """Add the visit views to `bp` (endpoints `<bp>.identify`, `<bp>.visit`, …)."""
    ep = bp.name

    def page(visit: AssistedEnrolment, status: int = 200, **extra: object) -> ResponseReturnValue:
        beneficiary = visit.beneficiary
        patient = lifecycle.record_for(beneficiary)
        return render_template(
            "counter/visit.html",
            ep=ep,
            base=template_prefix,
            visit=visit,
            beneficiary=beneficiary,
            patient=patient,
            state=patient.record_state if patient else None,
            has_account=bool(patient and patient.account_id),
            can_code=lifecycle.can_receive_code(patient),
            masked_email=enrolment.mask_email(beneficiary.email),
            masked_mobile=enrolment.mask_mobile(beneficiary.mobile),
            actions=assisted.past_actions(beneficiary, current_account()),
            items=assisted.INFORMATION_ITEMS,
            channels=_channels(visit),
            letter_ready=assisted.letter(visit) is not None,
            action_label=action_word,
            **extra,
        ), status

    @bp.post("/identify", endpoint="identify")
    @limiter.limit("60 per hour")
    @limiter.limit("40 per hour", key_func=_per_helper)
    def identify() -> ResponseReturnValue:
        form = IdentifyForm()
        actor = current_account()
        if form.validate_on_submit():
            beneficiary = enrolment.find_beneficiary(
                form.nir.data or "", form.vitale_serial.data or ""
            )
            if beneficiary is not None:
                visit = assisted.start(actor, beneficiary)
                db.session.commit()
                return redirect(url_for(f"{ep}.visit", visit_id=visit.id), 303)
            form.nir.errors = [
                _(
                    "Aucun assuré ne correspond à ce numéro et à cette carte. Vérifiez la carte "
                    "(numéro de série) ; si elle est récente, "
                    "la personne doit s'adresser à sa caisse."
                )
            ]
        return render_template(
            f"{template_prefix}/home.html", **home_context(actor), identify_form=form
        ), 422

    @bp.get("/visits/<int:visit_id>", endpoint="visit")
    def visit_page(visit_id: int) -> ResponseReturnValue:
        return page(_visit(visit_id))

    @bp.post("/visits/<int:visit_id>/inform", endpoint="inform")
    def inform(visit_id: int) -> ResponseReturnValue:
        visit = _visit(visit_id)
        items = request.form.getlist("items")
        try:
            assisted.inform(visit, current_account(), items)
            if request.form.get("consent"):
                assisted.record_consent(visit, current_account())
        except assisted.VisitError:
            db.session.rollback()
            return page(
                _visit(visit_id),
                422,
                checked=items,
                inform_error=_("Cochez chaque point une fois expliqué à la personne."),
            )
        if not request.form.get("consent"):
            db.session.commit()
            return page(
                visit,
                422,
                consent_error=_(
                    "Cochez la case du consentement si la personne accepte "
                    "la création de son dossier."
                ),
                checked=items,
            )
        db.session.commit()
        return redirect(url_for(f"{ep}.visit", visit_id=visit.id, _anchor="access"), 303)

    @bp.post("/visits/<int:visit_id>/access", endpoint="access")
    def access_choice(visit_id: int) -> ResponseReturnValue:
        visit = _visit(visit_id)
        form = AccessForm()
        channels = _channels(visit)
        online = form.online.data
        channel = form.channel.data if online == "yes" else None
        if not form.validate_on_submit() or (online == "yes" and channel not in channels):
            return page(
                visit,
                422,
                access_error=_(
                    "Indiquez si la personne veut un accès en ligne et, si oui, "
                    "comment recevoir son code."
                ),
            )
        try:
            outcome = assisted.open_record(visit, current_account(), channel)
        except (
            assisted.VisitError,
            lifecycle.InvalidTransition,
            lifecycle.ChangedMeanwhile,
            EnrolmentError,
        ):
            db.session.rollback()
            return page(
                _visit(visit_id),
                422,
                access_error=_(
                    "Recueillez d'abord l'information et le consentement de la personne."
                ),
            )
        db.session.commit()
        flash(_done_message(outcome.channel), "success")
        return redirect(url_for(f"{ep}.visit", visit_id=visit.id), 303)

    @bp.post("/visits/<int:visit_id>/code", endpoint="reissue")
    @limiter.limit("30 per hour")
    @limiter.limit("20 per hour", key_func=_per_helper)
    def reissue(visit_id: int) -> ResponseReturnValue:
        visit = _visit(visit_id)
        channel = request.form.get("channel", "")
        if channel not in _channels(visit):
            return page(
                visit, 422, code_error=_("Choisissez comment la personne recevra son code.")
            )
        try:
            assisted.send_code(visit, current_account(), channel)
        except (assisted.VisitError, EnrolmentError):
            db.session.rollback()
            return page(
                _visit(visit_id), 422, code_error=_("Ce dossier ne peut pas recevoir de code.")
            )
        db.session.commit()
        flash(_done_message(channel), "success")
        return redirect(url_for(f"{ep}.visit", visit_id=visit.id), 303)

    @bp.post("/visits/<int:visit_id>/oppose", endpoint="oppose")
    def oppose(visit_id: int) -> ResponseReturnValue:
        visit = _visit(visit_id)
        if not request.form.get("confirm"):
            return page(
                visit,
                422,
                oppose_error=_("Cochez la case pour confirmer l'opposition de la personne."),
            )
        try:
            assisted.oppose(visit, current_account())
        except (assisted.VisitError, lifecycle.InvalidTransition, lifecycle.ChangedMeanwhile):
            db.session.rollback()
            return page(
                _visit(visit_id),
                422,
                oppose_error=_(
                    "Ce dossier existe déjà : la personne peut le fermer "
                    "depuis son espace ou à sa caisse."
                ),
            )
        db.session.commit()
        flash(_("L'opposition est enregistrée. La personne en reçoit la confirmation."), "success")
        return redirect(url_for(f"{ep}.visit", visit_id=visit.id), 303)

    @bp.get("/visits/<int:visit_id>/letter.pdf", endpoint="letter")
    def letter(visit_id: int) -> ResponseReturnValue:
        pdf = assisted.letter(_visit(visit_id))
        if pdf is None:
            abort(404)
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = 'inline; filename="lettre-activation.pdf"'
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response

    @bp.post("/visits/<int:visit_id>/end", endpoint="end_visit")
    def end_visit(visit_id: int) -> ResponseReturnValue:
        visit = _visit(visit_id)
        assisted.end(visit)
        db.session.commit()
        flash(_("Visite terminée. La lettre n'est plus disponible."), "success")
        return redirect(url_for(f"{ep}.home"), 303)


def _done_message(channel: str | None) -> str:
    return {
        None: _("Le dossier est ouvert. Les professionnels de santé peuvent l'utiliser."),
        "sms": _("Le code provisoire part par SMS au portable connu de l'Assurance Maladie."),
        "email": _("Le code provisoire part par e-mail à l'adresse connue de l'Assurance Maladie."),
        "print": _("La lettre d'activation est prête : imprimez-la et remettez-la à la personne."),
    }[channel]


def home_context(actor: Account) -> dict[str, object]:
    return {
        "today": assisted.actions_today(actor),
        "agent": actor.agent,
        "professional": actor.professional,
        "action_label": action_word,
    }


ACTION_WORDS = {
    "identified": _l("Identification par la carte Vitale"),
    "informed": _l("Présentation du dossier faite"),
    "consent": _l("Consentement oral recueilli"),
    "record_opened": _l("Dossier créé ou rouvert"),
    "code_sent": _l("Code provisoire envoyé"),
    "opposed": _l("Opposition enregistrée"),
}


def action_word(code: str) -> str:
    found = ACTION_WORDS.get(code)
    return str(found) if found is not None else code
