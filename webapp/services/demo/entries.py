"""The demo patients' medical profiles (`profile.toml`) and the demo patient's measurements
(`measurements.csv`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from webapp.models import EntryKind, MeasureKind, Section
from webapp.services.demo import people
from webapp.services.demo.data import Entry, parse_csv, parse_toml, read_text
from webapp.services.demo.dates import DateRule, parse_rule

PROFILE_FILE = "profile.toml"
MEASUREMENTS_FILE = "measurements.csv"
MEASUREMENT_COLUMNS = ["author", "kind", "days_ago", "value", "value2", "unit", "fasting"]

# The free-text columns of a profile entry; a column left out keeps the model's default.
TEXT_FIELDS = (
    "label",
    "reaction",
    "severity",
    "dose",
    "frequency",
    "prescriber",
    "batch",
    "relation",
    "phone",
    "text",
)


@dataclass(frozen=True)
class ProfileItem:
    patient: str  # the demo patient whose record it is in
    author: str  # that patient or a demo professional
    section: str
    kind: str
    texts: dict[str, str]  # among TEXT_FIELDS
    start_date: DateRule | None
    end_date: DateRule | None
    prescribed_by: str | None  # a demo professional, whose name becomes the prescriber

    def columns(self, today: date) -> dict[str, object]:
        """The entry's own columns (author and times apart)."""
        values: dict[str, object] = {"section": self.section, "kind": self.kind, **self.texts}
        if self.start_date is not None:
            values["start_date"] = self.start_date.resolve(today, {})
        if self.end_date is not None:
            values["end_date"] = self.end_date.resolve(today, {})
        return values


@dataclass(frozen=True)
class MeasurementItem:
    author: str
    kind: str
    days_ago: int
    value: float
    value2: float | None
    unit: str
    fasting: bool | None


def _account(entry: Entry, key: str, allowed: set[str]) -> str:
    identifier = entry.text(key)
    if identifier not in allowed:
        names = ", ".join(sorted(allowed))
        entry.fail(f'"{key}" must be one of {names} ({people.FILE}), got {identifier!r}')
    return identifier


def _profile_item(entry: Entry, accounts: people.DemoAccounts) -> ProfileItem:
    patient = accounts.patient.identifier  # hers, unless the entry names another
    if entry.has("patient"):
        patient = _account(entry, "patient", {demo.identifier for demo in accounts.patients})
    pros = {pro.identifier for pro in accounts.professionals}
    item = ProfileItem(
        patient=patient,
        author=_account(entry, "author", accounts.authors_of(patient)),
        section=entry.choice("section", Section),
        kind=entry.choice("kind", EntryKind),
        texts={key: entry.text(key) for key in TEXT_FIELDS if entry.has(key)},
        start_date=parse_rule(entry, "start_date") if entry.has("start_date") else None,
        end_date=parse_rule(entry, "end_date") if entry.has("end_date") else None,
        prescribed_by=_account(entry, "prescribed_by", pros)
        if entry.has("prescribed_by")
        else None,
    )
    if item.prescribed_by is not None and "prescriber" in item.texts:
        entry.fail('give "prescriber" or "prescribed_by", not both')
    entry.done()
    return item


def parse_profile(text: str, accounts: people.DemoAccounts) -> tuple[ProfileItem, ...]:
    top = parse_toml(PROFILE_FILE, text)
    items = tuple(_profile_item(row, accounts) for row in top.tables("entries", "label"))
    top.done()
    return items


def _optional_number(raw: str) -> float | None:
    return float(raw) if raw else None


def _fasting(raw: str) -> bool | None:
    if raw not in ("", "true", "false"):
        raise ValueError(raw)
    return None if not raw else raw == "true"


def _measurement(row: Entry, authors: set[str]) -> MeasurementItem:
    item = MeasurementItem(
        author=_account(row, "author", authors),
        kind=row.choice("kind", MeasureKind),
        days_ago=row.cell("days_ago", int, "a whole number"),
        value=row.cell("value", float, "a number"),
        value2=row.cell("value2", _optional_number, "a number or nothing"),
        unit=row.text("unit"),
        fasting=row.cell("fasting", _fasting, "true, false or nothing"),
    )
    row.done()
    return item


def parse_measurements(text: str, authors: set[str]) -> tuple[MeasurementItem, ...]:
    rows = parse_csv(MEASUREMENTS_FILE, text, MEASUREMENT_COLUMNS)
    return tuple(_measurement(row, authors) for row in rows)


@lru_cache(maxsize=1)
def profile() -> tuple[ProfileItem, ...]:
    return parse_profile(read_text(PROFILE_FILE), people.current())


def profile_of(patient: str) -> tuple[ProfileItem, ...]:
    """The entries of one demo patient's record."""
    return tuple(item for item in profile() if item.patient == patient)


@lru_cache(maxsize=1)
def measurements() -> tuple[MeasurementItem, ...]:
    return parse_measurements(read_text(MEASUREMENTS_FILE), people.current().authors)
