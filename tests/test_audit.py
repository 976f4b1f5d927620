"""The access history: append-only in the database, chained by HMAC per patient."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from tests.builders import login_as, make_patient
from tests.conftest import schema_altered
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account
from webapp.services import audit
from webapp.services.audit import Action


def _history(account: Account, count: int) -> None:
    assert account.patient is not None
    for n in range(count):
        audit.record_access(account.patient, account, Action.SIGN_IN, detail=f"event {n}")
    db.session.commit()


def _drop_triggers() -> None:
    schema_altered()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP TRIGGER access_events_no_change ON access_events"))
    else:
        db.session.execute(text("DROP TRIGGER access_events_no_update"))
        db.session.execute(text("DROP TRIGGER access_events_no_delete"))
    db.session.commit()


class TestAppendOnly:
    def test_update_is_refused_by_the_database(self, app: Flask) -> None:
        _history(make_patient(), 2)
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text("UPDATE access_events SET detail = 'changed'"))
        db.session.rollback()

    def test_delete_is_refused_by_the_database(self, app: Flask) -> None:
        _history(make_patient(), 2)
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text("DELETE FROM access_events"))
        db.session.rollback()
        assert len(db.session.scalars(select(AccessEvent)).all()) == 2


class TestChain:
    def test_intact_chains_verify(self, app: Flask) -> None:
        _history(make_patient(), 5)
        _history(make_patient(), 3)
        checked, breaks = audit.verify_all()
        assert checked == 2 and breaks == []

    def test_events_appended_in_bulk_extend_each_chain(self, app: Flask) -> None:
        """The insurer's batches append to many chains at once: the rows are the ones
        record_access writes, so the chains still verify, before and after single appends."""
        first, second, fresh = make_patient(), make_patient(), make_patient()
        _history(first, 2)
        _history(second, 1)
        ids = [account.patient.id for account in (first, second, fresh) if account.patient]
        audit.record_system_events(
            {ids[0]: "3 lines", ids[1]: "1 lines", ids[2]: "2 lines"},
            Action.REIMBURSEMENTS_RECEIVED,
            actor_kind=audit.ActorKind.INSURER,
        )
        db.session.commit()
        _history(first, 1)
        rows = db.session.execute(
            select(AccessEvent.patient_id, AccessEvent.seq, AccessEvent.actor_kind)
            .where(AccessEvent.action == Action.REIMBURSEMENTS_RECEIVED)
            .order_by(AccessEvent.patient_id)
        ).all()
        assert rows == [(ids[0], 3, "insurer"), (ids[1], 2, "insurer"), (ids[2], 1, "insurer")]
        checked, breaks = audit.verify_all()
        assert checked == 3 and breaks == []
        last = db.session.scalars(
            select(AccessEvent.seq).where(AccessEvent.patient_id == ids[0])
        ).all()
        assert sorted(last) == [1, 2, 3, 4]

    def test_each_patient_has_its_own_chain(self, app: Flask) -> None:
        first, second = make_patient(), make_patient()
        _history(first, 2)
        _history(second, 2)
        _history(first, 1)
        rows = db.session.execute(
            select(AccessEvent.patient_id, AccessEvent.seq).order_by(AccessEvent.id)
        ).all()
        assert [seq for _pid, seq in rows] == [1, 2, 1, 2, 3]

    def test_an_altered_row_is_found(self, app: Flask) -> None:
        patient = make_patient()
        _history(patient, 4)
        _drop_triggers()
        db.session.execute(text("UPDATE access_events SET detail = 'forged' WHERE seq = 3"))
        db.session.commit()
        _checked, breaks = audit.verify_all()
        assert [(b.seq, b.problem) for b in breaks] == [(3, "row altered")]

    def test_a_removed_row_is_found(self, app: Flask) -> None:
        _history(make_patient(), 4)
        _drop_triggers()
        db.session.execute(text("DELETE FROM access_events WHERE seq = 2"))
        db.session.commit()
        _checked, breaks = audit.verify_all()
        assert [(b.seq, b.problem) for b in breaks] == [(2, "missing or reordered row")]

    def test_a_removed_last_row_is_found(self, app: Flask) -> None:
        _history(make_patient(), 3)
        _drop_triggers()
        db.session.execute(text("DELETE FROM access_events WHERE seq = 3"))
        db.session.commit()
        _checked, breaks = audit.verify_all()
        assert len(breaks) == 1 and breaks[0].problem == "rows missing at the end of the chain"

    def test_swapped_rows_are_found(self, app: Flask) -> None:
        _history(make_patient(), 3)
        _drop_triggers()
        db.session.execute(text("UPDATE access_events SET seq = 99 WHERE seq = 1"))
        db.session.execute(text("UPDATE access_events SET seq = 1 WHERE seq = 2"))
        db.session.execute(text("UPDATE access_events SET seq = 2 WHERE seq = 99"))
        db.session.commit()
        _checked, breaks = audit.verify_all()
        assert len(breaks) == 1 and breaks[0].seq == 1

    def test_the_cli_reports_and_fails(self, app: Flask) -> None:
        runner = app.test_cli_runner()
        _history(make_patient(), 2)
        ok = runner.invoke(args=["audit", "verify"])
        assert ok.exit_code == 0 and "1 chain(s) verified" in ok.output
        _drop_triggers()
        db.session.execute(text("UPDATE access_events SET actor_label = 'someone else'"))
        db.session.commit()
        broken = runner.invoke(args=["audit", "verify"])
        assert broken.exit_code == 1
        assert "row 1: row altered" in broken.output


class TestHistoryPage:
    def test_newest_first_and_paginated(self, client: FlaskClient) -> None:
        patient = make_patient()
        _history(patient, 30)
        login_as(client, patient)
        # Her own sign-ins: listed when asked for, told apart in one line otherwise.
        first = client.get("/access/history?action=sign_in").get_data(as_text=True)
        assert "Page 1 sur 2" in first
        assert "31 évènements" in first  # 30 made here and the sign-in
        second = client.get("/access/history?action=sign_in&page=2").get_data(as_text=True)
        assert "Page 2 sur 2" in second

    def test_filters_by_actor_action_and_period(self, client: FlaskClient) -> None:
        patient = make_patient()
        assert patient.patient is not None
        audit.record_access(patient.patient, None, Action.SIGN_IN_REFUSED, allowed=False)
        db.session.commit()
        clock.advance(3 * 86400)
        login_as(client, patient)
        by_action = client.get("/access/history?action=sign_in_refused").get_data(as_text=True)
        assert "1 évènement" in by_action
        by_actor = client.get("/access/history?actor=unknown").get_data(as_text=True)
        assert "1 évènement" in by_actor and "refusé" in by_actor
        today = clock.to_paris(clock.now()).date().isoformat()
        recent = client.get(f"/access/history?since={today}").get_data(as_text=True)
        results = recent.split('id="history-results"')[1]
        assert "Connexion refusée" not in results and "Vos connexions" in results

    def test_bad_filters_are_explained_not_a_500(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        response = client.get("/access/history?since=2026-13-45&until=2020-01-01&page=abc")
        assert response.status_code == HTTPStatus.OK
        assert 'aria-invalid="true"' in response.get_data(as_text=True)

    def test_a_patient_sees_only_their_own_history(self, client: FlaskClient) -> None:
        other = make_patient()
        assert other.patient is not None
        audit.record_access(other.patient, other, Action.SIGN_IN, detail="secret-marker")
        db.session.commit()
        login_as(client, make_patient())
        assert "secret-marker" not in client.get("/access/history").get_data(as_text=True)

    def test_htmx_filter_returns_only_the_results(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        response = client.get(
            "/access/history?action=sign_in",
            headers={"HX-Request": "true", "HX-Target": "history-results"},
        )
        html = response.get_data(as_text=True)
        assert "<html" not in html and "évènement" in html
        assert response.headers["Vary"] and "HX-Request" in response.headers["Vary"]

    def test_csv_export_after_recent_sign_in(self, client: FlaskClient) -> None:
        patient = make_patient()
        login_as(client, patient)
        response = client.get("/access/history.csv")
        assert response.status_code == HTTPStatus.OK
        assert response.mimetype == "text/csv"
        assert "sign_in" in response.get_data(as_text=True)
