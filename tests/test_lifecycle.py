"""The life of a record: every transition pair, the timed run, closing and deletion."""

from __future__ import annotations

import io
import itertools
import threading
from datetime import date
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.builders import (
    PASSWORD,
    authorise,
    csrf_from,
    login_as,
    make_beneficiary,
    make_document,
    make_patient,
    make_professional,
    pdf_file,
)
from webapp import policy
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Document, OutboxMessage, Patient, UserSession
from webapp.models.account import AccountState, RecordState
from webapp.services import documents, enrolment, lifecycle, storage
from webapp.services.audit import Action

S = RecordState
ALL: list[str | None] = [None, *list(RecordState)]
ALLOWED = {
    (None, S.PENDING),
    (None, S.ACTIVE),
    (None, S.OPPOSED),
    (S.PENDING, S.ACTIVE),
    (S.PENDING, S.OPPOSED),
    (S.OPPOSED, S.PENDING),
    (S.OPPOSED, S.ACTIVE),
    (S.ACTIVE, S.CLOSED),
    (S.ACTIVE, S.SUSPENDED),
    (S.SUSPENDED, S.ACTIVE),
    (S.SUSPENDED, S.CLOSED),
    (S.CLOSED, S.ACTIVE),
    (S.CLOSED, S.DELETED),
    (S.DELETED, S.PENDING),
    (S.DELETED, S.ACTIVE),
}


@pytest.mark.parametrize(
    ("current", "target"), [(a, b) for a, b in itertools.product(ALL, list(RecordState))]
)
def test_every_pair_of_states(app: Flask, current: str | None, target: str) -> None:
    person = make_beneficiary()
    expected = (current, target) in ALLOWED
    assert lifecycle.allowed(current, target) is expected
    if current is None:
        if expected:
            assert lifecycle.create(person, target, actor=None).record_state == target
        else:
            with pytest.raises(lifecycle.InvalidTransition):
                lifecycle.create(person, target, actor=None)
        return
    patient = lifecycle.create(person, S.ACTIVE, actor=None)
    patient.record_state = current
    db.session.commit()
    before = patient.audit_head_seq
    if expected:
        lifecycle.transition(patient, target, actor=None)
        db.session.refresh(patient)
        assert patient.record_state == target
        assert patient.audit_head_seq == before + 1  # written to the history
    else:
        with pytest.raises(lifecycle.InvalidTransition):
            lifecycle.transition(patient, target, actor=None)
        db.session.refresh(patient)
        assert patient.record_state == current


def pending_record() -> Patient:
    person = make_beneficiary()
    patient, _ = enrolment.send_code(person, "email", issued_by="campaign", actor=None)
    db.session.commit()
    return patient


def test_six_weeks_without_opposition_open_the_record(app: Flask) -> None:
    patient = pending_record()
    assert lifecycle.run().opened == 0
    clock.advance(lifecycle.AUTO_OPEN_AFTER.total_seconds() - 60)
    assert lifecycle.run().opened == 0
    clock.advance(120)
    assert lifecycle.run().opened == 1
    db.session.refresh(patient)
    assert patient.record_state == S.ACTIVE
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert "record_opened" in kinds
    assert lifecycle.run().opened == 0  # idempotent


def test_an_opposed_record_never_opens(app: Flask) -> None:
    patient = pending_record()
    lifecycle.transition(patient, S.OPPOSED, actor=None)
    db.session.commit()
    clock.advance(lifecycle.AUTO_OPEN_AFTER.total_seconds() * 2)
    assert lifecycle.run().opened == 0


def test_two_runs_at_once_act_once(app: Flask) -> None:
    ids = [pending_record().id for _ in range(6)]
    clock.advance(lifecycle.AUTO_OPEN_AFTER.total_seconds() + 1)
    db.session.close()  # the test's own session holds no lock while the runs race
    barrier = threading.Barrier(2)
    opened: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                barrier.wait()
                opened.append(lifecycle.run().opened)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(opened) == len(ids)
    events = db.session.scalar(
        select(func.count(AccessEvent.id)).where(AccessEvent.action == Action.RECORD_OPENED)
    )
    assert events == len(ids)


def close_via_settings(client: FlaskClient, delete: str = "no") -> None:
    page = client.get("/settings/close")
    assert page.status_code == HTTPStatus.OK, page.headers.get("Location")
    response = client.post(
        "/settings/close",
        data={"understood": "yes", "delete": delete, "csrf_token": csrf_from(page)},
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response.headers["Location"].endswith("/enrolment/closed")


def test_closing_needs_a_recent_sign_in_and_the_checkbox(client: FlaskClient) -> None:
    holder = make_patient()
    login_as(client, holder)
    clock.advance(600)
    stale = client.get("/settings/close")
    assert stale.status_code == HTTPStatus.SEE_OTHER
    assert "/auth/reauth" in stale.headers["Location"]
    clock.reset()
    page = client.get("/settings/close")
    refused = client.post("/settings/close", data={"delete": "no", "csrf_token": csrf_from(page)})
    assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert holder.patient is not None
    db.session.refresh(holder.patient)
    assert holder.patient.record_state == S.ACTIVE


def test_closing_cuts_professionals_and_sessions_at_once(client: FlaskClient) -> None:
    holder = make_patient()
    doctor = make_professional()
    authorise(doctor, holder)
    doc = make_document(holder)
    login_as(client, holder)
    close_via_settings(client)
    db.session.expire_all()
    assert holder.patient is not None
    assert holder.patient.record_state == S.CLOSED
    assert not policy.decide(doctor, policy.Permission.DOCUMENT_READ, doc)
    live = db.session.scalar(
        select(func.count(UserSession.id)).where(
            UserSession.account_id == holder.id, UserSession.revoked_at.is_(None)
        )
    )
    assert live == 0
    assert holder.state == AccountState.DISABLED
    assert client.get("/documents/").status_code != HTTPStatus.OK
    assert "record_closed" in db.session.scalars(select(OutboxMessage.kind)).all()


def stored_document(holder: Account) -> Document:
    assert holder.patient is not None
    doc = documents.add(
        holder,
        holder.patient,
        stream=io.BytesIO(pdf_file("Bilan", padding=b"x" * 200)),
        file_name="bilan.pdf",
        title="Bilan",
        category="biologie",
        care_date=date(2025, 1, 2),
    )
    db.session.commit()
    return doc


def test_archive_then_purge_after_ten_years(client: FlaskClient) -> None:
    holder = make_patient()
    doc = stored_document(holder)
    blob = doc.blob_id
    assert holder.patient is not None
    patient_id = holder.patient.id
    login_as(client, holder)
    close_via_settings(client)
    assert lifecycle.run().deleted == 0
    clock.advance(lifecycle.ARCHIVE_FOR.total_seconds() + 1)
    assert lifecycle.run().deleted == 1
    db.session.expire_all()
    patient = db.session.get(Patient, patient_id)
    assert patient is not None and patient.record_state == S.DELETED
    assert patient.account_id is None and holder.password_hash is None
    assert db.session.scalar(select(func.count(Document.id))) == 0
    assert blob is not None and not storage.exists(blob)
    # The history stays, and says so.
    actions = db.session.scalars(
        select(AccessEvent.action).where(AccessEvent.patient_id == patient_id)
    ).all()
    assert Action.RECORD_DELETED in actions


def test_an_express_deletion_is_done_by_the_next_run(client: FlaskClient) -> None:
    holder = make_patient()
    stored_document(holder)
    login_as(client, holder)
    close_via_settings(client, delete="yes")
    report = lifecycle.run()
    assert report.deleted == 1
    assert db.session.scalar(select(func.count(Document.id))) == 0
    assert lifecycle.run().deleted == 0


def test_a_suspension_closes_after_six_weeks(app: Flask) -> None:
    holder = make_patient()
    assert holder.patient is not None
    lifecycle.transition(holder.patient, S.SUSPENDED, actor=None)
    db.session.commit()
    clock.advance(lifecycle.SUSPENSION_CLOSES_AFTER.total_seconds() + 1)
    assert lifecycle.run().closed_after_suspension == 1
    db.session.refresh(holder.patient)
    assert holder.patient.record_state == S.CLOSED


def test_lifecycle_cli_reports(app: Flask) -> None:
    pending_record()
    clock.advance(lifecycle.AUTO_OPEN_AFTER.total_seconds() + 1)
    result = app.test_cli_runner().invoke(args=["lifecycle", "run"])
    assert result.exit_code == 0
    assert "records opened after six weeks: 1" in result.output


def test_suspension_by_the_operator_is_told_by_letter_without_email(app: Flask) -> None:
    person = make_beneficiary(email=None)
    patient = lifecycle.create(person, S.ACTIVE, actor=None)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["lifecycle", "suspend", patient.nir])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Patient, patient.id).record_state == S.SUSPENDED  # type: ignore[union-attr]
    letters = db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.channel == "letter")
    ).all()
    assert letters == ["record_suspended"]
    again = app.test_cli_runner().invoke(args=["lifecycle", "suspend", patient.nir])
    assert again.exit_code != 0


def test_signing_in_to_a_closed_record_says_how_to_reopen(client: FlaskClient) -> None:
    holder = make_patient()
    login_as(client, holder)
    close_via_settings(client)
    page = client.get("/auth/login")
    wrong = client.post(
        "/auth/login",
        data={
            "identifier": holder.identifier,
            "password": "pas le bon mot de passe",
            "csrf_token": csrf_from(page),
        },
    )
    assert "Identifiant ou mot de passe incorrect" in wrong.get_data(as_text=True)
    page = client.get("/auth/login")
    right = client.post(
        "/auth/login",
        data={"identifier": holder.identifier, "password": PASSWORD, "csrf_token": csrf_from(page)},
    )
    assert right.status_code == HTTPStatus.OK
    assert "/enrolment/code" in right.get_data(as_text=True)
