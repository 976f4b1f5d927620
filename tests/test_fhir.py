"""The record as a FHIR R4 Bundle (services/fhir.py): it parses back with fhir.resources' R4B
models, every reference resolves inside it, and the codes are the standard ones."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from datetime import date, time, timedelta
from http import HTTPStatus
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import (
    authorise,
    fresh_csrf,
    login_as,
    make_patient,
    make_professional,
    pdf_file,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, EntryKind, MeasureKind, Patient, Section
from webapp.services import agenda, documents, fhir, messages, profile


def _patient(account: Account) -> Patient:
    assert account.patient is not None
    return account.patient


@pytest.fixture
def holder(app: Flask) -> Account:
    account = make_patient()
    _patient(account).first_names = "Alice Marie"
    db.session.commit()
    return account


@pytest.fixture
def doctor(holder: Account) -> Account:
    pro = make_professional()
    authorise(pro, holder, traitant=True)
    return pro


@pytest.fixture
def record(holder: Account, doctor: Account) -> Account:
    """A record with something in every part of the bundle."""
    patient = _patient(holder)
    entries: list[tuple[Section, EntryKind, dict[str, object]]] = [
        (
            Section.ALLERGIES,
            EntryKind.ALLERGY,
            {"label": "Pénicilline", "reaction": "Urticaire", "severity": "severe"},
        ),
        (
            Section.CONDITIONS,
            EntryKind.CONDITION,
            {"label": "Asthme", "start_date": date(2001, 5, 1)},
        ),
        (Section.CONDITIONS, EntryKind.SURGERY, {"label": "Appendicectomie"}),
        (
            Section.TREATMENTS,
            EntryKind.TREATMENT,
            {
                "label": "Ventoline",
                "dose": "2 bouffées",
                "frequency": "si besoin",
                "start_date": date(2020, 1, 1),
            },
        ),
        (
            Section.VACCINATIONS,
            EntryKind.VACCINATION,
            {"label": "DTP", "start_date": date(2019, 9, 3), "batch": "L123"},
        ),
        (Section.VACCINATIONS, EntryKind.VACCINATION, {"label": "BCG"}),
        (Section.FAMILY, EntryKind.FAMILY, {"label": "Diabète", "relation": "mère"}),
        (Section.MEASUREMENTS, EntryKind.BLOOD_GROUP, {"label": "O+"}),
        (
            Section.PEOPLE,
            EntryKind.TRUSTED_PERSON,
            {"label": "Paul Durand", "relation": "frère", "phone": "0601020304"},
        ),
    ]
    for section, kind, values in entries:
        profile.add_entry(holder, patient, section, kind, values)
    measures: list[tuple[MeasureKind, dict[str, object]]] = [
        (MeasureKind.HEIGHT, {"measured_on": date(2025, 1, 1), "value": 170.0, "unit": "cm"}),
        (MeasureKind.WEIGHT, {"measured_on": date(2025, 1, 2), "value": 72.25, "unit": "kg"}),
        (
            MeasureKind.BLOOD_PRESSURE,
            {"measured_on": date(2025, 1, 3), "value": 128.0, "value2": 82.0, "unit": "mmHg"},
        ),
        (
            MeasureKind.GLUCOSE,
            {"measured_on": date(2025, 1, 4), "value": 5.3, "unit": "mmol/L", "fasting": True},
        ),
        (
            MeasureKind.GLUCOSE,
            {"measured_on": date(2025, 1, 5), "value": 5.551, "unit": "g/L", "fasting": True},
        ),
    ]
    for measure, numbers in measures:
        profile.add_measurement(holder, patient, measure, numbers)
    pro = doctor.professional
    day = clock.to_paris(clock.now()).date() + timedelta(days=7)
    details = agenda.Details(
        "Contrôle asthme", day, time(10, 30), 30, "Cabinet rue Haute", "Apporter le débitmètre", pro
    )
    agenda.create(holder, patient, details)
    conversation = messages.start(doctor, patient, subject="Vos résultats", body="Tout va bien.")
    db.session.commit()
    messages.reply(holder, conversation, body="Merci docteur !")
    documents.add(
        holder,
        patient,
        stream=io.BytesIO(pdf_file("Bilan")),
        file_name="bilan.pdf",
        title="Bilan sanguin",
        category="biologie",
        care_date=date(2025, 3, 12),
        type_code="11502-2",
    )
    db.session.commit()
    return holder


def exported(client: FlaskClient, holder: Account) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    login_as(client, holder)
    response = client.post(
        "/settings/export", data={"csrf_token": fresh_csrf(client)}, buffered=True
    )
    assert response.status_code == HTTPStatus.OK
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    return archive, json.loads(archive.read("fhir.json"))


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def references(value: object) -> list[str]:
    """Every `reference` anywhere in the JSON."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def loinc(resource: dict[str, Any]) -> str:
    codings = [c for c in resource["code"]["coding"] if c["system"] == "http://loinc.org"]
    return str(codings[0]["code"])


class TestBundle:
    def test_it_parses_back_and_every_reference_resolves(
        self, client: FlaskClient, record: Account
    ) -> None:
        archive, bundle = exported(client, record)
        parsed = Bundle.model_validate_json(archive.read("fhir.json"))
        assert parsed.type == "collection"
        assert bundle["resourceType"] == "Bundle"
        urls = [entry["fullUrl"] for entry in bundle["entry"]]
        assert len(urls) == len(set(urls))
        assert all(url.startswith("urn:uuid:") for url in urls)
        refs = references(bundle)
        assert refs and set(refs) <= set(urls)
        kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
        assert {
            "Patient",
            "AllergyIntolerance",
            "Condition",
            "MedicationStatement",
            "Immunization",
            "Observation",
            "Appointment",
            "DocumentReference",
            "Communication",
            "Consent",
            "Practitioner",
            "FamilyMemberHistory",
        } <= kinds

    def test_full_urls_are_stable_between_exports(self, record: Account) -> None:
        patient = _patient(record)
        first = fhir.record_bundle(record, patient, [])
        second = fhir.record_bundle(record, patient, [])
        assert first.entry is not None and second.entry is not None
        assert [e.fullUrl for e in first.entry] == [e.fullUrl for e in second.entry]

    def test_the_streamed_json_is_the_same_bundle(self, record: Account) -> None:
        patient = _patient(record)
        out = io.BytesIO()
        fhir.write_bundle(out, record, patient, [])
        streamed = Bundle.model_validate_json(out.getvalue())
        whole = fhir.record_bundle(record, patient, [])
        assert streamed.entry and whole.entry and len(streamed.entry) > 20
        assert [e.model_dump() for e in streamed.entry] == [e.model_dump() for e in whole.entry]
        assert (streamed.type, streamed.identifier) == (whole.type, whole.identifier)

    def test_the_patient_is_identified_by_her_nir(
        self, client: FlaskClient, record: Account
    ) -> None:
        _, bundle = exported(client, record)
        (patient,) = resources(bundle, "Patient")
        assert patient["identifier"] == [
            {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": _patient(record).nir}
        ]
        assert patient["name"][0]["given"] == ["Alice", "Marie"]
        assert patient["gender"] == "female" and patient["birthDate"] == "1980-01-01"
        assert patient["contact"][0]["name"]["text"] == "Paul Durand"


class TestMeasurements:
    @pytest.mark.parametrize(
        ("code", "unit", "value"),
        [
            ("8302-2", "cm", 170.0),
            ("29463-7", "kg", 72.25),
            ("15074-8", "mmol/L", 5.3),
            ("2339-0", "mg/dL", 100.0),
            ("39156-5", "kg/m2", 25.0),
        ],
    )
    def test_loinc_codes_and_ucum_units(
        self, client: FlaskClient, record: Account, code: str, unit: str, value: float
    ) -> None:
        _, bundle = exported(client, record)
        found = [o for o in resources(bundle, "Observation") if loinc(o) == code]
        assert len(found) == 1
        quantity = found[0]["valueQuantity"]
        assert quantity["system"] == "http://unitsofmeasure.org"
        assert quantity["code"] == quantity["unit"] == unit
        assert quantity["value"] == pytest.approx(value, abs=0.01)

    def test_blood_pressure_is_a_panel_of_two(self, client: FlaskClient, record: Account) -> None:
        _, bundle = exported(client, record)
        (panel,) = [o for o in resources(bundle, "Observation") if loinc(o) == "85354-9"]
        parts = {loinc(c): c["valueQuantity"] for c in panel["component"]}
        assert parts["8480-6"]["value"] == 128 and parts["8462-4"]["value"] == 82
        assert {q["code"] for q in parts.values()} == {"mm[Hg]"}


class TestOtherResources:
    def test_documents_point_into_the_zip(self, client: FlaskClient, record: Account) -> None:
        archive, bundle = exported(client, record)
        (reference,) = resources(bundle, "DocumentReference")
        coding = reference["type"]["coding"][0]
        assert (coding["system"], coding["code"]) == ("http://loinc.org", "11502-2")
        attachment = reference["content"][0]["attachment"]
        content = archive.read(attachment["url"])
        assert attachment["url"] == "documents/2025-03-12 Bilan sanguin.pdf"
        assert content == pdf_file("Bilan") and attachment["size"] == len(content)
        assert attachment["hash"] == base64.b64encode(hashlib.sha1(content).digest()).decode()
        assert attachment["contentType"] == "application/pdf"
        assert attachment["creation"] == "2025-03-12"

    def test_messages_are_communications_in_clear(
        self, client: FlaskClient, record: Account
    ) -> None:
        _, bundle = exported(client, record)
        sent = resources(bundle, "Communication")
        texts = [c["payload"][0]["contentString"] for c in sent]
        assert texts == ["Tout va bien.", "Merci docteur !"]
        assert sent[1]["inResponseTo"][0]["reference"] == next(
            e["fullUrl"] for e in bundle["entry"] if e["resource"] is sent[0]
        )
        assert sent[0]["topic"]["text"] == "Vos résultats"

    def test_appointments_keep_their_note_and_place(
        self, client: FlaskClient, record: Account
    ) -> None:
        _, bundle = exported(client, record)
        (appointment,) = resources(bundle, "Appointment")
        assert appointment["status"] == "booked"
        assert appointment["comment"] == "Apporter le débitmètre"
        assert appointment["minutesDuration"] == 30
        (place,) = resources(bundle, "Location")
        assert place["name"] == "Cabinet rue Haute"

    def test_profile_entries(self, client: FlaskClient, record: Account) -> None:
        _, bundle = exported(client, record)
        (allergy,) = resources(bundle, "AllergyIntolerance")
        assert allergy["code"]["text"] == "Pénicilline"
        assert allergy["reaction"][0]["severity"] == "severe"
        vaccines = {i["vaccineCode"]["text"]: i for i in resources(bundle, "Immunization")}
        assert vaccines["DTP"]["occurrenceDateTime"] == "2019-09-03"
        assert vaccines["DTP"]["lotNumber"] == "L123"
        assert "occurrenceString" in vaccines["BCG"]
        (treatment,) = resources(bundle, "MedicationStatement")
        assert treatment["status"] == "active"
        assert treatment["dosage"][0]["text"] == "2 bouffées si besoin"
        assert {c["code"]["text"] for c in resources(bundle, "Condition")} == {
            "Asthme",
            "Appendicectomie",
        }
        (consent,) = resources(bundle, "Consent")
        assert consent["provision"]["type"] == "permit"
