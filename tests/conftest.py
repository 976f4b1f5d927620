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


# PostgreSQL databases whose schema this process built, with the statements that empty them.
_built: dict[str, str] = {}


def reset_schema() -> None:
    """Start from empty tables.

    SQLite gets a new file per test. PostgreSQL keeps its tables between tests: the first test
    of the process rebuilds the schema from the models, the others empty every table and
    restart its identities, a tenth of the cost of rebuilding it.
    """
    if db.engine.dialect.name != "postgresql":
        db.create_all()
        return
    url = db.engine.url.render_as_string(hide_password=False)
    with db.engine.begin() as connection:
        if url in _built:
            connection.execute(text(_built[url]))
            return
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    db.create_all()
    _built[url] = _emptying_statements()


def schema_altered() -> None:
    """A test that changes the schema (drops a trigger) has the next test rebuild it."""
    _built.clear()


def _emptying_statements() -> str:
    """One round trip that empties every table and restarts every identity.

    Triggers (the history's append-only guard, the foreign keys) are set aside for that one
    transaction: the test role owns the database, a superuser here.
    """
    with db.engine.connect() as connection:
        sequences = connection.execute(
            text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
        ).scalars()
        restarts = [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
    deletes = [f'DELETE FROM "{table.name}"' for table in db.metadata.sorted_tables]
    return "; ".join(["SET LOCAL session_replication_role = replica", *deletes, *restarts])


class IsolatedClient(FlaskClient):
    """Each request runs in its own application context, as it would on a server.

    The test's own session commits first, so that the request sees what the test built and
    no transaction of the test holds SQLite's write lock while the request runs. The answer is
    read whole before it returns (a test that reads a stream by pieces opens it itself).
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        db.session.commit()
        # The body is read in the request's own context, as a server reads it: a stream that
        # pushed a context (stream_with_context) pops it in the context that pushed it.
        kwargs.setdefault("buffered", True)
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
