"""Accounts created from the command line, activated by a one-time link."""

from __future__ import annotations

import re
from http import HTTPStatus

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.builders import csrf_from, secret_from, submit_password
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Agent, Professional
from webapp.services import codes, demo

STRONG = "Une phrase de passe assez longue"


def _create_professional(app: Flask, identifier: str = "dr.nouveau") -> str:
    result = app.test_cli_runner().invoke(
        args=[
            "accounts",
            "create-professional",
            "--identifier",
            identifier,
            "--rpps",
            "12345678901",
            "--first-names",
            "Jeanne",
            "--last-name",
            "Nouveau",
            "--profession",
            "medecin",
            "--specialty",
            "cardiologie",
        ]
    )
    assert result.exit_code == 0, result.output
    link = re.search(r"http://\S+/auth/activate/(\S+)", result.output)
    assert link
    return link.group(1)


def _activate(client: FlaskClient, token: str, password: str = STRONG) -> TestResponse:
    opened = client.get(f"/auth/activate/{token}")
    assert opened.status_code == HTTPStatus.SEE_OTHER
    assert opened.headers["Location"] == "/auth/activate"  # the token leaves the address bar
    page = client.get("/auth/activate")
    assert page.status_code == HTTPStatus.OK
    return client.post(
        "/auth/activate",
        data={"password": password, "confirm": password, "csrf_token": csrf_from(page)},
    )


def _enrol(client: FlaskClient, code: str | None = None) -> TestResponse:
    page = client.get("/auth/enrol")
    assert page.status_code == HTTPStatus.OK
    code = code or pyotp.TOTP(secret_from(page)).now()
    return client.post("/auth/enrol", data={"code": code, "csrf_token": csrf_from(page)})


def test_professional_activates_then_enrols_totp(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    response = _activate(client, token)
    assert response.headers["Location"] == "/auth/enrol"
    page = client.get("/auth/enrol")
    assert "<svg" in page.get_data(as_text=True)
    done = _enrol(client)
    assert done.status_code == HTTPStatus.OK
    assert done.get_data(as_text=True).count("<li><code>") == 10
    assert client.get("/pro/").status_code == HTTPStatus.OK
    account = db.session.scalars(select(Account).where(Account.identifier == "dr.nouveau")).one()
    assert account.uses_totp and account.state == "active"


def test_the_secret_reaches_the_account_only_once_proved(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    _activate(client, token)
    first = client.get("/auth/enrol")
    wrong = client.post("/auth/enrol", data={"code": "000000", "csrf_token": csrf_from(first)})
    assert wrong.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert secret_from(wrong) == secret_from(first)  # the same app, whatever was mistyped
    account = db.session.scalars(select(Account).where(Account.identifier == "dr.nouveau")).one()
    assert account.totp_secret_sealed is None and not account.uses_totp


def test_the_link_works_until_the_app_is_linked_then_never(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    _activate(client, token)
    # the tab was closed before linking the app: the same link starts again
    again = app.test_client()
    assert _activate(again, token).headers["Location"] == "/auth/enrol"
    _enrol(again)
    later = app.test_client().get(f"/auth/activate/{token}")
    assert later.status_code == HTTPStatus.NOT_FOUND
    assert "ne fonctionne plus" in later.get_data(as_text=True)
    # the first tab's pending state is worth nothing now
    assert client.get("/auth/enrol").status_code != HTTPStatus.OK


def test_a_replayed_cookie_cannot_link_a_second_app(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    _activate(client, token)
    saved = client.get_cookie("carnet_state")
    assert saved is not None
    _enrol(client)
    thief = app.test_client()
    thief.set_cookie("carnet_state", saved.value)
    assert thief.get("/auth/enrol").status_code != HTTPStatus.OK
    assert thief.get("/pro/").status_code == HTTPStatus.FOUND


def test_the_link_expires_after_72_hours(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    clock.advance(72 * 3600 + 1)
    assert client.get(f"/auth/activate/{token}").status_code == HTTPStatus.NOT_FOUND


def test_weak_password_is_explained_and_nothing_changes(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    response = _activate(client, token, "motdepasse123")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "trop courant" in response.get_data(as_text=True)
    account = db.session.scalars(select(Account).where(Account.identifier == "dr.nouveau")).one()
    assert account.password_hash is None


def test_a_new_link_after_a_lost_phone(app: Flask, client: FlaskClient) -> None:
    from tests.builders import login_as, make_professional

    pro = make_professional()
    login_as(client, pro)
    result = app.test_cli_runner().invoke(args=["accounts", "new-activation-link", pro.identifier])
    assert result.exit_code == 0, result.output
    assert client.get("/pro/").status_code == HTTPStatus.FOUND  # its sessions are closed
    token = re.search(r"/auth/activate/(\S+)", result.output)
    assert token
    fresh = app.test_client()
    _activate(fresh, token.group(1))
    _enrol(fresh)
    assert fresh.get("/pro/").status_code == HTTPStatus.OK


def test_an_account_awaiting_activation_cannot_sign_in(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    _activate(client, token)  # password chosen, app not linked yet
    response = submit_password(app.test_client(), "dr.nouveau", STRONG)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


def test_identifier_and_rpps_are_unique(app: Flask) -> None:
    _create_professional(app)
    runner = app.test_cli_runner()
    again = runner.invoke(
        args=[
            "accounts",
            "create-professional",
            "--identifier",
            "dr.nouveau",
            "--rpps",
            "99999999999",
            "--first-names",
            "A",
            "--last-name",
            "B",
            "--profession",
            "medecin",
        ]
    )
    assert again.exit_code != 0 and "already" in again.output
    bad = runner.invoke(
        args=[
            "accounts",
            "create-professional",
            "--identifier",
            "x",
            "--rpps",
            "123",
            "--first-names",
            "A",
            "--last-name",
            "B",
            "--profession",
            "medecin",
        ]
    )
    assert bad.exit_code != 0 and "11 digits" in bad.output


def test_create_agent(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "accounts",
            "create-agent",
            "--identifier",
            "agent.lyon",
            "--first-names",
            "Léa",
            "--last-name",
            "Roux",
            "--organisation",
            "CPAM du Rhône",
            "--counter",
            "Lyon 8e",
        ]
    )
    assert result.exit_code == 0 and "/auth/activate/" in result.output
    assert db.session.scalars(select(Agent)).one().counter == "Lyon 8e"


class TestDemo:
    def test_demo_load_is_idempotent(self, app: Flask) -> None:
        runner = app.test_cli_runner()
        first = runner.invoke(args=["demo", "load"])
        assert first.exit_code == 0 and "8 account(s) created" in first.output
        second = runner.invoke(args=["demo", "load"])
        assert second.exit_code == 0 and "0 account(s) created" in second.output
        # The sample directory, with the five demo professionals holding an account.
        listed = db.session.scalars(select(Professional)).all()
        assert len(listed) >= 30
        assert len([pro for pro in listed if pro.account_id is not None]) == 5

    def test_demo_totp_prints_a_working_code(self, app: Flask) -> None:
        runner = app.test_cli_runner()
        runner.invoke(args=["demo", "load"])
        result = runner.invoke(args=["demo", "totp", "medecin.demo"])
        assert result.exit_code == 0 and re.fullmatch(r"\d{6}\n", result.output)
        account = db.session.scalars(
            select(Account).where(Account.identifier == "medecin.demo")
        ).one()
        assert codes.verify_totp(account, result.output.strip())

    def test_demo_patient_has_a_valid_nir(self, app: Flask) -> None:
        from stdnum.fr import nir

        demo.load()
        account = db.session.scalars(
            select(Account).where(Account.identifier == "patient.demo")
        ).one()
        assert account.patient is not None and nir.is_valid(account.patient.nir)


def test_an_account_from_an_existing_directory_entry(app: Flask) -> None:
    db.session.add(
        Professional(
            rpps="22222222222",
            first_names="Inès",
            last_name="Annuaire",
            profession="pharmacien",
            samu_regulator=False,
        )
    )
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["accounts", "create-professional", "--identifier", "ines.a", "--rpps", "22222222222"]
    )
    assert result.exit_code == 0, result.output
    entry = db.session.scalars(select(Professional).where(Professional.rpps == "22222222222")).one()
    assert entry.account is not None and entry.account.identifier == "ines.a"
    unknown = runner.invoke(
        args=["accounts", "create-professional", "--identifier", "x.y", "--rpps", "33333333333"]
    )
    assert unknown.exit_code != 0 and "not in the directory" in unknown.output
