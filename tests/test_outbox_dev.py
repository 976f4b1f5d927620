"""Without SMTP_URL, development keeps messages readable at /dev/outbox."""

from __future__ import annotations

from dataclasses import replace
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import make_patient, submit_password
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import OutboxMessage
from webapp.models.outbox import OutboxStatus
from webapp.services import notify


class TestDevelopment:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return replace(settings, environment="development")

    def test_messages_are_kept_and_shown(self, app: Flask, client: FlaskClient) -> None:
        patient = make_patient()
        submit_password(client, patient.identifier)
        assert notify.deliver_due("dev") == 1
        page = client.get("/dev/outbox")
        assert page.status_code == HTTPStatus.OK
        assert "Votre code de connexion Carnet" in page.get_data(as_text=True)
        statuses = {m.status for m in db.session.scalars(db.select(OutboxMessage))}
        assert statuses == {OutboxStatus.KEPT}


def test_outbox_page_is_404_outside_development(client: FlaskClient) -> None:
    assert client.get("/dev/outbox").status_code == HTTPStatus.NOT_FOUND
