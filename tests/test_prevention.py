"""Prevention reminders (SPEC §7): the rules file, the pure calculation over a table of people,
and the changes a patient makes (done, postponed, dismissed, restored) against the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from tests.builders import make_document, make_patient
from tests.test_query_counts import counting
from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import AccessEvent, Account, Patient, ProfileEntry, ReminderState
from webapp.models.profile import EntryKind, Section
from webapp.services import prevention
from webapp.services import profile as profile_service
from webapp.services.audit import Action
from webapp.services.prevention import Facts, PreventionRulesError, ReminderError


@dataclass(frozen=True)
class State:
    """What a ReminderState row holds, for the pure function."""

    status: str
    until: date | None = None
    done_on: date | None = None


@dataclass(frozen=True)
class Person:
    name: str
    born: date
    sex: str
    today: date
    expected: dict[str, tuple[date, str]]
    vaccinations: list[tuple[str, date]] = field(default_factory=list)
    documents: list[tuple[str, date]] = field(default_factory=list)
    states: dict[str, State] = field(default_factory=dict)


D = date
JUNE = D(2026, 6, 1)
PEOPLE = [
    Person("a child", D(2018, 5, 1), "F", JUNE, {}),
    Person("a man of 20", D(2006, 3, 10), "M", JUNE, {}),
    Person("a woman of 24", D(2002, 1, 15), "F", JUNE, {}),
    Person(
        "a woman 19 days before 25: both soon",
        D(2001, 6, 20),
        "F",
        JUNE,
        {"dtcap": (D(2026, 6, 20), "soon"), "cervical": (D(2026, 6, 20), "soon")},
    ),
    Person("a man on his 25th birthday", D(2001, 6, 1), "M", JUNE, {"dtcap": (JUNE, "due")}),
    Person(
        "a woman of 30 with a dTcaP at 25 and a smear at 28",
        D(1996, 4, 10),
        "F",
        JUNE,
        {},
        vaccinations=[("Repevax", D(2021, 5, 3))],
        documents=[("Frottis cervico-utérin", D(2024, 5, 2))],
    ),
    Person(
        "a woman of 35 who missed the dTcaP: overdue since 25",
        D(1991, 3, 1),
        "F",
        JUNE,
        {"dtcap": (D(2016, 3, 1), "due")},
        vaccinations=[("dTP", D(2012, 1, 1))],  # a dTP at 20 is not the pertussis booster
        documents=[("Test HPV", D(2022, 9, 1))],
    ),
    Person(
        "a man of 39 years 364 days: still the catch-up",
        D(1986, 6, 2),
        "M",
        JUNE,
        {"dtcap": (D(2011, 6, 2), "due")},
    ),
    Person("a man of exactly 40: the catch-up is over", D(1986, 6, 1), "M", JUNE, {}),
    Person("a man on his 45th birthday", D(1981, 6, 1), "M", JUNE, {"dtp": (JUNE, "due")}),
    Person(
        "a man 24 days before 45",
        D(1981, 6, 25),
        "M",
        JUNE,
        {"dtp": (D(2026, 6, 25), "soon")},
    ),
    Person(
        "a man of 46 boosted at 42 (early enough for 45)",
        D(1980, 1, 10),
        "M",
        JUNE,
        {},
        vaccinations=[("dT-Polio", D(2022, 3, 1))],
    ),
    Person(
        "a man of 47 boosted at 39 (too early for 45)",
        D(1979, 2, 1),
        "M",
        JUNE,
        {"dtp": (D(2024, 2, 1), "due")},
        vaccinations=[("TÉTANOS", D(2018, 5, 1))],
    ),
    Person(
        "a woman on her 50th birthday, boosted and screened",
        D(1976, 6, 1),
        "F",
        JUNE,
        {"breast": (JUNE, "due"), "colorectal": (JUNE, "due")},
        vaccinations=[("Revaxis", D(2021, 6, 15))],
        documents=[("Dépistage du col de l'utérus", D(2024, 3, 1))],
    ),
    Person(
        "a man of 60 with a mammogram document: never breast nor cervical",
        D(1966, 1, 20),
        "M",
        JUNE,
        {"colorectal": (D(2016, 1, 20), "due"), "dtp": (D(2011, 1, 20), "due")},
        documents=[("Mammographie", D(2025, 1, 1)), ("Frottis", D(2025, 1, 1))],
    ),
    Person(
        "a woman of 55 up to date but for the stool test, due in 19 days",
        D(1971, 3, 3),
        "F",
        JUNE,
        {"colorectal": (D(2026, 6, 20), "soon")},
        vaccinations=[("vaccin dtp", D(2016, 3, 10))],
        documents=[
            ("MAMMOGRAPHIE bilatérale", D(2025, 1, 10)),
            ("Test immunologique fécal", D(2024, 6, 20)),
            ("Test HPV-HR", D(2023, 2, 1)),
        ],
    ),
    Person(
        "a woman of 74 years 364 days",
        D(1951, 6, 2),
        "F",
        JUNE,
        {
            "breast": (D(2001, 6, 2), "due"),
            "colorectal": (D(2001, 6, 2), "due"),
            "dtp": (D(2026, 6, 2), "soon"),
        },
        vaccinations=[("Boostrix Tetra", D(2016, 7, 1))],
    ),
    Person(
        "a woman of exactly 75: screenings over, the 75 booster due",
        D(1951, 6, 1),
        "F",
        JUNE,
        {"dtp": (JUNE, "due")},
        vaccinations=[("dTP", D(2016, 6, 1))],
    ),
    Person(
        "a man of 65 in summer: no flu yet",
        D(1961, 7, 1),
        "M",
        D(2026, 7, 15),
        {"dtp": (D(2026, 7, 1), "due")},
        vaccinations=[("Vaccin dTP", D(2006, 8, 1))],
        documents=[("Dépistage du cancer colorectal", D(2025, 6, 1))],
    ),
    Person(
        "the same man in mid-September: the campaign is near",
        D(1961, 7, 1),
        "M",
        D(2026, 9, 20),
        {"dtp": (D(2026, 7, 1), "due"), "flu": (D(2026, 10, 15), "soon")},
        vaccinations=[("Vaccin dTP", D(2006, 8, 1))],
        documents=[("Dépistage du cancer colorectal", D(2025, 6, 1))],
    ),
    Person(
        "the same man in autumn",
        D(1961, 7, 1),
        "M",
        D(2026, 10, 20),
        {"dtp": (D(2026, 7, 1), "due"), "flu": (D(2026, 10, 15), "due")},
        vaccinations=[("Vaccin dTP", D(2006, 8, 1))],
        documents=[("Dépistage du cancer colorectal", D(2025, 6, 1))],
    ),
    Person(
        "the same man on the last day of February",
        D(1961, 7, 1),
        "M",
        D(2027, 2, 28),
        {"dtp": (D(2026, 7, 1), "due"), "flu": (D(2026, 10, 15), "due")},
        vaccinations=[("Vaccin dTP", D(2006, 8, 1))],
        documents=[("Dépistage du cancer colorectal", D(2025, 6, 1))],
    ),
    Person(
        "the same man on 1 March: the campaign is over",
        D(1961, 7, 1),
        "M",
        D(2027, 3, 1),
        {"dtp": (D(2026, 7, 1), "due")},
        vaccinations=[("Vaccin dTP", D(2006, 8, 1))],
        documents=[("Dépistage du cancer colorectal", D(2025, 6, 1))],
    ),
    Person(
        "a man turning 65 on 1 December, seen on 20 October: not yet",
        D(1961, 12, 1),
        "M",
        D(2026, 10, 20),
        {},
        vaccinations=[("dTP", D(2007, 1, 5))],
        documents=[("Coloscopie", D(2025, 2, 2))],
    ),
    Person(
        "the same man on 10 November: flu and the 65 booster soon",
        D(1961, 12, 1),
        "M",
        D(2026, 11, 10),
        {"dtp": (D(2026, 12, 1), "soon"), "flu": (D(2026, 12, 1), "soon")},
        vaccinations=[("dTP", D(2007, 1, 5))],
        documents=[("Coloscopie", D(2025, 2, 2))],
    ),
    Person(
        "a man of 80 vaccinated on 5 October (since 1 September counts)",
        D(1946, 1, 5),
        "M",
        D(2026, 11, 1),
        {},
        vaccinations=[("VAXIGRIP TETRA", D(2026, 10, 5)), ("DTP", D(2026, 1, 10))],
    ),
    Person(
        "a man of 80 vaccinated on 25 August (last season's dose)",
        D(1946, 1, 5),
        "M",
        D(2026, 11, 1),
        {"flu": (D(2026, 10, 15), "due")},
        vaccinations=[("grippe saisonniere", D(2026, 8, 25)), ("DTP", D(2026, 1, 10))],
    ),
    Person(
        "a man of 80 whose flu certificate is a Prévention document",
        D(1946, 1, 5),
        "M",
        D(2026, 11, 1),
        {},
        vaccinations=[("DTP", D(2026, 1, 10))],
        documents=[("Certificat de vaccination ANTIGRIPPALE", D(2026, 10, 2))],
    ),
    Person(
        "a woman of 56 with dated notes: one done, one overdue again",
        D(1970, 2, 2),
        "F",
        JUNE,
        {"colorectal": (D(2026, 5, 20), "due")},
        vaccinations=[("dTP", D(2015, 3, 3))],
        documents=[("Frottis", D(2024, 1, 1))],
        states={
            "breast": State("done", done_on=D(2025, 5, 1)),
            "colorectal": State("done", done_on=D(2024, 5, 20)),
        },
    ),
    Person(
        "a woman of 56 who postponed one, dismissed one, and whose postponement ran out",
        D(1970, 2, 2),
        "F",
        JUNE,
        {
            "breast": (D(2026, 9, 1), "postponed"),
            "colorectal": (D(2026, 5, 15), "due"),
            "cervical": (D(1995, 2, 2), "dismissed"),
        },
        vaccinations=[("dTP", D(2015, 3, 3))],
        states={
            "breast": State("postponed", until=D(2026, 9, 1)),
            "colorectal": State("postponed", until=D(2026, 5, 15)),
            "cervical": State("dismissed"),
        },
    ),
    Person(
        "a woman of 70 whose flu postponement was for last season",
        D(1956, 4, 4),
        "F",
        D(2026, 10, 20),
        {
            "flu": (D(2026, 10, 15), "due"),
            "breast": (D(2006, 4, 4), "due"),
            "colorectal": (D(2006, 4, 4), "due"),
        },
        vaccinations=[("Grippe", D(2025, 11, 25)), ("dTP", D(2021, 5, 5))],
        states={"flu": State("postponed", until=D(2025, 11, 20))},
    ),
    Person(
        "a woman of 30 vaccinated against HPV: a vaccine is not a screening",
        D(1996, 1, 1),
        "F",
        JUNE,
        {"cervical": (D(2021, 1, 1), "due")},
        vaccinations=[("Gardasil HPV", D(2012, 1, 1)), ("dTcaP", D(2021, 2, 1))],
    ),
    Person(
        "a woman smeared at 29: three years later",
        D(1994, 1, 1),
        "F",
        JUNE,
        {"cervical": (D(2026, 6, 1), "due")},
        vaccinations=[("dTcaP", D(2019, 2, 1))],
        documents=[("Frottis", D(2023, 6, 1))],
    ),
    Person(
        "a woman tested at 30: five years later",
        D(1993, 1, 1),
        "F",
        JUNE,
        {},
        vaccinations=[("dTcaP", D(2018, 2, 1))],
        documents=[("Frottis", D(2023, 6, 1))],
    ),
    Person(
        "a woman born on 29 February, 50 on the 28th",
        D(1976, 2, 29),
        "F",
        D(2026, 2, 28),
        {"breast": (D(2026, 2, 28), "due"), "colorectal": (D(2026, 2, 28), "due")},
        vaccinations=[("dTP", D(2021, 3, 1))],
        documents=[("Frottis", D(2024, 1, 1))],
    ),
    Person(
        "a woman of 52 with a mammogram dated in the future: not a fact yet",
        D(1974, 1, 1),
        "F",
        JUNE,
        {"breast": (D(2024, 1, 1), "due")},
        vaccinations=[("dTP", D(2019, 3, 1))],
        documents=[
            ("Mammographie", D(2026, 12, 1)),
            ("Test immunologique", D(2025, 1, 1)),
            ("Frottis", D(2024, 1, 1)),
        ],
    ),
]


@pytest.mark.parametrize("person", PEOPLE, ids=[p.name for p in PEOPLE])
def test_reminders_for_people(person: Person) -> None:
    found = prevention.reminders_for(
        person.born,
        person.sex,
        Facts(person.vaccinations, person.documents),
        person.states,
        person.today,
        language="fr",
    )
    assert {r.code: (r.due_on, r.status) for r in found} == person.expected


def test_the_table_is_wide() -> None:
    assert len(PEOPLE) >= 25
    assert {code for p in PEOPLE for code in p.expected} == {r.code for r in prevention.RULES}
    statuses = {status for p in PEOPLE for _day, status in p.expected.values()}
    assert statuses == {"due", "soon", "postponed", "dismissed"}


class TestReminder:
    def test_due_first_then_soon_postponed_dismissed(self) -> None:
        states = {"breast": State("postponed", until=D(2026, 7, 1)), "dtp": State("dismissed")}
        found = prevention.reminders_for(D(1976, 6, 20), "F", Facts(), states, JUNE, language="fr")
        assert [(r.code, r.status) for r in found] == [
            ("cervical", "due"),
            ("colorectal", "soon"),
            ("breast", "postponed"),
            ("dtp", "dismissed"),
        ]

    def test_fields_and_english_labels(self) -> None:
        facts = Facts([("Vaxigrip", D(2025, 10, 20))], [])
        (flu,) = [
            r
            for r in prevention.reminders_for(
                D(1950, 1, 1), "M", facts, {}, D(2026, 10, 16), language="en"
            )
            if r.code == "flu"
        ]
        assert flu.label == "Seasonal flu vaccination"
        assert flu.kind == "vaccination"
        assert flu.vaccine == "Grippe saisonnière"
        assert flu.last_done == D(2025, 10, 20)
        assert flu.source.startswith("https://")
        (colorectal,) = [
            r
            for r in prevention.reminders_for(D(1955, 1, 1), "M", Facts(), {}, JUNE)
            if r.code == "colorectal"
        ]
        assert colorectal.vaccine == "" and colorectal.last_done is None
        assert colorectal.label.startswith("Dépistage")  # French outside a request

    @pytest.mark.parametrize(
        ("code", "text", "found"),
        [
            ("flu", "GRIPPE saisonnière", True),
            ("flu", "Vaccin anti-grippal", True),
            ("flu", "Antigrippal Influvac", True),
            ("dtp", "Poliomyélite", True),
            ("dtp", "dTcaP", True),
            ("dtp", "Diphtérie-Tétanos", True),
            ("dtcap", "dTP", False),
            ("cervical", "Dépistage du col de l’utérus", True),
            ("colorectal", "Dépistage du cancer colo-rectal", True),
            ("colorectal", "Radio de la colonne", False),
            ("breast", "Échographie MAMMAIRE", True),
            ("breast", "Le mammouth", True),  # keywords match word starts: kept simple
            ("breast", "Dermatologie", False),
        ],
    )
    def test_keywords_ignore_case_and_accents(self, code: str, text: str, found: bool) -> None:
        assert prevention.rule_for(code).matches(text) is found


class TestRulesFile:
    def test_the_packaged_rules(self) -> None:
        codes = [rule.code for rule in prevention.RULES]
        assert codes == ["dtcap", "dtp", "flu", "breast", "colorectal", "cervical"]
        for rule in prevention.RULES:
            assert rule.source.startswith("https://") and rule.label_fr and rule.label_en
            assert rule.matches(rule.vaccine) if rule.kind == "vaccination" else not rule.vaccine
        assert prevention.rule_for("breast").sex == "F"
        with pytest.raises(LookupError):
            prevention.rule_for("zona")

    GOOD = """
[[rule]]
code = "demo"
kind = "vaccination"
label_fr = "Démo"
label_en = "Demo"
sex = "any"
min_age = 50
max_age = 60
schedule = "ages"
at_ages = [50]
keywords = ["demo"]
vaccine = "Demo vaccine"
source = "https://example.org/source"
"""

    def test_a_good_file(self) -> None:
        (rule,) = prevention.parse_rules(self.GOOD)
        assert rule.schedule == prevention.AtAges((50,), None, 0)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (('sex = "any"', 'sex = "any"\ncolour = "red"'), "unknown key colour"),
            (("max_age = 60", "max_age = 40"), "max_age must be a whole number from 50"),
            (("min_age = 50", "min_age = -1"), "min_age must be a whole number"),
            (('source = "https://example.org/source"', ""), "source must be"),
            (("https://example.org/source", "example.org"), "source must be"),
            (('sex = "any"', 'sex = "X"'), "sex must be F, M or any"),
            (('kind = "vaccination"', 'kind = "advice"'), "kind must be"),
            (('vaccine = "Demo vaccine"', 'vaccine = "Other"'), "its own keywords"),
            (('vaccine = "Demo vaccine"', ""), "vaccine must be a non-empty text"),
            (('keywords = ["demo"]', "keywords = []"), "keywords must be a non-empty list"),
            (('keywords = ["demo"]', 'keywords = ["é", 3]'), "keywords must be"),
            (("at_ages = [50]", "at_ages = [45]"), "at_ages must lie within 50 to 60"),
            (("at_ages = [50]", "at_ages = [55, 52]"), "at_ages must be whole numbers, incr"),
            (('schedule = "ages"', 'schedule = "sometimes"'), "schedule must be one of"),
            (('code = "demo"', 'code = "Demo Code"'), "code must be"),
            (("[[rule]]", "[rules]"), "expected [[rule]] tables"),
            (('label_fr = "Démo"', 'label_fr = "Démo'), "not valid TOML"),
        ],
    )
    def test_a_bad_file_names_the_problem(self, change: tuple[str, str], message: str) -> None:
        old, new = change
        assert old in self.GOOD
        with pytest.raises(PreventionRulesError, match="prevention.toml") as raised:
            prevention.parse_rules(self.GOOD.replace(old, new))
        assert message in str(raised.value)

    def test_twice_the_same_code(self) -> None:
        with pytest.raises(PreventionRulesError, match="a code appears twice"):
            prevention.parse_rules(self.GOOD + self.GOOD)

    def test_interval_and_season_checks(self) -> None:
        interval = self.GOOD.replace('schedule = "ages"\nat_ages = [50]', 'schedule = "interval"')
        interval = interval.replace('kind = "vaccination"', 'kind = "screening"')
        interval = interval.replace('vaccine = "Demo vaccine"\n', "")
        good = interval + "every = [{ from_age = 50, years = 2 }, { from_age = 55, years = 3 }]\n"
        assert prevention.parse_rules(good)[0].schedule == prevention.Interval(((50, 2), (55, 3)))
        late = interval + "every = [{ from_age = 52, years = 2 }]\n"
        with pytest.raises(PreventionRulesError, match="every must start at min_age"):
            prevention.parse_rules(late)
        season = self.GOOD.replace('schedule = "ages"\nat_ages = [50]', 'schedule = "season"')
        days = 'counts_from = "09-01"\ncampaign_from = "10-15"\ncampaign_until = "{}"\n'
        assert prevention.parse_rules(season + days.format("02-29"))[0].schedule == (
            prevention.Season((9, 1), (10, 15), (2, 29))
        )
        with pytest.raises(PreventionRulesError, match="campaign_until must be a day"):
            prevention.parse_rules(season + days.format("02-30"))
        with pytest.raises(PreventionRulesError, match="the next year"):
            prevention.parse_rules(season + days.format("10-01"))

    def test_a_bad_file_stops_the_app(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        bad = self.GOOD.replace("min_age = 50", "min_age = 70")
        monkeypatch.setattr(prevention, "rules_text", lambda: bad)
        with pytest.raises(PreventionRulesError, match=r"rule 1 \(demo\): max_age"):
            create_app(settings)


# Against the database ---------------------------------------------------------------------


def _set_clock(year: int, month: int, day: int) -> date:
    """Noon in Paris on that day, whatever the machine's date."""
    target = datetime(year, month, day, 11, 0, tzinfo=UTC)
    clock.advance((target - clock.now()).total_seconds())
    return clock.to_paris(clock.now()).date()


def _holder(born: date, sex: str = "F") -> tuple[Account, Patient]:
    account = make_patient()
    assert account.patient is not None
    account.patient.birth_date, account.patient.sex = born, sex
    db.session.commit()
    return account, account.patient


def _codes(patient: Patient, today: date) -> dict[str, tuple[date, str]]:
    return {r.code: (r.due_on, r.status) for r in prevention.for_patient(patient, today)}


def _history(patient: Patient) -> list[tuple[str, str, str]]:
    query = (
        select(AccessEvent)
        .where(AccessEvent.patient_id == patient.id, AccessEvent.resource_type == "reminder")
        .order_by(AccessEvent.seq)
    )
    return [(e.action, e.resource_id, e.detail) for e in db.session.scalars(query)]


class TestDatabase:
    def test_flu_done_is_a_vaccination_and_clears_the_season(self, app: Flask) -> None:
        today = _set_clock(2026, 11, 5)
        account, patient = _holder(D(1955, 3, 1))
        make_document(
            account,
            category="prevention",
            type_code="CARNET-DEPIST",
            title="Mammographie",
            care_date=D(2025, 3, 1),
        )
        make_document(
            account,
            category="prevention",
            type_code="CARNET-DEPIST",
            title="Test immunologique",
            care_date=D(2025, 3, 1),
        )
        assert _codes(patient, today)["flu"] == (D(2026, 10, 15), "due")

        prevention.mark_done(account, patient, "flu", D(2026, 11, 2))
        db.session.commit()

        entries = profile_service.view(account, patient).of(Section.VACCINATIONS)
        assert [(e.label, e.start_date) for e in entries] == [
            ("Grippe saisonnière", D(2026, 11, 2))
        ]
        assert "flu" not in _codes(patient, today)
        assert "flu" not in _codes(patient, D(2027, 2, 28))
        assert _codes(patient, D(2027, 10, 16))["flu"] == (D(2027, 10, 15), "due")
        state = prevention.load_states(patient)["flu"]
        assert (state.status, state.done_on) == ("done", D(2026, 11, 2))
        assert _history(patient) == [(Action.REMINDER_UPDATED, "flu", "done")]
        actions = db.session.scalars(
            select(AccessEvent.action).where(AccessEvent.patient_id == patient.id)
        ).all()
        assert Action.PROFILE_ENTRY_ADDED in actions

    def test_a_screening_done_is_a_dated_note(self, app: Flask) -> None:
        today = _set_clock(2026, 6, 1)
        account, patient = _holder(D(1970, 2, 2))
        assert _codes(patient, today)["breast"] == (D(2020, 2, 2), "due")
        prevention.mark_done(account, patient, "breast", D(2026, 5, 28))
        db.session.commit()
        assert "breast" not in _codes(patient, today)
        assert _codes(patient, D(2028, 5, 28))["breast"] == (D(2028, 5, 28), "due")
        assert db.session.scalars(select(ProfileEntry)).all() == []

    def test_done_refuses_the_future_and_before_birth(self, app: Flask) -> None:
        today = _set_clock(2026, 6, 1)
        account, patient = _holder(D(1970, 2, 2))
        for day in (today + timedelta(days=1), D(1970, 2, 1)):
            with pytest.raises(ReminderError) as refused:
                prevention.mark_done(account, patient, "breast", day)
            assert refused.value.field == "date" and "date" in refused.value.message
        prevention.mark_done(account, patient, "breast", today)  # today itself is fine
        assert _history(patient) == [(Action.REMINDER_UPDATED, "breast", "done")]

    def test_unknown_codes_and_rules_of_the_other_sex(self, app: Flask) -> None:
        _set_clock(2026, 6, 1)
        account, patient = _holder(D(1960, 1, 1), "M")
        with pytest.raises(LookupError):
            prevention.dismiss(account, patient, "zona")
        with pytest.raises(LookupError):
            prevention.mark_done(account, patient, "zona", D(2026, 1, 1))
        with pytest.raises(LookupError):
            prevention.dismiss(account, patient, "breast")
        assert _history(patient) == []

    def test_postpone(self, app: Flask) -> None:
        today = _set_clock(2026, 6, 1)
        account, patient = _holder(D(1970, 2, 2))
        for until in (today, today - timedelta(days=3), D(2028, 6, 2)):
            with pytest.raises(ReminderError):
                prevention.postpone(account, patient, "colorectal", until, today)
        assert _history(patient) == []
        prevention.postpone(account, patient, "colorectal", D(2028, 6, 1), today)
        prevention.postpone(account, patient, "colorectal", D(2026, 9, 1), today)
        db.session.commit()
        assert _codes(patient, today)["colorectal"] == (D(2026, 9, 1), "postponed")
        assert _codes(patient, D(2026, 9, 1))["colorectal"] == (D(2026, 9, 1), "due")
        assert db.session.scalars(select(ReminderState)).all()[0].until == D(2026, 9, 1)
        assert _history(patient)[-1] == (Action.REMINDER_UPDATED, "colorectal", "postponed")

    def test_dismiss_and_restore(self, app: Flask) -> None:
        today = _set_clock(2026, 6, 1)
        account, patient = _holder(D(1970, 2, 2))
        prevention.dismiss(account, patient, "cervical")
        db.session.commit()
        assert _codes(patient, today)["cervical"] == (D(1995, 2, 2), "dismissed")
        prevention.restore(account, patient, "cervical")
        db.session.commit()
        assert _codes(patient, today)["cervical"] == (D(1995, 2, 2), "due")
        assert prevention.load_states(patient) == {}
        # A screening's done note outlives a dismissal and its restoration.
        prevention.mark_done(account, patient, "breast", D(2026, 5, 1))
        prevention.dismiss(account, patient, "breast")
        prevention.restore(account, patient, "breast")
        db.session.commit()
        state = prevention.load_states(patient)["breast"]
        assert (state.status, state.done_on) == ("done", D(2026, 5, 1))
        assert [detail for _a, _code, detail in _history(patient)] == [
            "dismissed",
            "restored",
            "done",
            "dismissed",
            "restored",
        ]

    def test_facts_read_only_what_counts(self, app: Flask) -> None:
        today = _set_clock(2026, 6, 1)
        account, patient = _holder(D(1960, 1, 1))
        add = profile_service.add_entry
        add(
            account,
            patient,
            Section.VACCINATIONS,
            EntryKind.VACCINATION,
            {"label": "dTP", "start_date": D(2025, 1, 1)},
        )
        gone = add(
            account,
            patient,
            Section.VACCINATIONS,
            EntryKind.VACCINATION,
            {"label": "Grippe", "start_date": D(2025, 11, 1)},
        )
        gone.deleted_at = clock.now()
        add(account, patient, Section.VACCINATIONS, EntryKind.VACCINATION, {"label": "Zona"})
        add(
            account,
            patient,
            Section.CONDITIONS,
            EntryKind.CONDITION,
            {"label": "Grippe", "start_date": D(2024, 1, 1)},
        )
        db.session.commit()

        def prevention_document(title: str, **overrides: object) -> None:
            make_document(
                account,
                category="prevention",
                type_code="CARNET-DEPIST",
                title=title,
                care_date=D(2025, 4, 4),
                **overrides,
            )

        prevention_document("Mammographie")
        prevention_document("Held", hidden_from_patient_until=clock.now() + timedelta(days=3))
        prevention_document("Released", hidden_from_patient_until=clock.now() - timedelta(1))
        prevention_document("Old version", state="superseded")
        prevention_document("Deleted", state="deleted")
        make_document(account, title="Biologie", care_date=D(2025, 4, 4))

        facts = prevention.load_facts(patient)
        assert facts.vaccinations == [("dTP", D(2025, 1, 1))]
        assert sorted(facts.documents) == [
            ("Mammographie", D(2025, 4, 4)),
            ("Released", D(2025, 4, 4)),
        ]
        assert _codes(patient, today)["colorectal"][1] == "due"

    def test_for_patient_takes_two_statements(self, app: Flask) -> None:
        today = _set_clock(2026, 11, 5)
        account, patient = _holder(D(1955, 1, 1))
        for n in range(5):
            profile_service.add_entry(
                account,
                patient,
                Section.VACCINATIONS,
                EntryKind.VACCINATION,
                {"label": "dTP", "start_date": D(2020 + n, 1, 1)},
            )
            make_document(
                account,
                category="prevention",
                type_code="CARNET-DEPIST",
                title=f"Mammographie {n}",
                care_date=D(2020 + n, 2, 2),
            )
        prevention.dismiss(account, patient, "colorectal")
        prevention.mark_done(account, patient, "breast", D(2025, 3, 3))
        db.session.commit()
        db.session.refresh(patient)
        with counting(app) as statements:
            found = prevention.for_patient(patient, today)
        assert len(statements) == 2, statements
        assert {r.code: r.status for r in found} == {"flu": "due", "colorectal": "dismissed"}
