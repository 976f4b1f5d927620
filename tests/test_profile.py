"""The medical profile through its routes: adding, checking, editing, deleting and masking
entries and measurements; what professionals may read and write; the safety warnings; the
access history; and the summary's query count."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, Rule
from werkzeug.test import TestResponse

from tests.builders import (
    authorise,
    fresh_csrf,
    login_as,
    make_agent,
    make_document,
    make_patient,
    make_professional,
    page_text,
)
from tests.test_query_counts import counting
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    EmergencyAccess,
    EntryKind,
    MeasureKind,
    Measurement,
    Patient,
    ProfileEntry,
    Section,
)
from webapp.services.audit import Action

UNPROCESSABLE = HTTPStatus.UNPROCESSABLE_ENTITY
HTMX = {"HX-Request": "true"}


def _patient(account: Account) -> Patient:
    assert account.patient is not None
    return account.patient


def _today() -> date:
    return clock.to_paris(clock.now()).date()


def _words(response: TestResponse) -> str:
    """The page as read: no tags, single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def _entries() -> list[ProfileEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(ProfileEntry).order_by(ProfileEntry.id)))


def _measures() -> list[Measurement]:
    db.session.expire_all()
    return list(db.session.scalars(select(Measurement).order_by(Measurement.id)))


def _events(holder: Account, action: str | None = None) -> list[AccessEvent]:
    db.session.expire_all()
    query = select(AccessEvent).where(AccessEvent.patient_id == _patient(holder).id)
    if action is not None:
        query = query.where(AccessEvent.action == action)
    return list(db.session.scalars(query.order_by(AccessEvent.seq)))


def _actions(holder: Account) -> list[str]:
    return [
        event.action
        for event in _events(holder)
        if event.action.startswith(("profile_e", "safety"))
    ]


def _base(patient_id: int | None) -> str:
    return "/profile" if patient_id is None else f"/profile/patients/{patient_id}"


def add(
    client: FlaskClient,
    section: str,
    kind: str,
    data: dict[str, str],
    *,
    patient_id: int | None = None,
    htmx: bool = False,
) -> TestResponse:
    return client.post(
        f"{_base(patient_id)}/{section}/new?kind={kind}",
        data={"csrf_token": fresh_csrf(client), **data},
        headers=HTMX if htmx else None,
    )


def check(
    client: FlaskClient, section: str, kind: str, name: str, data: dict[str, str]
) -> TestResponse:
    return client.post(
        f"/profile/{section}/check?kind={kind}&field={name}",
        data={"csrf_token": fresh_csrf(client), **data},
        headers=HTMX,
    )


def _entry(holder: Account, section: Section, kind: EntryKind, label: str, **extra: object) -> int:
    now = clock.now()
    values: dict[str, object] = {
        "patient_id": _patient(holder).id,
        "section": section.value,
        "kind": kind.value,
        "label": label,
        "author_kind": "patient",
        "author_account_id": holder.id,
        "author_label": "Alice",
        "created_at": now,
        "updated_at": now,
    }
    values.update(extra)
    row = ProfileEntry(**values)
    db.session.add(row)
    db.session.commit()
    return row.id


def _measure(holder: Account, kind: MeasureKind, value: float, **extra: object) -> int:
    now = clock.now()
    values: dict[str, object] = {
        "patient_id": _patient(holder).id,
        "kind": kind.value,
        "measured_on": _today(),
        "value": value,
        "unit": {"weight": "kg", "height": "cm", "blood_pressure": "mmHg"}.get(kind.value, "g/L"),
        "author_kind": "patient",
        "author_account_id": holder.id,
        "author_label": "Alice",
        "created_at": now,
        "updated_at": now,
    }
    values.update(extra)
    row = Measurement(**values)
    db.session.add(row)
    db.session.commit()
    return row.id


def _signed_in(app: Flask, account: Account) -> FlaskClient:
    """A browser of its own for one more person."""
    browser = app.test_client()
    login_as(browser, account)
    return browser


@pytest.fixture
def holder(client: FlaskClient) -> Account:
    """A patient (born 1 January 1980), signed in."""
    account = make_patient()
    login_as(client, account)
    return account


# --- validation: each bad input answered 422, in French, the typed values kept ---------------

TODAY = "today"
FUTURE = "future"
_DAYS = {TODAY: 0, FUTURE: 3}


def _day(value: str) -> str:
    if value in _DAYS:
        return (_today() + timedelta(days=_DAYS[value])).isoformat()
    return value


# (name, section, kind, the fields typed, a message that must appear, a typed value kept)
BAD: list[tuple[str, str, str, dict[str, str], str, str]] = [
    (
        "blood pressure 400/20",
        "measurements",
        "blood_pressure",
        {"measured_on": TODAY, "value": "400", "value2": "20"},
        "La systolique est le grand chiffre, entre 60 et 260 mmHg",
        'value="400"',
    ),
    (
        "diastolic 20 of 400/20",
        "measurements",
        "blood_pressure",
        {"measured_on": TODAY, "value": "400", "value2": "20"},
        "La diastolique est le petit chiffre, entre 30 et 160 mmHg",
        'value="20"',
    ),
    (
        "diastolic above systolic",
        "measurements",
        "blood_pressure",
        {"measured_on": TODAY, "value": "120", "value2": "130"},
        "La diastolique (petit chiffre) doit être plus basse que la systolique.",
        'value="130"',
    ),
    (
        "diastolic equal to systolic",
        "measurements",
        "blood_pressure",
        {"measured_on": TODAY, "value": "110", "value2": "110"},
        "La diastolique (petit chiffre) doit être plus basse que la systolique.",
        'value="110"',
    ),
    (
        "blood pressure in cmHg",
        "measurements",
        "blood_pressure",
        {"measured_on": TODAY, "value": "12,5", "value2": "80"},
        "Si votre appareil affiche 12,5, écrivez 125.",
        'value="12,5"',
    ),
    (
        "weight 0",
        "measurements",
        "weight",
        {"measured_on": TODAY, "value": "0"},
        "Un poids s'écrit en kilos, entre 0,5 et 350",
        'value="0"',
    ),
    (
        "weight 700",
        "measurements",
        "weight",
        {"measured_on": TODAY, "value": "700"},
        "Un poids s'écrit en kilos, entre 0,5 et 350",
        'value="700"',
    ),
    (
        "weight in words",
        "measurements",
        "weight",
        {"measured_on": TODAY, "value": "soixante"},
        "Écrivez un nombre, par exemple 72,5.",
        'value="soixante"',
    ),
    (
        "height 300 (3 m)",
        "measurements",
        "height",
        {"measured_on": TODAY, "value": "300"},
        "Une taille s'écrit en centimètres, entre 30 et 250",
        'value="300"',
    ),
    (
        "height in metres",
        "measurements",
        "height",
        {"measured_on": TODAY, "value": "1,68"},
        "Une taille s'écrit en centimètres, entre 30 et 250",
        'value="1,68"',
    ),
    (
        "glucose 9 g/L",
        "measurements",
        "glucose",
        {"measured_on": TODAY, "value": "9", "unit": "g/L", "fasting": "yes"},
        "En g/L, une glycémie est entre 0,2 et 7",
        'value="9"',
    ),
    (
        "glucose typed in mg/dL",
        "measurements",
        "glucose",
        {"measured_on": TODAY, "value": "95", "unit": "g/L", "fasting": "yes"},
        "Si vous lisez 95 mg/dL, écrivez 0,95.",
        'value="95"',
    ),
    (
        "glucose 0,1 g/L",
        "measurements",
        "glucose",
        {"measured_on": TODAY, "value": "0,1", "unit": "g/L", "fasting": "no"},
        "En g/L, une glycémie est entre 0,2 et 7",
        'value="0,1"',
    ),
    (
        "glucose 0,5 mmol/L",
        "measurements",
        "glucose",
        {"measured_on": TODAY, "value": "0,5", "unit": "mmol/L", "fasting": "yes"},
        "En mmol/L, une glycémie est entre 1 et 40",
        'value="0,5"',
    ),
    (
        "glucose 55 mmol/L",
        "measurements",
        "glucose",
        {"measured_on": TODAY, "value": "55", "unit": "mmol/L", "fasting": "no"},
        "En mmol/L, une glycémie est entre 1 et 40",
        'value="55"',
    ),
    (
        "glucose without fasting",
        "measurements",
        "glucose",
        {"measured_on": TODAY, "value": "0,95", "unit": "g/L"},
        "Dites si la mesure a été faite à jeun.",
        'value="0,95"',
    ),
    (
        "measurement in the future",
        "measurements",
        "weight",
        {"measured_on": FUTURE, "value": "64"},
        "La date de la mesure ne peut pas être dans le futur.",
        'value="64"',
    ),
    (
        "measurement without a date",
        "measurements",
        "weight",
        {"measured_on": "", "value": "64"},
        "Indiquez la date de la mesure : jour, mois et année.",
        'value="64"',
    ),
    (
        "vaccination before birth",
        "vaccinations",
        "vaccination",
        {"label": "DTP", "start_date": "1979-05-01"},
        "La date de vaccination ne peut pas être avant la naissance du patient.",
        'value="1979-05-01"',
    ),
    (
        "vaccination in the future",
        "vaccinations",
        "vaccination",
        {"label": "Grippe", "start_date": FUTURE},
        "La date de vaccination ne peut pas être dans le futur.",
        'value="Grippe"',
    ),
    (
        "vaccination without a vaccine",
        "vaccinations",
        "vaccination",
        {"label": "", "start_date": "2024-10-20", "batch": "LOT-77"},
        "Écrivez le nom du vaccin.",
        'value="LOT-77"',
    ),
    (
        "vaccination without a date",
        "vaccinations",
        "vaccination",
        {"label": "Grippe", "start_date": ""},
        "Indiquez la date de l'injection : jour, mois et année.",
        'value="Grippe"',
    ),
    (
        "treatment ending before it starts",
        "treatments",
        "treatment",
        {"label": "Levothyrox", "start_date": "2024-03-01", "end_date": "2024-02-01"},
        "La fin du traitement doit suivre son début.",
        'value="2024-02-01"',
    ),
    (
        "treatment starting in the future",
        "treatments",
        "treatment",
        {"label": "Levothyrox", "start_date": FUTURE},
        "Le début du traitement ne peut pas être dans le futur.",
        'value="Levothyrox"',
    ),
    (
        "treatment without a medicine",
        "treatments",
        "treatment",
        {"label": "", "dose": "75 µg"},
        "Écrivez le nom du médicament.",
        'value="75 µg"',
    ),
    (
        "a bad phone number",
        "people",
        "trusted_person",
        {"label": "Jean Dupont", "relation": "frère", "phone": "06 12 34"},
        "Ce numéro n'est pas valide. Vérifiez-le : 10 chiffres en France.",
        'value="06 12 34"',
    ),
    (
        "no phone number",
        "people",
        "emergency_contact",
        {"label": "Jean Dupont", "phone": ""},
        "Indiquez un numéro de téléphone.",
        'value="Jean Dupont"',
    ),
    (
        "no name",
        "people",
        "trusted_person",
        {"label": "", "phone": "0612345678"},
        "Écrivez le nom et le prénom.",
        'value="+33612345678"',  # the number typed, checked and written the one way
    ),
    (
        "an allergy without its substance",
        "allergies",
        "allergy",
        {"label": "", "reaction": "urticaire"},
        "Écrivez ce qui provoque l'allergie, par exemple : pénicilline.",
        'value="urticaire"',
    ),
    (
        "family history without the relation",
        "family",
        "family",
        {"relation": "", "label": "Diabète"},
        "Indiquez le lien, par exemple : mère.",
        'value="Diabète"',
    ),
    (
        "a condition too long",
        "conditions",
        "condition",
        {"label": "x" * 201},
        "200 caractères au plus.",
        'value="' + "x" * 201 + '"',
    ),
    (
        "a surgery before birth",
        "conditions",
        "surgery",
        {"label": "Appendicectomie", "start_date": "1975-06-01"},
        "Cette date ne peut pas être avant la naissance du patient.",
        'value="Appendicectomie"',
    ),
    (
        "empty advance directives",
        "wishes",
        "advance_directives",
        {"text": "   "},
        "Écrivez vos directives, ou choisissez le document qui les contient.",
        "Écrire mes directives anticipées",
    ),
    (
        "no organ-donation answer",
        "wishes",
        "organ_donation",
        {"text": "sauf les cornées"},
        "Choisissez une réponse.",
        "sauf les cornées",
    ),
    (
        "no blood group",
        "measurements",
        "blood_group",
        {"label": ""},
        "Choisissez le groupe sanguin.",
        "Indiquer le groupe sanguin",
    ),
]


@pytest.mark.parametrize(
    ("section", "kind", "data", "message", "kept"),
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_a_bad_input_is_refused_with_its_message(
    client: FlaskClient,
    holder: Account,
    section: str,
    kind: str,
    data: dict[str, str],
    message: str,
    kept: str,
) -> None:
    typed = {name: _day(value) for name, value in data.items()}
    response = add(client, section, kind, typed)
    page = page_text(response)
    assert response.status_code == UNPROCESSABLE
    assert message in page
    assert kept in page
    assert "Quelque chose est à corriger" in page and "has-error" in page
    assert _entries() == [] and _measures() == []
    assert _actions(holder) == []


def test_the_validation_table_is_wide() -> None:
    assert len(BAD) >= 20
    kinds = {(case[1], case[2]) for case in BAD}
    assert len(kinds) >= 12


def test_htmx_refusal_is_the_section_body_only(client: FlaskClient, holder: Account) -> None:
    response = add(
        client,
        "measurements",
        "blood_pressure",
        {"measured_on": _today().isoformat(), "value": "400", "value2": "20"},
        htmx=True,
    )
    page = page_text(response)
    assert response.status_code == UNPROCESSABLE
    assert page.lstrip().startswith('<div id="section-body">') and "<html" not in page
    assert "entre 60 et 260 mmHg" in page and 'value="400"' in page
    assert _measures() == []


# --- good inputs, one per kind -----------------------------------------------------------------

# (section, kind, the fields typed, what is stored, words shown in the section afterwards)
GOOD: list[tuple[str, str, dict[str, str], dict[str, object], str]] = [
    (
        "conditions",
        "condition",
        {"label": "Asthme", "start_date": "2010-05-01", "text": "léger"},
        {"label": "Asthme", "start_date": date(2010, 5, 1), "text": "léger"},
        "Asthme",
    ),
    (
        "conditions",
        "surgery",
        {"label": "Appendicectomie", "start_date": "1995-06-01"},
        {"label": "Appendicectomie", "kind": "surgery"},
        "Appendicectomie",
    ),
    (
        "allergies",
        "allergy",
        {"label": "  Pénicilline ", "reaction": "urticaire", "severity": "severe"},
        {"label": "Pénicilline", "reaction": "urticaire", "severity": "severe"},
        "Pénicilline — urticaire",
    ),
    (
        "treatments",
        "treatment",
        {
            "label": "Levothyrox",
            "dose": "75 µg",
            "frequency": "1 fois par jour",
            "start_date": "2024-01-10",
            "prescriber": "Dr Martin",
        },
        {"label": "Levothyrox", "dose": "75 µg", "end_date": None, "prescriber": "Dr Martin"},
        "Levothyrox 75 µg, 1 fois par jour",
    ),
    (
        "vaccinations",
        "vaccination",
        {"label": "Grippe", "start_date": "2025-10-20", "dose": "rappel", "batch": "AB123"},
        {"label": "Grippe", "start_date": date(2025, 10, 20), "batch": "AB123"},
        "Grippe",
    ),
    (
        "family",
        "family",
        {"relation": "mère", "label": "Diabète de type 2"},
        {"relation": "mère", "label": "Diabète de type 2"},
        "Diabète de type 2 (mère)",
    ),
    (
        "wishes",
        "advance_directives",
        {"text": "Pas d'acharnement thérapeutique."},
        {"text": "Pas d'acharnement thérapeutique.", "document_id": None},
        "Pas d'acharnement thérapeutique.",
    ),
    (
        "wishes",
        "organ_donation",
        {"label": "favorable", "text": ""},
        {"label": "favorable"},
        "Favorable au don de mes organes et tissus",
    ),
    (
        "people",
        "trusted_person",
        {"label": "Jean Dupont", "relation": "frère", "phone": "06 12 34 56 78"},
        {"label": "Jean Dupont", "phone": "+33612345678"},
        "Jean Dupont (frère)",
    ),
    (
        "people",
        "emergency_contact",
        {"label": "Mary Smith", "phone": "+44 20 7946 0958"},
        {"kind": "emergency_contact", "phone": "+442079460958"},
        "Mary Smith",
    ),
    (
        "measurements",
        "blood_group",
        {"label": "O+"},
        {"label": "O+", "section": "measurements"},
        "Groupe sanguin : O+",
    ),
    (
        "measurements",
        "blood_pressure",
        {"measured_on": "2026-01-05", "value": "125", "value2": "80"},
        {"value": 125.0, "value2": 80.0, "unit": "mmHg", "measured_on": date(2026, 1, 5)},
        "Tension 125/80 mmHg",
    ),
    (
        "measurements",
        "weight",
        {"measured_on": TODAY, "value": "72,5"},
        {"value": 72.5, "unit": "kg", "value2": None},
        "Poids 72,5 kg",
    ),
    (
        "measurements",
        "height",
        {"measured_on": TODAY, "value": "168"},
        {"value": 168.0, "unit": "cm"},
        "Taille 168 cm",
    ),
    (
        "measurements",
        "glucose",
        {"measured_on": TODAY, "value": "0,95", "unit": "g/L", "fasting": "yes"},
        {"value": 5.27, "unit": "g/L", "fasting": True},
        "Glycémie 0,95 g/L",
    ),
    (
        "measurements",
        "glucose",
        {"measured_on": TODAY, "value": "5.3", "unit": "mmol/L", "fasting": "no"},
        {"value": 5.3, "unit": "mmol/L", "fasting": False},
        "Glycémie 5,3 mmol/L",
    ),
]


@pytest.mark.parametrize(
    ("section", "kind", "data", "stored", "shown"),
    GOOD,
    ids=[f"{case[1]}-{n}" for n, case in enumerate(GOOD)],
)
def test_a_good_input_is_saved_and_shown(
    client: FlaskClient,
    holder: Account,
    section: str,
    kind: str,
    data: dict[str, str],
    stored: dict[str, object],
    shown: str,
) -> None:
    response = add(client, section, kind, {name: _day(value) for name, value in data.items()})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response.headers["Location"] == f"/profile/{section}?kind={kind}"
    rows: list[ProfileEntry] | list[Measurement] = (
        _measures() if kind in {k.value for k in MeasureKind} else _entries()
    )
    (row,) = rows
    assert row.kind == kind and row.patient_id == _patient(holder).id
    assert row.author_kind == "patient" and row.author_account_id == holder.id
    assert row.version == 1 and not row.masked_from_pros
    for name, value in stored.items():
        assert getattr(row, name) == value, name
    page = client.get(response.headers["Location"])
    assert "C'est enregistré." in page_text(page)
    assert shown in _words(page)
    assert _actions(holder) == [Action.PROFILE_ENTRY_ADDED]


def test_advance_directives_may_be_a_document_of_the_record(
    client: FlaskClient, holder: Account
) -> None:
    document = make_document(
        holder, title="Mes directives", type_code="42348-3", category="ma_sante"
    )
    form = page_text(client.get("/profile/wishes?kind=advance_directives"))
    assert f'<option value="{document.id}">Mes directives</option>' in form
    response = add(
        client, "wishes", "advance_directives", {"text": "", "document_id": str(document.id)}
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    (entry,) = _entries()
    assert (entry.document_id, entry.text, entry.label) == (document.id, "", "")
    other = make_document(make_patient(), type_code="42348-3", category="ma_sante")
    refused = add(client, "wishes", "advance_directives", {"document_id": str(other.id)})
    assert refused.status_code == UNPROCESSABLE  # not a choice: another record's document
    assert len(_entries()) == 1


def test_glucose_in_g_per_litre_is_stored_in_mmol_and_shown_back_in_g(
    client: FlaskClient, holder: Account
) -> None:
    add(
        client,
        "measurements",
        "glucose",
        {"measured_on": _today().isoformat(), "value": "1,26", "unit": "g/L", "fasting": "yes"},
    )
    (row,) = _measures()
    assert row.value == pytest.approx(1.26 * 5.551, abs=0.01) and row.unit == "g/L"
    summary = _words(client.get("/profile/"))
    assert "Glycémie 1,26 g/L" in summary
    form = page_text(client.get(f"/profile/measurements/{row.id}/edit"))
    assert 'value="1,26"' in form
    assert re.search(r'<input checked[^>]*value="g/L"', form)


def test_the_summary_shows_the_latest_measures_and_the_bmi(
    client: FlaskClient, holder: Account
) -> None:
    day = _today()
    _measure(holder, MeasureKind.WEIGHT, 80, measured_on=day - timedelta(days=30))
    _measure(holder, MeasureKind.WEIGHT, 72.5, measured_on=day)
    _measure(holder, MeasureKind.HEIGHT, 170)
    _measure(holder, MeasureKind.BLOOD_PRESSURE, 125, value2=80)
    words = _words(client.get("/profile/"))
    assert "Poids 72,5 kg" in words and "80 kg" not in words
    assert "Taille 170 cm" in words and "IMC 25,1 kg/m²" in words
    assert "Tension 125/80 mmHg" in words


def test_htmx_add_returns_the_section_body(client: FlaskClient, holder: Account) -> None:
    response = add(
        client,
        "allergies",
        "allergy",
        {"label": "Latex", "reaction": "eczéma", "severity": "mild"},
        htmx=True,
    )
    page = page_text(response)
    assert response.status_code == HTTPStatus.OK
    assert page.lstrip().startswith('<div id="section-body">') and "<html" not in page
    assert "C'est enregistré." in page and "Latex" in page
    assert 'hx-target="#section-body"' in page  # the add form again, empty
    assert len(_entries()) == 1


# --- inline checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "kind", "name", "data", "message"),
    [
        (
            "measurements",
            "blood_pressure",
            "value2",
            {"value": "120", "value2": "130"},
            "La diastolique (petit chiffre) doit être plus basse que la systolique.",
        ),
        (
            "measurements",
            "blood_pressure",
            "value",
            {"value": "400", "value2": "80"},
            "entre 60 et 260 mmHg",
        ),
        ("measurements", "weight", "value", {"value": "0"}, "entre 0,5 et 350"),
        (
            "measurements",
            "glucose",
            "value",
            {"value": "9", "unit": "g/L"},
            "En g/L, une glycémie est entre 0,2 et 7",
        ),
        ("people", "trusted_person", "phone", {"phone": "123"}, "Ce numéro n'est pas valide."),
        (
            "treatments",
            "treatment",
            "end_date",
            {"start_date": "2024-03-01", "end_date": "2024-01-01"},
            "La fin du traitement doit suivre son début.",
        ),
    ],
)
def test_the_inline_check_returns_the_fields_message(
    client: FlaskClient,
    holder: Account,
    section: str,
    kind: str,
    name: str,
    data: dict[str, str],
    message: str,
) -> None:
    response = check(client, section, kind, name, data)
    assert response.status_code == HTTPStatus.OK
    page = page_text(response)
    assert '<p class="error">' in page and message in page
    assert _entries() == [] and _measures() == []


@pytest.mark.parametrize(
    ("section", "kind", "name", "data"),
    [
        ("measurements", "blood_pressure", "value2", {"value": "130", "value2": "85"}),
        # another field is wrong: this one says nothing
        ("measurements", "blood_pressure", "value", {"value": "130", "value2": "150"}),
        ("measurements", "glucose", "value", {"value": "5,3", "unit": "mmol/L"}),
        ("measurements", "weight", "value", {"value": "72,5"}),
        ("people", "trusted_person", "phone", {"phone": "06 12 34 56 78"}),
        ("allergies", "allergy", "label", {"label": "Pénicilline"}),
        # fields that are not the form's, or that say nothing to a person
        ("allergies", "allergy", "csrf_token", {"label": ""}),
        ("allergies", "allergy", "version", {"label": ""}),
        ("allergies", "allergy", "no_such_field", {"label": ""}),
    ],
)
def test_the_inline_check_says_nothing_when_the_field_is_fine(
    client: FlaskClient,
    holder: Account,
    section: str,
    kind: str,
    name: str,
    data: dict[str, str],
) -> None:
    response = check(client, section, kind, name, data)
    assert response.status_code == HTTPStatus.OK
    assert response.get_data(as_text=True).strip() == ""


def test_the_form_wires_the_inline_check(client: FlaskClient, holder: Account) -> None:
    page = page_text(client.get("/profile/measurements?kind=blood_pressure"))
    assert 'hx-post="/profile/measurements/check?kind=blood_pressure&field=value2"' in page
    assert 'hx-target="#value2-feedback"' in page


# --- editing: versions and conflicts --------------------------------------------------------------


def _form_values(page: str) -> dict[str, str]:
    """The hidden fields a form posts back: the CSRF token and the version it was opened at."""
    return {
        "csrf_token": re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', page)[-1],
        "version": re.findall(r'name="version"[^>]*value="([^"]*)"', page)[-1],
    }


def test_editing_an_entry_saves_a_new_version(client: FlaskClient, holder: Account) -> None:
    entry_id = _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Pénicilline")
    form = page_text(client.get(f"/profile/entries/{entry_id}/edit"))
    assert 'value="Pénicilline"' in form
    hidden = _form_values(form)
    assert hidden["version"] == "1"
    response = client.post(
        f"/profile/entries/{entry_id}/edit",
        data={**hidden, "label": "Amoxicilline", "reaction": "œdème", "severity": "severe"},
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response.headers["Location"] == "/profile/allergies"
    (entry,) = _entries()
    assert (entry.label, entry.reaction, entry.version) == ("Amoxicilline", "œdème", 2)
    assert _actions(holder) == [Action.PROFILE_ENTRY_CHANGED]


def test_editing_a_measurement_keeps_its_unit(client: FlaskClient, holder: Account) -> None:
    row_id = _measure(holder, MeasureKind.GLUCOSE, 5.27, unit="g/L", fasting=True)
    form = page_text(client.get(f"/profile/measurements/{row_id}/edit"))
    assert 'value="0,95"' in form
    response = client.post(
        f"/profile/measurements/{row_id}/edit",
        data={
            **_form_values(form),
            "measured_on": _today().isoformat(),
            "value": "1,1",
            "unit": "g/L",
            "fasting": "yes",
        },
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    (row,) = _measures()
    assert row.value == pytest.approx(6.11, abs=0.01) and row.version == 2


def test_a_bad_edit_is_refused_and_nothing_changes(client: FlaskClient, holder: Account) -> None:
    row_id = _measure(holder, MeasureKind.BLOOD_PRESSURE, 125, value2=80)
    form = page_text(client.get(f"/profile/measurements/{row_id}/edit"))
    response = client.post(
        f"/profile/measurements/{row_id}/edit",
        data={
            **_form_values(form),
            "measured_on": _today().isoformat(),
            "value": "80",
            "value2": "120",
        },
    )
    assert response.status_code == UNPROCESSABLE
    assert "doit être plus basse que la systolique" in page_text(response)
    (row,) = _measures()
    assert (row.value, row.value2, row.version) == (125, 80, 1)


def _two_tabs(client: FlaskClient, entry_id: int) -> tuple[dict[str, str], dict[str, str]]:
    first = _form_values(page_text(client.get(f"/profile/entries/{entry_id}/edit")))
    second = _form_values(page_text(client.get(f"/profile/entries/{entry_id}/edit")))
    assert first["version"] == second["version"] == "1"
    return first, second


def test_a_stale_edit_shows_both_versions_and_overwrites_nothing(
    client: FlaskClient, holder: Account
) -> None:
    entry_id = _entry(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Levothyrox", dose="50 µg")
    first, second = _two_tabs(client, entry_id)
    saved = client.post(
        f"/profile/entries/{entry_id}/edit", data={**first, "label": "Levothyrox", "dose": "75 µg"}
    )
    assert saved.status_code == HTTPStatus.SEE_OTHER
    stale = client.post(
        f"/profile/entries/{entry_id}/edit",
        data={**second, "label": "Levothyrox", "dose": "100 µg"},
    )
    page = page_text(stale)
    assert stale.status_code == HTTPStatus.CONFLICT
    assert "Cette information a été modifiée entre-temps" in page
    assert "Version enregistrée" in page and "Votre version (non enregistrée)" in page
    assert "Levothyrox 75 µg" in _words(stale)  # the saved one
    assert 'value="100 µg"' in page  # mine, offered again
    assert re.search(r'name="version"[^>]*value="2"', page)  # to save mine on purpose
    (entry,) = _entries()
    assert (entry.dose, entry.version) == ("75 µg", 2)
    assert _actions(holder) == [Action.PROFILE_ENTRY_CHANGED]
    # saving mine from the conflict page, knowingly, now works
    token = _form_values(page)
    again = client.post(
        f"/profile/entries/{entry_id}/edit", data={**token, "label": "Levothyrox", "dose": "100 µg"}
    )
    assert again.status_code == HTTPStatus.SEE_OTHER
    assert _entries()[0].dose == "100 µg"


def test_a_stale_htmx_edit_answers_a_fragment(client: FlaskClient, holder: Account) -> None:
    entry_id = _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Latex")
    first, second = _two_tabs(client, entry_id)
    client.post(f"/profile/entries/{entry_id}/edit", data={**first, "label": "Latex naturel"})
    stale = client.post(
        f"/profile/entries/{entry_id}/edit",
        data={**second, "label": "Latex synthétique"},
        headers=HTMX,
    )
    page = page_text(stale)
    assert stale.status_code == UNPROCESSABLE
    assert page.lstrip().startswith(f'<li id="row-entries-{entry_id}"') and "<html" not in page
    assert "Latex naturel" in page and 'value="Latex synthétique"' in page
    assert _entries()[0].label == "Latex naturel"


def test_editing_a_deleted_entry_is_404(client: FlaskClient, holder: Account) -> None:
    entry_id = _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Latex")
    hidden = _form_values(page_text(client.get(f"/profile/entries/{entry_id}/edit")))
    delete = page_text(client.get(f"/profile/entries/{entry_id}/delete"))
    gone = client.post(f"/profile/entries/{entry_id}/delete", data=_form_values(delete))
    assert gone.status_code == HTTPStatus.SEE_OTHER
    late = client.post(
        f"/profile/entries/{entry_id}/edit", data={**hidden, "label": "Latex naturel"}
    )
    assert late.status_code == HTTPStatus.NOT_FOUND
    assert _entries()[0].label == "Latex"


# --- deleting -----------------------------------------------------------------------------------


def test_deleting_asks_then_removes(client: FlaskClient, holder: Account) -> None:
    entry_id = _entry(holder, Section.CONDITIONS, EntryKind.CONDITION, "Asthme")
    confirm = client.get(f"/profile/entries/{entry_id}/delete")
    assert confirm.status_code == HTTPStatus.OK
    assert "Supprimer cette information ?" in page_text(confirm) and "Asthme" in page_text(confirm)
    assert _entries()[0].deleted_at is None  # asking deletes nothing
    response = client.post(
        f"/profile/entries/{entry_id}/delete", data=_form_values(page_text(confirm))
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response.headers["Location"] == "/profile/conditions"
    assert _entries()[0].deleted_at is not None
    assert "Asthme" not in _words(client.get("/profile/conditions"))
    assert "Asthme" not in _words(client.get("/profile/"))
    assert _actions(holder) == [Action.PROFILE_ENTRY_DELETED]


def test_deleting_a_measurement_with_htmx(client: FlaskClient, holder: Account) -> None:
    row_id = _measure(holder, MeasureKind.WEIGHT, 64)
    confirm = page_text(client.get(f"/profile/measurements/{row_id}/delete", headers=HTMX))
    assert confirm.lstrip().startswith(f'<li id="row-measurements-{row_id}"')
    response = client.post(
        f"/profile/measurements/{row_id}/delete", data=_form_values(confirm), headers=HTMX
    )
    assert response.status_code == HTTPStatus.OK
    assert "C'est supprimé." in page_text(response)
    assert _measures()[0].deleted_at is not None


def test_a_stale_delete_is_refused(client: FlaskClient, holder: Account) -> None:
    entry_id = _entry(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Doliprane")
    confirm = _form_values(page_text(client.get(f"/profile/entries/{entry_id}/delete")))
    edit = _form_values(page_text(client.get(f"/profile/entries/{entry_id}/edit")))
    client.post(f"/profile/entries/{entry_id}/edit", data={**edit, "label": "Doliprane 1000"})
    refused = client.post(f"/profile/entries/{entry_id}/delete", data=confirm)
    assert refused.status_code == HTTPStatus.SEE_OTHER
    (entry,) = _entries()
    assert entry.deleted_at is None and entry.label == "Doliprane 1000"
    after = page_text(client.get(refused.headers["Location"]))
    assert (
        "Cette information a été modifiée entre-temps" in after and "rien n'a été supprimé" in after
    )
    assert Action.PROFILE_ENTRY_DELETED not in _actions(holder)
    missing = client.post(
        f"/profile/entries/{entry_id}/delete", data={"csrf_token": confirm["csrf_token"]}
    )
    assert missing.status_code == HTTPStatus.SEE_OTHER and _entries()[0].deleted_at is None


# --- masking ------------------------------------------------------------------------------------


def test_masking_hides_an_entry_from_an_authorised_pharmacist_only(
    app: Flask, client: FlaskClient
) -> None:
    holder = make_patient()
    patient_id = _patient(holder).id
    pharmacist = make_professional(profession="pharmacien", specialty=None)
    author = make_professional(profession="pharmacien", specialty=None, first_names="Claire")
    traitant = make_professional()
    for pro in (pharmacist, author):
        authorise(pro, holder)
    authorise(traitant, holder, traitant=True)
    own = _entry(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Levothyrox")
    assert author.professional is not None
    theirs = _entry(
        holder,
        Section.TREATMENTS,
        EntryKind.TREATMENT,
        "Kardégic",
        author_kind="professional",
        author_account_id=author.id,
        author_label=author.professional.display_name,
    )
    weight = _measure(holder, MeasureKind.WEIGHT, 64)

    login_as(client, holder)
    token = fresh_csrf(client)
    for path in (
        f"/profile/entries/{own}/mask",
        f"/profile/entries/{theirs}/mask",
        f"/profile/measurements/{weight}/mask",
    ):
        response = client.post(path, data={"csrf_token": token})
        assert response.status_code == HTTPStatus.SEE_OTHER
    assert all(entry.masked_from_pros for entry in _entries()) and _measures()[0].masked_from_pros
    mine = _words(client.get("/profile/treatments"))
    assert "Levothyrox" in mine and "Kardégic" in mine and "masqué aux professionnels" in mine

    def seen(pro: Account) -> str:
        other = _signed_in(app, pro)
        paths = [
            f"/profile/patients/{patient_id}/{name}" for name in ("treatments", "measurements")
        ]
        return " ".join(
            _words(other.get(path)) for path in [*paths, f"/profile/patients/{patient_id}/"]
        )

    hidden = seen(pharmacist)
    assert "Levothyrox" not in hidden and "Kardégic" not in hidden and "64 kg" not in hidden
    by_author = seen(author)
    assert "Kardégic" in by_author and "Levothyrox" not in by_author
    by_traitant = seen(traitant)
    assert "Levothyrox" in by_traitant and "Kardégic" in by_traitant and "64 kg" in by_traitant

    unmasked = client.post(f"/profile/entries/{own}/unmask", data={"csrf_token": token})
    assert unmasked.status_code == HTTPStatus.SEE_OTHER
    assert "Levothyrox" in seen(pharmacist)
    assert _actions(holder) == [
        Action.PROFILE_ENTRY_MASKED,
        Action.PROFILE_ENTRY_MASKED,
        Action.PROFILE_ENTRY_MASKED,
        Action.PROFILE_ENTRY_UNMASKED,
    ]


def test_a_masked_entry_is_404_to_the_pharmacist_by_its_address(
    app: Flask, client: FlaskClient
) -> None:
    holder = make_patient()
    pharmacist = make_professional(profession="pharmacien", specialty=None)
    authorise(pharmacist, holder)
    entry_id = _entry(
        holder,
        Section.TREATMENTS,
        EntryKind.TREATMENT,
        "Levothyrox",
        masked_from_pros=True,
    )
    login_as(client, pharmacist)
    assert client.get(f"/profile/entries/{entry_id}/edit").status_code == HTTPStatus.NOT_FOUND
    refused = _events(holder, Action.PROFILE_VIEWED)
    assert [(event.allowed, event.reason) for event in refused] == [(False, "not_author")]


def test_masking_with_htmx_returns_the_row(client: FlaskClient, holder: Account) -> None:
    entry_id = _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Latex")
    response = client.post(
        f"/profile/entries/{entry_id}/mask", data={"csrf_token": fresh_csrf(client)}, headers=HTMX
    )
    page = page_text(response)
    assert response.status_code == HTTPStatus.OK
    assert page.lstrip().startswith(f'<li id="row-entries-{entry_id}" class="entry masked"')
    assert "Rendre visible aux professionnels" in page
    again = client.post(
        f"/profile/entries/{entry_id}/mask", data={"csrf_token": fresh_csrf(client)}, headers=HTMX
    )
    assert again.status_code == HTTPStatus.OK
    assert _actions(holder) == [Action.PROFILE_ENTRY_MASKED]  # masking twice records once


# --- professionals -------------------------------------------------------------------------------


def test_an_authorised_doctor_adds_an_allergy_and_a_treatment(
    app: Flask, client: FlaskClient
) -> None:
    holder = make_patient()
    patient_id = _patient(holder).id
    doctor = make_professional()
    assert doctor.professional is not None
    authorise(doctor, holder)
    login_as(client, doctor)
    page = client.get(f"/profile/patients/{patient_id}/allergies")
    assert page.status_code == HTTPStatus.OK
    assert f'action="/profile/patients/{patient_id}/allergies/new?kind=allergy"' in page_text(page)
    response = add(
        client,
        "allergies",
        "allergy",
        {"label": "Iode", "reaction": "choc", "severity": "severe"},
        patient_id=patient_id,
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response.headers["Location"] == f"/profile/patients/{patient_id}/allergies?kind=allergy"
    treatment = add(
        client,
        "treatments",
        "treatment",
        {"label": "Ramipril", "dose": "5 mg"},
        patient_id=patient_id,
    )
    assert treatment.status_code == HTTPStatus.SEE_OTHER
    entries = _entries()
    assert [(e.label, e.author_kind, e.author_account_id) for e in entries] == [
        ("Iode", "professional", doctor.id),
        ("Ramipril", "professional", doctor.id),
    ]
    name = doctor.professional.display_name
    assert entries[0].author_label == name
    words = _words(_signed_in(app, holder).get("/profile/allergies"))
    assert f"Noté par {name}" in words and "Iode — choc" in words
    assert "Modifier" not in words  # the patient cannot change the doctor's entry
    assert "Masquer aux professionnels" in words  # but can mask it
    actors = {(e.action, e.actor_account_id) for e in _events(holder, Action.PROFILE_ENTRY_ADDED)}
    assert actors == {(Action.PROFILE_ENTRY_ADDED, doctor.id)}


def test_the_author_professional_edits_its_entry(app: Flask, client: FlaskClient) -> None:
    holder = make_patient()
    doctor = make_professional()
    authorise(doctor, holder)
    login_as(client, doctor)
    add(client, "allergies", "allergy", {"label": "Iode"}, patient_id=_patient(holder).id)
    (entry,) = _entries()
    form = page_text(client.get(f"/profile/entries/{entry.id}/edit"))
    response = client.post(
        f"/profile/entries/{entry.id}/edit", data={**_form_values(form), "label": "Iode (povidone)"}
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response.headers["Location"] == f"/profile/patients/{_patient(holder).id}/allergies"
    assert _entries()[0].label == "Iode (povidone)"
    masked = client.post(
        f"/profile/entries/{entry.id}/mask", data={"csrf_token": fresh_csrf(client)}
    )
    assert masked.status_code == HTTPStatus.NOT_FOUND  # only the holder masks
    assert not _entries()[0].masked_from_pros


def test_a_professional_cannot_change_the_patients_entry(app: Flask, client: FlaskClient) -> None:
    holder = make_patient()
    traitant = make_professional()
    authorise(traitant, holder, traitant=True)
    entry_id = _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Latex")
    login_as(client, traitant)
    token = fresh_csrf(client)
    assert client.get(f"/profile/entries/{entry_id}/edit").status_code == HTTPStatus.NOT_FOUND
    edit = client.post(
        f"/profile/entries/{entry_id}/edit",
        data={"csrf_token": token, "version": "1", "label": "X"},
    )
    assert edit.status_code == HTTPStatus.NOT_FOUND
    gone = client.post(
        f"/profile/entries/{entry_id}/delete", data={"csrf_token": token, "version": "1"}
    )
    assert gone.status_code == HTTPStatus.NOT_FOUND
    (entry,) = _entries()
    assert entry.label == "Latex" and entry.deleted_at is None


def _open_window(holder: Account, pro: Account, mode: str = "emergency") -> None:
    """An emergency window as emergency.open_window leaves it."""
    assert pro.professional is not None
    db.session.add(
        EmergencyAccess(
            patient_id=_patient(holder).id,
            professional_id=pro.professional.id,
            account_id=pro.id,
            mode=mode,
            reason_code="unconscious",
            justification="Patient inconscient, aucun proche joignable, traitement inconnu.",
            opened_at=clock.now() - timedelta(minutes=5),
            expires_at=clock.now() + timedelta(hours=2),
        )
    )
    db.session.commit()


def test_an_emergency_window_reads_but_never_writes(app: Flask, client: FlaskClient) -> None:
    holder = make_patient()
    patient_id = _patient(holder).id
    _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Pénicilline")
    doctor = make_professional(specialty="medecine_urgence")
    _open_window(holder, doctor)
    login_as(client, doctor)
    page = client.get(f"/profile/patients/{patient_id}/allergies")
    assert page.status_code == HTTPStatus.OK
    words = _words(page)
    assert "Pénicilline" in words and "Ajouter une allergie" not in words
    refused = add(client, "allergies", "allergy", {"label": "Latex"}, patient_id=patient_id)
    assert refused.status_code == HTTPStatus.NOT_FOUND
    checked = client.post(
        f"/profile/patients/{patient_id}/allergies/check?kind=allergy&field=label",
        data={"csrf_token": fresh_csrf(client), "label": ""},
    )
    assert checked.status_code == HTTPStatus.NOT_FOUND
    assert [entry.label for entry in _entries()] == ["Pénicilline"]
    summary = client.get(f"/profile/patients/{patient_id}/")
    assert summary.status_code == HTTPStatus.OK and "Pénicilline" in _words(summary)
    views = [
        (e.allowed, e.mode, e.reason, e.detail) for e in _events(holder, Action.PROFILE_VIEWED)
    ]
    assert views == [
        (True, "emergency", "emergency", "allergies"),
        (False, "normal", "emergency_read_only", ""),
        (False, "normal", "emergency_read_only", ""),
        (True, "emergency", "emergency", ""),
    ]


def test_a_dentist_never_reads_the_wishes(app: Flask, client: FlaskClient) -> None:
    holder = make_patient()
    patient_id = _patient(holder).id
    _entry(
        holder,
        Section.WISHES,
        EntryKind.ADVANCE_DIRECTIVES,
        "",
        text="Pas de réanimation prolongée",
    )
    _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Articaïne")
    dentist = make_professional(profession="chirurgien_dentiste", specialty=None)
    authorise(dentist, holder)
    login_as(client, dentist)
    summary = client.get(f"/profile/patients/{patient_id}/")
    assert summary.status_code == HTTPStatus.OK
    words = _words(summary)
    assert "Articaïne" in words
    assert "Volontés" not in words and "Pas de réanimation prolongée" not in words
    assert f"/profile/patients/{patient_id}/wishes" not in page_text(summary)
    assert client.get(f"/profile/patients/{patient_id}/wishes").status_code == HTTPStatus.NOT_FOUND
    refused = add(
        client, "wishes", "advance_directives", {"text": "Autre chose"}, patient_id=patient_id
    )
    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert len(_entries()) == 2
    assert ("matrix", False) in {
        (e.reason, e.allowed) for e in _events(holder, Action.PROFILE_VIEWED)
    }


def test_a_professional_reading_the_profile_is_in_the_history(
    app: Flask, client: FlaskClient
) -> None:
    holder = make_patient()
    patient_id = _patient(holder).id
    pharmacist = make_professional(profession="pharmacien", specialty=None)
    authorise(pharmacist, holder)
    login_as(client, pharmacist)
    assert client.get(f"/profile/patients/{patient_id}/").status_code == HTTPStatus.OK
    assert client.get(f"/profile/patients/{patient_id}/treatments").status_code == HTTPStatus.OK
    assert client.get(f"/profile/patients/{patient_id}/family").status_code == HTTPStatus.NOT_FOUND
    views = [
        (e.actor_account_id, e.allowed, e.detail, e.reason)
        for e in _events(holder, Action.PROFILE_VIEWED)
    ]
    assert views == [
        (pharmacist.id, True, "", "authorised"),
        (pharmacist.id, True, "treatments", "authorised"),
        (pharmacist.id, False, "", "matrix"),
    ]


# --- safety warnings ---------------------------------------------------------------------------


def test_a_treatment_matching_an_allergy_needs_an_acknowledgement(
    client: FlaskClient, holder: Account
) -> None:
    allergy = _entry(
        holder,
        Section.ALLERGIES,
        EntryKind.ALLERGY,
        "Pénicilline",
        reaction="œdème",
        severity="severe",
    )
    data = {"label": "Augmentin", "dose": "1 g", "frequency": "3 fois par jour"}
    refused = add(client, "treatments", "treatment", data)
    words = _words(refused)
    assert refused.status_code == UNPROCESSABLE
    assert "Attention : à vérifier avant d'enregistrer" in words
    assert (
        "« Augmentin » fait partie des pénicillines ; une allergie à « Pénicilline » est notée "
        "dans le profil." in words
    )
    assert "(œdème, sévère)" in words
    assert "J'ai lu ces alertes et je confirme ce traitement" in words
    assert 'value="1 g"' in page_text(refused)
    assert [e.kind for e in _entries()] == ["allergy"]

    accepted = add(client, "treatments", "treatment", {**data, "acknowledge": "y"})
    assert accepted.status_code == HTTPStatus.SEE_OTHER
    treatment = _entries()[-1]
    assert treatment.label == "Augmentin" and treatment.acknowledged == f"allergy:{allergy}"
    assert _actions(holder) == [Action.PROFILE_ENTRY_ADDED, Action.SAFETY_WARNING_ACKNOWLEDGED]
    (event,) = _events(holder, Action.SAFETY_WARNING_ACKNOWLEDGED)
    assert event.reason == f"allergy:{allergy}" and event.resource_id == str(treatment.id)
    assert "Augmentin" not in (event.detail or "")  # identifiers only in the history
    assert "enregistré malgré une alerte" in _words(client.get("/profile/treatments"))


def test_a_duplicate_treatment_warns_too(client: FlaskClient, holder: Account) -> None:
    _entry(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Paracétamol")
    refused = add(client, "treatments", "treatment", {"label": "Doliprane 1000 mg"}, htmx=True)
    assert refused.status_code == UNPROCESSABLE
    words = _words(refused)
    assert (
        "« Paracétamol », déjà en cours, fait aussi partie des paracétamol : risque de doublon."
        in words
    )
    assert len(_entries()) == 1


def test_a_treatment_that_ended_does_not_warn(client: FlaskClient, holder: Account) -> None:
    _entry(
        holder,
        Section.TREATMENTS,
        EntryKind.TREATMENT,
        "Paracétamol",
        start_date=date(2024, 1, 1),
        end_date=date(2024, 1, 10),
    )
    response = add(client, "treatments", "treatment", {"label": "Doliprane"})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert _entries()[-1].acknowledged == ""
    assert Action.SAFETY_WARNING_ACKNOWLEDGED not in _actions(holder)


def test_editing_into_an_allergy_warns(client: FlaskClient, holder: Account) -> None:
    allergy = _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Aspirine")
    treatment = _entry(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Doliprane")
    hidden = _form_values(page_text(client.get(f"/profile/entries/{treatment}/edit")))
    refused = client.post(
        f"/profile/entries/{treatment}/edit", data={**hidden, "label": "Kardégic"}
    )
    assert refused.status_code == UNPROCESSABLE
    assert "une allergie à « Aspirine » est notée dans le profil" in _words(refused)
    assert _entries()[-1].label == "Doliprane"
    # its own former name is no duplicate of itself
    kept = client.post(
        f"/profile/entries/{treatment}/edit", data={**hidden, "label": "Doliprane 500"}
    )
    assert kept.status_code == HTTPStatus.SEE_OTHER
    hidden = _form_values(page_text(client.get(f"/profile/entries/{treatment}/edit")))
    accepted = client.post(
        f"/profile/entries/{treatment}/edit",
        data={**hidden, "label": "Kardégic", "acknowledge": "y"},
    )
    assert accepted.status_code == HTTPStatus.SEE_OTHER
    assert _entries()[-1].acknowledged == f"allergy:{allergy}"
    assert _actions(holder)[-1] == Action.SAFETY_WARNING_ACKNOWLEDGED


def test_a_professional_acknowledges_in_the_history(app: Flask, client: FlaskClient) -> None:
    holder = make_patient()
    _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Pénicilline")
    doctor = make_professional()
    authorise(doctor, holder)
    login_as(client, doctor)
    data = {"label": "Clamoxyl", "acknowledge": "y"}
    response = add(client, "treatments", "treatment", data, patient_id=_patient(holder).id)
    assert response.status_code == HTTPStatus.SEE_OTHER
    (event,) = _events(holder, Action.SAFETY_WARNING_ACKNOWLEDGED)
    assert (event.actor_account_id, event.actor_kind) == (doctor.id, "professional")


# --- the access history ---------------------------------------------------------------------


def test_every_change_is_in_the_history_without_medical_words(
    client: FlaskClient, holder: Account
) -> None:
    add(client, "allergies", "allergy", {"label": "Arachide"})
    add(client, "measurements", "weight", {"measured_on": _today().isoformat(), "value": "64"})
    (entry,) = _entries()
    (row,) = _measures()
    hidden = _form_values(page_text(client.get(f"/profile/entries/{entry.id}/edit")))
    client.post(f"/profile/entries/{entry.id}/edit", data={**hidden, "label": "Arachides"})
    token = fresh_csrf(client)
    client.post(f"/profile/entries/{entry.id}/mask", data={"csrf_token": token})
    client.post(f"/profile/entries/{entry.id}/unmask", data={"csrf_token": token})
    hidden = _form_values(page_text(client.get(f"/profile/measurements/{row.id}/edit")))
    client.post(
        f"/profile/measurements/{row.id}/edit",
        data={**hidden, "measured_on": _today().isoformat(), "value": "63"},
    )
    confirm = _form_values(page_text(client.get(f"/profile/measurements/{row.id}/delete")))
    client.post(f"/profile/measurements/{row.id}/delete", data=confirm)
    me = holder.id
    events = [
        (e.action, e.resource_type, e.resource_id, e.detail, e.actor_account_id)
        for e in _events(holder)
        if e.action.startswith("profile_entry")
    ]
    assert events == [
        (Action.PROFILE_ENTRY_ADDED, "profile_entry", str(entry.id), "allergies/allergy", me),
        (Action.PROFILE_ENTRY_ADDED, "measurement", str(row.id), "measurements/weight", me),
        (Action.PROFILE_ENTRY_CHANGED, "profile_entry", str(entry.id), "allergies/allergy", me),
        (Action.PROFILE_ENTRY_MASKED, "profile_entry", str(entry.id), "allergies/allergy", me),
        (Action.PROFILE_ENTRY_UNMASKED, "profile_entry", str(entry.id), "allergies/allergy", me),
        (Action.PROFILE_ENTRY_CHANGED, "measurement", str(row.id), "measurements/weight", me),
        (Action.PROFILE_ENTRY_DELETED, "measurement", str(row.id), "measurements/weight", me),
    ]
    history = _words(client.get("/access/history"))
    assert "Arachide" not in history


# --- who reaches the profile routes at all -------------------------------------------------


def _profile_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("profile.")]


def _paths(rule: Rule, patient_id: int, entry_id: int, measure_id: int) -> list[str]:
    """Every concrete URL of a rule: each choice of each `any(...)`, real ids for the rest."""
    names = sorted(rule.arguments)
    options: list[list[str]] = []
    for name in names:
        converter = rule._converters[name]  # noqa: SLF001
        if isinstance(converter, AnyConverter):
            options.append(sorted(converter.items))
        else:
            options.append([name])
    paths = []
    for chosen in itertools.product(*options):
        values = dict(zip(names, chosen, strict=True))
        ids = {
            "patient_id": patient_id,
            "row_id": measure_id if values.get("table") == "measurements" else entry_id,
        }
        path = rule.rule
        for name in names:
            value = str(ids[name]) if name in ids else values[name]
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("intruder", ["agent", "other_patient", "unauthorised_professional"])
def test_every_profile_route_is_404_to_intruders(
    app: Flask, client: FlaskClient, intruder: str
) -> None:
    holder = make_patient()
    patient_id = _patient(holder).id
    entry_id = _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Latex")
    measure_id = _measure(holder, MeasureKind.WEIGHT, 64)
    account = {
        "agent": make_agent,
        "other_patient": make_patient,
        "unauthorised_professional": make_professional,
    }[intruder]()
    login_as(client, account)
    token = fresh_csrf(client)
    checked = 0
    for rule in _profile_rules(app):
        own_profile = not ({"patient_id", "row_id"} & rule.arguments)
        if own_profile and intruder == "other_patient":
            continue  # her own profile: answered, and about her only
        for path in _paths(rule, patient_id, entry_id, measure_id):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                data = (
                    {"csrf_token": token, "version": "1", "label": "X"}
                    if method == "POST"
                    else None
                )
                for headers in (None, HTMX):
                    response = client.open(path, method=method, data=data, headers=headers)
                    assert response.status_code == HTTPStatus.NOT_FOUND, (path, method, headers)
                    checked += 1
    assert checked >= 60
    assert [e.label for e in _entries()] == ["Latex"] and _entries()[0].version == 1
    assert not _entries()[0].masked_from_pros and _entries()[0].deleted_at is None
    assert [m.value for m in _measures()] == [64] and _measures()[0].version == 1


def test_the_route_inventory_is_complete(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in _profile_rules(app)}
    assert endpoints == {
        "profile.summary",
        "profile.section",
        "profile.check",
        "profile.add",
        "profile.edit",
        "profile.delete",
        "profile.mask",
    }


def test_another_patients_own_profile_shows_nothing_of_the_holder(
    app: Flask, client: FlaskClient
) -> None:
    holder = make_patient()
    _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Pénicilline")
    other = make_patient()
    login_as(client, other)
    for path in ("/profile/", "/profile/allergies"):
        response = client.get(path)
        assert response.status_code == HTTPStatus.OK and "Pénicilline" not in page_text(response)


# --- query counts ---------------------------------------------------------------------------------


def _bulk(holder: Account, count: int, start: int = 0) -> None:
    sections = [
        (Section.ALLERGIES, EntryKind.ALLERGY),
        (Section.TREATMENTS, EntryKind.TREATMENT),
        (Section.CONDITIONS, EntryKind.CONDITION),
        (Section.WISHES, EntryKind.ORGAN_DONATION),
        (Section.PEOPLE, EntryKind.EMERGENCY_CONTACT),
        (Section.VACCINATIONS, EntryKind.VACCINATION),
        (Section.FAMILY, EntryKind.FAMILY),
        (Section.MEASUREMENTS, EntryKind.BLOOD_GROUP),
    ]
    kinds = list(MeasureKind)
    now = clock.now()
    patient_id = _patient(holder).id
    author = {"author_kind": "patient", "author_account_id": holder.id, "author_label": "Alice"}
    for n in range(start, start + count):
        section, kind = sections[n % len(sections)]
        db.session.add(
            ProfileEntry(
                patient_id=patient_id,
                section=section.value,
                kind=kind.value,
                label=f"Entrée {n}",
                masked_from_pros=n % 7 == 0,
                created_at=now,
                updated_at=now,
                **author,
            )
        )
        db.session.add(
            Measurement(
                patient_id=patient_id,
                kind=kinds[n % len(kinds)].value,
                measured_on=_today() - timedelta(days=n),
                value=70 + n % 10,
                value2=60.0,
                unit="kg",
                fasting=True,
                masked_from_pros=n % 5 == 0,
                created_at=now,
                updated_at=now,
                **author,
            )
        )
    db.session.commit()


def _count(app: Flask, client: FlaskClient, path: str) -> int:
    with counting(app) as statements:
        assert client.get(path).status_code == HTTPStatus.OK
    return len(statements)


def test_the_summary_query_count_does_not_grow(app: Flask, client: FlaskClient) -> None:
    """5 or 100 entries and measurements: the same queries, for the holder, the médecin
    traitant (who sees the masked ones) and a pharmacist (who does not)."""
    holder = make_patient()
    patient_id = _patient(holder).id
    traitant = make_professional()
    pharmacist = make_professional(profession="pharmacien", specialty=None)
    authorise(traitant, holder, traitant=True)
    authorise(pharmacist, holder)
    readers = {
        "holder": (_signed_in(app, holder), "/profile/"),
        "traitant": (_signed_in(app, traitant), f"/profile/patients/{patient_id}/"),
        "pharmacist": (_signed_in(app, pharmacist), f"/profile/patients/{patient_id}/"),
    }
    for browser, path in readers.values():
        assert browser.get(path).status_code == HTTPStatus.OK  # sessions warmed up
    _bulk(holder, 5)
    small = {name: _count(app, browser, path) for name, (browser, path) in readers.items()}
    _bulk(holder, 95, start=5)
    assert db.session.scalar(select(func.count()).select_from(ProfileEntry)) == 100
    assert db.session.scalar(select(func.count()).select_from(Measurement)) == 100
    large = {name: _count(app, browser, path) for name, (browser, path) in readers.items()}
    assert large == small
    assert "Entrée 96" in _words(readers["traitant"][0].get(readers["traitant"][1]))


@pytest.mark.parametrize("section", ["treatments", "measurements"])
def test_a_section_page_query_count_does_not_grow(
    app: Flask, client: FlaskClient, section: str
) -> None:
    """A section page with its rows, charts and per-row rights: flat for every reader."""
    holder = make_patient()
    patient_id = _patient(holder).id
    pharmacist = make_professional(profession="pharmacien", specialty=None)
    authorise(pharmacist, holder)
    readers = {
        "holder": (_signed_in(app, holder), f"/profile/{section}"),
        "pharmacist": (_signed_in(app, pharmacist), f"/profile/patients/{patient_id}/{section}"),
    }
    for browser, path in readers.values():
        assert browser.get(path).status_code == HTTPStatus.OK
    _bulk(holder, 5)
    small = {name: _count(app, browser, path) for name, (browser, path) in readers.items()}
    _bulk(holder, 95, start=5)
    large = {name: _count(app, browser, path) for name, (browser, path) in readers.items()}
    assert large == small


def test_the_measurements_are_paged_and_the_charts_keep_two_years(
    client: FlaskClient, holder: Account
) -> None:
    """Years of daily readings: the list comes 25 at a time, newest first; the chart draws
    the last two years only; the summary still shows the latest reading."""
    day = _today()
    for n in range(60):
        _measure(
            holder,
            MeasureKind.BLOOD_PRESSURE,
            120 + n % 10,
            value2=80,
            measured_on=day - timedelta(days=20 * n),
        )
    first = page_text(client.get("/profile/measurements"))
    assert first.count('id="row-measurements-') == 25
    assert "Page 1 sur 3" in first and "Page suivante" in first
    last = page_text(client.get("/profile/measurements?page=3"))
    assert last.count('id="row-measurements-') == 10
    # 60 readings 20 days apart span more than three years; the chart keeps 730 days.
    table_rows = (
        first.split('<table class="data">')[1].split("</table>")[0].count('<th scope="row">')
    )
    assert table_rows == 12  # the table beside the chart shows the latest twelve
    markers = first.split('<figure class="chart">')[1].split("</figure>")[0].count("<title>")
    charted = len([n for n in range(60) if 20 * n <= 730])
    assert markers >= 2 * charted and markers < 2 * 60
    assert "Tension 120/80 mmHg" in _words(client.get("/profile/"))
