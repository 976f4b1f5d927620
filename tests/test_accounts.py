"""Accounts created from the command line, activated by a one-time link."""

from __future__ import annotations

import re
from http import HTTPStatus

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.builders import csrf_from, submit_password
from webapp.extensions import db
from webapp.models import Account, Agent, Professional
from webapp.services import clock, codes, demo

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


def _activate(client: FlaskClient, token: str, password: str = STRONG) -> object:
    page = client.get(f"/auth/activate/{token}")
    assert page.status_code == HTTPStatus.OK
    return client.post(
        f"/auth/activate/{token}",
        data={"password": password, "confirm": password, "csrf_token": csrf_from(page)},
    )


def test_professional_activates_then_enrols_totp(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    response = _activate(client, token)
    assert response.headers["Location"] == "/auth/enrol"  # type: ignore[attr-defined]
    account = db.session.scalars(select(Account).where(Account.identifier == "dr.nouveau")).one()
    page = client.get("/auth/enrol")
    db.session.refresh(account)
    secret = codes.totp_secret(account)
    assert secret is not None
    client.post(
        "/auth/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page)}
    )
    assert client.get("/pro/").status_code == HTTPStatus.OK


def test_the_link_works_once(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    _activate(client, token)
    again = app.test_client().get(f"/auth/activate/{token}")
    assert again.status_code == HTTPStatus.NOT_FOUND
    assert "ne fonctionne plus" in again.get_data(as_text=True)


def test_the_link_expires_after_72_hours(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    clock.advance(72 * 3600 + 1)
    assert client.get(f"/auth/activate/{token}").status_code == HTTPStatus.NOT_FOUND


def test_weak_password_is_explained_and_nothing_changes(app: Flask, client: FlaskClient) -> None:
    token = _create_professional(app)
    response = _activate(client, token, "motdepasse123")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY  # type: ignore[attr-defined]
    assert "trop courant" in response.get_data(as_text=True)  # type: ignore[attr-defined]
    account = db.session.scalars(select(Account).where(Account.identifier == "dr.nouveau")).one()
    assert account.password_hash is None


def test_an_account_awaiting_activation_cannot_sign_in(app: Flask, client: FlaskClient) -> None:
    _create_professional(app)
    assert submit_password(client, "dr.nouveau", "").status_code == 422


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
        assert first.exit_code == 0 and "7 account(s) created" in first.output
        second = runner.invoke(args=["demo", "load"])
        assert second.exit_code == 0 and "0 account(s) created" in second.output
        assert len(db.session.scalars(select(Professional)).all()) == 5

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
