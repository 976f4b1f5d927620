"""The world the fuzz test (tests/test_fuzz.py) runs in, and its roles: a browser signed in
as a patient, a professional, a SAMU regulator or a counter agent, or standing at a step of a
public path (signing in, activating an account, activating a record)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.builders import (
    PASSWORD,
    authorise,
    csrf_from,
    login_as,
    make_agent,
    make_beneficiary,
    make_patient,
    make_professional,
    submit_password,
)
from tests.fuzz_forms import PDF
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Beneficiary, EntryKind, MeasureKind, MessageAttachment, Section
from webapp.models.account import AccountState
from webapp.services import accounts, agenda, assisted, documents, enrolment, messages, profile

# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    holder: Account
    other: Account
    doctor: Account
    regulator: Account
    agent: Account
    signing_in: Account
    counter_person: Beneficiary
    pro_person: Beneficiary
    # Ids of what belongs to someone else, by the name of the URL argument that carries them.
    others: dict[str, list[int]] = field(default_factory=dict)


ENTRIES: list[tuple[Section, EntryKind, dict[str, object]]] = [
    (Section.CONDITIONS, EntryKind.CONDITION, {"label": "Asthme", "start_date": date(2010, 1, 1)}),
    (Section.CONDITIONS, EntryKind.SURGERY, {"label": "Appendicectomie"}),
    (Section.ALLERGIES, EntryKind.ALLERGY, {"label": "Pénicilline", "severity": "severe"}),
    (Section.TREATMENTS, EntryKind.TREATMENT, {"label": "Ventoline", "dose": "2 bouffées"}),
    (
        Section.VACCINATIONS,
        EntryKind.VACCINATION,
        {"label": "Grippe", "start_date": date(2025, 10, 1)},
    ),
    (Section.FAMILY, EntryKind.FAMILY, {"relation": "mère", "label": "Diabète"}),
    (Section.MEASUREMENTS, EntryKind.BLOOD_GROUP, {"label": "A+"}),
    (Section.WISHES, EntryKind.ADVANCE_DIRECTIVES, {"text": "Pas d'acharnement."}),
    (Section.WISHES, EntryKind.ORGAN_DONATION, {"label": "favorable"}),
    (Section.PEOPLE, EntryKind.TRUSTED_PERSON, {"label": "Jean Martin", "phone": "+33612345678"}),
    (Section.PEOPLE, EntryKind.EMERGENCY_CONTACT, {"label": "Léa Martin", "phone": "+33612345679"}),
]
MEASURES: list[tuple[MeasureKind, dict[str, object]]] = [
    (MeasureKind.WEIGHT, {"value": 64.5, "unit": "kg"}),
    (MeasureKind.HEIGHT, {"value": 168.0, "unit": "cm"}),
    (MeasureKind.BLOOD_PRESSURE, {"value": 125.0, "value2": 80.0, "unit": "mmHg"}),
    (MeasureKind.GLUCOSE, {"value": 5.3, "unit": "mmol/L", "fasting": True}),
]


def _profile(account: Account) -> list[int]:
    assert account.patient is not None
    rows = [
        profile.add_entry(account, account.patient, section, kind, values).id
        for section, kind, values in ENTRIES
    ]
    for kind, values in MEASURES:
        measured = {"measured_on": date(2025, 6, 1), **values}
        rows.append(profile.add_measurement(account, account.patient, kind, measured).id)
    return rows


def _conversation(pro: Account, patient: Account) -> tuple[int, int]:
    assert patient.patient is not None
    conversation = messages.start(
        pro,
        patient.patient,
        subject="Vos résultats",
        body="Tout est normal.",
        attachment=messages.Upload(io.BytesIO(PDF), "bilan.pdf"),
    )
    db.session.flush()
    attachment = db.session.scalars(
        db.select(MessageAttachment.id).order_by(MessageAttachment.id.desc())
    ).first()
    assert attachment is not None
    return conversation.id, attachment


def _appointment(pro: Account, patient: Account, hour: int) -> int:
    """An appointment with the professional, ten days ahead, as the patient books it."""
    assert patient.patient is not None
    day = clock.to_paris(clock.now()).date() + timedelta(days=10)
    details = agenda.Details(
        title="Consultation de suivi",
        day=day,
        at=time(hour, 0),
        duration=30,
        place="Cabinet",
        note="Apporter l'ordonnance",
        professional=pro.professional,
    )
    return agenda.create(patient, patient.patient, details).id


def build_world() -> World:
    holder, other, signing_in = make_patient(), make_patient(), make_patient()
    doctor, stranger = make_professional(), make_professional()
    pharmacist = make_professional(profession="pharmacien", specialty=None)
    regulator = make_professional()
    assert regulator.professional is not None and holder.patient is not None
    regulator.professional.samu_regulator = True
    agent, other_agent = make_agent(), make_agent()
    authorise(doctor, holder, traitant=True)
    authorise(pharmacist, holder)
    assert other.patient is not None and stranger.professional is not None
    theirs = []
    for author, patient, held in (
        (holder, holder, False),
        (doctor, holder, True),
        (other, other, False),
    ):
        assert patient.patient is not None
        doc = documents.add(
            author,
            patient.patient,
            stream=io.BytesIO(PDF),
            file_name="bilan.pdf",
            title="Bilan sanguin",
            category="biologie",
            care_date=date(2025, 3, 3),
            hold_from_patient=held,
        )
        theirs.append(doc.id)
    _profile(holder)
    _conversation(doctor, holder)
    _appointment(doctor, holder, 9)
    their_rows = _profile(other)
    their_conversation, their_attachment = _conversation(stranger, other)
    their_appointment = _appointment(stranger, other, 10)
    their_visit = assisted.start(other_agent, make_beneficiary())
    db.session.commit()
    return World(
        holder=holder,
        other=other,
        doctor=doctor,
        regulator=regulator,
        agent=agent,
        signing_in=signing_in,
        counter_person=make_beneficiary(),
        pro_person=make_beneficiary(),
        others={
            "document_id": theirs[-1:],
            "row_id": their_rows[:1] + their_rows[-1:],
            "conversation_id": [their_conversation],
            "appointment_id": [their_appointment],
            "attachment_id": [their_attachment],
            "patient_id": [other.patient.id],
            "professional_id": [stranger.professional.id],
            "visit_id": [their_visit.id],
        },
    )


# --- the roles ----------------------------------------------------------------------------------


@dataclass
class Actor:
    """A browser in one state: signed in as someone, or at a step of a public path."""

    name: str
    app: Flask
    enter: Callable[[Actor], list[str]]  # reaches the state; returns pages to start from
    token_page: str  # a page with a CSRF token, answering 200 while the state holds
    probe: str  # a cheaper page that answers 200 while the state holds
    signed_in: bool
    hints: dict[str, str] = field(default_factory=dict)  # right values, by field name
    starts: list[str] = field(default_factory=list)
    token: str = ""
    client: FlaskClient = field(init=False)

    def begin(self) -> None:
        """Reach the state in a browser of its own (the previous one is left as it was)."""
        self.client = self.app.test_client()
        self.starts = self.enter(self)
        page = self.client.get(self.token_page)
        assert page.status_code == HTTPStatus.OK, (self.name, self.token_page, page.status_code)
        self.token = csrf_from(page)

    def post(self, url: str, data: dict[str, str], page: str | None = None) -> TestResponse:
        token = csrf_from(self.client.get(page or url))
        return self.client.post(url, data={**data, "csrf_token": token})


def local_location(response: TestResponse) -> list[str]:
    location = response.headers.get("Location", "")
    return [urlsplit(location).path] if location.startswith("/") else []


def _sign_in(account: Account) -> Callable[[Actor], list[str]]:
    def enter(actor: Actor) -> list[str]:
        login_as(actor.client, account)
        return ["/"]

    return enter


def _professional(world: World, account: Account) -> Callable[[Actor], list[str]]:
    """Signed in, with a patient identified by NIR and name (the ways in: consent, deposit,
    emergency) and a visit under way."""

    def enter(actor: Actor) -> list[str]:
        login_as(actor.client, account)
        other = world.other.patient
        assert other is not None
        actor.post("/pro/find", {"find-nir": other.nir, "find-last_name": other.last_name}, "/pro/")
        person = world.pro_person
        visit = actor.post(
            "/pro/identify", {"nir": person.nir, "vitale_serial": person.vitale_serial}, "/pro/"
        )
        return ["/pro/", f"/pro/patients/{other.id}", *local_location(visit)]

    return enter


def _agent(world: World) -> Callable[[Actor], list[str]]:
    def enter(actor: Actor) -> list[str]:
        login_as(actor.client, world.agent)
        person = world.counter_person
        visit = actor.post(
            "/counter/identify",
            {"nir": person.nir, "vitale_serial": person.vitale_serial},
            "/counter/",
        )
        return ["/counter/", *local_location(visit)]

    return enter


def _enrolling(actor: Actor) -> list[str]:
    """A person activating their record with a provisional code, at its last step."""
    person = make_beneficiary()
    _patient, code = enrolment.send_code(person, "email", issued_by="campaign", actor=None)
    db.session.commit()
    identity = {
        "code": code,
        "nir": person.nir,
        "vitale_serial": person.vitale_serial,
        "birth_date": person.birth_date.isoformat(),
    }
    actor.hints.update({k: v for k, v in identity.items() if k != "code"})
    assert actor.post("/enrolment/activate", identity).status_code == HTTPStatus.SEE_OTHER
    actor.post("/enrolment/contacts", {"keep_email": "keep", "keep_mobile": "keep"})
    chosen = {
        "identifier": f"fuzz.{person.id}",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "second_factor": "email",
    }
    done = actor.post("/enrolment/account", chosen)
    assert done.headers.get("Location") == "/enrolment/emergency", done.status_code
    return ["/enrolment/choice", "/enrolment/oppose", "/enrolment/contacts", "/enrolment/account"]


def _awaiting_code(account: Account) -> Callable[[Actor], list[str]]:
    def enter(actor: Actor) -> list[str]:
        assert submit_password(actor.client, account.identifier).status_code == 303
        return ["/auth/verify"]

    return enter


def _activating(link_app: bool) -> Callable[[Actor], list[str]]:
    """A professional who opened their activation link: choosing a password, or (after it)
    linking an authenticator app."""

    def enter(actor: Actor) -> list[str]:
        account = make_professional(enrolled=False, state=AccountState.PENDING_ACTIVATION)
        token = accounts.issue_activation(account)
        db.session.commit()
        assert actor.client.get(f"/auth/activate/{token}").status_code == 303
        if link_app:
            chosen = {"password": PASSWORD, "confirm": PASSWORD}
            assert actor.post("/auth/activate", chosen).status_code == 303
            return ["/auth/enrol"]
        return ["/auth/activate"]

    return enter


def _nothing(actor: Actor) -> list[str]:
    return ["/", "/auth/login", "/enrolment/activate", "/enrolment/code"]


ROLES = [
    "anonymous",
    "enrolling",
    "awaiting_code",
    "activating",
    "linking_app",
    "agent",
    "professional",
    "samu_regulator",
    "patient",
]


def make_actor(role: str, world: World, app: Flask) -> Actor:
    holder = world.holder.patient
    assert holder is not None and world.other.patient is not None
    card = {
        "nir": world.counter_person.nir,
        "vitale_serial": world.counter_person.vitale_serial,
        "birth_date": world.counter_person.birth_date.isoformat(),
    }
    pro_hints = {
        "nir": world.pro_person.nir,
        "vitale_serial": world.pro_person.vitale_serial,
        "find-nir": holder.nir,
        "find-last_name": holder.last_name,
    }
    unread, ways_in = "/messages/unread", f"/pro/patients/{world.other.patient.id}"
    # How each role reaches its state, a page with a CSRF token, a page that answers 200 while
    # the state holds, whether it is signed in, and the right values its forms want.
    built: dict[str, tuple[Callable[[Actor], list[str]], str, str, bool, dict[str, str]]] = {
        "anonymous": (_nothing, "/auth/login", "/auth/login", False, card),
        "enrolling": (_enrolling, "/enrolment/emergency", "/enrolment/emergency", False, {}),
        "awaiting_code": (
            _awaiting_code(world.signing_in),
            "/auth/verify",
            "/auth/verify",
            False,
            {},
        ),
        "activating": (_activating(False), "/auth/activate", "/auth/activate", False, {}),
        "linking_app": (_activating(True), "/auth/enrol", "/auth/enrol", False, {}),
        "patient": (_sign_in(world.holder), "/settings/", unread, True, {}),
        "professional": (_professional(world, world.doctor), "/pro/", ways_in, True, pro_hints),
        "samu_regulator": (
            _professional(world, world.regulator),
            "/pro/",
            ways_in,
            True,
            pro_hints,
        ),
        "agent": (_agent(world), "/counter/", "/counter/", True, card),
    }
    enter, token_page, probe, signed_in, hints = built[role]
    return Actor(role, app, enter, token_page, probe, signed_in, dict(hints))
