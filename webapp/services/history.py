"""The access history as its holder reads it: a page at a time, or whole as a CSV file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.pagination import Page, paginate
from webapp.models import AccessEvent, Account, Patient
from webapp.policy import queries
from webapp.services.audit import Action, ActorKind, record_access

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


# The holder's own comings and goings: told apart in one line, or they would fill the list.
# They stay in the history, the export and the list filtered on one of these actions.
CONNECTIONS = (Action.SIGN_IN, Action.SIGN_OUT, Action.REAUTHENTICATED)


def _own_connection() -> ColumnElement[bool]:
    return and_(AccessEvent.actor_kind == ActorKind.PATIENT, AccessEvent.action.in_(CONNECTIONS))


def connections_apart(filters: Filters) -> bool:
    """Whether the list leaves out the holder's connections (told apart by `connections`)."""
    return filters.action not in CONNECTIONS and filters.actor_kind in (None, ActorKind.PATIENT)


def page_of(actor: Account, patient: Patient, filters: Filters, page: int) -> Page[AccessEvent]:
    """One page of the events `actor` may read, newest first."""
    query = _query(actor, patient, filters)
    if filters.action not in CONNECTIONS:
        query = query.where(~_own_connection())
    return paginate(query, page)


@dataclass(frozen=True)
class Connections:
    """The holder's own sign-ins within the filters' dates: how many, and the latest."""

    count: int
    last: AccessEvent | None
    filters: Filters


def connections(actor: Account, patient: Patient, filters: Filters) -> Connections:
    """Two small queries, whatever the number of sign-ins."""
    mine = Filters(
        actor_kind=ActorKind.PATIENT,
        action=Action.SIGN_IN,
        since=filters.since,
        until=filters.until,
    )
    query = _query(actor, patient, mine)
    last = db.session.scalars(query.limit(1)).first()
    count: int | None = 0
    if last is not None:
        count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return Connections(count=int(count or 0), last=last, filters=mine)


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


def csv_chunks(actor: Account, patient: Patient, filters: Filters) -> Iterator[str]:
    """The CSV text a few rows at a time, header first: the record's ZIP streams it as it comes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    query = _query(actor, patient, filters).execution_options(yield_per=500)
    for event in db.session.scalars(query):
        writer.writerow(_row(event))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export_csv(actor: Account, patient: Patient, filters: Filters) -> str:
    """Every event `actor` may read as CSV text; the export itself goes into the history."""
    text = "".join(csv_chunks(actor, patient, filters))
    record_access(patient, actor, Action.HISTORY_EXPORTED)
    return text
