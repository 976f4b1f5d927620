"""Flaskr-style fixtures: a fresh database per test, on SQLite or on TEST_DATABASE_URL."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings


def database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'carnet-test.db'}"


def reset_schema() -> None:
    """Start from an empty schema (PostgreSQL keeps its tables between tests)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    db.create_all()


class IsolatedClient(FlaskClient):
    """Each request runs in its own application context, as it would on a server.

    The test's own session commits first, so that the request sees what the test built and
    no transaction of the test holds SQLite's write lock while the request runs.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        db.session.commit()
        response: TestResponse = contextvars.Context().run(
            lambda: FlaskClient.open(self, *args, **kwargs)
        )
        return response


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.for_tests(tmp_path / "instance", database_url(tmp_path))


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    application.test_client_class = IsolatedClient
    with application.app_context():
        reset_schema()
        yield application
        db.session.remove()
        db.engine.dispose()
    clock.reset()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
