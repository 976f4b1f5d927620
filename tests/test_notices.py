"""Notifications of documents: at once or in a daily digest; a professional's first access."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.builders import (
    authorise,
    csrf_from,
    login_as,
    make_patient,
    make_professional,
    pdf_file,
)
from webapp import policy
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, OutboxMessage
from webapp.policy import loaders
from webapp.services import audit, documents, notify
from webapp.services.audit import Action

PDF = pdf_file("Bilan")


def _kinds() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))


def _deposit_by(pro: Account, patient: Account) -> int:
    assert patient.patient is not None
    doc = documents.add(
        pro,
        patient.patient,
        stream=io.BytesIO(PDF),
        file_name="cr.pdf",
        title="Compte rendu",
        category="comptes_rendus",
        care_date=clock.now().date(),
    )
    db.session.commit()
    return doc.id


def test_a_deposit_by_someone_else_is_notified_at_once(app: Flask) -> None:
    patient, pro = make_patient(), make_professional()
    authorise(pro, patient)
    _deposit_by(pro, patient)
    assert _kinds() == ["new_document"]
    message = db.session.scalars(select(OutboxMessage)).one()
    assert "Compte rendu" not in message.body  # no medical content, not even the title


def test_the_patient_is_not_told_of_her_own_deposit(client: FlaskClient) -> None:
    patient = make_patient()
    assert patient.patient is not None
    documents.add(
        patient,
        patient.patient,
        stream=io.BytesIO(PDF),
        file_name="a.pdf",
        title="Mon scan",
        category="autres",
        care_date=clock.now().date(),
    )
    db.session.commit()
    assert "new_document" not in _kinds()


def test_the_daily_digest_goes_once_a_day(app: Flask) -> None:
    patient, pro = make_patient(routine_notices="digest"), make_professional()
    authorise(pro, patient)
    _deposit_by(pro, patient)
    _deposit_by(pro, patient)
    assert _kinds() == []
    today = clock.to_paris(clock.now()).date()
    assert notify.send_digests(today) == 1
    assert notify.send_digests(today) == 0
    digest = db.session.scalars(select(OutboxMessage)).one()
    assert digest.kind == "daily_digest" and digest.body.count("a ajouté un document") == 2
    _deposit_by(pro, patient)
    assert notify.send_digests(today) == 0  # already sent today: waits for tomorrow
    clock.advance(86400)
    tomorrow = clock.to_paris(clock.now()).date()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["outbox", "digest"])
    assert "1 daily digest(s) queued for " + tomorrow.isoformat() in result.output
    assert _kinds() == ["daily_digest", "daily_digest"]


def test_choosing_the_digest_in_settings(client: FlaskClient) -> None:
    patient = make_patient()
    login_as(client, patient)
    page = client.get("/settings/")
    assert "Une fois par jour" in page.get_data(as_text=True)
    client.post(
        "/settings/notifications", data={"routine": "digest", "csrf_token": csrf_from(page)}
    )
    db.session.expire_all()
    assert db.session.get(Account, patient.id).routine_notices == "digest"  # type: ignore[union-attr]
    client.post(
        "/settings/notifications", data={"routine": "every minute", "csrf_token": csrf_from(page)}
    )
    db.session.expire_all()
    assert db.session.get(Account, patient.id).routine_notices == "digest"  # type: ignore[union-attr]


def test_a_professionals_first_access_is_told_at_once_and_only_once(
    app: Flask, client: FlaskClient
) -> None:
    patient, pro = make_patient(routine_notices="digest"), make_professional()
    assert patient.patient is not None
    doc = documents.add(
        patient,
        patient.patient,
        stream=io.BytesIO(PDF),
        file_name="a.pdf",
        title="Bilan",
        category="biologie",
        care_date=clock.now().date(),
    )
    db.session.commit()
    authorise(pro, patient)
    login_as(client, pro)
    # professionals read records through their workspace; the loader is what counts here

    with app.test_request_context():
        actor = db.session.get(Account, pro.id)
        assert actor is not None
        loaders.get_document_for(actor, doc.id, policy.Permission.DOCUMENT_READ)
        db.session.commit()
        loaders.get_document_for(actor, doc.id, policy.Permission.DOCUMENT_DOWNLOAD)
        db.session.commit()
    assert _kinds().count("first_access") == 1


def test_csv_export_neutralises_formulas(client: FlaskClient) -> None:
    patient = make_patient()
    assert patient.patient is not None
    pro = make_professional(first_names='=HYPERLINK("x")', profession="pharmacien", specialty=None)
    audit.record_access(patient.patient, pro, Action.DOCUMENT_VIEWED)
    db.session.commit()
    login_as(client, patient)
    body = client.get("/access/history.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body
