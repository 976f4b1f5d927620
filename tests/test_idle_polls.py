"""A page left open polls the unread badge every 30 seconds: those polls are not the person's
activity, so an idle session still ends after the idle limit (SECURITY.md), while a click
keeps it alive."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import login_as, make_patient
from webapp.core import clock
from webapp.services import crypto

HX = {"HX-Request": "true"}


def _idle_seconds() -> float:
    return float(crypto.settings().idle_minutes_patient) * 60


def test_badge_polls_do_not_keep_an_idle_session_alive(app: Flask, client: FlaskClient) -> None:
    login_as(client, make_patient())
    assert client.get("/documents/").status_code == 200
    waited = 0.0
    while waited < _idle_seconds() + 60:
        clock.advance(30)
        waited += 30
        client.get("/messages/unread", headers=HX)
    response = client.get("/documents/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_clicks_keep_the_session_alive(app: Flask, client: FlaskClient) -> None:
    login_as(client, make_patient())
    for _n in range(4):
        clock.advance(_idle_seconds() * 0.6)
        assert client.get("/documents/").status_code == 200
