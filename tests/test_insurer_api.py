"""The insurer's API (SPEC §8b): tokens, reimbursement batches, the register, vaccination
certificates, the hardening around them, the CLI, and the OpenAPI document."""

from __future__ import annotations

import io
import itertools
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from werkzeug.test import TestResponse

from tests.builders import login_as, make_beneficiary, make_patient, page_text, pdf_file
from webapp.blueprints.api import BODY_LIMIT
from webapp.cli.insurer import COLUMNS
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    Beneficiary,
    Document,
    InsurerToken,
    Reimbursement,
)
from webapp.models.account import RecordState
from webapp.services.audit import Action
from webapp.services.demo import with_key
from webapp.services.insurer import tokens
from webapp.services.insurer.schemas import ReimbursementBatch, ReimbursementLine

API = "/api/insurer"
_ids = itertools.count(1)


# --- helpers ----------------------------------------------------------------------------------


def new_token(name: str = "cpam-feed") -> str:
    _row, secret = tokens.create(name)
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def today() -> date:
    return clock.to_paris(clock.now()).date()


def line(holder: Account, **overrides: object) -> dict[str, object]:
    assert holder.patient is not None
    values: dict[str, object] = {
        "line_id": f"L-{next(_ids):06d}",
        "nir": holder.patient.nir,
        "date": (today() - timedelta(days=10)).isoformat(),
        "act_code": "GS",
        "act_label": "Consultation de médecine générale",
        "professional": "Dr Claire Martin",
        "profession": "Médecin généraliste",
        "amount_paid": "26.50",
        "amount_reimbursed": "18.55",
    }
    values.update(overrides)
    return values


def send(client: FlaskClient, secret: str, lines: list[dict[str, object]]) -> TestResponse:
    return client.post(f"{API}/reimbursements", json={"lines": lines}, headers=bearer(secret))


def stored() -> int:
    return db.session.scalar(select(func.count(Reimbursement.id))) or 0


def events(holder: Account, action: str) -> list[AccessEvent]:
    assert holder.patient is not None
    return list(
        db.session.scalars(
            select(AccessEvent).where(
                AccessEvent.patient_id == holder.patient.id, AccessEvent.action == action
            )
        )
    )


def errors_of(response: TestResponse) -> list[tuple[int | None, str | None, str]]:
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)[:300]
    return [(item["index"], item["field"], item["code"]) for item in body["errors"]]


def set_state(holder: Account, **values: object) -> None:
    assert holder.patient is not None
    for name, value in values.items():
        setattr(holder.patient, name, value)
    db.session.commit()


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2])[:80])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


# --- reimbursement batches ----------------------------------------------------------------------


class TestReimbursements:
    def test_a_good_batch_is_stored_with_one_history_event(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        response = send(client, secret, [line(holder), line(holder, amount_paid="23")])
        assert response.status_code == HTTPStatus.OK
        assert response.get_json() == {"created": 2, "unchanged": 0, "expired": 0}
        amounts = db.session.scalars(select(Reimbursement.amount_paid).order_by(Reimbursement.id))
        assert list(amounts) == [Decimal("26.50"), Decimal("23.00")]
        [recorded] = events(holder, Action.REIMBURSEMENTS_RECEIVED)
        assert (recorded.actor_kind, recorded.detail) == ("insurer", "2 lines")

    def test_an_unknown_nir_refuses_the_batch_by_index(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        unknown = with_key("1850375999999")
        response = send(client, secret, [line(holder), line(holder, nir=unknown)])
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert errors_of(response) == [(1, "nir", "unknown_nir")]
        assert stored() == 0
        assert events(holder, Action.REIMBURSEMENTS_RECEIVED) == []

    def test_a_nir_with_a_wrong_key(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        assert holder.patient is not None
        wrong = holder.patient.nir[:13] + f"{(int(holder.patient.nir[13:]) + 1) % 97:02d}"
        response = send(client, secret, [line(holder, nir=wrong)])
        assert errors_of(response) == [(0, "nir", "invalid_nir")]
        assert stored() == 0

    def test_a_future_date(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        tomorrow = (today() + timedelta(days=1)).isoformat()
        response = send(client, secret, [line(holder, date=tomorrow)])
        assert errors_of(response) == [(0, "date", "future_date")]

    def test_a_line_older_than_24_months_is_expired_not_stored(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        old = (today() - timedelta(days=800)).isoformat()
        response = send(client, secret, [line(holder, date=old), line(holder)])
        assert response.get_json() == {"created": 1, "unchanged": 0, "expired": 1}
        assert stored() == 1

    @pytest.mark.parametrize(
        ("paid", "reimbursed", "field", "code"),
        [
            ("-1.00", "0.00", "amount_paid", "negative_amount"),
            ("10.00", "12.00", "amount_reimbursed", "reimbursed_exceeds_paid"),
            ("10.001", "1.00", "amount_paid", "invalid_amount"),
            ("10,00", "1.00", "amount_paid", "invalid_amount"),
            ("10000000.00", "1.00", "amount_paid", "invalid_amount"),
            (23.0, "1.00", "amount_paid", "invalid_amount"),
            ("23.00", 1, "amount_reimbursed", "invalid_amount"),
        ],
    )
    def test_bad_amounts(
        self, client: FlaskClient, paid: object, reimbursed: object, field: str, code: str
    ) -> None:
        holder, secret = make_patient(), new_token()
        batch = [line(holder, amount_paid=paid, amount_reimbursed=reimbursed)]
        response = send(client, secret, batch)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert errors_of(response) == [(0, field, code)]
        assert stored() == 0

    def test_an_amount_sent_as_a_json_number_says_amounts_are_strings(
        self, client: FlaskClient
    ) -> None:
        holder, secret = make_patient(), new_token()
        raw = json.dumps({"lines": [line(holder)]}).replace('"26.50"', "26.50")
        response = client.post(
            f"{API}/reimbursements", data=raw, content_type="application/json", **_auth(secret)
        )
        [problem] = response.get_json()["errors"]
        assert (problem["field"], problem["code"]) == ("amount_paid", "invalid_amount")
        assert "decimal strings" in problem["message"]

    def test_ten_thousand_lines_in_a_bounded_number_of_statements(
        self, client: FlaskClient
    ) -> None:
        holders, secret = [make_patient() for _ in range(4)], new_token()
        batch = [line(holders[n % 4], line_id=f"BIG-{n:05d}") for n in range(10_000)]
        body = json.dumps({"lines": batch}).encode()
        assert len(body) < BODY_LIMIT
        with counted_statements() as statements:
            response = client.post(
                f"{API}/reimbursements",
                data=body,
                content_type="application/json",
                **_auth(secret),
            )
        assert response.status_code == HTTPStatus.OK, response.get_data(as_text=True)[:500]
        assert response.get_json() == {"created": 10_000, "unchanged": 0, "expired": 0}
        assert stored() == 10_000
        assert len(statements) < 60, statements

    def test_the_same_batch_twice_is_all_unchanged(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        batch = [line(holder), line(holder, act_label="  Radiographie  ")]
        assert send(client, secret, batch).get_json()["created"] == 2
        batch[1]["act_label"] = "Radiographie"  # the same once stripped
        batch[0]["amount_paid"] = "26.5"  # the same amount
        again = send(client, secret, batch)
        assert again.get_json() == {"created": 0, "unchanged": 2, "expired": 0}
        assert stored() == 2
        assert len(events(holder, Action.REIMBURSEMENTS_RECEIVED)) == 1

    def test_the_same_line_id_with_other_content_is_a_conflict(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        first = line(holder)
        send(client, secret, [first])
        changed = {**first, "amount_paid": "30.00"}
        response = send(client, secret, [line(holder), changed])
        assert response.status_code == HTTPStatus.CONFLICT
        assert errors_of(response) == [(1, "line_id", "line_conflict")]
        assert stored() == 1

    def test_a_line_id_twice_in_a_batch(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        twin = line(holder)
        same = send(client, secret, [twin, dict(twin)])
        assert same.get_json() == {"created": 1, "unchanged": 0, "expired": 0}
        other = line(holder)
        response = send(client, secret, [other, {**other, "act_code": "ZZ"}])
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert errors_of(response) == [(1, "line_id", "duplicate_line_id")]
        assert stored() == 1

    def test_a_minors_confidential_line_is_refused(self, client: FlaskClient) -> None:
        child, adult, secret = make_patient(), make_patient(), new_token()
        set_state(child, birth_date=today() - timedelta(days=365 * 15))
        response = send(client, secret, [line(child, confidential=True)])
        assert errors_of(response) == [(0, "confidential", "minor_confidential")]
        assert "R1111-50" in response.get_json()["errors"][0]["message"]
        accepted = send(client, secret, [line(adult, confidential=True)])
        assert accepted.get_json()["created"] == 1

    @pytest.mark.parametrize("state", [RecordState.CLOSED, RecordState.OPPOSED])
    def test_a_record_not_open_takes_nothing(self, client: FlaskClient, state: str) -> None:
        holder, secret = make_patient(), new_token()
        set_state(holder, record_state=state)
        assert errors_of(send(client, secret, [line(holder)])) == [(0, "nir", "record_not_open")]

    def test_control_characters_in_a_label(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        response = send(client, secret, [line(holder, act_label="Consul\u0007tation")])
        assert errors_of(response) == [(0, "act_label", "control_characters")]

    def test_every_error_of_the_batch_is_listed(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        batch = [
            line(holder, act_code=""),
            line(holder),
            line(holder, nir=with_key("1850375999998"), act_label="x" * 201),
        ]
        response = send(client, secret, batch)
        assert errors_of(response) == [
            (0, "act_code", "required"),
            (2, "act_label", "too_long"),
        ]


def _auth(secret: str) -> dict[str, Any]:
    return {"headers": bearer(secret)}


# --- malformed bodies ---------------------------------------------------------------------------


class TestMalformedBodies:
    def test_malformed_json(self, client: FlaskClient) -> None:
        response = client.post(
            f"{API}/reimbursements",
            data=b'{"lines": [',
            content_type="application/json",
            **_auth(new_token()),
        )
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.get_json()["error"] == "malformed_json"

    def test_a_body_over_5_mb(self, client: FlaskClient) -> None:
        response = client.post(
            f"{API}/reimbursements",
            data=b" " * (BODY_LIMIT + 1),
            content_type="application/json",
            **_auth(new_token()),
        )
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert response.get_json()["error"] == "too_large"

    def test_a_wrong_content_type(self, client: FlaskClient) -> None:
        response = client.post(
            f"{API}/reimbursements",
            data="lines=1",
            content_type="text/plain",
            **_auth(new_token()),
        )
        assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
        assert response.get_json()["error"] == "unsupported_media_type"

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ({"lines": [[1, 2]]}, [(0, None, "model_type")]),
            ({"lines": {"line_id": "x"}}, [(None, "lines", "list_type")]),
            ([{"lines": []}], [(None, None, "model_type")]),
            (
                {"lines": [], "extra": 1},
                [(None, "lines", "too_short"), (None, "extra", "extra_forbidden")],
            ),
        ],
    )
    def test_wrong_shapes_answer_400_with_errors(
        self, client: FlaskClient, body: object, expected: list[tuple[object, ...]]
    ) -> None:
        response = client.post(f"{API}/reimbursements", json=body, **_auth(new_token()))
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert errors_of(response) == expected

    def test_unknown_endpoint_and_method_answer_json(self, client: FlaskClient) -> None:
        missing = client.get(f"{API}/nothing-here")
        assert (missing.status_code, missing.get_json()["error"]) == (404, "not_found")
        wrong = client.get(f"{API}/reimbursements", **_auth(new_token()))
        assert (wrong.status_code, wrong.get_json()["error"]) == (405, "method_not_allowed")


# --- authentication and limits ----------------------------------------------------------------


class TestAuthentication:
    def _refused(self, response: TestResponse) -> str:
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        body = response.get_json()
        assert body["error"] == "unauthorised"
        return str(body["message"])

    @pytest.mark.parametrize("parameter", ["token", "access_token", "anything"])
    def test_a_token_in_the_query_string_is_refused(
        self, client: FlaskClient, parameter: str
    ) -> None:
        holder, secret = make_patient(), new_token()
        response = client.post(
            f"{API}/reimbursements?{parameter}={secret}",
            json={"lines": [line(holder)]},
            headers=bearer(secret),
        )
        assert "Authorization header" in self._refused(response)
        assert stored() == 0

    def test_a_signed_in_patients_cookie_does_not_authenticate(
        self, app: Flask, client: FlaskClient
    ) -> None:
        holder = make_patient()
        login_as(client, holder)
        self._refused(client.post(f"{API}/reimbursements", json={"lines": [line(holder)]}))
        assert stored() == 0

    def test_a_revoked_token(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token("old-feed")
        tokens.revoke("old-feed")
        db.session.commit()
        self._refused(send(client, secret, [line(holder)]))

    def test_a_wrong_token(self, client: FlaskClient) -> None:
        holder = make_patient()
        new_token()
        self._refused(send(client, "not-a-token", [line(holder)]))
        self._refused(client.post(f"{API}/reimbursements", json={"lines": []}))

    def test_a_use_is_noted(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token("noted")
        send(client, secret, [line(holder)])
        row = db.session.scalars(select(InsurerToken).where(InsurerToken.name == "noted")).one()
        db.session.refresh(row)
        assert row.last_used_at is not None

    def test_the_rate_limit_is_per_token(self, client: FlaskClient) -> None:
        first, second = new_token("first"), new_token("second")
        for _ in range(120):
            assert client.post(f"{API}/reimbursements", json={}, **_auth(first)).status_code == 400
        limited = client.post(f"{API}/reimbursements", json={}, **_auth(first))
        assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert limited.get_json()["error"] == "rate_limited"
        other = client.post(f"{API}/reimbursements", json={}, **_auth(second))
        assert other.status_code == HTTPStatus.BAD_REQUEST

    def test_the_log_line_names_the_token_never_the_patient(
        self, client: FlaskClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        holder, secret = make_patient(), new_token("logged-feed")
        assert holder.patient is not None
        with caplog.at_level(logging.INFO, logger="carnet.insurer"):
            send(client, secret, [line(holder)])
        [record] = [r for r in caplog.records if r.name == "carnet.insurer"]
        message = record.getMessage()
        assert "token=logged-feed" in message and "status=200" in message
        assert "created=1" in message and "duration_ms=" in message
        for secret_word in (holder.patient.nir, holder.patient.last_name, "26.50", secret):
            assert secret_word not in message


# --- history ----------------------------------------------------------------------------------


def test_the_history_page_shows_the_insurer(app: Flask, client: FlaskClient) -> None:
    holder, secret = make_patient(), new_token()
    send(app.test_client(), secret, [line(holder)])
    login_as(client, holder)
    text = page_text(client.get("/access/history"))
    assert "Assurance Maladie" in text
    assert "Remboursements transmis par l'Assurance Maladie" in text


# --- the register -----------------------------------------------------------------------------


def entry(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "nir": with_key(f"2850375{next(_ids):06d}"),
        "vitale_serial": "1234567890",
        "last_name": "Durand",
        "first_names": "Lucie",
        "sex": "F",
        "birth_date": "1985-03-12",
        "email": "lucie.durand@example.test",
        "mobile": "06 12 34 56 78",
        "address": "3 rue des Lilas",
        "postcode": "69003",
        "city": "Lyon",
    }
    values.update(overrides)
    return values


class TestBeneficiaries:
    def post(self, client: FlaskClient, secret: str, entries: list[dict[str, object]]) -> Any:
        return client.post(
            f"{API}/beneficiaries", json={"beneficiaries": entries}, headers=bearer(secret)
        )

    def test_created_updated_unchanged(self, client: FlaskClient) -> None:
        secret, first, second = new_token(), entry(), entry(email=None, mobile=None)
        created = self.post(client, secret, [first, second])
        assert created.get_json() == {"created": 2, "updated": 0, "unchanged": 0}
        moved = self.post(client, secret, [{**first, "city": "Villeurbanne"}, second])
        assert moved.get_json() == {"created": 0, "updated": 1, "unchanged": 1}
        city = db.session.scalar(select(Beneficiary.city).where(Beneficiary.nir == first["nir"]))
        assert city == "Villeurbanne"

    def test_a_bad_entry_by_index_changes_nothing(self, client: FlaskClient) -> None:
        secret = new_token()
        response = self.post(client, secret, [entry(), entry(nir="1234", sex="X")])
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert errors_of(response) == [(1, "nir", "invalid_nir"), (1, "sex", "invalid_value")]
        assert db.session.scalar(select(func.count(Beneficiary.id))) == 0

    def test_a_record_whose_row_changed_gets_an_event(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        assert holder.patient is not None
        make_beneficiary(nir=holder.patient.nir, vitale_serial="1234567890", city="Lyon")
        changed = entry(nir=holder.patient.nir, city="Bron")
        assert self.post(client, secret, [changed]).get_json()["updated"] == 1
        assert self.post(client, secret, [changed]).get_json()["unchanged"] == 1
        [recorded] = events(holder, Action.BENEFICIARY_UPDATED)
        assert recorded.actor_kind == "insurer"


# --- vaccination certificates -----------------------------------------------------------------


def certificate(
    client: FlaskClient,
    secret: str,
    holder: Account,
    content: bytes,
    cert_id: str = "VAC-1",
    nir: str | None = None,
) -> TestResponse:
    assert holder.patient is not None
    return client.post(
        f"{API}/vaccination-certificates",
        data={
            "nir": nir or holder.patient.nir,
            "date": (today() - timedelta(days=3)).isoformat(),
            "vaccine": "DTCaP",
            "certificate_id": cert_id,
            "file": (io.BytesIO(content), "certificat.pdf"),
        },
        content_type="multipart/form-data",
        headers=bearer(secret),
    )


class TestCertificates:
    def test_a_certificate_is_deposited_in_prevention(
        self, app: Flask, client: FlaskClient
    ) -> None:
        holder, secret = make_patient(), new_token()
        response = certificate(app.test_client(), secret, holder, pdf_file("Vaccin"))
        assert response.status_code == HTTPStatus.CREATED
        body = response.get_json()
        assert body["created"] is True
        doc = db.session.get(Document, body["document_id"])
        assert doc is not None
        assert (doc.category, doc.type_code, doc.author_kind) == (
            "prevention",
            "11369-6",
            "insurer",
        )
        assert (doc.author_label, doc.author_account_id) == ("Assurance Maladie", None)
        assert doc.title == "Certificat de vaccination : DTCaP"
        [recorded] = events(holder, Action.CERTIFICATE_DEPOSITED)
        assert recorded.actor_kind == "insurer"
        login_as(client, holder)
        page = client.get(f"/documents/{doc.id}")
        assert page.status_code == HTTPStatus.OK
        assert "Assurance Maladie" in page_text(page)

    def test_the_same_certificate_twice(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        content = pdf_file("Vaccin")
        first = certificate(client, secret, holder, content).get_json()
        again = certificate(client, secret, holder, content)
        assert again.status_code == HTTPStatus.OK
        assert again.get_json() == {"created": False, "document_id": first["document_id"]}
        other = certificate(client, secret, holder, pdf_file("Autre"))
        assert other.status_code == HTTPStatus.CONFLICT
        assert db.session.scalar(select(func.count(Document.id))) == 1

    def test_a_file_that_is_not_a_pdf(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        response = certificate(client, secret, holder, b"Just some text, not a PDF.\n")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert errors_of(response) == [(None, "file", "not_pdf")]
        assert db.session.scalar(select(func.count(Document.id))) == 0

    def test_a_pdf_that_does_not_parse(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        response = certificate(client, secret, holder, b"%PDF-1.7\nnothing else")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert [(f, c) for _i, f, c in errors_of(response)] == [("file", "damaged_file")]

    def test_unknown_nir_and_closed_record(self, client: FlaskClient) -> None:
        holder, secret = make_patient(), new_token()
        set_state(holder, record_state=RecordState.CLOSED)
        response = certificate(client, secret, holder, pdf_file())
        assert errors_of(response) == [(None, "nir", "record_not_open")]
        unknown = with_key("1850375999997")
        assert errors_of(certificate(client, secret, holder, pdf_file(), nir=unknown)) == [
            (None, "nir", "unknown_nir")
        ]

    def test_a_json_body_is_refused(self, client: FlaskClient) -> None:
        response = client.post(
            f"{API}/vaccination-certificates", json={"nir": "x"}, **_auth(new_token())
        )
        assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


# --- the CLI ----------------------------------------------------------------------------------


class TestCommandLine:
    def test_token_create_list_revoke(self, app: Flask) -> None:
        runner = app.test_cli_runner()
        created = runner.invoke(args=["insurer", "token", "create", "cpam-69"])
        assert created.exit_code == 0, created.output
        secret = created.output.strip().splitlines()[-1]
        row = db.session.scalars(select(InsurerToken)).one()
        assert row.token_hash == tokens.hash_of(secret) and secret not in row.token_hash
        listed = runner.invoke(args=["insurer", "token", "list"])
        assert "cpam-69" in listed.output and "1 token(s)." in listed.output
        again = runner.invoke(args=["insurer", "token", "create", "cpam-69"])
        assert again.exit_code == 1
        revoked = runner.invoke(args=["insurer", "token", "revoke", "cpam-69"])
        assert revoked.exit_code == 0
        db.session.expire_all()
        assert tokens.authenticate(secret) is None

    def _write(self, tmp_path: Path, rows: list[dict[str, object]]) -> Path:
        lines = [",".join(COLUMNS)] + [",".join(str(row[name]) for name in COLUMNS) for row in rows]
        path = tmp_path / "lines.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def test_import_reimbursements(self, app: Flask, tmp_path: Path) -> None:
        holder = make_patient()
        old = (today() - timedelta(days=800)).isoformat()
        path = self._write(tmp_path, [line(holder), line(holder), line(holder, date=old)])
        result = app.test_cli_runner().invoke(args=["insurer", "import-reimbursements", str(path)])
        assert result.exit_code == 0, result.output
        assert "2 created, 0 unchanged, 1 expired" in result.output
        assert stored() == 2
        again = app.test_cli_runner().invoke(args=["insurer", "import-reimbursements", str(path)])
        assert "0 created, 2 unchanged, 1 expired" in again.output

    def test_bad_lines_are_reported_by_number(self, app: Flask, tmp_path: Path) -> None:
        holder = make_patient()
        rows = [line(holder), line(holder, amount_paid="-3.00"), line(holder, nir="123")]
        path = self._write(tmp_path, rows)
        result = app.test_cli_runner().invoke(args=["insurer", "import-reimbursements", str(path)])
        assert result.exit_code == 1
        assert "line 3: amount_paid:" in result.output
        assert "line 4: nir:" in result.output
        assert "2 error(s): nothing was imported." in result.output
        assert stored() == 0


# --- the OpenAPI document ---------------------------------------------------------------------


class TestOpenApi:
    def test_every_api_route_is_documented_with_its_methods(
        self, app: Flask, client: FlaskClient
    ) -> None:
        response = client.get(f"{API}/openapi.json")
        assert response.status_code == HTTPStatus.OK
        document = response.get_json()
        assert document["openapi"].startswith("3.1")
        checked = 0
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith(f"{API}/"):
                continue
            operations = document["paths"][rule.rule]
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                assert method.lower() in operations, (rule.rule, method)
                checked += 1
        assert checked == 4
        assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"

    def test_the_request_schemas_are_the_pydantic_models(self, client: FlaskClient) -> None:
        document = client.get(f"{API}/openapi.json").get_json()
        schemas = document["components"]["schemas"]
        ref = "#/components/schemas/{model}"
        expected = ReimbursementBatch.model_json_schema(ref_template=ref)
        nested = expected.pop("$defs")
        assert schemas["ReimbursementBatch"] == expected
        assert schemas["ReimbursementLine"] == nested["ReimbursementLine"]
        assert schemas["ReimbursementLine"] == ReimbursementLine.model_json_schema(ref_template=ref)
        operation = document["paths"][f"{API}/reimbursements"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ReimbursementBatch"}
        assert {"200", "400", "401", "409", "413", "415", "429"} <= set(operation["responses"])
        assert "expired" in operation["description"]
        assert schemas["ReimbursementLine"]["properties"]["amount_paid"]["type"] == "string"
