"""The in-person enrolment steps (SPEC §2): identify the person by their carte Vitale, explain
the record, collect the oral consent, open it, send a code, or record an opposition.

The same views serve two sides: `counter_visit` at /counter (counter agents) and `pro_visit` at
/pro (a professional with the patient in the consulting room). `side()` reads which one from
`request.blueprint`; the side sets the permission required before every view and the home page
shown again when identification fails. Every view also checks that the visit is the signed-in
helper's own and still open (else 404).
"""

from __future__ import annotations

from typing import Protocol

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.blueprints.visit import bp
from webapp.blueprints.visit.forms import (
    AccessForm,
    ChannelForm,
    IdentifyForm,
    InformForm,
    OpposeForm,
)
from webapp.core.extensions import db, limiter
from webapp.models import Account, AssistedEnrolment
from webapp.policy import Permission, loaders
from webapp.services import assisted, enrolment, lifecycle, provisional
from webapp.services.enrolment import EnrolmentError
from webapp.web.security import current_account

# --- the two sides -----------------------------------------------------------------------------

SIDES = {"counter": Permission.COUNTER_WORKSPACE, "pro": Permission.PRO_WORKSPACE}


class HomePage(Protocol):
    """A side's whole home page, showing the identification form it is given."""

    def __call__(self, account: Account, *, identify_form: IdentifyForm) -> str: ...


_home_pages: dict[str, HomePage] = {}


def register_home_page(side_name: str, render: HomePage) -> None:
    """The counter and pro blueprints own their home pages and hand them over here."""
    _home_pages[side_name] = render


def side() -> str:
    """The side serving the request, "counter" or "pro", from its registration's name."""
    return (request.blueprint or "").removesuffix("_visit")


@bp.before_request
def _helpers_of_this_side_only() -> None:
    loaders.require(current_account(), SIDES[side()])


def home_context(actor: Account) -> dict[str, object]:
    """What both home pages show of the visits: who the helper is, and today's actions."""
    return {
        "today": assisted.actions_today(actor),
        "agent": actor.agent,
        "professional": actor.professional,
        "action_label": action_word,
    }


# --- the visit page ----------------------------------------------------------------------------

UNKNOWN_CARD = _l(
    "Aucun assuré ne correspond à ce numéro et à cette carte. Vérifiez la carte (numéro de "
    "série) ; si elle est récente, la personne doit s'adresser à sa caisse."
)
EVERY_ITEM = _l("Cochez chaque point une fois expliqué à la personne.")
NO_CONSENT = _l("Cochez la case du consentement si la personne accepte la création de son dossier.")
ACCESS_CHOICE = _l(
    "Indiquez si la personne veut un accès en ligne et, si oui, comment recevoir son code."
)
CONSENT_FIRST = _l("Recueillez d'abord l'information et le consentement de la personne.")
OPEN_ALREADY = _l(
    "Ce dossier existe déjà : la personne peut le fermer depuis son espace ou à sa caisse."
)
# Why a record cannot be opened now: no consent yet, open already, suspended, or changed meanwhile.
CANNOT_OPEN = (
    assisted.VisitError,
    lifecycle.InvalidTransition,
    lifecycle.ChangedMeanwhile,
    EnrolmentError,
)


def _per_helper() -> str:
    """Limits per helper as well as per address: one office shares one address."""
    return f"helper:{current_account().id}"


def _visit(visit_id: int) -> AssistedEnrolment:
    visit = assisted.load(visit_id, current_account())
    if visit is None:
        abort(404)
    return visit


def _page(visit: AssistedEnrolment, status: int = 200, **extra: object) -> ResponseReturnValue:
    """The visit page; `extra` carries the items ticked and the error of a step."""
    beneficiary = visit.beneficiary
    patient = lifecycle.record_for(beneficiary)
    return render_template(
        "counter/visit.html",
        side=side(),
        visit=visit,
        beneficiary=beneficiary,
        state=patient.record_state if patient else None,
        has_account=bool(patient and patient.account_id),
        code_waiting=provisional.waiting(patient) if patient else None,
        # The agent is there to check the address with the person: in full at the counter.
        email_shown=beneficiary.email
        if side() == "counter"
        else enrolment.mask_email(beneficiary.email),
        masked_mobile=enrolment.mask_mobile(beneficiary.mobile),
        actions=assisted.past_actions(beneficiary, current_account()),
        items=assisted.INFORMATION_ITEMS,
        channels=assisted.channels(beneficiary),
        letter_ready=assisted.letter(visit) is not None,
        action_label=action_word,
        code_channel=code_channel,
        **extra,
    ), status


# --- the steps ---------------------------------------------------------------------------------


@bp.post("/identify")
@limiter.limit("60 per hour")
@limiter.limit("40 per hour", key_func=_per_helper)
def identify() -> ResponseReturnValue:
    actor = current_account()
    form = IdentifyForm()
    if form.validate_on_submit():
        beneficiary = enrolment.find_beneficiary(form.nir.data or "", form.vitale_serial.data or "")
        if beneficiary is not None:
            visit = assisted.start(actor, beneficiary)
            db.session.commit()
            return redirect(url_for(".visit", visit_id=visit.id), 303)
        form.nir.errors = [str(UNKNOWN_CARD)]
    # The side's whole home page: its other panels need their own values.
    return _home_pages[side()](actor, identify_form=form), 422


@bp.get("/visits/<int(max=2147483647):visit_id>", endpoint="visit")
def show(visit_id: int) -> ResponseReturnValue:
    return _page(_visit(visit_id))


@bp.post("/visits/<int(max=2147483647):visit_id>/inform")
def inform(visit_id: int) -> ResponseReturnValue:
    visit, actor = _visit(visit_id), current_account()
    form = InformForm()
    items = form.items.data or []
    try:
        assisted.inform(visit, actor, items)
        if form.consent.data:
            assisted.record_consent(visit, actor)
    except assisted.VisitError:
        db.session.rollback()
        return _page(_visit(visit_id), 422, checked=items, inform_error=str(EVERY_ITEM))
    db.session.commit()  # what was explained is recorded, with or without the consent
    if not form.consent.data:
        return _page(visit, 422, checked=items, consent_error=str(NO_CONSENT))
    return redirect(url_for(".visit", visit_id=visit.id, _anchor="access"), 303)


@bp.post("/visits/<int(max=2147483647):visit_id>/access")
def access(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    form = AccessForm()
    online = form.online.data == "yes"
    channel = form.channel.data if online else None
    reachable = not online or channel in assisted.channels(visit.beneficiary)
    if not form.validate_on_submit() or not reachable:
        return _page(visit, 422, access_error=str(ACCESS_CHOICE))
    try:
        outcome = assisted.open_record(visit, current_account(), channel)
    except CANNOT_OPEN:
        db.session.rollback()
        return _page(_visit(visit_id), 422, access_error=str(CONSENT_FIRST))
    db.session.commit()
    flash(_done_message(outcome.channel), "success")
    return redirect(url_for(".visit", visit_id=visit.id), 303)


@bp.post("/visits/<int(max=2147483647):visit_id>/code")
@limiter.limit("30 per hour")
@limiter.limit("20 per hour", key_func=_per_helper)
def reissue(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    form = ChannelForm()
    channel = form.channel.data or ""
    if not form.validate_on_submit() or channel not in assisted.channels(visit.beneficiary):
        return _page(visit, 422, code_error=_("Choisissez comment la personne recevra son code."))
    try:
        assisted.send_code(visit, current_account(), channel)
    except (assisted.VisitError, EnrolmentError):
        db.session.rollback()
        return _page(
            _visit(visit_id), 422, code_error=_("Ce dossier ne peut pas recevoir de code.")
        )
    db.session.commit()
    flash(_done_message(channel), "success")
    return redirect(url_for(".visit", visit_id=visit.id), 303)


@bp.post("/visits/<int(max=2147483647):visit_id>/oppose")
def oppose(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    if not OpposeForm().validate_on_submit():
        return _page(
            visit, 422, oppose_error=_("Cochez la case pour confirmer l'opposition de la personne.")
        )
    try:
        assisted.oppose(visit, current_account())
    except (assisted.VisitError, lifecycle.InvalidTransition, lifecycle.ChangedMeanwhile):
        db.session.rollback()
        return _page(_visit(visit_id), 422, oppose_error=str(OPEN_ALREADY))
    db.session.commit()
    flash(_("L'opposition est enregistrée. La personne en reçoit la confirmation."), "success")
    return redirect(url_for(".visit", visit_id=visit.id), 303)


@bp.get("/visits/<int(max=2147483647):visit_id>/letter.pdf")
def letter(visit_id: int) -> ResponseReturnValue:
    pdf = assisted.letter(_visit(visit_id))
    if pdf is None:
        abort(404)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = 'inline; filename="lettre-activation.pdf"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@bp.post("/visits/<int(max=2147483647):visit_id>/end")
def end_visit(visit_id: int) -> ResponseReturnValue:
    assisted.end(_visit(visit_id))
    db.session.commit()
    flash(_("Visite terminée. La lettre n'est plus disponible."), "success")
    return redirect(url_for(f"{side()}.home"), 303)


# --- words -------------------------------------------------------------------------------------


def _done_message(channel: str | None) -> str:
    return {
        None: _("Le dossier est ouvert. Les professionnels de santé peuvent l'utiliser."),
        "sms": _("Le code provisoire part par SMS au portable connu de l'Assurance Maladie."),
        "email": _("Le code provisoire part par e-mail à l'adresse connue de l'Assurance Maladie."),
        "print": _("La lettre d'activation est prête : imprimez-la et remettez-la à la personne."),
    }[channel]


ACTION_WORDS = {
    "identified": _l("Identification par la carte Vitale"),
    "informed": _l("Présentation du dossier faite"),
    "consent": _l("Consentement oral recueilli"),
    "record_opened": _l("Dossier créé ou rouvert"),
    "code_sent": _l("Code provisoire envoyé"),
    "opposed": _l("Opposition enregistrée"),
}


CODE_CHANNELS = {
    "email": _l("par e-mail"),
    "sms": _l("par SMS"),
    "letter": _l("dans une lettre imprimée"),
}


def code_channel(channel: str) -> str:
    found = CODE_CHANNELS.get(channel)
    return str(found) if found is not None else ""


def action_word(code: str) -> str:
    found = ACTION_WORDS.get(code)
    return str(found) if found is not None else code
