"""Findings of the security review, kept fixed."""

from __future__ import annotations

from dataclasses import replace
from http import HTTPStatus
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.builders import (
    csrf_from,
    last_code,
    login_as,
    make_patient,
    secret_from,
    submit_code,
    submit_password,
)
from webapp.core.extensions import db
from webapp.core.settings import ConfigurationError, Settings
from webapp.models import Account, OutboxMessage


def test_recovery_codes_die_with_the_authenticator(client: FlaskClient) -> None:
    import pyotp

    patient = make_patient()
    login_as(client, patient)
    page = client.get("/settings/authenticator")
    done = client.post(
        "/settings/authenticator",
        data={"code": pyotp.TOTP(secret_from(page)).now(), "csrf_token": csrf_from(page)},
    )
    recovery = done.get_data(as_text=True).split("<li><code>")[1].split("</code>")[0]
    settings_page = client.get("/settings/")
    client.post("/settings/authenticator/remove", data={"csrf_token": csrf_from(settings_page)})
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert "authenticator_removed" in kinds
    other = client.application.test_client()
    submit_password(other, patient.identifier)
    assert submit_code(other, recovery).status_code == HTTPStatus.UNPROCESSABLE_ENTITY


def test_a_disabled_account_loses_its_sessions(client: FlaskClient) -> None:
    patient = make_patient()
    login_as(client, patient)
    account = db.session.get(Account, patient.id)
    assert account is not None
    account.state = "disabled"
    db.session.commit()
    assert client.get("/settings/").status_code == HTTPStatus.FOUND


def test_a_pending_sign_in_ends_when_the_account_is_disabled(client: FlaskClient) -> None:
    patient = make_patient()
    submit_password(client, patient.identifier)
    code = last_code(patient)
    account = db.session.get(Account, patient.id)
    assert account is not None
    account.state = "disabled"
    db.session.commit()
    assert client.get("/auth/verify").headers["Location"] == "/auth/login"
    assert code  # the code was valid, but the pending sign-in no longer leads anywhere
    assert client.get("/settings/").status_code == HTTPStatus.FOUND


def test_sign_in_codes_are_sealed_in_the_outbox(client: FlaskClient) -> None:
    patient = make_patient()
    submit_password(client, patient.identifier)
    code = last_code(patient)
    stored = db.session.scalars(
        select(OutboxMessage.body).where(OutboxMessage.kind == "signin_code")
    ).one()
    assert code not in stored and stored.startswith("sealed:")


@pytest.mark.parametrize(
    "path",
    [
        "/access/history?page=99999999999999999999",
        "/access/history?until=9999-12-31",
        "/access/history?since=0001-01-01",
        "/access/history?page=-3",
        "/access/history?actor=nobody&action=%E2%80%AE",
    ],
)
def test_odd_history_queries_never_give_a_500(client: FlaskClient, path: str) -> None:
    login_as(client, make_patient())
    assert client.get(path).status_code == HTTPStatus.OK


def test_an_enormous_session_id_is_a_404(client: FlaskClient) -> None:
    login_as(client, make_patient())
    page = client.get("/settings/")
    response = client.post(
        "/settings/sessions/99999999999999999999/end", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_nul_bytes_are_refused_cleanly(client: FlaskClient) -> None:
    page = client.get("/auth/login")
    response = client.post(
        "/auth/login",
        data={"identifier": "a\x00b", "password": "x", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST


class TestEnvironment:
    def test_without_a_declared_environment_carnet_is_production(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("CARNET_ENV", raising=False)
        for name in ("SECRET_KEY", "MASTER_KEY", "AUDIT_KEY"):
            monkeypatch.delenv(name, raising=False)
        with pytest.raises(ConfigurationError, match="required in production"):
            Settings.from_env(tmp_path)

    def test_make_run_marks_the_instance_as_development(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("CARNET_ENV", raising=False)
        monkeypatch.delenv("CARNET_INSTANCE", raising=False)
        (tmp_path / "environment").write_text("development\n")
        settings = Settings.from_env(tmp_path)
        assert settings.is_development
        assert (tmp_path / "master_key").stat().st_mode & 0o777 == 0o600


class TestBehindAProxy:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return replace(settings, proxy_hops=1)

    def test_sessions_record_the_client_not_the_proxy(self, client: FlaskClient) -> None:
        from webapp.models import UserSession

        client.environ_base.update(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
        login_as(client, make_patient())
        assert db.session.scalars(select(UserSession.ip_address)).one() == "203.0.113.7"
