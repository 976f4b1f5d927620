"""Regression tests for the second engineer's review of the professional and profile work:
each test is one finding, and fails on the code as it was before the fix."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.builders import (
    authorise,
    csrf_from,
    login_as,
    make_document,
    make_patient,
    make_professional,
)
from tests.test_emergency import identify, open_emergency
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    Document,
    EmergencyAccess,
    OutboxMessage,
    Patient,
)
from webapp.services import documents
from webapp.services.audit import Action

HTMX = {"HX-Request": "true"}


def _patient(account: Account) -> Patient:
    assert account.patient is not None
    return account.patient


def _events(holder: Account, action: str) -> list[AccessEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AccessEvent).where(
                AccessEvent.patient_id == _patient(holder).id, AccessEvent.action == action
            )
        )
    )


def _find(client: FlaskClient, holder: Account, **fields: str) -> int:
    token = csrf_from(client.get("/pro/"))
    data = {"find-csrf_token": token, "find-nir": _patient(holder).nir}
    data.update({f"find-{name}": value for name, value in fields.items()})
    return client.post("/pro/find", data=data).status_code


@pytest.mark.parametrize("junk", ["-", "'", "中", " - ' "])
def test_a_name_without_letters_does_not_stand_for_a_name(client: FlaskClient, junk: str) -> None:
    holder = make_patient()
    login_as(client, make_professional())
    assert _find(client, holder, last_name=junk, birth_date="") == HTTPStatus.UNPROCESSABLE_ENTITY
    assert client.get(f"/pro/patients/{_patient(holder).id}").status_code == HTTPStatus.NOT_FOUND


def test_a_wrong_name_for_an_open_record_is_in_its_history(client: FlaskClient) -> None:
    holder = make_patient()
    login_as(client, make_professional())
    assert _find(client, holder, last_name="Personne") == HTTPStatus.UNPROCESSABLE_ENTITY
    refused = _events(holder, Action.RECORD_CONSULTED)
    assert [(e.allowed, e.reason) for e in refused] == [(False, "identity_mismatch")]


def test_guessing_birth_dates_for_one_nir_is_slowed_down(app: Flask) -> None:
    from webapp.core.extensions import limiter

    limiter.enabled = True
    try:
        holder = make_patient()
        client = app.test_client()
        login_as(client, make_professional())
        answers = [_find(client, holder, birth_date=f"1950-01-{day:02d}") for day in range(1, 13)]
    finally:
        limiter.reset()
    assert HTTPStatus.TOO_MANY_REQUESTS in answers[10:]


def test_one_emergency_window_at_a_time(client: FlaskClient) -> None:
    first, second = make_patient(), make_patient()
    login_as(client, make_professional())
    for holder in (first, second):
        identify(client, holder)
        assert open_emergency(client, holder).status_code == HTTPStatus.SEE_OTHER
    db.session.expire_all()
    windows = db.session.scalars(select(EmergencyAccess).order_by(EmergencyAccess.id)).all()
    assert [w.ended_at is None for w in windows] == [False, True]
    # The first record is closed again: only the ways in are offered, no document list.
    page = client.get(f"/pro/patients/{_patient(first).id}").get_data(as_text=True)
    assert "record-documents" not in page
    assert "record-documents" in client.get(f"/pro/patients/{_patient(second).id}").get_data(
        as_text=True
    )
    token = csrf_from(client.get("/pro/"))
    ended = client.post(
        f"/pro/patients/{_patient(second).id}/emergency/end", data={"csrf_token": token}
    )
    assert ended.status_code == HTTPStatus.SEE_OTHER


def _held_document(holder: Account, author: Account) -> Document:
    doc = make_document(
        holder,
        author_account_id=author.id,
        author_kind="professional",
        title="Biopsie : résultat",
        hidden_from_patient_until=clock.now() + timedelta(days=30),
    )
    db.session.commit()
    return doc


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", "/delete"), ("POST", "/delete"), ("POST", "/mask"), ("GET", "")]
)
def test_a_held_result_is_out_of_the_holders_reach(
    client: FlaskClient, method: str, suffix: str
) -> None:
    holder = make_patient()
    doc = _held_document(holder, make_professional())
    login_as(client, holder)
    token = csrf_from(client.get("/settings/"))
    response = client.open(
        f"/documents/{doc.id}{suffix}",
        method=method,
        data={"csrf_token": token} if method == "POST" else None,
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Biopsie" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Document, doc.id) is not None


def test_the_directives_picker_never_names_a_masked_document(client: FlaskClient) -> None:
    holder = make_patient()
    doctor = make_professional()
    authorise(doctor, holder)
    make_document(
        holder,
        type_code="42348-3",
        category="ma_sante",
        title="Directives secrètes",
        masked_from_pros=True,
    )
    make_document(holder, type_code="42348-3", category="ma_sante", title="Directives connues")
    db.session.commit()
    login_as(client, doctor)
    page = client.get(
        f"/profile/patients/{_patient(holder).id}/wishes?kind=advance_directives"
    ).get_data(as_text=True)
    assert "Directives connues" in page and "Directives secrètes" not in page


def test_a_page_of_the_document_list_is_recorded_too(client: FlaskClient) -> None:
    holder = make_patient()
    doctor = make_professional()
    authorise(doctor, holder)
    login_as(client, doctor)
    before = len(_events(holder, Action.RECORD_CONSULTED))
    response = client.get(
        f"/pro/patients/{_patient(holder).id}", headers={**HTMX, "HX-Target": "record-documents"}
    )
    assert response.status_code == HTTPStatus.OK
    assert len(_events(holder, Action.RECORD_CONSULTED)) == before + 1


@pytest.mark.parametrize("version", ["²", "٣", "1e3", "-1", "9" * 30])
def test_an_odd_version_is_a_conflict_not_a_crash(client: FlaskClient, version: str) -> None:
    holder = make_patient()
    login_as(client, holder)
    page = client.get("/profile/allergies")
    client.post(
        "/profile/allergies/new?kind=allergy",
        data={"csrf_token": csrf_from(page), "label": "Latex", "severity": ""},
    )
    from webapp.models import ProfileEntry

    entry = db.session.scalars(select(ProfileEntry)).one()
    token = csrf_from(client.get(f"/profile/entries/{entry.id}/edit"))
    edited = client.post(
        f"/profile/entries/{entry.id}/edit",
        data={"csrf_token": token, "label": "Latex naturel", "version": version},
    )
    assert edited.status_code == HTTPStatus.CONFLICT
    deleted = client.post(
        f"/profile/entries/{entry.id}/delete", data={"csrf_token": token, "version": version}
    )
    assert deleted.status_code == HTTPStatus.SEE_OTHER
    db.session.expire_all()
    assert db.session.get(ProfileEntry, entry.id).deleted_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["false", "", "0"])
def test_an_unticked_attestation_declares_nothing(client: FlaskClient, value: str) -> None:
    holder = make_patient()
    login_as(client, make_professional())
    page = client.get(identify(client, holder))
    response = client.post(
        f"/pro/patients/{_patient(holder).id}/consent",
        data={"csrf_token": csrf_from(page), "attest": value},
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert _events(holder, Action.CONSENT_DECLARED) == []


def test_the_first_look_at_the_record_page_is_told_to_the_patient(client: FlaskClient) -> None:
    holder = make_patient()
    doctor = make_professional()
    authorise(doctor, holder)
    login_as(client, doctor)
    for _ in range(2):
        assert client.get(f"/pro/patients/{_patient(holder).id}").status_code == HTTPStatus.OK
    db.session.expire_all()
    notices = db.session.scalar(
        select(func.count()).where(
            OutboxMessage.account_id == holder.id, OutboxMessage.kind == "first_access"
        )
    )
    assert notices == 1


def test_a_result_is_released_once(client: FlaskClient) -> None:
    holder = make_patient()
    author = make_professional()
    doc = _held_document(holder, author)
    assert documents.release(author, doc) is True
    assert documents.release(author, doc) is False
    db.session.commit()
    assert len(_events(holder, Action.DOCUMENT_RELEASED)) == 1


def test_a_colleagues_cookie_does_not_identify_the_patient(app: Flask) -> None:
    holder = make_patient()
    first, second = app.test_client(), app.test_client()
    login_as(first, make_professional())
    identify(first, holder)
    login_as(second, make_professional())
    cookie = first.get_cookie("carnet_state")
    assert cookie is not None
    second.set_cookie(cookie.key, cookie.value)
    # The copied cookie carries the other professional's list: worthless to this one.
    assert second.get(f"/pro/patients/{_patient(holder).id}").status_code != HTTPStatus.OK
