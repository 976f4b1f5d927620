"""The access history as its holder reads it: a page at a time, or whole as a CSV file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.pagination import Page, paginate
from webapp.models import AccessEvent, Account, Patient
from webapp.policy import queries
from webapp.services.audit import Action, record_access

CSV_COLUMNS = (
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
)


@dataclass(frozen=True)
class Filters:
    """What the history is narrowed to; the days are days in Paris, both ends included."""

    actor_kind: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


def _query(actor: Account, patient: Patient, filters: Filters) -> Select[AccessEvent]:
    since = until = None
    if filters.since is not None:
        since = datetime.combine(filters.since, time.min, clock.PARIS)
    if filters.until is not None:
        until = datetime.combine(filters.until + timedelta(days=1), time.min, clock.PARIS)
    return queries.history_query(
        actor,
        patient,
        actor_kind=filters.actor_kind,
        action=filters.action,
        since=since,
        until=until,
    )


def page_of(actor: Account, patient: Patient, filters: Filters, page: int) -> Page[AccessEvent]:
    """One page of the events `actor` may read, newest first."""
    return paginate(_query(actor, patient, filters), page)


def _cell(value: str) -> str:
    """Keep spreadsheet programs from reading a name as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _row(event: AccessEvent) -> list[str]:
    return [
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


def export_csv(actor: Account, patient: Patient, filters: Filters) -> str:
    """Every event `actor` may read as CSV text; the export itself goes into the history."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    query = _query(actor, patient, filters).execution_options(yield_per=500)
    for event in db.session.scalars(query):
        writer.writerow(_row(event))
    record_access(patient, actor, Action.HISTORY_EXPORTED)
    return buffer.getvalue()
