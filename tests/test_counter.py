"""The counter console and enrolment by a professional: identify, inform, consent, open."""

from __future__ import annotations

import io
import re
from http import HTTPStatus

import pypdf
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.builders import (
    csrf_from,
    login_as,
    make_agent,
    make_beneficiary,
    make_professional,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Authorisation, Beneficiary, OutboxMessage, Patient
from webapp.models.account import RecordState
from webapp.services import assisted, lifecycle, provisional
from webapp.services.audit import Action


def identify(client: FlaskClient, base: str, person: Beneficiary) -> str:
    page = client.get(f"{base}/")
    response = client.post(
        f"{base}/identify",
        data={
            "nir": person.nir,
            "vitale_serial": person.vitale_serial,
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == HTTPStatus.SEE_OTHER, response.get_data(as_text=True)
    return response.headers["Location"]


def inform_and_consent(client: FlaskClient, visit: str) -> None:
    page = client.get(visit)
    response = client.post(
        f"{visit}/inform",
        data={
            "items": list(assisted.INFORMATION_ITEMS),
            "consent": "yes",
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == HTTPStatus.SEE_OTHER


def choose_access(client: FlaskClient, visit: str, online: str, channel: str = "") -> None:
    page = client.get(visit)
    response = client.post(
        f"{visit}/access",
        data={"online": online, "channel": channel, "csrf_token": csrf_from(page)},
    )
    assert response.status_code == HTTPStatus.SEE_OTHER, response.get_data(as_text=True)


def record_of(person: Beneficiary) -> Patient:
    db.session.expire_all()
    found = lifecycle.record_for(person)
    assert found is not None
    return found


def test_agent_opens_a_record_with_a_printed_letter_whose_code_activates(
    client: FlaskClient,
) -> None:
    agent = make_agent()
    person = make_beneficiary(email=None)
    login_as(client, agent)
    visit = identify(client, "/counter", person)
    page = client.get(visit).get_data(as_text=True)
    assert person.last_name in page and "Pas de dossier" in page
    inform_and_consent(client, visit)
    choose_access(client, visit, "yes", "print")
    patient = record_of(person)
    assert patient.record_state == RecordState.ACTIVE
    page = client.get(visit).get_data(as_text=True)
    assert re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", page) is None  # never on screen
    letter = client.get(f"{visit}/letter.pdf")
    assert letter.headers["Content-Type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(letter.data)).pages[0].extract_text()
    code = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", text)
    assert code is not None
    assert provisional.check(code.group(0), person.nir, person.vitale_serial, person.birth_date)
    events = db.session.scalars(
        select(AccessEvent).where(AccessEvent.patient_id == patient.id)
    ).all()
    assert Action.COUNTER_CONSENT in [e.action for e in events]
    assert all(e.actor_kind == "agent" for e in events if e.action == Action.COUNTER_CONSENT)
    assert "CPAM Test, Accueil 1" in " ".join(e.actor_structure for e in events)


def test_no_online_access_still_opens_the_record(client: FlaskClient) -> None:
    login_as(client, make_agent())
    person = make_beneficiary()
    visit = identify(client, "/counter", person)
    inform_and_consent(client, visit)
    choose_access(client, visit, "no")
    patient = record_of(person)
    assert patient.record_state == RecordState.ACTIVE and patient.account_id is None
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_a_code_by_sms_goes_to_the_mobile_on_file(client: FlaskClient) -> None:
    login_as(client, make_agent())
    person = make_beneficiary(mobile="+33698765432")
    visit = identify(client, "/counter", person)
    inform_and_consent(client, visit)
    choose_access(client, visit, "yes", "sms")
    message = db.session.scalars(select(OutboxMessage)).one()
    assert (message.channel, message.recipient, message.kind) == (
        "sms",
        "+33698765432",
        "provisional_code",
    )


def test_consent_needs_every_item_explained(client: FlaskClient) -> None:
    login_as(client, make_agent())
    person = make_beneficiary()
    visit = identify(client, "/counter", person)
    page = client.get(visit)
    response = client.post(
        f"{visit}/inform",
        data={"items": ["purpose"], "consent": "yes", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "Cochez chaque point" in response.get_data(as_text=True)
    response = client.post(
        f"{visit}/access",
        data={"online": "no", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert lifecycle.record_for(person) is None


def test_agent_records_an_opposition(client: FlaskClient) -> None:
    login_as(client, make_agent())
    person = make_beneficiary()
    visit = identify(client, "/counter", person)
    page = client.get(visit)
    client.post(f"{visit}/oppose", data={"confirm": "yes", "csrf_token": csrf_from(page)})
    assert record_of(person).record_state == RecordState.OPPOSED


def test_unknown_card_is_explained(client: FlaskClient) -> None:
    login_as(client, make_agent())
    person = make_beneficiary()
    page = client.get("/counter/")
    response = client.post(
        "/counter/identify",
        data={"nir": person.nir, "vitale_serial": "424242", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "Aucun assuré ne correspond" in response.get_data(as_text=True)


def test_another_agents_visit_is_404(client: FlaskClient) -> None:
    first, second = make_agent(), make_agent()
    person = make_beneficiary()
    visit = assisted.start(first, person)
    db.session.commit()
    login_as(client, second)
    assert client.get(f"/counter/visits/{visit.id}").status_code == HTTPStatus.NOT_FOUND
    assert client.get(f"/counter/visits/{visit.id}/letter.pdf").status_code == 404


def test_a_visit_ends_after_two_hours(client: FlaskClient) -> None:
    agent = make_agent()
    login_as(client, agent)
    visit = identify(client, "/counter", make_beneficiary())
    clock.advance(assisted.VISIT_LIFETIME.total_seconds() + 1)
    login_as(client, agent)
    assert client.get(visit).status_code == HTTPStatus.NOT_FOUND


def test_a_professional_creates_the_record_and_becomes_authorised(client: FlaskClient) -> None:
    pro = make_professional(profession="pharmacien", specialty=None)
    person = make_beneficiary()
    login_as(client, pro)
    visit = identify(client, "/pro", person)
    inform_and_consent(client, visit)
    choose_access(client, visit, "yes", "email")
    patient = record_of(person)
    assert patient.record_state == RecordState.ACTIVE
    grant = db.session.scalars(
        select(Authorisation).where(Authorisation.patient_id == patient.id)
    ).one()
    assert pro.professional is not None
    assert (grant.professional_id, grant.granted_by) == (pro.professional.id, "professional")


def test_reopening_a_closed_record_at_the_counter(client: FlaskClient) -> None:
    person = make_beneficiary()
    patient = lifecycle.create(person, RecordState.ACTIVE, actor=None)
    lifecycle.transition(patient, RecordState.CLOSED, actor=None)
    db.session.commit()
    login_as(client, make_agent())
    visit = identify(client, "/counter", person)
    inform_and_consent(client, visit)
    choose_access(client, visit, "no")
    assert record_of(person).record_state == RecordState.ACTIVE


def test_no_authorisation_through_a_visit_on_an_open_record(client: FlaskClient) -> None:
    pro = make_professional(profession="pharmacien", specialty=None)
    person = make_beneficiary()
    patient = lifecycle.create(person, RecordState.ACTIVE, actor=None)
    db.session.commit()
    login_as(client, pro)
    visit = identify(client, "/pro", person)
    page = client.get(visit)
    client.post(
        f"{visit}/inform",
        data={
            "items": list(assisted.INFORMATION_ITEMS),
            "consent": "yes",
            "csrf_token": csrf_from(page),
        },
    )
    response = client.post(f"{visit}/access", data={"online": "no", "csrf_token": csrf_from(page)})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    grants = db.session.scalars(
        select(Authorisation).where(Authorisation.patient_id == patient.id)
    ).all()
    assert grants == []


def test_a_suspended_record_cannot_be_reopened_at_the_counter(client: FlaskClient) -> None:
    person = make_beneficiary()
    patient = lifecycle.create(person, RecordState.ACTIVE, actor=None)
    lifecycle.transition(patient, RecordState.SUSPENDED, actor=None)
    db.session.commit()
    login_as(client, make_agent())
    visit = identify(client, "/counter", person)
    page = client.get(visit)
    client.post(
        f"{visit}/inform",
        data={
            "items": list(assisted.INFORMATION_ITEMS),
            "consent": "yes",
            "csrf_token": csrf_from(page),
        },
    )
    client.post(f"{visit}/access", data={"online": "no", "csrf_token": csrf_from(page)})
    assert record_of(person).record_state == RecordState.SUSPENDED


def test_a_pharmacist_who_creates_a_record_is_authorised_for_three_days(
    client: FlaskClient,
) -> None:
    pro = make_professional(profession="pharmacien", specialty=None)
    person = make_beneficiary()
    login_as(client, pro)
    visit = identify(client, "/pro", person)
    inform_and_consent(client, visit)
    choose_access(client, visit, "no")
    grant = db.session.scalars(select(Authorisation)).one()
    assert grant.until is not None
    assert 2.9 < (grant.until - grant.since).total_seconds() / 86400 < 3.1


def test_a_professional_sees_only_their_own_past_actions(client: FlaskClient) -> None:
    agent = make_agent()
    person = make_beneficiary()
    assisted.start(agent, person)
    db.session.commit()
    pro = make_professional()
    login_as(client, pro)
    visit = identify(client, "/pro", person)
    page = client.get(visit).get_data(as_text=True)
    assert "CPAM Test" not in page
