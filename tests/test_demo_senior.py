"""The demo patient's father, patient.senior: old enough for the prevention reminders to be due,
read from the same data files as her record and loaded as idempotently."""

from __future__ import annotations

import csv
import html
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from stdnum.fr import nir

from tests.builders import second_factor_code, submit_code, submit_password
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    Account,
    Appointment,
    Authorisation,
    Document,
    OutboxMessage,
    Patient,
    ProfileEntry,
)
from webapp.models.account import Role, SecondFactor
from webapp.services import demo, prevention
from webapp.services.demo import appointments, entries, people
from webapp.services.demo.data import DemoDataError, read_text, sample

SENIOR = "patient.senior"
# A day of the flu campaign (15 October to the end of February), the demo loaded that morning.
IN_SEASON = date(2027, 1, 12)
DUE_CODES = {"flu", "dtp", "colorectal"}


def _at(day: date) -> None:
    """The application's clock reads 9:00 in Paris on `day` (conftest resets it)."""
    moment = datetime.combine(day, time(9), clock.PARIS).astimezone(UTC)
    clock.advance((moment - clock.now()).total_seconds())


def _account(identifier: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.identifier == identifier))
    assert account is not None, identifier
    return account


def _patient(identifier: str = SENIOR) -> Patient:
    patient = _account(identifier).patient
    assert patient is not None
    return patient


def _counts(patient: Patient) -> tuple[int | None, ...]:
    return tuple(
        db.session.scalar(select(func.count()).where(model.patient_id == patient.id))
        for model in (ProfileEntry, Appointment, Authorisation, Document)
    )


def _vaccinations(loaded: date) -> list[tuple[str, date]]:
    """His vaccinations as the demo writes them on the day it is loaded."""
    found = []
    for item in entries.profile_of(SENIOR):
        given = item.columns(loaded).get("start_date")
        if item.kind == "vaccination" and isinstance(given, date):
            found.append((item.texts["label"], given))
    return found


class TestData:
    def test_he_follows_the_demo_patient_in_accounts_toml(self) -> None:
        data = people.current()
        assert [p.identifier for p in data.patients] == ["patient.demo", SENIOR]
        assert data.patient.identifier == "patient.demo"  # her record's files are hers
        senior = data.patients[1]
        assert (senior.first_names, senior.last_name, senior.sex) == ("Jean", "Dubois", "M")
        assert senior.birth_date == date(1958, 5, 20)
        assert senior.email == "patient.senior@carnet.example"
        [traitant] = data.authorisations_of(SENIOR)
        assert (traitant.professional, traitant.medecin_traitant) == ("medecin.demo", True)
        assert len(data.authorisations_of("patient.demo")) == 4

    def test_he_is_in_the_sample_register(self) -> None:
        senior = people.current().patients[1]
        full = demo.with_key(senior.nir13)
        assert nir.is_valid(full) and full.startswith("15805")
        with sample(people.current().register).open(encoding="utf-8-sig") as stream:
            rows = {row["nir"]: row for row in csv.DictReader(stream)}
        row = rows[full]
        assert (row["first_names"], row["last_name"], row["sex"]) == ("Jean", "Dubois", "M")
        assert (row["birth_date"], row["email"]) == ("1958-05-20", senior.email)

    def test_his_profile_and_appointments_name_him(self) -> None:
        his = entries.profile_of(SENIOR)
        assert {item.texts["label"] for item in his} >= {
            "Hypertension artérielle",
            "Ramipril",
            "Grippe saisonnière",
        }
        assert all(item.author in {SENIOR, "medecin.demo"} for item in his)
        assert len(entries.profile_of("patient.demo")) + len(his) == len(entries.profile())
        booked = [a for a in appointments.current() if a.patient == SENIOR]
        assert sorted(a.days > 0 for a in booked) == [False, True]
        assert {a.professional for a in booked} == {"medecin.demo"}

    @pytest.mark.parametrize(
        "day",
        [IN_SEASON + timedelta(days=n) for n in range(-89, 48, 3)]  # 15 Oct 2026 to 28 Feb 2027
        + [date(2027, 10, 15), date(2028, 2, 29), date(2030, 12, 24)],
    )
    def test_loaded_any_day_of_the_campaign_his_reminders_are_due(self, day: date) -> None:
        """His vaccinations are dated from the day of loading: the flu shot is last season's."""
        facts = prevention.Facts(vaccinations=_vaccinations(day))
        found = prevention.reminders_for(date(1958, 5, 20), "M", facts, {}, day, language="fr")
        assert {r.code: r.status for r in found} == dict.fromkeys(DUE_CODES, prevention.DUE)

    def test_out_of_season_the_flu_is_not_due(self) -> None:
        day = date(2027, 6, 1)
        facts = prevention.Facts(vaccinations=_vaccinations(day))
        found = prevention.reminders_for(date(1958, 5, 20), "M", facts, {}, day, language="fr")
        assert {r.code for r in found} == {"dtp", "colorectal"}

    @pytest.mark.parametrize(
        ("file", "change", "message"),
        [
            (
                entries.PROFILE_FILE,
                ('patient = "patient.senior"', 'patient = "patient.aunt"'),
                '"patient" must be one of patient.demo, patient.senior (accounts.toml), '
                "got 'patient.aunt'",
            ),
            (
                entries.PROFILE_FILE,
                ('author = "patient.senior"', 'author = "patient.demo"'),
                "(accounts.toml), got 'patient.demo'",  # her father's record is not hers
            ),
            (
                appointments.FILE,
                ('patient = "patient.senior"', 'patient = "patient.aunt"'),
                '"patient" must be a demo patient of accounts.toml',
            ),
            (
                appointments.FILE,
                ('professional = "medecin.demo"\nby', 'professional = "medecin.nobody"\nby'),
                '"professional" must be a demo professional of accounts.toml',
            ),
        ],
    )
    def test_a_record_naming_someone_unknown_is_refused(
        self, file: str, change: tuple[str, str], message: str
    ) -> None:
        text = read_text(file)
        assert change[0] in text
        changed = text.replace(*change, 1)
        parse = entries.parse_profile if file == entries.PROFILE_FILE else appointments.parse
        with pytest.raises(DemoDataError, match=re.escape(message)) as caught:
            parse(changed, people.current())
        assert str(caught.value).startswith(f"{file}, ")

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (('nir13 = "1580569123087"', 'nir13 = "2580569123087"'), "must start with 15805"),
            (("birth_date = 1958-05-20", "birth_date = 1958-06-20"), "must start with 15806"),
            (
                (
                    'patient = "patient.senior"\nprofessional',
                    'patient = "patient.aunt"\nprofessional',
                ),
                "'patient.aunt' is not one of the demo patients",
            ),
            (
                (
                    'patient = "patient.senior"\nprofessional',
                    'patient = "patient.demo"\nprofessional',
                ),
                "a professional is authorised twice on the same record",
            ),
            (('identifier = "samu.demo"', 'identifier = "patient.senior"'), "same identifier"),
        ],
    )
    def test_accounts_toml_checks_the_patients(self, change: tuple[str, str], message: str) -> None:
        text = read_text(people.FILE)
        assert change[0] in text
        with pytest.raises(DemoDataError, match=re.escape(message)):
            people.parse(text.replace(*change, 1))


class TestLoaded:
    def test_he_has_his_record_and_his_reminders_are_due(self, app: Flask) -> None:
        _at(IN_SEASON)
        created = demo.load()
        db.session.commit()
        assert SENIOR in created and "patient.demo" in created
        account = _account(SENIOR)
        assert account.role == Role.PATIENT and account.second_factor == SecondFactor.EMAIL
        assert account.email == "patient.senior@carnet.example"
        patient = _patient()
        assert (patient.first_names, patient.last_name, patient.sex) == ("Jean", "Dubois", "M")
        assert patient.birth_date == date(1958, 5, 20) and nir.is_valid(patient.nir)

        entries_ = db.session.scalars(
            select(ProfileEntry).where(ProfileEntry.patient_id == patient.id)
        ).all()
        by_label = {entry.label: entry for entry in entries_}
        assert by_label["Hypertension artérielle"].section == "conditions"
        assert by_label["Ramipril"].prescriber == "Dr Claire Martin"
        assert by_label["Grippe saisonnière"].start_date == date(2025, 10, 14)
        assert by_label["Diphtérie, tétanos, poliomyélite (rappel)"].start_date == date(2013, 6, 18)
        assert by_label["Marie Dubois"].author_label == "Jean Dubois"

        [authorisation] = db.session.scalars(
            select(Authorisation).where(Authorisation.patient_id == patient.id)
        ).all()
        traitant = _account("medecin.demo").professional
        assert traitant is not None
        assert authorisation.professional_id == traitant.id and authorisation.is_medecin_traitant

        booked = db.session.scalars(
            select(Appointment)
            .where(Appointment.patient_id == patient.id)
            .order_by(Appointment.starts_at)
        ).all()
        assert [row.professional_id for row in booked] == [traitant.id, traitant.id]
        now = clock.now()
        assert booked[0].starts_at < now < booked[1].starts_at
        assert all(row.cancelled_at is None for row in booked)
        # No documents, no notice of the loading.
        assert not db.session.scalar(select(func.count()).where(Document.patient_id == patient.id))
        assert not db.session.scalar(
            select(func.count()).where(OutboxMessage.account_id == account.id)
        )

        reminders = prevention.for_patient(patient, IN_SEASON, language="fr")
        assert {r.code: r.status for r in reminders} == dict.fromkeys(DUE_CODES, prevention.DUE)
        flu = next(r for r in reminders if r.code == "flu")
        assert flu.due_on == date(2026, 10, 15) and flu.last_done == date(2025, 10, 14)
        dtp = next(r for r in reminders if r.code == "dtp")
        assert dtp.due_on == date(2023, 5, 20)  # his 65th birthday: the booster at 55 is old

    def test_loading_twice_changes_nothing(self, app: Flask) -> None:
        _at(IN_SEASON)
        demo.load()
        db.session.commit()
        his, hers = _counts(_patient()), _counts(_patient("patient.demo"))
        assert his == (7, 2, 1, 0)
        clock.advance(86400)  # the next day
        assert demo.load() == []
        db.session.commit()
        assert _counts(_patient()) == his
        assert _counts(_patient("patient.demo")) == hers

    def test_he_signs_in_with_an_emailed_code_and_sees_his_reminders(self, app: Flask) -> None:
        _at(IN_SEASON)
        demo.load()
        db.session.commit()
        client = app.test_client()
        assert submit_password(client, SENIOR, demo.password()).status_code == 303
        assert submit_code(client, second_factor_code(_account(SENIOR))).status_code == 303
        page = html.unescape(client.get("/agenda/").get_data(as_text=True))
        for code in DUE_CODES:
            assert prevention.rule_for(code).label_fr in page
        assert "Consultation de suivi (tension, diabète)" in page
        assert "Consultation (renouvellement d'ordonnance)" in page

    def test_the_sign_in_help_names_him(self, app: Flask) -> None:
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        assert "8 account(s) created" in result.output
        assert re.search(r"^  patient\.senior  her father", result.output, re.M)
