"""The reimbursements the insurer fed, as their holder reads them (SPEC §8b): 24 months, newest
first, grouped by month with each month's totals, filtered by professional or kind of care, a
page at a time or whole as a CSV file; and the purge of lines older than the 24 months.

Every read starts from `queries.reimbursements_query`: the policy says whose lines and which
months; this module only narrows, orders, sums and formats.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import Integer, Select, and_, cast, delete, extract, false, func, or_, select

from webapp.core.extensions import db
from webapp.core.pagination import paginate
from webapp.models import Account, Patient, Reimbursement
from webapp.models.base import affected
from webapp.policy import queries

# A page of 25 lines: a month or two of care, a short scroll on a phone, and a page that
# costs the same to draw at 2,000 lines as at 20 (bench/insurer.py).
PAGE_SIZE = 25
LATEST = 3
CSV_CHUNK = 500  # lines read, then sent, at a time
ZERO = Decimal("0.00")
# A filter value no line can hold: longer than its column, or with a character a database
# refuses (PostgreSQL rejects NUL in text). It matches nothing, without asking the database.
_LONGEST = {"professional": 200, "kind": 100}


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to: exact values of the lines' own fields.

    `unmatched` is a request no line can answer (a filter given twice, a value no column can
    hold): the list is empty, never an error."""

    professional: str | None = None
    kind: str | None = None
    unmatched: bool = False

    @property
    def active(self) -> bool:
        return self.unmatched or self.professional is not None or self.kind is not None


def filters_from(professional: Sequence[str], kind: Sequence[str]) -> Filters:
    """Filters from the values a query string gave for each name (none, one, or several)."""
    chosen: dict[str, str | None] = {}
    unmatched = False
    for name, values in (("professional", professional), ("kind", kind)):
        given = [value for value in values if value != ""]
        if not given:
            chosen[name] = None
            continue
        value = given[0]
        if len(given) > 1 or len(value) > _LONGEST[name] or "\x00" in value:
            unmatched = True
        chosen[name] = value
    return Filters(chosen["professional"], chosen["kind"], unmatched)


@dataclass(frozen=True)
class Totals:
    """What was paid, what the Assurance Maladie reimbursed, and what remained to pay."""

    paid: Decimal = ZERO
    reimbursed: Decimal = ZERO
    count: int = 0

    @property
    def remaining(self) -> Decimal:
        return self.paid - self.reimbursed

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.paid + other.paid, self.reimbursed + other.reimbursed, self.count + other.count
        )


@dataclass(frozen=True)
class Month:
    """One month of the page: its first day, its totals over every filtered line of the month
    (a month split across two pages shows its full totals on both), and its lines here."""

    first_day: date
    totals: Totals
    lines: list[Reimbursement] = field(default_factory=list)


@dataclass(frozen=True)
class Listing:
    """One page of the history: its months, the totals of all the filtered lines, the page
    number and count, and the values the filters offer (those of the whole 24 months)."""

    months: list[Month]
    totals: Totals
    number: int
    pages: int
    professionals: list[str]
    kinds: list[str]
    shown_from: date


def lines_query(actor: Account, patient: Patient, filters: Filters) -> Select[Reimbursement]:
    """The lines `actor` may read within the 24 months, narrowed by `filters`, unordered."""
    query = queries.reimbursements_query(actor, patient)
    if filters.unmatched:
        return query.where(false())
    if filters.professional is not None:
        query = query.where(Reimbursement.professional == filters.professional)
    if filters.kind is not None:
        query = query.where(Reimbursement.profession == filters.kind)
    return query


def _newest_first(query: Select[Reimbursement]) -> Select[Reimbursement]:
    return query.order_by(Reimbursement.care_date.desc(), Reimbursement.id.desc())


def month_totals(actor: Account, patient: Patient, filters: Filters) -> dict[date, Totals]:
    """Each month's totals, in one GROUP BY (year and month by `extract`, which SQLite and
    PostgreSQL both understand), newest month first."""
    lines = lines_query(actor, patient, filters).subquery()
    year = cast(extract("year", lines.c.care_date), Integer)
    month = cast(extract("month", lines.c.care_date), Integer)
    rows = db.session.execute(
        select(
            year,
            month,
            func.sum(lines.c.amount_paid),
            func.sum(lines.c.amount_reimbursed),
            func.count(),
        )
        .group_by(year, month)
        .order_by(year.desc(), month.desc())
    ).all()
    return {
        date(int(y), int(m), 1): Totals(_amount(paid), _amount(reimbursed), int(count))
        for y, m, paid, reimbursed, count in rows
    }


def _amount(value: object) -> Decimal:
    """A sum as exact cents: PostgreSQL gives a Decimal, SQLite a float read back to cents."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _choices(actor: Account, patient: Patient) -> tuple[list[str], list[str]]:
    """The professionals and kinds of care of the 24 months (not the filtered ones: choosing
    a professional must not empty the other list), in one query."""
    lines = queries.reimbursements_query(actor, patient).subquery()
    pairs = db.session.execute(select(lines.c.professional, lines.c.profession).distinct()).all()
    return _sorted({pro for pro, _kind in pairs}), _sorted({kind for _pro, kind in pairs})


def _sorted(values: Iterable[str]) -> list[str]:
    """Alphabetical the way people read it: É with the E, upper and lower case together."""

    def key(value: str) -> tuple[str, str]:
        plain = unicodedata.normalize("NFKD", value)
        return "".join(c for c in plain if not unicodedata.combining(c)).casefold(), value

    return sorted(values, key=key)


def page_of(actor: Account, patient: Patient, filters: Filters, page: int) -> Listing:
    """One page of at most PAGE_SIZE lines, newest first, in their months.

    Three statements whatever the number of lines: the choices, the month totals (which also
    give the count and the overall totals), and the page's lines."""
    professionals, kinds = _choices(actor, patient)
    by_month = month_totals(actor, patient, filters)
    overall = sum(by_month.values(), Totals())
    pages = max((overall.count + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    number = min(max(page, 1), pages)
    rows = (
        paginate(
            _newest_first(lines_query(actor, patient, filters)),
            number,
            size=PAGE_SIZE,
            total=overall.count,
        ).items
        if overall.count
        else []
    )
    months: list[Month] = []
    for row in rows:
        first_day = row.care_date.replace(day=1)
        if not months or months[-1].first_day != first_day:
            months.append(Month(first_day, by_month.get(first_day, Totals())))
        months[-1].lines.append(row)
    return Listing(
        months=months,
        totals=overall,
        number=number,
        pages=pages,
        professionals=professionals,
        kinds=kinds,
        shown_from=queries.reimbursements_shown_from(),
    )


def latest(actor: Account, patient: Patient, limit: int = LATEST) -> Sequence[Reimbursement]:
    """The newest lines, for the home page: one statement."""
    query = _newest_first(lines_query(actor, patient, Filters()))
    return db.session.scalars(query.limit(limit)).all()


# --- the CSV file ------------------------------------------------------------------------------


def _cell(value: str) -> str:
    """Keep a spreadsheet from reading what the insurer sent as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_file_name(today: date) -> str:
    return f"remboursements-{today.isoformat()}.csv"


def _header() -> list[str]:
    return [
        _("Date des soins"),
        _("Acte"),
        _("Code de l'acte"),
        _("Professionnel"),
        _("Type de soin"),
        _("Montant payé (€)"),
        _("Montant remboursé (€)"),
        _("Reste à votre charge (€)"),
    ]


def csv_stream(
    app: Flask, actor: Account, patient: Patient, filters: Filters, *, french: bool
) -> Iterator[bytes]:
    """The filtered lines as a CSV file, newest first, read and sent CSV_CHUNK at a time.

    What to read and the header are settled now, in the request (the policy decides here).
    A streamed response is sent after the request's context has ended, so each chunk is read
    in a short application context of its own, after the last line sent (keyset on date and
    id): no transaction stays open while the file travels."""
    statement = _newest_first(lines_query(actor, patient, filters)).limit(CSV_CHUNK)
    header = _header()

    def chunks() -> Iterator[bytes]:
        writer = _CsvWriter(french)
        yield ("\ufeff" + writer.rows([header])).encode("utf-8")
        after: tuple[date, int] | None = None
        while True:
            with app.app_context():
                lines = db.session.scalars(_after(statement, after)).all()
                text = writer.rows(_row(line, writer.amount) for line in lines)
            if text:
                yield text.encode("utf-8")
            if len(lines) < CSV_CHUNK:
                return
            after = (lines[-1].care_date, lines[-1].id)

    return chunks()


def _after(
    statement: Select[Reimbursement], last: tuple[date, int] | None
) -> Select[Reimbursement]:
    """The lines that come after `last` in the newest-first order."""
    if last is None:
        return statement
    day, line_id = last
    return statement.where(
        or_(
            Reimbursement.care_date < day,
            and_(Reimbursement.care_date == day, Reimbursement.id < line_id),
        )
    )


class _CsvWriter:
    """In French the cells are separated by ";" and the amounts written with a decimal comma,
    as French spreadsheets expect; in English "," and a decimal point. Amounts are plain
    numbers (no € sign, no thousands separator) so that a spreadsheet adds them up."""

    def __init__(self, french: bool) -> None:
        self.french = french
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, delimiter=";" if french else ",")

    def amount(self, value: Decimal) -> str:
        text = f"{value:.2f}"
        return text.replace(".", ",") if self.french else text

    def rows(self, rows: Iterable[list[str]]) -> str:
        self.writer.writerows(rows)
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def _row(line: Reimbursement, amount: Callable[[Decimal], str]) -> list[str]:
    return [
        line.care_date.isoformat(),
        _cell(line.act_label),
        _cell(line.act_code),
        _cell(line.professional),
        _cell(line.profession),
        amount(line.amount_paid),
        amount(line.amount_reimbursed),
        amount(line.amount_paid - line.amount_reimbursed),
    ]


# --- the purge ---------------------------------------------------------------------------------


def purge_older() -> int:
    """Delete, in one statement, every line older than the 24 months shown (their day in
    Paris); returns how many. The caller commits."""
    result = db.session.execute(
        delete(Reimbursement)
        .where(Reimbursement.care_date < queries.reimbursements_shown_from())
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def purge_patient(patient: Patient) -> None:
    """Every line of one record, when its content is deleted."""
    db.session.execute(
        delete(Reimbursement)
        .where(Reimbursement.patient_id == patient.id)
        .execution_options(synchronize_session=False)
    )
