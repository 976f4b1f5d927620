"""Prevention reminders (SPEC §7): the rules of webapp/data/prevention.toml, applied to a date
of birth, a sex, the recorded vaccinations, the dated *Prévention* documents and what the
patient did with each reminder (done, postponed, dismissed).

`reminders_for` is pure (today is an argument); `for_patient` reads the facts and the states
in two statements; the changes write the patient's history and never commit.
"""

from __future__ import annotations

import calendar
import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Protocol

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import CompoundSelect, Integer, literal_column, or_, select, union_all

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Document, Patient, ProfileEntry, ReminderState
from webapp.models.agenda import ReminderStatus
from webapp.models.document import Category, DocumentState
from webapp.models.profile import EntryKind, Section
from webapp.services import profile
from webapp.services.audit import Action, record_access

RULES_FILE = "prevention.toml"
SOON = timedelta(days=30)  # a reminder shows this long before it is due
POSTPONE_YEARS = 2  # the furthest a reminder can be put off
VACCINATION = "vaccination"
SCREENING = "screening"
# Reminder.status, in the order the list shows them.
DUE, UPCOMING, POSTPONED, DISMISSED = "due", "soon", "postponed", "dismissed"
_ORDER = {DUE: 0, UPCOMING: 1, POSTPONED: 2, DISMISSED: 3}
_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")
_MONTH_DAY = re.compile(r"(\d\d)-(\d\d)")


class PreventionRulesError(ValueError):
    """The rules file is wrong; the message names the file, the rule and the key."""


class ReminderError(Exception):
    """A refusal the form shows beside the field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def anniversary(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 2, 28)


def age_on(birth: date, day: date) -> int:
    years = day.year - birth.year
    return years - 1 if anniversary(birth, years) > day else years


def normalise(text: str) -> str:
    """Lower case, no accents, words separated by single spaces."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def _in_year(year: int, month_day: tuple[int, int]) -> date:
    month, day = month_day
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class AtAges:
    """Due on fixed birthdays (then every `then_every_years`); a dose up to `early_years`
    before a birthday counts for it."""

    at_ages: tuple[int, ...]
    then_every_years: int | None = None
    early_years: int = 0

    def _ages(self) -> Iterator[int]:
        yield from self.at_ages
        age = self.at_ages[-1]
        while self.then_every_years and age < 130:
            age += self.then_every_years
            yield age

    def next_due(self, birth: date, last: date | None, today: date, start: date) -> date | None:
        ages = list(self._ages())
        # The latest birthday already reached, or the first one still ahead.
        first = max(
            (i for i, age in enumerate(ages) if anniversary(birth, age) <= today), default=0
        )
        for age in ages[first:]:
            if last is None or last < anniversary(birth, age - self.early_years):
                return anniversary(birth, age)
        return None


@dataclass(frozen=True)
class Interval:
    """Due at the first age, then `years` after the last time, chosen by the age then."""

    every: tuple[tuple[int, int], ...]  # (from_age, years), from_age increasing

    def next_due(self, birth: date, last: date | None, today: date, start: date) -> date | None:
        if last is None:
            return start
        age = age_on(birth, last)
        years = self.every[0][1]
        for from_age, band_years in self.every:
            if age >= from_age:
                years = band_years
        return max(start, anniversary(last, years))


@dataclass(frozen=True)
class Season:
    """Once a season: due from the campaign's first day (or the first age, if later) to its
    last, in the next year; a dose since `counts_from` counts for the season."""

    counts_from: tuple[int, int]
    campaign_from: tuple[int, int]
    campaign_until: tuple[int, int]

    def next_due(self, birth: date, last: date | None, today: date, start: date) -> date | None:
        year = today.year if (today.month, today.day) >= self.counts_from else today.year - 1
        for season in (year, year + 1):
            until = _in_year(season + 1, self.campaign_until)
            if until < today or (last is not None and last >= _in_year(season, self.counts_from)):
                continue
            due = max(_in_year(season, self.campaign_from), start)
            if due <= until:
                return due
        return None


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    label_fr: str
    label_en: str
    sex: str  # F, M or any
    min_age: int
    max_age: int | None
    schedule: AtAges | Interval | Season
    keywords: tuple[str, ...]  # normalised
    vaccine: str
    source: str

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_fr

    def matches(self, text: str) -> bool:
        words = f" {normalise(text)}"
        return any(f" {keyword}" in words for keyword in self.keywords)

    def applies_to(self, sex: str) -> bool:
        return self.sex in ("any", sex)


@dataclass(frozen=True)
class Reminder:
    code: str
    label: str  # in the current language
    kind: str  # vaccination or screening
    due_on: date
    status: str  # due, soon, postponed or dismissed
    source: str
    vaccine: str  # the vaccination recorded when done; "" for a screening
    last_done: date | None


@dataclass(frozen=True)
class Facts:
    """What the record says: (vaccine label, date given) and (Prévention title, care date)."""

    vaccinations: list[tuple[str, date]] = field(default_factory=list)
    documents: list[tuple[str, date]] = field(default_factory=list)


class StateLike(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def until(self) -> date | None: ...
    @property
    def done_on(self) -> date | None: ...


# Reading the rules ------------------------------------------------------------------------

_COMMON = {"code", "kind", "label_fr", "label_en", "sex", "min_age", "max_age", "schedule"}
_COMMON |= {"keywords", "vaccine", "source"}
_SCHEDULES = {
    "ages": {"at_ages", "then_every_years", "early_years"},
    "interval": {"every"},
    "season": {"counts_from", "campaign_from", "campaign_until"},
}


class _Fields:
    """Typed reads of one rule's table, each failure naming the rule and the key."""

    def __init__(self, raw: Mapping[str, object], where: str) -> None:
        self.raw, self.where = raw, where

    def fail(self, message: str) -> PreventionRulesError:
        return PreventionRulesError(f"{self.where}: {message}")

    def text(self, key: str, *, required: bool = True) -> str:
        value = self.raw.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(f"{key} must be a non-empty text")
        return value.strip()

    def number(self, key: str, low: int, high: int, default: int | None = None) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"{key} must be a whole number from {low} to {high}")
        return value

    def items(self, key: str) -> list[object]:
        value = self.raw.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(f"{key} must be a non-empty list")
        return value

    def month_day(self, key: str) -> tuple[int, int]:
        found = _MONTH_DAY.fullmatch(self.text(key))
        month, day = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
        try:
            date(2000, month, day)  # a leap year: 02-29 is a day (the last of February)
        except ValueError:
            raise self.fail(f"{key} must be a day written MM-DD") from None
        return month, day


def _schedule(f: _Fields, kind: str, low: int, high: int) -> AtAges | Interval | Season:
    if kind == "ages":
        ages = f.items("at_ages")
        checked = [a for a in ages if isinstance(a, int) and not isinstance(a, bool)]
        if len(checked) != len(ages) or checked != sorted(set(checked)):
            raise f.fail("at_ages must be whole numbers, increasing")
        if checked[0] < low or checked[-1] > high:
            raise f.fail(f"at_ages must lie within {low} to {high}")
        every = f.number("then_every_years", 1, 50) if "then_every_years" in f.raw else None
        return AtAges(tuple(checked), every, f.number("early_years", 0, 10, default=0))
    if kind == "interval":
        bands: list[tuple[int, int]] = []
        for band in f.items("every"):
            if not isinstance(band, dict) or set(band) != {"from_age", "years"}:
                raise f.fail("every must list tables of from_age and years")
            sub = _Fields(band, f"{f.where} every")
            bands.append((sub.number("from_age", low, high), sub.number("years", 1, 20)))
        starts = [start for start, _years in bands]
        if starts != sorted(set(starts)) or starts[0] != low:
            raise f.fail(f"every must start at min_age ({low}) and increase")
        return Interval(tuple(bands))
    counts_from, campaign_from = f.month_day("counts_from"), f.month_day("campaign_from")
    campaign_until = f.month_day("campaign_until")
    if not campaign_until < counts_from <= campaign_from:
        raise f.fail("counts_from must come before campaign_from, campaign_until the next year")
    return Season(counts_from, campaign_from, campaign_until)


def _rule(raw: object, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise PreventionRulesError(f"{where}: must be a table")
    f = _Fields(raw, where)
    code = f.text("code")
    f.where = f"{where} ({code})"
    if not _CODE.fullmatch(code):
        raise f.fail("code must be 2 to 32 of a-z, 0-9 and _, starting with a letter")
    schedule = f.text("schedule")
    if schedule not in _SCHEDULES:
        raise f.fail(f"schedule must be one of {', '.join(sorted(_SCHEDULES))}")
    unknown = set(raw) - _COMMON - _SCHEDULES[schedule]
    if unknown:
        raise f.fail(f"unknown key {', '.join(sorted(unknown))}")
    kind, sex = f.text("kind"), f.text("sex")
    if kind not in (VACCINATION, SCREENING):
        raise f.fail("kind must be vaccination or screening")
    if sex not in ("F", "M", "any"):
        raise f.fail("sex must be F, M or any")
    low = f.number("min_age", 0, 120)
    high = f.number("max_age", low, 120) if "max_age" in raw else None
    words = f.items("keywords")
    keywords = tuple(normalise(word) for word in words if isinstance(word, str))
    if len(keywords) != len(words) or not all(keywords):
        raise f.fail("keywords must be non-empty texts")
    source = f.text("source")
    if not source.startswith("https://") or any(c.isspace() for c in source):
        raise f.fail("source must be the https:// address the rule comes from")
    vaccine = f.text("vaccine", required=kind == VACCINATION)
    if len(vaccine) > 200:  # a profile entry's label
        raise f.fail("vaccine must be 200 characters at most")
    rule = Rule(
        code,
        kind,
        f.text("label_fr"),
        f.text("label_en"),
        sex,
        low,
        high,
        _schedule(f, schedule, low, 120 if high is None else high),
        keywords,
        vaccine,
        source,
    )
    if kind == VACCINATION and not (vaccine and rule.matches(vaccine)):
        raise f.fail("vaccine must be a label its own keywords recognise")
    if kind == SCREENING and vaccine:
        raise f.fail("a screening records no vaccine")
    return rule


def parse_rules(text: str, name: str = RULES_FILE) -> tuple[Rule, ...]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise PreventionRulesError(f"{name}: not valid TOML ({problem})") from None
    if set(data) != {"rule"} or not isinstance(data["rule"], list) or not data["rule"]:
        raise PreventionRulesError(f"{name}: expected [[rule]] tables and nothing else")
    rules = tuple(_rule(raw, f"{name} rule {n}") for n, raw in enumerate(data["rule"], start=1))
    codes = [rule.code for rule in rules]
    if len(set(codes)) != len(codes):
        raise PreventionRulesError(f"{name}: a code appears twice")
    return rules


def rules_text() -> str:
    return resources.files("webapp.data").joinpath(RULES_FILE).read_text("utf-8")


def load_rules() -> tuple[Rule, ...]:
    """Read and check the packaged rules (create_app calls it, so a bad file stops start-up)."""
    return parse_rules(rules_text())


RULES: tuple[Rule, ...] = load_rules()


def rule_for(code: str) -> Rule:
    for rule in RULES:
        if rule.code == code:
            return rule
    raise LookupError(code)


# Applying them -----------------------------------------------------------------------------


def _language() -> str:
    locale = get_locale()  # None outside an application context
    return "en" if locale is not None and locale.language == "en" else "fr"


def _last_done(rule: Rule, facts: Facts, state: StateLike | None, today: date) -> date | None:
    """The latest time the record shows; a screening's only record may be the done note.
    A vaccination entry never counts for a screening (an HPV vaccine is not an HPV test)."""
    found = [day for title, day in facts.documents if rule.matches(title)]
    if rule.kind == VACCINATION:
        found += [day for label, day in facts.vaccinations if rule.matches(label)]
    if state is not None and state.done_on is not None:
        found.append(state.done_on)
    return max((day for day in found if day <= today), default=None)


def _reminder(
    rule: Rule, birth: date, facts: Facts, state: StateLike | None, today: date, language: str
) -> Reminder | None:
    start = anniversary(birth, rule.min_age)
    end = anniversary(birth, rule.max_age + 1) if rule.max_age is not None else None
    if today + SOON < start or (end is not None and today >= end):
        return None
    last = _last_done(rule, facts, state, today)
    due_on = rule.schedule.next_due(birth, last, today, start)
    if due_on is None or (end is not None and due_on >= end):
        return None
    status = DUE if due_on <= today else UPCOMING
    if state is not None and state.status == ReminderStatus.DISMISSED:
        status = DISMISSED
    elif state is not None and state.status == ReminderStatus.POSTPONED:
        # A postponement made for an earlier occurrence no longer holds.
        if state.until is not None and state.until > due_on:
            due_on = state.until
            status = POSTPONED if due_on > today else DUE
    if status == UPCOMING and due_on > today + SOON:
        return None
    return Reminder(
        rule.code,
        rule.label(language),
        rule.kind,
        due_on,
        status,
        rule.source,
        rule.vaccine,
        last,
    )


def reminders_for(
    birth_date: date,
    sex: str,
    facts: Facts,
    states: Mapping[str, StateLike],
    today: date,
    *,
    language: str | None = None,
    rules: tuple[Rule, ...] | None = None,
) -> list[Reminder]:
    """Due ones first, then those due within 30 days, then the postponed and the dismissed."""
    language = language or _language()
    found = [
        reminder
        for rule in (RULES if rules is None else rules)
        if rule.applies_to(sex)
        and (reminder := _reminder(rule, birth_date, facts, states.get(rule.code), today, language))
    ]
    return sorted(found, key=lambda r: (_ORDER[r.status], r.due_on, r.code))


# The database ------------------------------------------------------------------------------


def load_facts(patient: Patient) -> Facts:
    """The dated vaccinations and the Prévention documents the patient sees, in one statement."""
    vaccinations = select(
        literal_column("0", Integer).label("source"),
        ProfileEntry.label.label("text"),
        ProfileEntry.start_date.label("day"),
    ).where(
        ProfileEntry.patient_id == patient.id,
        ProfileEntry.section == Section.VACCINATIONS.value,
        ProfileEntry.kind == EntryKind.VACCINATION.value,
        ProfileEntry.deleted_at.is_(None),
        ProfileEntry.start_date.is_not(None),
    )
    documents = select(literal_column("1", Integer), Document.title, Document.care_date).where(
        Document.patient_id == patient.id,
        Document.category == Category.PREVENTION.value,
        Document.state == DocumentState.CURRENT.value,
        or_(
            Document.hidden_from_patient_until.is_(None),
            Document.hidden_from_patient_until <= clock.now(),
        ),
    )
    facts = Facts()
    query: CompoundSelect[int, str, date] = union_all(vaccinations, documents)
    for source, text, day in db.session.execute(query):
        (facts.documents if source else facts.vaccinations).append((text, day))
    return facts


def load_states(patient: Patient) -> dict[str, ReminderState]:
    query = select(ReminderState).where(ReminderState.patient_id == patient.id)
    return {state.code: state for state in db.session.scalars(query)}


def for_patient(patient: Patient, today: date, *, language: str | None = None) -> list[Reminder]:
    facts, states = load_facts(patient), load_states(patient)
    return reminders_for(patient.birth_date, patient.sex, facts, states, today, language=language)


def _changing(actor: Account, patient: Patient, code: str, status: str) -> Rule:
    """The rule, and the history line; written first, it locks the patient's row, so two
    changes of one record queue instead of racing to create the same state."""
    rule = rule_for(code)
    if not rule.applies_to(patient.sex):
        raise LookupError(code)
    record_access(
        patient,
        actor,
        Action.REMINDER_UPDATED,
        resource_type="reminder",
        resource_id=code,
        detail=status,
    )
    return rule


def _state(patient: Patient, code: str) -> ReminderState | None:
    query = select(ReminderState).where(
        ReminderState.patient_id == patient.id, ReminderState.code == code
    )
    return db.session.scalar(query)


def _set(patient: Patient, code: str, status: str, until: date | None = None) -> ReminderState:
    state = _state(patient, code)
    if state is None:
        state = ReminderState(patient_id=patient.id, code=code, done_on=None)
        db.session.add(state)
    state.status, state.until, state.updated_at = status, until, clock.now()
    db.session.flush()
    return state


def _today() -> date:
    return clock.to_paris(clock.now()).date()


def mark_done(actor: Account, patient: Patient, code: str, on: date) -> None:
    """A vaccination goes into the profile; a screening keeps its date as a note."""
    rule_for(code)
    if on > _today():
        raise ReminderError("date", _("La date ne peut pas être dans le futur."))
    if on < patient.birth_date:
        raise ReminderError("date", _("La date ne peut pas être avant la date de naissance."))
    rule = _changing(actor, patient, code, ReminderStatus.DONE)
    if rule.kind == VACCINATION:
        values: dict[str, object] = {"label": rule.vaccine, "start_date": on}
        profile.add_entry(actor, patient, Section.VACCINATIONS, EntryKind.VACCINATION, values)
    state = _set(patient, code, ReminderStatus.DONE)
    state.done_on = on if state.done_on is None else max(state.done_on, on)


def postpone(actor: Account, patient: Patient, code: str, until: date, today: date) -> None:
    rule_for(code)
    if until <= today:
        raise ReminderError("date", _("Choisissez un jour après aujourd'hui."))
    if until > anniversary(today, POSTPONE_YEARS):
        raise ReminderError("date", _("Un rappel se reporte de deux ans au plus."))
    _changing(actor, patient, code, ReminderStatus.POSTPONED)
    _set(patient, code, ReminderStatus.POSTPONED, until)


def dismiss(actor: Account, patient: Patient, code: str) -> None:
    _changing(actor, patient, code, ReminderStatus.DISMISSED)
    _set(patient, code, ReminderStatus.DISMISSED)


def restore(actor: Account, patient: Patient, code: str) -> None:
    """Back to what the rules say; a screening's done note is kept (it is the only record)."""
    _changing(actor, patient, code, "restored")
    state = _state(patient, code)
    if state is None:
        return
    if state.done_on is None:
        db.session.delete(state)
    else:
        state.status, state.until, state.updated_at = ReminderStatus.DONE, None, clock.now()
    db.session.flush()
