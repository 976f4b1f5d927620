"""A page's query count does not grow with the size of the record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.builders import login_as, make_patient
from webapp.extensions import db
from webapp.services import audit
from webapp.services.audit import Action


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _queries_for(app: Flask, client: FlaskClient, path: str) -> int:
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_history_and_dashboard_queries_do_not_grow(app: Flask, client: FlaskClient) -> None:
    patient = make_patient()
    assert patient.patient is not None
    login_as(client, patient)
    small = {p: _queries_for(app, client, p) for p in ("/", "/access/history")}
    for n in range(120):
        audit.record_access(patient.patient, patient, Action.SIGN_IN, detail=f"n{n}")
    db.session.commit()
    large = {p: _queries_for(app, client, p) for p in ("/", "/access/history")}
    assert large == small
