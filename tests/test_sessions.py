from __future__ import annotations

from http import HTTPStatus

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.builders import (
    PASSWORD,
    csrf_from,
    last_code,
    login_as,
    make_patient,
    make_professional,
    secret_from,
    submit_code,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import UserSession
from webapp.services import sessions


def _logout(client: FlaskClient) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/settings/"))})


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/settings/").status_code == HTTPStatus.OK


class TestRevocation:
    def test_a_cookie_replayed_after_logout_gets_the_sign_in_page(
        self, client: FlaskClient
    ) -> None:
        login_as(client, make_patient())
        stolen = client.get_cookie(sessions.COOKIE)
        assert stolen is not None
        _logout(client)
        client.set_cookie(sessions.COOKIE, stolen.value)
        response = client.get("/settings/")
        assert response.status_code == HTTPStatus.FOUND
        assert response.headers["Location"].startswith("/auth/login")

    def test_each_sign_in_gets_a_new_session_id(self, client: FlaskClient) -> None:
        patient = make_patient()
        login_as(client, patient)
        first = client.get_cookie(sessions.COOKIE)
        _logout(client)
        login_as(client, patient)
        second = client.get_cookie(sessions.COOKIE)
        assert first is not None and second is not None and first.value != second.value

    def test_the_token_is_not_stored_in_clear(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        cookie = client.get_cookie(sessions.COOKIE)
        assert cookie is not None
        stored = db.session.scalars(select(UserSession.token_digest)).one()
        assert cookie.value not in stored

    def test_cookie_flags(self, client: FlaskClient) -> None:
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
        response = submit_code(client, last_code(patient))
        header = next(
            h for h in response.headers.getlist("Set-Cookie") if h.startswith(sessions.COOKIE)
        )
        assert "HttpOnly" in header and "SameSite=Lax" in header

    def test_end_another_session_from_settings(self, app: object, client: FlaskClient) -> None:
        patient = make_patient()
        other = client.application.test_client()
        login_as(other, patient)
        login_as(client, patient)
        page = client.get("/settings/")
        assert page.get_data(as_text=True).count("Fermer cette session") == 2
        target = db.session.scalars(
            select(UserSession).where(UserSession.revoked_at.is_(None)).order_by(UserSession.id)
        ).first()
        assert target is not None
        client.post(f"/settings/sessions/{target.id}/end", data={"csrf_token": csrf_from(page)})
        assert not _signed_in(other)
        assert _signed_in(client)

    def test_cannot_end_someone_elses_session(self, client: FlaskClient) -> None:
        victim = make_patient()
        victim_client = client.application.test_client()
        login_as(victim_client, victim)
        victim_session = db.session.scalars(select(UserSession)).one()
        login_as(client, make_patient())
        page = client.get("/settings/")
        client.post(
            f"/settings/sessions/{victim_session.id}/end", data={"csrf_token": csrf_from(page)}
        )
        assert _signed_in(victim_client)

    def test_sign_out_everywhere(self, client: FlaskClient) -> None:
        patient = make_patient()
        other = client.application.test_client()
        login_as(other, patient)
        login_as(client, patient)
        page = client.get("/settings/")
        response = client.post("/settings/sessions/end-all", data={"csrf_token": csrf_from(page)})
        assert response.headers["Location"] == "/auth/login"
        assert not _signed_in(other)
        assert not _signed_in(client)


class TestTimeouts:
    def test_patient_idle_for_29_minutes_stays_signed_in(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        clock.advance(29 * 60)
        assert _signed_in(client)

    def test_patient_idle_for_31_minutes_is_signed_out(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        clock.advance(31 * 60)
        assert not _signed_in(client)

    def test_professional_idle_timeout_is_15_minutes(self, client: FlaskClient) -> None:
        login_as(client, make_professional())
        clock.advance(14 * 60)
        assert _signed_in(client)
        clock.advance(16 * 60)
        assert not _signed_in(client)

    def test_activity_keeps_the_session_alive_until_the_absolute_limit(
        self, client: FlaskClient
    ) -> None:
        login_as(client, make_patient())
        for _ in range(23):  # 23 × 25 min = 9 h 35 of continuous activity
            clock.advance(25 * 60)
            assert _signed_in(client)
        clock.advance(3 * 3600)  # past 12 hours since sign-in
        assert not _signed_in(client)


class TestStepUp:
    def test_a_fresh_sign_in_counts_as_recent(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        assert client.get("/settings/authenticator").status_code == HTTPStatus.OK

    def test_after_five_minutes_a_sensitive_page_asks_again(self, client: FlaskClient) -> None:
        patient = make_patient()
        login_as(client, patient)
        clock.advance(6 * 60)
        response = client.get("/settings/authenticator")
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"].startswith("/auth/reauth")
        before = client.get_cookie(sessions.COOKIE)
        page = client.get(response.headers["Location"])
        step = client.post(
            response.headers["Location"],
            data={"password": PASSWORD, "csrf_token": csrf_from(page)},
        )
        assert step.headers["Location"] == "/auth/verify"
        done = submit_code(client, last_code(patient))
        assert done.headers["Location"] == "/settings/authenticator"
        after = client.get_cookie(sessions.COOKIE)
        assert before is not None and after is not None and before.value != after.value
        assert client.get("/settings/authenticator").status_code == HTTPStatus.OK

    def test_htmx_request_gets_an_hx_redirect_to_step_up(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        clock.advance(6 * 60)
        response = client.get("/settings/authenticator", headers={"HX-Request": "true"})
        assert response.headers["HX-Redirect"].startswith("/auth/reauth")

    def test_wrong_password_at_step_up_is_refused(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        page = client.get("/auth/reauth")
        response = client.post(
            "/auth/reauth",
            data={"password": "Pas-le-bon-mot-de-passe", "csrf_token": csrf_from(page)},
        )
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


class TestPatientAuthenticator:
    def test_patient_switches_to_an_app_and_then_signs_in_with_it(
        self, client: FlaskClient
    ) -> None:
        import pyotp

        from webapp.models import Account

        patient = make_patient()
        login_as(client, patient)
        page = client.get("/settings/authenticator")
        secret = secret_from(page)
        done = client.post(
            "/settings/authenticator",
            data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page)},
        )
        assert done.get_data(as_text=True).count("<li><code>") == 10
        _logout(client)
        db.session.expire_all()
        account = db.session.get(Account, patient.id)
        assert account is not None and account.uses_totp
        login_as(client, account)
        assert _signed_in(client)
