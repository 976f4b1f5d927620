"""Dates of the demo data: written relative to the day it is loaded, so that the record
always looks recent, and shown the French way.

A date in a data file is either a TOML date (`2019-05-06`, fixed) or a table:

- `{ days_ago = 45 }`: that many days before today;
- `{ years_ago = 1, month = 10, day = 20 }`: that day of the year, so many years back;
  with `latest = true`, counted back from the latest such day up to today rather than from this
  year's (on 12 January 2027, `years_ago = 1` is 20 October 2025, not 2026);
- `{ from = "flu", days = 2, years = 1 }`: after (or, negative, before) another named date;
- `{ month = 10, day = 21, before = "summary", gap_days = 7 }`: the latest such day of a year
  at least `gap_days` before another named date (counting back from this year).

Any of them may add `working_day = true`: a Saturday or a Sunday becomes the Friday before.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Protocol

from webapp.services.demo.data import Entry

_MONTHS: Final = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def long_date(day: date) -> str:
    """ "1er mars 2025", "14 mars 2025"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def working_day(day: date) -> date:
    """The same day, or the Friday before when it falls on a weekend."""
    return day - timedelta(days=max(day.weekday() - 4, 0))


def _add_years(day: date, years: int) -> date:
    """The same day so many years later; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class DateRule(Protocol):
    def resolve(self, today: date, named: Mapping[str, date]) -> date: ...


@dataclass(frozen=True)
class Fixed:
    day: date

    def resolve(self, today: date, named: Mapping[str, date]) -> date:
        return self.day


@dataclass(frozen=True)
class DaysAgo:
    days: int

    def resolve(self, today: date, named: Mapping[str, date]) -> date:
        return today - timedelta(days=self.days)


@dataclass(frozen=True)
class YearsAgo:
    years: int
    month: int
    day: int
    latest: bool = False  # counted from the latest such day, not from this year's

    def resolve(self, today: date, named: Mapping[str, date]) -> date:
        year = today.year
        if self.latest and (today.month, today.day) < (self.month, self.day):
            year -= 1
        return date(year - self.years, self.month, self.day)


@dataclass(frozen=True)
class After:
    base: str
    days: int
    years: int

    def resolve(self, today: date, named: Mapping[str, date]) -> date:
        return _add_years(named[self.base], self.years) + timedelta(days=self.days)


@dataclass(frozen=True)
class LatestBefore:
    month: int
    day: int
    base: str
    gap_days: int

    def resolve(self, today: date, named: Mapping[str, date]) -> date:
        limit = named[self.base] - timedelta(days=self.gap_days)
        found = date(today.year, self.month, self.day)
        while found > limit:
            found = _add_years(found, -1)
        return found


@dataclass(frozen=True)
class OnWorkingDay:
    rule: DateRule

    def resolve(self, today: date, named: Mapping[str, date]) -> date:
        return working_day(self.rule.resolve(today, named))


def _day_of_year(entry: Entry) -> tuple[int, int]:
    month, day = entry.integer("month"), entry.integer("day")
    try:
        date(2000, month, day)  # a leap year: every day of the calendar exists
    except ValueError:
        entry.fail(f"month {month}, day {day} is not a day of the year")
    return month, day


def _named(entry: Entry, key: str, names: Collection[str]) -> str:
    name = entry.text(key)
    if name not in names:
        entry.fail(f'"{key}" refers to {name!r}, which is not a date defined before it')
    return name


def parse_rule(entry: Entry, key: str, names: Collection[str] = ()) -> DateRule:
    """The date in `entry[key]`; `names` are the dates it may refer to."""
    if not entry.has(key) or not isinstance(entry.values[key], dict):
        return Fixed(entry.day(key))
    table = entry.table(key)
    rule: DateRule
    if table.has("days_ago"):
        rule = DaysAgo(table.integer("days_ago"))
    elif table.has("years_ago"):
        years = table.integer("years_ago")
        rule = YearsAgo(years, *_day_of_year(table), latest=table.flag("latest"))
    elif table.has("from"):
        base = _named(table, "from", names)
        rule = After(base, table.integer("days", 0), table.integer("years", 0))
    elif table.has("before"):
        month, day = _day_of_year(table)
        rule = LatestBefore(month, day, _named(table, "before", names), table.integer("gap_days"))
    else:
        table.fail("a date needs days_ago, years_ago, from or before")
    if table.flag("working_day"):
        rule = OnWorkingDay(rule)
    table.done()
    return rule
