from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, func, select

from webapp.blueprints.access import bp
from webapp.blueprints.access.forms import HistoryFilterForm
from webapp.extensions import db
from webapp.models import AccessEvent, Patient
from webapp.paging import requested_page
from webapp.security import current_account, require_recent_auth
from webapp.services import access, clock
from webapp.services.audit import Action, record_access

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
    from webapp import htmx

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
