"""The page shell: error pages, languages, preferences."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from tests.builders import csrf_from, login_as, make_patient
from webapp.web.security import public


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    @app.get("/boom")
    @public
    def boom() -> str:
        raise RuntimeError("secret internals")

    @app.get("/forbidden")
    @public
    def forbidden() -> str:
        abort(403)

    return app


def _set_language(client: FlaskClient, language: str) -> None:
    page = client.get("/auth/login")
    client.post("/preferences", data={"lang": language, "next": "/", "csrf_token": csrf_from(page)})


class TestErrorPages:
    @pytest.mark.parametrize(
        ("path", "method", "status", "french", "english"),
        [
            (
                "/no-such-page",
                "GET",
                404,
                "Cette page est introuvable",
                "This page cannot be found",
            ),
            (
                "/healthz",
                "POST",
                405,
                "Cette action n'est pas possible ici",
                "This action is not possible here",
            ),
            (
                "/forbidden",
                "GET",
                403,
                "Vous n'avez pas accès à cette page",
                "You do not have access to this page",
            ),
            ("/boom", "GET", 500, "Un problème technique", "A technical problem"),
        ],
    )
    def test_friendly_in_both_languages(
        self, failing_app: Flask, path: str, method: str, status: int, french: str, english: str
    ) -> None:
        client = failing_app.test_client()
        response = client.open(path, method=method)
        assert response.status_code == status
        assert french in response.get_data(as_text=True)
        _set_language(client, "en")
        response = client.open(path, method=method)
        assert response.status_code == status
        assert english in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)
        assert "secret internals" not in response.get_data(as_text=True)

    def test_405_says_which_methods_are_allowed(self, client: FlaskClient) -> None:
        assert "GET" in client.post("/healthz").headers["Allow"]

    def test_413_for_an_oversized_body(self, client: FlaskClient) -> None:
        response = client.post(
            "/auth/login", data=b"x" * (21 * 1024 * 1024), content_type="text/plain"
        )
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert "trop volumineux" in response.get_data(as_text=True)


class TestLanguage:
    def test_french_by_default(self, client: FlaskClient) -> None:
        html = client.get("/auth/login").get_data(as_text=True)
        assert '<html lang="fr">' in html and "Se connecter à Carnet" in html

    def test_english_on_request_and_back(self, client: FlaskClient) -> None:
        _set_language(client, "en")
        html = client.get("/auth/login").get_data(as_text=True)
        assert '<html lang="en">' in html and "Sign in to Carnet" in html
        _set_language(client, "fr")
        assert "Se connecter à Carnet" in client.get("/auth/login").get_data(as_text=True)

    def test_unknown_language_is_ignored(self, client: FlaskClient) -> None:
        _set_language(client, "xx")
        assert '<html lang="fr">' in client.get("/auth/login").get_data(as_text=True)

    def test_emails_follow_the_account_language(self, client: FlaskClient) -> None:
        from sqlalchemy import select

        from tests.builders import submit_password
        from webapp.core.extensions import db
        from webapp.models import OutboxMessage

        patient = make_patient(language="en")
        submit_password(client, patient.identifier)
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.subject == "Your Carnet sign-in code"

    def test_every_message_is_translated(self) -> None:
        from pathlib import Path

        from babel.messages.pofile import read_po

        catalogue = Path(__file__).parent.parent / "webapp/translations/en/LC_MESSAGES/messages.po"
        with catalogue.open("rb") as handle:
            messages = read_po(handle)
        missing = [m.id for m in messages if m.id and not m.string]
        fuzzy = [m.id for m in messages if m.id and m.fuzzy]
        assert missing == [] and fuzzy == []

    def test_every_template_string_is_in_the_catalogue(self, app: Flask) -> None:
        """Babel's extraction skips folders whose name starts with "_" or ".": a template
        there would stay French in English, silently. Read every template ourselves."""
        from pathlib import Path

        from babel.messages.pofile import read_po

        root = Path(__file__).parent.parent / "webapp"
        with (root / "translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
            known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle)}
        absent = []
        for template in sorted((root / "templates").rglob("*")):
            if template.suffix not in (".html", ".txt"):
                continue
            source = template.read_text(encoding="utf-8")
            # Added to the environment by the i18n extension Flask-Babel installs.
            extract = getattr(app.jinja_env, "extract_translations")  # noqa: B009
            for _line, _function, message in extract(source):
                first = message if isinstance(message, str) else message[0]
                if isinstance(first, str) and first not in known:
                    absent.append(f"{template.relative_to(root)}: {first}")
        assert absent == []


class TestPreferences:
    def test_large_text(self, client: FlaskClient) -> None:
        page = client.get("/auth/login")
        client.post("/preferences", data={"text": "large", "csrf_token": csrf_from(page)})
        assert 'class="large-text"' in client.get("/auth/login").get_data(as_text=True)

    def test_next_must_be_local(self, client: FlaskClient) -> None:
        page = client.get("/auth/login")
        response = client.post(
            "/preferences",
            data={"lang": "en", "next": "//evil.tld/x", "csrf_token": csrf_from(page)},
        )
        assert response.headers["Location"] == "/"


class TestDashboard:
    def test_empty_states_say_what_will_come(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        html = client.get("/").get_data(as_text=True)
        assert "Vos documents de santé apparaîtront ici" in html
        assert "Aucun professionnel n&#39;a encore consulté votre dossier" in html or (
            "Aucun professionnel n'a encore consulté votre dossier" in html
        )

    def test_landing_for_visitors(self, client: FlaskClient) -> None:
        html = client.get("/").get_data(as_text=True)
        assert "Se connecter" in html and 'href="/auth/login"' in html


def test_activation_tokens_are_redacted_from_access_logs() -> None:
    import logging

    from webapp import RedactSecrets

    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '"%s %s" %s',
        ("GET", "/auth/activate/SeCrEtToKeN123", "200"),
        None,
    )
    RedactSecrets().filter(record)
    assert "SeCrEtToKeN123" not in record.getMessage()
    assert "/auth/activate/[redacted]" in record.getMessage()
