"""The reimbursement pages: the history of 24 months, and its CSV file.

Only the holder reaches them: a professional, an agent or another patient gets the 404 of
any page that is not theirs (`loaders.own_patient`, then REIMBURSEMENT_LIST on the record)."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_locale

from webapp.blueprints.reimbursements import bp
from webapp.blueprints.reimbursements.forms import FilterForm
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Patient
from webapp.policy import Permission, loaders
from webapp.services import reimbursements
from webapp.services.audit import Action, record_access
from webapp.web import htmx
from webapp.web.paging import requested_page
from webapp.web.security import current_account, require_recent_auth


def _holder_record(actor: Account) -> Patient:
    patient = loaders.own_patient(actor)
    loaders.require(actor, Permission.REIMBURSEMENT_LIST, patient)
    return patient


def _filters() -> reimbursements.Filters:
    return reimbursements.filters_from(
        request.args.getlist("professional"), request.args.getlist("kind")
    )


def _month_heading(first_day: date) -> str:
    """ "Mars 2026", "March 2026": the month's own name, capitalised."""
    text = format_date(first_day, "LLLL y")
    return text[:1].upper() + text[1:]


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"month_heading": _month_heading}


@bp.get("/")
def index() -> ResponseReturnValue:
    actor = current_account()
    patient = _holder_record(actor)
    filters = _filters()
    listing = reimbursements.page_of(actor, patient, filters, requested_page())
    args = {
        name: value
        for name, value in (("professional", filters.professional), ("kind", filters.kind))
        if value is not None
    }
    form = FilterForm(request.args)
    form.offer(listing.professionals, listing.kinds)
    partial = htmx.target_is("reimbursement-results")
    return render_template(
        "reimbursements/_results.html" if partial else "reimbursements/index.html",
        listing=listing,
        filters=filters,
        form=form,
        args=args,
    )


@bp.get("/export.csv")
@require_recent_auth
def export_csv() -> ResponseReturnValue:
    """The filtered lines as a file for a spreadsheet, streamed; the export is in the history."""
    actor = current_account()
    patient = _holder_record(actor)
    filters = _filters()
    record_access(patient, actor, Action.REIMBURSEMENTS_EXPORTED)
    db.session.commit()
    locale = get_locale()
    french = locale is None or locale.language == "fr"
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001
    stream = reimbursements.csv_stream(app, actor, patient, filters, french=french)
    name = reimbursements.csv_file_name(clock.to_paris(clock.now()).date())
    return Response(
        stream,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
