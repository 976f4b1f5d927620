from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from wtforms import Field, SelectChoice  # type: ignore[attr-defined]

from webapp.blueprints.access import bp
from webapp.blueprints.access.forms import (
    ConfirmForm,
    DirectorySearchForm,
    EmergencySettingsForm,
    GrantForm,
    HistoryFilterForm,
)
from webapp.core.extensions import db
from webapp.core.security import current_account, require_recent_auth
from webapp.models import AccessEvent, Account, Patient, Professional
from webapp.services import access, authorisations, catalogue, clock, directory
from webapp.services.access import Permission
from webapp.services.audit import Action, record_access
from webapp.ui import htmx
from webapp.ui.labels import category_label, profession_label
from webapp.ui.paging import requested_page

PAGE_SIZE = 25


def _cell(value: str) -> str:
    """Keep spreadsheet programs from reading a name as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _filtered_query(form: HistoryFilterForm) -> tuple[Select[AccessEvent], Patient]:
    account = current_account()
    patient = access.own_patient(account)
    valid = form.validate()
    since = until = None
    if valid and form.since.data:
        since = datetime.combine(form.since.data, time.min, clock.PARIS)
    if valid and form.until.data:
        until = datetime.combine(form.until.data + timedelta(days=1), time.min, clock.PARIS)
    return access.history_query(
        account,
        patient,
        actor_kind=(form.actor.data or None) if valid else None,
        action=(form.action.data or None) if valid else None,
        since=since,
        until=until,
    ), patient


@bp.get("/history")
def history() -> ResponseReturnValue:
    form = HistoryFilterForm(request.args)
    query, _patient = _filtered_query(form)
    page = requested_page()
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    events = db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    pages = max((int(total or 0) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    template = "access/_history_results.html" if _is_filter_swap() else "access/history.html"
    return render_template(
        template,
        form=form,
        events=events,
        page=page,
        pages=pages,
        total=total,
        args=args,
    )


def _is_filter_swap() -> bool:
    return htmx.is_request() and request.headers.get("HX-Target") == "history-results"


@bp.get("/history.csv")
@require_recent_auth
def history_csv() -> ResponseReturnValue:
    form = HistoryFilterForm(request.args)
    query, patient = _filtered_query(form)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "date",
            "actor_kind",
            "actor",
            "profession",
            "structure",
            "action",
            "mode",
            "allowed",
            "reason",
            "detail",
        ]
    )
    for event in db.session.scalars(query.execution_options(yield_per=500)):
        writer.writerow(
            [
                clock.to_paris(event.occurred_at).isoformat(timespec="seconds"),
                event.actor_kind,
                _cell(event.actor_label),
                _cell(event.actor_profession),
                _cell(event.actor_structure),
                event.action,
                event.mode,
                "yes" if event.allowed else "no",
                event.reason,
                _cell(event.detail),
            ]
        )
    record_access(patient, current_account(), Action.HISTORY_EXPORTED)
    db.session.commit()
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="historique-carnet.csv"'},
    )


# --- the professionals the patient lets in (SPEC §4.2) ----------------------------------------

CHANGES = ("revoke", "block", "unblock", "traitant", "give_rights", "remove_rights")


@bp.get("/")
def index() -> ResponseReturnValue:
    account = current_account()
    patient = access.own_patient(account)
    access.require(account, Permission.ACCESS_MANAGE, patient)
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
    account = current_account()
    patient = access.own_patient(account)
    access.require(account, Permission.ACCESS_MANAGE, patient)
    form = _search_form()
    results: list[Professional] = []
    searched = bool(form.q.data or form.profession.data or form.city.data)
    if searched and form.validate():
        results = directory.search(
            form.q.data or "",
            profession=form.profession.data or None,
            city=form.city.data or None,
        )
    partial = htmx.is_request() and request.headers.get("HX-Target") == "directory-results"
    return render_template(
        "access/_directory_results.html" if partial else "access/find.html",
        search=form,
        results=results,
        searched=searched,
    )


def _professional(professional_id: int) -> Professional:
    pro = db.session.get(Professional, professional_id)
    if pro is None:
        abort(404)
    return pro


@bp.route("/grant/<int(max=2147483647):professional_id>", methods=["GET", "POST"])
@require_recent_auth
def grant(professional_id: int) -> ResponseReturnValue:
    account = current_account()
    patient = access.own_patient(account)
    access.require(account, Permission.ACCESS_MANAGE, patient)
    pro = _professional(professional_id)
    form = GrantForm()
    needs_express = catalogue.current().needs_express_grant(pro.specialty)
    if request.method == "GET":
        form.duration.data = "until" if authorisations.default_until(pro) else "permanent"
        default = authorisations.default_until(pro)
        form.until.data = clock.to_paris(default).date() if default else None
    elif form.validate_on_submit():
        until = None
        if form.duration.data == "until" and form.until.data is not None:
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
        else:
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
    patient = access.own_patient(account)
    access.require(account, Permission.ACCESS_MANAGE, patient)
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
    patient = access.own_patient(account)
    access.require(account, Permission.ACCESS_MANAGE, patient)
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
