"""What the server gives the page so that no error goes unsaid: sizes and limits in a 413, the
reason on the sign-in page after a session ends, and the hooks app.js reads (problem region,
page announcer, file limits, the code field's focus)."""

from __future__ import annotations

import io
import re
from html import unescape
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import TestResponse

from tests.builders import (
    PASSWORD,
    authorise,
    csrf_from,
    login_as,
    make_patient,
    make_professional,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import UserSession
from webapp.services import sessions
from webapp.web.security import public

MB = 1024 * 1024
ENDED = "Vous avez été déconnecté pour protéger votre dossier"


def _text(response: TestResponse) -> str:
    return unescape(response.get_data(as_text=True))


def _declared(client: FlaskClient, path: str, size: int) -> TestResponse:
    """A multipart body that declares `size` bytes and is never read."""
    return client.post(
        path,
        input_stream=io.BytesIO(b""),
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"CONTENT_LENGTH": str(size)},
    )


class TestTooLarge:
    def test_a_patients_upload_says_its_size_and_her_limit(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        response = _declared(client, "/documents/new", 6 * MB + 300 * 1024)
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        text = _text(response)
        assert "Le fichier est trop volumineux" in text
        assert "Votre fichier pèse environ 6,3 Mo ; la limite est de 5 Mo." in text
        assert "data-problem" in text

    def test_a_professional_has_his_own_limit(self, client: FlaskClient) -> None:
        login_as(client, make_professional())
        response = _declared(client, "/documents/new", 25 * MB)
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert "pèse environ 25 Mo ; la limite est de 20 Mo." in _text(response)

    def test_an_anonymous_visitor_sends_forms_only(self, client: FlaskClient) -> None:
        response = _declared(client, "/auth/login", 2 * MB)
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert "pèse environ 2 Mo ; la limite est de 1 Mo." in _text(response)

    def test_a_refusal_that_knows_no_size_says_the_limit(
        self, app: Flask, client: FlaskClient
    ) -> None:
        def refuse() -> str:
            raise RequestEntityTooLarge()

        app.add_url_rule("/test/too-large", "test_too_large", public(refuse))
        login_as(client, make_patient())
        response = client.get("/test/too-large", headers={"HX-Request": "true"})
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        text = _text(response)
        assert "La limite est de 5 Mo par envoi." in text
        assert "pèse" not in text

    def test_file_fields_carry_the_limit_for_the_check_before_sending(
        self, client: FlaskClient
    ) -> None:
        login_as(client, make_patient())
        html = client.get("/documents/new").get_data(as_text=True)
        field = re.search(r'<input[^>]*type="file"[^>]*>', html)
        assert field is not None
        tag = unescape(field.group(0))
        assert f'data-max-bytes="{5 * MB}"' in tag
        assert "Ce fichier pèse {size} Mo : la limite est de 5 Mo." in tag
        # Sent by htmx: a refusal leaves the typed title, category and date in place.
        form = re.search(r'<form[^>]*enctype="multipart/form-data"[^>]*>', html)
        assert form is not None and "hx-boost" not in form.group(0)

    def test_a_professional_deposits_up_to_his_limit_and_attaches_up_to_5_mo(
        self, client: FlaskClient
    ) -> None:
        professional, patient = make_professional(), make_patient()
        authorise(professional, patient)
        login_as(client, professional)
        assert patient.patient is not None
        deposit = _text(client.get(f"/pro/patients/{patient.patient.id}/deposit"))
        assert f'data-max-bytes="{20 * MB}"' in deposit
        assert "la limite est de 20 Mo" in deposit
        message = _text(client.get("/messages/new"))
        assert f'data-max-bytes="{5 * MB}"' in message
        assert "la limite est de 5 Mo" in message


class TestEndedSession:
    def _signed_in(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        assert client.get("/documents/").status_code == HTTPStatus.OK

    def test_an_idle_session_sends_to_the_sign_in_page_with_the_reason(
        self, client: FlaskClient
    ) -> None:
        self._signed_in(client)
        clock.advance(31 * 60)
        response = client.get("/documents/")
        assert response.status_code == HTTPStatus.FOUND
        assert response.headers["Location"].startswith("/auth/login?next=")
        assert client.get_cookie(sessions.COOKIE) is None  # said once, not at every visit
        page = client.get(response.headers["Location"])
        assert ENDED in _text(page)
        again = client.get(client.get("/documents/").headers["Location"])
        assert ENDED not in _text(again)

    def test_an_htmx_request_is_sent_to_the_same_page(self, client: FlaskClient) -> None:
        self._signed_in(client)
        for row in db.session.scalars(select(UserSession)):
            sessions.revoke(row)  # ended from another device
        db.session.commit()
        response = client.get(
            "/documents/?q=sang",
            headers={"HX-Request": "true", "HX-Target": "document-results"},
        )
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        target = response.headers["HX-Redirect"]
        assert target.startswith("/auth/login?next=")
        assert ENDED in _text(client.get(target))

    def test_a_session_past_twelve_hours_says_so_too(self, client: FlaskClient) -> None:
        self._signed_in(client)
        for _hour in range(13):
            clock.advance(3600 - 60)
            client.get("/documents/")  # active all along: only the absolute limit ends it
        response = client.get("/documents/")
        assert response.status_code == HTTPStatus.FOUND
        assert ENDED in _text(client.get(response.headers["Location"]))

    @pytest.mark.parametrize("signed_out", [True, False])
    def test_no_reason_without_a_session_that_ended(
        self, client: FlaskClient, signed_out: bool
    ) -> None:
        if signed_out:
            self._signed_in(client)
            client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/settings/"))})
        response = client.get("/documents/")
        assert response.status_code == HTTPStatus.FOUND
        assert ENDED not in _text(client.get(response.headers["Location"]))


class TestPageHooks:
    def test_every_page_has_the_problem_region_and_the_announcer(self, client: FlaskClient) -> None:
        html = _text(client.get("/auth/login"))
        region = re.search(r'<div id="request-problem"[^>]*>', html, re.S)
        assert region is not None
        tag = region.group(0)
        assert 'tabindex="-1"' in tag and 'role="alert"' not in tag  # app.js adds the alert
        assert 'data-code="Erreur {code}"' in tag
        assert 'data-network-title="La connexion à Carnet a échoué"' in tag
        assert 'data-unknown-title="Votre demande n\'a pas abouti"' in tag
        announcer = re.search(r'<div id="page-announcer"[^>]*>', html)
        assert announcer is not None
        assert 'aria-live="polite"' in announcer.group(0)
        assert "hx-preserve" in announcer.group(0)

    def test_the_code_field_waits_with_the_cursor(self, client: FlaskClient) -> None:
        patient = make_patient()
        page = client.get("/auth/login")
        client.post(
            "/auth/login",
            data={
                "identifier": patient.identifier,
                "password": PASSWORD,
                "csrf_token": csrf_from(page),
            },
        )
        html = client.get("/auth/verify").get_data(as_text=True)
        field = re.search(r'<input[^>]*id="code"[^>]*>', html)
        assert field is not None
        assert "autofocus" in field.group(0)
        assert 'aria-describedby="code-lead code-hint"' in field.group(0)
        assert 'id="code-lead"' in html

        wrong = client.post(
            "/auth/verify",
            data={"code": "000000", "csrf_token": csrf_from(client.get("/auth/verify"))},
        )
        assert wrong.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        html = wrong.get_data(as_text=True)
        field = re.search(r'<input[^>]*id="code"[^>]*>', html)
        assert field is not None and "autofocus" not in field.group(0)
        assert 'class="error-summary"' in html
