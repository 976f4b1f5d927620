from __future__ import annotations

from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.builders import (
    PASSWORD,
    csrf_from,
    last_code,
    login_as,
    make_agent,
    make_patient,
    make_professional,
    submit_code,
    submit_password,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, OutboxMessage
from webapp.services import passwords, sessions
from webapp.services.audit import Action


def _events(account: Account) -> list[str]:
    assert account.patient is not None
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AccessEvent.action)
            .where(AccessEvent.patient_id == account.patient.id)
            .order_by(AccessEvent.seq)
        )
    )


class TestPassword:
    def test_a_right_password_alone_opens_no_session(self, client: FlaskClient) -> None:
        patient = make_patient()
        response = submit_password(client, patient.identifier)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == "/auth/verify"
        assert client.get_cookie(sessions.COOKIE) is None
        assert client.get("/settings/").status_code == HTTPStatus.FOUND

    def test_wrong_password_and_unknown_identifier_get_the_same_answer(
        self, client: FlaskClient
    ) -> None:
        patient = make_patient()
        wrong = submit_password(client, patient.identifier, "Pas-le-bon-mot-de-passe")
        unknown = submit_password(client, "personne.inconnue", "Pas-le-bon-mot-de-passe")
        assert wrong.status_code == unknown.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        message = "Identifiant ou mot de passe incorrect"
        assert message in wrong.get_data(as_text=True)
        assert message in unknown.get_data(as_text=True)

    def test_unknown_identifier_still_spends_a_hash_verification(
        self, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from argon2 import PasswordHasher

        calls: list[str] = []
        original = PasswordHasher.verify

        def counting(self: PasswordHasher, stored: str, password: str) -> bool:
            calls.append(stored)
            return original(self, stored, password)

        monkeypatch.setattr(PasswordHasher, "verify", counting)
        submit_password(client, "personne.inconnue", "Pas-le-bon-mot-de-passe")
        assert len(calls) == 1 and calls[0].startswith("$argon2id$")

    def test_the_identifier_typed_is_kept_after_an_error(self, client: FlaskClient) -> None:
        response = submit_password(client, "marie.typed", "Pas-le-bon-mot-de-passe")
        assert 'value="marie.typed"' in response.get_data(as_text=True)

    def test_a_refused_password_is_in_the_patient_history(self, client: FlaskClient) -> None:
        patient = make_patient()
        submit_password(client, patient.identifier, "Pas-le-bon-mot-de-passe")
        assert _events(patient) == [Action.SIGN_IN_REFUSED]

    def test_disabled_account_cannot_sign_in(self, client: FlaskClient) -> None:
        patient = make_patient(state="disabled")
        assert submit_password(client, patient.identifier).status_code == 422

    def test_empty_form_is_a_clear_error(self, client: FlaskClient) -> None:
        page = client.get("/auth/login")
        response = client.post("/auth/login", data={"csrf_token": csrf_from(page)})
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Saisissez votre identifiant." in response.get_data(as_text=True)

    def test_missing_csrf_token_is_refused(self, client: FlaskClient) -> None:
        patient = make_patient()
        response = client.post(
            "/auth/login", data={"identifier": patient.identifier, "password": PASSWORD}
        )
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Cette page a expiré" in response.get_data(as_text=True)

    def test_old_parameters_are_rehashed_on_sign_in(self, app: Flask, client: FlaskClient) -> None:
        from argon2 import PasswordHasher

        patient = make_patient(
            password_hash=PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(PASSWORD)
        )
        old = patient.password_hash
        submit_password(client, patient.identifier)
        db.session.refresh(patient)
        assert patient.password_hash != old and passwords.verify(patient.password_hash, PASSWORD)


class TestEmailedCode:
    def test_patient_signs_in_with_the_emailed_code(self, client: FlaskClient) -> None:
        patient = make_patient()
        submit_password(client, patient.identifier)
        response = submit_code(client, last_code(patient))
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == "/"
        assert client.get("/").status_code == HTTPStatus.OK
        assert _events(patient) == [Action.SIGN_IN]

    def test_code_is_stored_only_as_a_keyed_hmac(self, client: FlaskClient) -> None:
        from webapp.models import OneTimeCode

        patient = make_patient()
        submit_password(client, patient.identifier)
        code = last_code(patient)
        stored = db.session.scalars(select(OneTimeCode.code_hmac)).one()
        assert code not in stored and len(stored) == 64

    def test_every_patient_sign_in_sends_a_notice_without_medical_content(
        self, client: FlaskClient
    ) -> None:
        patient = make_patient()
        login_as(client, patient)
        notice = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "signin_notice")
        ).one()
        assert notice.recipient == patient.email
        assert "Nouvelle connexion" in notice.subject

    def test_code_expires_after_ten_minutes(self, client: FlaskClient) -> None:
        from webapp.services import codes

        patient = make_patient()
        submit_password(client, patient.identifier)
        code = last_code(patient)
        clock.advance(10 * 60 + 1)
        # the page sends the person back to sign in, and the code itself no longer works
        response = client.get("/auth/verify")
        assert response.headers["Location"] == "/auth/login"
        assert not codes.consume_code(patient, "sign_in", code)

    def test_code_still_works_just_before_ten_minutes(self, client: FlaskClient) -> None:
        patient = make_patient()
        submit_password(client, patient.identifier)
        code = last_code(patient)
        clock.advance(9 * 60 + 50)
        assert submit_code(client, code).status_code == HTTPStatus.SEE_OTHER

    def test_code_is_single_use(self, client: FlaskClient) -> None:
        from webapp.services import codes

        patient = make_patient()
        code = codes.issue_code(patient, "sign_in", "email")
        db.session.commit()
        assert codes.consume_code(patient, "sign_in", code)
        db.session.commit()
        assert not codes.consume_code(patient, "sign_in", code)

    def test_five_wrong_tries_kill_the_code(self, client: FlaskClient) -> None:
        patient = make_patient()
        submit_password(client, patient.identifier)
        code = last_code(patient)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            assert submit_code(client, wrong).status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        response = submit_code(client, code)
        # The sixth try is still within the rate limit: it is the code that is dead.
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Ce code n&#39;est pas le bon" in response.get_data(as_text=True)
        assert client.get_cookie(sessions.COOKIE) is None

    def test_a_wrong_code_is_recorded_and_explained(self, client: FlaskClient) -> None:
        patient = make_patient()
        submit_password(client, patient.identifier)
        code = last_code(patient)
        response = submit_code(client, "000000" if code != "000000" else "111111")
        assert "Ce code n&#39;est pas le bon" in response.get_data(as_text=True)
        assert Action.SECOND_FACTOR_REFUSED in _events(patient)

    def test_a_resent_code_replaces_the_first(self, client: FlaskClient) -> None:
        patient = make_patient()
        submit_password(client, patient.identifier)
        first = last_code(patient)
        page = client.get("/auth/verify")
        client.post("/auth/verify/resend", data={"csrf_token": csrf_from(page)})
        second = last_code(patient)
        if first != second:
            assert submit_code(client, first).status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert submit_code(client, second).status_code == HTTPStatus.SEE_OTHER

    def test_sms_channel_when_chosen(self, client: FlaskClient) -> None:
        patient = make_patient(second_factor="sms", mobile="+33611223344")
        submit_password(client, patient.identifier)
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "signin_code")
        ).one()
        assert message.channel == "sms" and message.recipient == "+33611223344"
        assert "par SMS" in client.get("/auth/verify").get_data(as_text=True)

    def test_verify_without_a_password_first_goes_back_to_sign_in(
        self, client: FlaskClient
    ) -> None:
        response = client.get("/auth/verify")
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == "/auth/login"


class TestNext:
    @pytest.mark.parametrize(
        "target",
        [
            "//evil.tld",
            "/\\evil.tld",
            "https://evil.tld",
            "javascript:alert(1)",
            "evil.tld",
            "/\tevil",
            "http:/evil.tld",
            "\\\\evil.tld",
        ],
    )
    def test_only_local_paths_are_followed(self, client: FlaskClient, target: str) -> None:
        patient = make_patient()
        page = client.get("/auth/login", query_string={"next": target})
        client.post(
            "/auth/login",
            query_string={"next": target},
            data={
                "identifier": patient.identifier,
                "password": PASSWORD,
                "csrf_token": csrf_from(page),
            },
        )
        response = submit_code(client, last_code(patient))
        assert response.headers["Location"] == "/"

    def test_a_local_path_is_followed(self, client: FlaskClient) -> None:
        patient = make_patient()
        page = client.get("/auth/login", query_string={"next": "/access/history?page=2"})
        client.post(
            "/auth/login",
            query_string={"next": "/access/history?page=2"},
            data={
                "identifier": patient.identifier,
                "password": PASSWORD,
                "csrf_token": csrf_from(page),
            },
        )
        response = submit_code(client, last_code(patient))
        assert response.headers["Location"] == "/access/history?page=2"


class TestStaff:
    def test_professional_signs_in_with_totp_and_lands_in_the_workspace(
        self, client: FlaskClient
    ) -> None:
        pro = make_professional()
        response = login_as(client, pro)
        assert response.headers["Location"] == "/pro/"
        assert not db.session.scalars(select(OutboxMessage)).all()  # no code is e-mailed

    def test_agent_lands_on_the_counter(self, client: FlaskClient) -> None:
        agent = make_agent()
        assert login_as(client, agent).headers["Location"] == "/counter/"

    def test_a_staff_account_without_an_app_cannot_sign_in_with_the_password_alone(
        self, client: FlaskClient
    ) -> None:
        pro = make_professional(enrolled=False)
        response = submit_password(client, pro.identifier)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "nouveau lien d&#39;activation" in response.get_data(as_text=True) or (
            "nouveau lien d'activation" in response.get_data(as_text=True)
        )
        assert client.get("/auth/enrol").headers["Location"] == "/auth/login"
        assert client.get("/pro/").status_code == HTTPStatus.FOUND

    def test_recovery_code_replaces_the_app_once_and_warns_by_email(
        self, client: FlaskClient
    ) -> None:
        from webapp.services import codes

        pro = make_professional()
        shown = codes.issue_recovery_codes(pro)
        db.session.commit()
        submit_password(client, pro.identifier)
        assert submit_code(client, shown[0]).status_code == HTTPStatus.SEE_OTHER
        assert db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "recovery_code_used")
        ).one()


class TestThrottling:
    def test_password_attempts_per_identifier_are_limited(self, client: FlaskClient) -> None:
        patient = make_patient()
        statuses = [
            submit_password(client, patient.identifier, "Pas-le-bon-mot-de-passe").status_code
            for _ in range(6)
        ]
        assert statuses[:5] == [HTTPStatus.UNPROCESSABLE_ENTITY] * 5
        assert statuses[5] == HTTPStatus.TOO_MANY_REQUESTS

    def test_the_limit_is_temporary(self, client: FlaskClient) -> None:
        patient = make_patient()
        for _ in range(6):
            submit_password(client, patient.identifier, "Pas-le-bon-mot-de-passe")
        clock.advance(120)
        from webapp.core.extensions import limiter

        limiter.reset()  # the limiter keeps its own clock; a reset stands for the window passing
        assert submit_password(client, patient.identifier).status_code == HTTPStatus.SEE_OTHER

    def test_second_factor_attempts_are_limited(self, client: FlaskClient) -> None:
        patient = make_patient()
        submit_password(client, patient.identifier)
        statuses = [submit_code(client, "999999").status_code for _ in range(7)]
        assert HTTPStatus.TOO_MANY_REQUESTS in statuses

    def test_the_429_page_is_friendly(self, client: FlaskClient) -> None:
        for _ in range(6):
            response = submit_password(client, "quelqu.un", "Pas-le-bon-mot-de-passe")
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert "Trop d'essais en peu de temps" in response.get_data(as_text=True)


def test_a_code_of_the_wrong_shape_is_explained_and_costs_no_try(client: FlaskClient) -> None:
    from webapp.models import OneTimeCode

    patient = make_patient()
    submit_password(client, patient.identifier)
    response = submit_code(client, "123")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "Le code compte 6 chiffres" in response.get_data(as_text=True)
    assert db.session.scalars(select(OneTimeCode.attempts)).one() == 0
