from __future__ import annotations

from datetime import datetime, time

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import Field, SelectChoice  # type: ignore[attr-defined]

from webapp.blueprints.access import bp
from webapp.blueprints.access.forms import (
    OTHER_DURATIONS,
    ConfirmForm,
    DirectorySearchForm,
    EmergencySettingsForm,
    GrantForm,
    HistoryFilterForm,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Patient, Professional
from webapp.policy import Permission, loaders
from webapp.services import authorisations, catalogue, directory, history
from webapp.web import htmx
from webapp.web.labels import category_label, profession_label
from webapp.web.paging import requested_page
from webapp.web.security import current_account, require_recent_auth


def _filters(form: HistoryFilterForm) -> history.Filters:
    """The filters typed in the query string; none at all when one of them is wrong."""
    if not form.validate():
        return history.Filters()
    return history.Filters(
        actor_kind=form.actor.data or None,
        action=form.action.data or None,
        since=form.since.data,
        until=form.until.data,
    )


@bp.get("/history", endpoint="history")  # the module `history` is the service
def history_page() -> ResponseReturnValue:
    account = current_account()
    patient = loaders.own_patient(account)
    form = HistoryFilterForm(request.args)
    filters = _filters(form)
    listing = history.page_of(account, patient, filters, requested_page())
    apart = history.connections_apart(filters) and listing.number == 1
    partial = htmx.target_is("history-results")
    return render_template(
        "access/_history_results.html" if partial else "access/history.html",
        form=form,
        filtered=any(v for k, v in request.args.items() if k != "page"),
        connections=history.connections(account, patient, filters) if apart else None,
        events=listing.items,
        page=listing.number,
        pages=listing.pages,
        total=listing.total,
        args={k: v for k, v in request.args.items() if k != "page" and v},
    )


@bp.get("/history.csv")
@require_recent_auth
def history_csv() -> ResponseReturnValue:
    account = current_account()
    patient = loaders.own_patient(account)
    text = history.export_csv(account, patient, _filters(HistoryFilterForm(request.args)))
    db.session.commit()
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="historique-carnet.csv"'},
    )


# --- the professionals the patient lets in (SPEC §4.2) ----------------------------------------

CHANGES = ("revoke", "block", "unblock", "traitant", "give_rights", "remove_rights")


def _managed_record(account: Account) -> Patient:
    """The actor's own record, when she may decide who reaches it."""
    patient = loaders.own_patient(account)
    loaders.require(account, Permission.ACCESS_MANAGE, patient)
    return patient


@bp.get("/")
def index() -> ResponseReturnValue:
    account = current_account()
    patient = _managed_record(account)
    return render_template(
        "access/index.html",
        patient=patient,
        listing=authorisations.access_list(patient),
        search=_search_form(),
        express=catalogue.current().needs_express_grant,
    )


def _search_form() -> DirectorySearchForm:
    form = DirectorySearchForm(request.args)
    form.profession.choices = [SelectChoice("", _("Toutes les professions"))] + [
        SelectChoice(code, profession_label(code)) for code in catalogue.current().professions
    ]
    return form


@bp.get("/find")
def find() -> ResponseReturnValue:
    _managed_record(current_account())
    form = _search_form()
    results: list[Professional] = []
    searched = bool(form.q.data or form.profession.data or form.city.data)
    if searched and form.validate():
        results = directory.search(
            form.q.data or "",
            profession=form.profession.data or None,
            city=form.city.data or None,
        )
    partial = htmx.target_is("directory-results")
    return render_template(
        "access/_directory_results.html" if partial else "access/find.html",
        search=form,
        results=results,
        searched=searched,
    )


def _professional(professional_id: int) -> Professional:
    pro = authorisations.find_professional(professional_id)
    if pro is None:
        abort(404)
    return pro


@bp.route("/grant/<int(max=2147483647):professional_id>", methods=["GET", "POST"])
@require_recent_auth
def grant(professional_id: int) -> ResponseReturnValue:
    account = current_account()
    patient = _managed_record(account)
    pro = _professional(professional_id)
    form = GrantForm()
    needs_express = catalogue.current().needs_express_grant(pro.specialty)
    _offer_default(form, pro)
    if request.method == "GET":
        _propose_duration(form, pro)
    elif form.validate_on_submit() and _granted(form, patient, pro, account, needs_express):
        flash(
            _("%(name)s peut maintenant consulter votre dossier.", name=pro.display_name),
            "success",
        )
        return redirect(url_for("access.index"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "access/grant.html",
        form=form,
        pro=pro,
        needs_express=needs_express,
        sees=_what_they_see(pro),
    ), status


def _offer_default(form: GrantForm, pro: Professional) -> None:
    """A profession with a usual duration (a pharmacist: 3 days, SPEC §4.2) is offered it first;
    its end is reckoned when the form is sent, not when it was shown."""
    days = authorisations.DEFAULT_DAYS.get(pro.profession)
    default = authorisations.default_until(pro)
    if days is None or default is None:
        return
    usual = ngettext(
        "Pendant %(num)d jour, jusqu'au %(when)s : la durée habituelle pour un %(profession)s",
        "Pendant %(num)d jours, jusqu'au %(when)s : la durée habituelle pour un %(profession)s",
        days,
        when=current_app.jinja_env.filters["when"](default),
        profession=profession_label(pro.profession).lower(),
    )
    form.duration.choices = [SelectChoice("default", usual), *OTHER_DURATIONS]


def _propose_duration(form: GrantForm, pro: Professional) -> None:
    """The profession's usual duration when it has one, else until the patient revokes."""
    form.duration.data = "default" if authorisations.default_until(pro) else "permanent"


def _granted(
    form: GrantForm, patient: Patient, pro: Professional, account: Account, needs_express: bool
) -> bool:
    """Grant as the form asks and commit; False with the problem shown on its field."""
    until = None
    if form.duration.data == "default":
        until = authorisations.default_until(pro)
    elif form.duration.data == "until" and form.until.data is not None:
        until = datetime.combine(form.until.data, time.min, clock.PARIS)
    try:
        if needs_express and not form.express.data:
            raise authorisations.AuthorisationError("express_needed")
        authorisations.grant(patient, pro, actor=account, until=until, express=needs_express)
        db.session.commit()
    except authorisations.AuthorisationError as problem:
        db.session.rollback()
        target: Field = form.until
        if problem.code == "express_needed":
            target = form.express
        elif problem.code == "blocked":
            target = form.duration
        target.errors = [*target.errors, _problem(problem.code)]
        return False
    return True


def _what_they_see(pro: Professional) -> list[str]:
    """In plain words, the categories of documents the matrix opens to this professional."""
    known = catalogue.current()
    readable = known.readable_types(pro.profession, pro.specialty)
    return sorted({category_label(known.types[code].category) for code in readable})


PROBLEMS = {
    "blocked": _l("Vous avez bloqué ce professionnel. Débloquez-le d'abord depuis la liste."),
    "express_needed": _l("Cochez la case pour confirmer que vous acceptez expressément cet accès."),
    "until_past": _l("Choisissez une date de fin après aujourd'hui."),
    "traitant_is_permanent": _l(
        "Votre médecin traitant garde l'accès jusqu'à ce que vous le retiriez."
    ),
    "not_authorised": _l("Ce professionnel n'a plus accès à votre dossier."),
    "not_blocked": _l("Ce professionnel n'est pas bloqué."),
    "traitant_physician_only": _l("Seul un médecin peut être votre médecin traitant."),
    "is_traitant": _l("C'est votre médecin traitant : il a déjà tous ces droits."),
    "express_limited": _l("Ce professionnel ne peut pas recevoir les droits du médecin traitant."),
}


def _problem(code: str) -> str:
    return str(PROBLEMS.get(code, _l("Cette modification n'est pas possible.")))


@bp.route(
    "/<int(max=2147483647):professional_id>/<any(" + ",".join(CHANGES) + "):change>",
    methods=["GET", "POST"],
)
@require_recent_auth
def change(professional_id: int, change: str) -> ResponseReturnValue:
    account = current_account()
    patient = _managed_record(account)
    pro = _professional(professional_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            _apply(change, patient, pro, account)
            db.session.commit()
        except authorisations.AuthorisationError as problem:
            db.session.rollback()
            flash(_problem(problem.code), "error")
        else:
            flash(str(DONE[change]).format(name=pro.display_name), "success")
        return redirect(url_for("access.index"), 303)
    return render_template("access/change.html", form=form, pro=pro, change=change)


DONE = {
    "revoke": _l("{name} n'a plus accès à votre dossier."),
    "block": _l("{name} est bloqué : il ne peut plus rien voir, même en urgence."),
    "unblock": _l("{name} est débloqué. Autorisez-le à nouveau si vous le souhaitez."),
    "traitant": _l("{name} est votre médecin traitant."),
    "give_rights": _l("{name} a maintenant les droits de votre médecin traitant."),
    "remove_rights": _l("{name} n'a plus les droits de votre médecin traitant."),
}


def _apply(change: str, patient: Patient, pro: Professional, account: Account) -> None:
    if change == "revoke":
        authorisations.revoke(patient, pro, actor=account)
    elif change == "block":
        authorisations.block(patient, pro, actor=account)
    elif change == "unblock":
        authorisations.unblock(patient, pro, actor=account)
    elif change == "traitant":
        authorisations.declare_traitant(patient, pro, actor=account)
    else:
        authorisations.set_traitant_rights(
            patient, pro, actor=account, given=change == "give_rights"
        )


@bp.route("/emergency", methods=["GET", "POST"])
@require_recent_auth
def emergency_settings() -> ResponseReturnValue:
    account = current_account()
    patient = _managed_record(account)
    form = EmergencySettingsForm()
    if request.method == "GET":
        form.emergency.data = "oppose" if patient.oppose_emergency_access else "allow"
        form.regulation.data = "oppose" if patient.oppose_regulation_access else "allow"
    elif form.validate_on_submit():
        changed = authorisations.set_emergency_settings(
            patient,
            actor=account,
            oppose_emergency=form.emergency.data == "oppose",
            oppose_regulation=form.regulation.data == "oppose",
        )
        db.session.commit()
        flash(
            _("Vos choix pour les urgences sont enregistrés.")
            if changed
            else _("Rien n'a changé : vos choix étaient déjà ceux-ci."),
            "success",
        )
        return redirect(url_for("access.index"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("access/emergency.html", form=form), status
