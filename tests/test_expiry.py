"""Every time limit, seen from outside: requests through the test client, the clock moved.

The idle and absolute session limits and the emergency window are read from the settings,
so each test moves the clock to just under its limit (still open) and just past it (closed).
"Just under" keeps a minute in hand for the real time the requests themselves take; real time
only ever moves further past a limit, so the tests cannot pass by luck. The `app` fixture
puts the clock back after each test.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import timedelta
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.builders import (
    login_as,
    make_beneficiary,
    make_document,
    make_patient,
    make_professional,
    outbox_code,
)
from tests.test_emergency import identify, open_emergency
from tests.test_enrolment import identity, issue_for, post_form
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import AccessEvent, Account, UserSession
from webapp.services import emergency
from webapp.services.audit import Action

MARGIN = 60  # seconds kept in hand under a limit, for the time the requests take
PAST = 1  # seconds past a limit


def _minutes(minutes: int) -> float:
    return timedelta(minutes=minutes).total_seconds()


def _words(response: TestResponse) -> str:
    text = html.unescape(response.get_data(as_text=True))
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def _sent_to_sign_in(response: TestResponse) -> bool:
    return response.status_code == HTTPStatus.FOUND and response.headers["Location"].startswith(
        "/auth/login"
    )


def _sessions(account: Account) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(UserSession.account_id == account.id)))


def _use(app: Flask, settings: Settings, **changes: object) -> Settings:
    """Run the app with other limits, as a deployment's configuration would set them."""
    changed = replace(settings, **changes)  # type: ignore[arg-type]
    app.extensions["carnet.settings"] = changed
    return changed


# --- sessions ----------------------------------------------------------------------------------


class TestIdleLimit:
    def test_a_patient_just_under_the_limit_is_still_signed_in(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        login_as(client, make_patient())
        clock.advance(_minutes(settings.idle_minutes_patient) - MARGIN)
        assert client.get("/documents/").status_code == HTTPStatus.OK

    def test_a_patient_past_the_limit_is_sent_to_sign_in(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        patient = make_patient()
        login_as(client, patient)
        clock.advance(_minutes(settings.idle_minutes_patient) + PAST)
        assert _sent_to_sign_in(client.get("/documents/"))
        (row,) = _sessions(patient)
        assert row.revoked_at is not None, "the session row is ended, not just ignored"
        assert _sent_to_sign_in(client.get("/settings/")), "and it stays ended"

    def test_each_page_restarts_the_idle_time(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        login_as(client, make_patient())
        step = _minutes(settings.idle_minutes_patient) - MARGIN
        for _ in range(3):  # three times the limit in all, never idle for as long
            clock.advance(step)
            assert client.get("/documents/").status_code == HTTPStatus.OK

    def test_a_professional_has_the_shorter_limit(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        assert settings.idle_minutes_staff < settings.idle_minutes_patient
        login_as(client, make_professional())
        clock.advance(_minutes(settings.idle_minutes_staff) - MARGIN)
        assert client.get("/pro/").status_code == HTTPStatus.OK
        clock.advance(_minutes(settings.idle_minutes_staff) + PAST)
        assert _sent_to_sign_in(client.get("/pro/"))

    def test_the_limit_is_the_configured_one(
        self, app: Flask, client: FlaskClient, settings: Settings
    ) -> None:
        short = _use(app, settings, idle_minutes_patient=5)
        login_as(client, make_patient())
        clock.advance(_minutes(short.idle_minutes_patient) - MARGIN)
        assert client.get("/documents/").status_code == HTTPStatus.OK
        clock.advance(_minutes(short.idle_minutes_patient) + PAST)
        assert _sent_to_sign_in(client.get("/documents/"))


class TestAbsoluteLimit:
    def test_a_busy_session_ends_at_the_absolute_limit(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        patient = make_patient()
        login_as(client, patient)
        limit = timedelta(hours=settings.absolute_hours).total_seconds()
        step = _minutes(settings.idle_minutes_patient) - 5 * 60  # never idle long enough
        elapsed = 0.0
        while elapsed + step < limit - MARGIN:
            clock.advance(step)
            elapsed += step
            assert client.get("/documents/").status_code == HTTPStatus.OK, elapsed
        clock.advance(limit - MARGIN - elapsed)
        assert client.get("/documents/").status_code == HTTPStatus.OK, "just under"
        clock.advance(MARGIN + PAST)  # busy a minute ago, but signed in for too long
        assert _sent_to_sign_in(client.get("/documents/"))
        (row,) = _sessions(patient)
        assert row.revoked_at is not None

    def test_the_absolute_limit_is_the_configured_one(
        self, app: Flask, client: FlaskClient, settings: Settings
    ) -> None:
        short = _use(app, settings, absolute_hours=1)
        login_as(client, make_patient())
        for _ in range(2):
            clock.advance(25 * 60)
            assert client.get("/documents/").status_code == HTTPStatus.OK
        clock.advance(_minutes(60 * short.absolute_hours) - 50 * 60 + PAST)
        assert _sent_to_sign_in(client.get("/documents/"))


# --- the emergency window ----------------------------------------------------------------------


@pytest.fixture
def holder() -> Account:
    return make_patient()


@pytest.fixture
def pro(client: FlaskClient, holder: Account) -> Account:
    """An emergency physician, signed in, who identified the patient."""
    account = make_professional(specialty="medecine_urgence")
    login_as(client, account)
    identify(client, holder)
    return account


def _keep_busy_until(client: FlaskClient, seconds: float, settings: Settings) -> None:
    """Move the clock `seconds` on, with a page at least every few minutes, so that the
    professional's own session never reaches its idle limit meanwhile."""
    step = _minutes(settings.idle_minutes_staff) - 5 * 60
    while seconds > 0:
        moved = min(step, seconds)
        clock.advance(moved)
        seconds -= moved
        assert client.get("/pro/").status_code == HTTPStatus.OK


class TestEmergencyWindow:
    def test_the_record_is_open_until_the_window_ends_then_refused(
        self, client: FlaskClient, holder: Account, pro: Account, settings: Settings
    ) -> None:
        assert holder.patient is not None
        doc = make_document(holder, title="Bilan sanguin")
        record = f"/pro/patients/{holder.patient.id}"
        assert open_emergency(client, holder).status_code == HTTPStatus.SEE_OTHER
        window = _minutes(settings.emergency_minutes)

        _keep_busy_until(client, window - MARGIN, settings)
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.OK
        page = _words(client.get(record))
        assert "Accès en urgence —" in page and "Bilan sanguin" in page

        clock.advance(MARGIN + PAST)
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.NOT_FOUND
        after = client.get(record)
        assert "emergency-banner" not in after.get_data(as_text=True)
        assert "Accès en urgence —" not in _words(after) and "Bilan sanguin" not in _words(after)
        assert "Accès en urgence —" not in _words(client.get("/pro/"))
        assert emergency.open_for(pro) is None

    def test_a_window_of_another_configured_length(
        self,
        app: Flask,
        client: FlaskClient,
        holder: Account,
        pro: Account,
        settings: Settings,
    ) -> None:
        short = _use(app, settings, emergency_minutes=10)
        doc = make_document(holder)
        open_emergency(client, holder)
        window = emergency.open_for(pro)
        assert window is not None
        assert window.expires_at - window.opened_at == timedelta(minutes=short.emergency_minutes)
        clock.advance(_minutes(short.emergency_minutes) - MARGIN)
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.OK
        clock.advance(MARGIN + PAST)
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.NOT_FOUND

    def test_the_looks_are_in_the_history_only_while_the_window_was_open(
        self, client: FlaskClient, holder: Account, pro: Account, settings: Settings
    ) -> None:
        doc = make_document(holder)
        open_emergency(client, holder)
        _keep_busy_until(client, _minutes(settings.emergency_minutes) + PAST, settings)
        client.get(f"/documents/{doc.id}")
        assert holder.patient is not None
        db.session.expire_all()
        actions = list(
            db.session.scalars(
                select(AccessEvent.action).where(AccessEvent.patient_id == holder.patient.id)
            )
        )
        assert Action.EMERGENCY_OPENED in actions
        assert Action.DOCUMENT_VIEWED not in actions, "nothing was shown after the end"


# --- activation steps, kept in the signed cookie ----------------------------------------------


class TestActivationSteps:
    def test_the_steps_last_30_minutes(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        post_form(client, "/enrolment/activate", identity(person, code))
        clock.advance(30 * 60 - MARGIN)
        assert client.get("/enrolment/choice").status_code == HTTPStatus.OK
        clock.advance(MARGIN + PAST)
        response = client.get("/enrolment/choice")
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"].endswith("/enrolment/activate")

    def test_a_code_proving_a_new_address_lasts_10_minutes(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        post_form(client, "/enrolment/activate", identity(person, code))
        post_form(
            client,
            "/enrolment/contacts",
            {"keep_email": "change", "email": "nouvelle@exemple.fr", "keep_mobile": "keep"},
        )
        sent = outbox_code("nouvelle@exemple.fr", r"\b\d{6}\b")
        clock.advance(10 * 60 + PAST)
        late = post_form(client, "/enrolment/contacts/check", {"email_code": sent})
        assert late.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert client.get("/enrolment/account").status_code == HTTPStatus.SEE_OTHER
