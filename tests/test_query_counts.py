"""A page's query count does not grow with the size of the record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.builders import login_as, make_patient
from webapp.core.extensions import db
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


def _bulk_documents(patient: Any, count: int, start: int = 0) -> None:
    from datetime import date

    from webapp.core import clock
    from webapp.models import Document

    categories = ["biologie", "imagerie", "ordonnances", "comptes_rendus", "autres"]
    types = {
        "biologie": "11502-2",
        "imagerie": "18748-4",
        "ordonnances": "57833-6",
        "comptes_rendus": "11488-4",
        "autres": "CARNET-AUTRE",
    }
    rows = []
    for n in range(start, start + count):
        category = categories[n % len(categories)]
        rows.append(
            Document(
                patient_id=patient.patient.id,
                title=f"Document {n}",
                category=category,
                type_code=types[category],
                care_date=date(2020 + n % 6, 1 + n % 12, 1),
                author_kind="patient",
                author_account_id=patient.id,
                author_label="Alice",
                deposited_at=clock.now(),
                size=10,
                sha256="0" * 64,
                media_type="application/pdf",
                blob_id=f"{patient.id:08x}{n:024x}",
                key_id="0" * 16,
                wrapped_key=b"x",
                state="current",
                version=1,
                masked_from_pros=n % 7 == 0,
            )
        )
    db.session.add_all(rows)
    db.session.commit()


def test_document_pages_run_the_same_statements_with_10_or_1000_documents(
    app: Flask, client: FlaskClient
) -> None:
    from tests.builders import authorise, make_document, make_professional

    patient = make_patient()
    pro = make_professional()
    authorise(pro, patient)
    authorise(make_professional(profession="pharmacien", specialty=None), patient)
    login_as(client, patient)
    _bulk_documents(patient, 9)
    doc = make_document(patient)
    paths = ["/", "/documents/", "/documents/?category=biologie&q=doc", f"/documents/{doc.id}"]
    small = {p: _queries_for(app, client, p) for p in paths}
    _bulk_documents(patient, 990, start=100)
    large = {p: _queries_for(app, client, p) for p in paths}
    assert large == small
