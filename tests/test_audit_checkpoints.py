"""Audit checkpoints: a chain cut at its end, or emptied, is found against a signed checkpoint.

Each tampering below is tried without a checkpoint (today's blind spot: the chain alone still
verifies, since its head moved back with it) and with one taken before the tampering.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select, text

from tests.builders import make_patient
from tests.test_audit import _drop_triggers
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import OutboxMessage, Patient
from webapp.services import audit, audit_checkpoints, purge
from webapp.services.audit import Action


def _patient(events: int) -> int:
    """A record with `events` rows in its history; its id (verification detaches rows)."""
    account = make_patient()
    patient = account.patient
    assert patient is not None
    for n in range(events):
        audit.record_access(patient, account, Action.SIGN_IN, detail=f"event {n}")
    db.session.commit()
    return patient.id


def _more(patient_id: int, events: int) -> None:
    patient = db.session.get(Patient, patient_id)
    assert patient is not None
    for n in range(events):
        audit.record_access(patient, None, Action.RECORD_CONSULTED, detail=f"more {n}")
    db.session.commit()


def _cut(patient_id: int, keep: int, *, drop_triggers: bool = True) -> None:
    """What a database administrator can do: drop the rows after `keep`, move the head back."""
    if drop_triggers:
        _drop_triggers()
    db.session.execute(
        text("DELETE FROM access_events WHERE patient_id = :p AND seq > :k"),
        {"p": patient_id, "k": keep},
    )
    head = db.session.execute(
        text("SELECT hmac FROM access_events WHERE patient_id = :p AND seq = :k"),
        {"p": patient_id, "k": keep},
    ).scalar()
    db.session.execute(
        text("UPDATE patients SET audit_head_seq = :k, audit_head_hmac = :h WHERE id = :p"),
        {"p": patient_id, "k": keep, "h": head},
    )
    db.session.commit()


def _checkpoint(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    return _files(app)[-1].name


def _verify(app: Flask) -> Result:
    db.session.expire_all()
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def _folder(app: Flask) -> Path:
    settings = app.extensions["carnet.settings"]
    assert isinstance(settings, Settings)
    return settings.audit_checkpoint_dir


def _files(app: Flask) -> list[Path]:
    return sorted(p for p in _folder(app).iterdir() if p.suffix == ".jsonl")


def _use(app: Flask, **changes: object) -> None:
    settings = app.extensions["carnet.settings"]
    app.extensions["carnet.settings"] = replace(settings, **changes)


class TestCheckpointFile:
    def test_signed_read_only_and_holding_every_head(self, app: Flask) -> None:
        first, second = _patient(3), _patient(0)
        name = _checkpoint(app)
        path = _folder(app) / name
        assert path.stat().st_mode & 0o777 == 0o400
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert lines[0]["format"] == 1 and lines[0]["previous"] == audit_checkpoints.GENESIS
        head = db.session.get(Patient, first)
        assert head is not None
        assert lines[1] == [first, 3, head.audit_head_hmac]
        assert lines[2] == [second, 0, None]
        assert lines[3] == {"chains": 2} and len(lines[4]["signature"]) == 64
        assert not [p for p in _folder(app).iterdir() if p.name.startswith(".")]

    def test_two_checkpoints_in_one_second_get_two_names(
        self, app: Flask, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _patient(2)
        instant = datetime(2025, 3, 1, 2, 0, 0, tzinfo=UTC)
        monkeypatch.setattr(clock, "now", lambda: instant)
        first = _checkpoint(app)
        before = (_folder(app) / first).read_bytes()
        second = _checkpoint(app)
        assert (first, second) == ("20250301T020000Z-000.jsonl", "20250301T020000Z-001.jsonl")
        assert (_folder(app) / first).read_bytes() == before
        assert _verify(app).exit_code == 0


class TestCutTail:
    """(1) The last two rows deleted and the head moved back."""

    def test_unseen_without_a_checkpoint(self, app: Flask) -> None:
        patient = _patient(5)
        _cut(patient, 3)
        result = _verify(app)
        assert result.exit_code == 0  # the blind spot checkpoints close
        assert "No valid checkpoint" in result.output

    def test_found_with_a_checkpoint_taken_before(self, app: Flask) -> None:
        patient, other = _patient(5), _patient(2)
        _checkpoint(app)
        _cut(patient, 3)
        result = _verify(app)
        assert result.exit_code == 1
        assert f"patient {patient}: row 4: chain cut: 3 row(s), 5 at the checkpoint" in (
            result.output
        )
        assert f"patient {other}" not in result.output

    def test_found_when_the_chain_grew_again_past_the_checkpoint(self, app: Flask) -> None:
        patient = _patient(5)
        _checkpoint(app)
        _cut(patient, 3)
        _more(patient, 4)  # legitimate appends after the cut: row 5 is not the one recorded
        result = _verify(app)
        assert result.exit_code == 1
        assert f"patient {patient}: row 5: row differs from the checkpoint" in result.output


class TestEmptiedChain:
    """(2) A whole chain deleted and its head reset to 0."""

    def test_unseen_without_a_checkpoint(self, app: Flask) -> None:
        patient = _patient(4)
        _cut(patient, 0)
        assert _verify(app).exit_code == 0

    def test_found_with_a_checkpoint_taken_before(self, app: Flask) -> None:
        patient = _patient(4)
        _checkpoint(app)
        _cut(patient, 0)
        result = _verify(app)
        assert result.exit_code == 1
        assert f"patient {patient}: row 1: chain emptied: 4 row(s) at the checkpoint" in (
            result.output
        )

    def test_a_record_deleted_from_the_database_is_found(self, app: Flask) -> None:
        patient = _patient(2)
        _checkpoint(app)
        _drop_triggers()
        with db.engine.begin() as connection:
            if db.engine.dialect.name == "sqlite":
                connection.execute(text("PRAGMA foreign_keys = OFF"))
            else:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text("DELETE FROM access_events"))
            connection.execute(text("DELETE FROM patients WHERE id = :p"), {"p": patient})
        result = _verify(app)
        assert result.exit_code == 1
        assert f"patient {patient}: record gone" in result.output


class TestCheckpointFilesTampered:
    def test_an_edited_checkpoint_is_named(self, app: Flask) -> None:
        patient = _patient(5)
        name = _checkpoint(app)
        path = _folder(app) / name
        path.chmod(0o600)
        edited = path.read_text().replace(f"[{patient},5,", f"[{patient},3,")
        assert edited != path.read_text()
        path.write_text(edited)
        _cut(patient, 3)  # what the edit was meant to cover
        result = _verify(app)
        assert result.exit_code == 1
        assert f"checkpoint {name}: edited: its signature does not match" in result.output
        assert "No valid checkpoint" in result.output

    def test_an_edited_checkpoint_leaves_the_one_before_in_force(self, app: Flask) -> None:
        patient = _patient(5)
        _checkpoint(app)
        clock.advance(86400)
        latest = _folder(app) / _checkpoint(app)
        latest.chmod(0o600)
        latest.write_text(latest.read_text().replace('"chains":1', '"chains":2'))
        _cut(patient, 2)
        result = _verify(app)
        assert result.exit_code == 1
        assert f"checkpoint {latest.name}: edited" in result.output
        assert f"patient {patient}: row 3: chain cut" in result.output

    def test_a_checkpoint_removed_from_the_middle_is_found(self, app: Flask) -> None:
        """(4) Each checkpoint names the previous one's signature."""
        _patient(2)
        names = []
        for _ in range(3):
            names.append(_checkpoint(app))
            clock.advance(86400)
        (_folder(app) / names[1]).unlink()
        result = _verify(app)
        assert result.exit_code == 1
        assert f"checkpoint {names[2]}: the checkpoint before it missing" in result.output

    def test_the_oldest_checkpoint_removed_is_found(self, app: Flask) -> None:
        _patient(2)
        first = _checkpoint(app)
        clock.advance(86400)
        second = _checkpoint(app)
        (_folder(app) / first).unlink()
        result = _verify(app)
        assert result.exit_code == 1
        assert f"checkpoint {second}: checkpoints before it missing" in result.output

    def test_the_latest_removed_falls_back_on_the_one_before(self, app: Flask) -> None:
        """Removing the latest file cannot show from the files alone (nothing names it yet):
        the folder must be write-once, and the witness e-mail keeps its digest. The one
        before still holds every chain as long as it was then."""
        patient = _patient(3)
        _checkpoint(app)
        clock.advance(86400)
        _more(patient, 2)
        latest = _checkpoint(app)
        (_folder(app) / latest).unlink()
        _cut(patient, 4)  # hidden from the removed checkpoint only
        assert _verify(app).exit_code == 0
        _cut(patient, 2, drop_triggers=False)  # below the remaining one: found
        assert _verify(app).exit_code == 1

    def test_checkpoint_refuses_to_chain_onto_an_unreadable_file(self, app: Flask) -> None:
        _patient(1)
        path = _folder(app) / _checkpoint(app)
        path.chmod(0o600)
        path.write_text("")
        result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
        assert result.exit_code == 1 and "unreadable" in result.output


class TestUntouched:
    def test_several_checkpoints_over_time_pass(self, app: Flask) -> None:
        """(5) Histories that only grew pass against every checkpoint."""
        first, second = _patient(2), _patient(0)
        for day in range(3):
            _checkpoint(app)
            clock.advance(86400)
            _more(first, 2)
            _more(second, day)
        _patient(1)  # a record opened after the last checkpoint
        result = _verify(app)
        assert result.exit_code == 0, result.output
        assert "3 checkpoint file(s) checked" in result.output
        assert "3 chain(s) verified, none broken." in result.output

    def test_a_deleted_record_passes(self, app: Flask) -> None:
        """(6) Deleting a record purges its content, never its history (purge.py): its chain
        is checked like any other and still verifies."""
        patient = db.session.get(Patient, _patient(3))
        assert patient is not None
        _checkpoint(app)
        purge.purge_record(patient)
        audit.record_access(patient, None, Action.RECORD_DELETED)
        db.session.commit()
        clock.advance(86400)
        _checkpoint(app)
        result = _verify(app)
        assert result.exit_code == 0, result.output


class TestWitness:
    def _mails(self) -> list[OutboxMessage]:
        return list(
            db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "audit_checkpoint")
            )
        )

    def test_queued_to_the_auditor_when_configured(self, app: Flask) -> None:
        """(7) An address, not an account: `notify.enqueue_contact` takes it as it is."""
        _use(app, audit_witness_email="auditeur@example.test")
        _patient(2)
        result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
        assert result.exit_code == 0 and "auditeur@example.test" in result.output
        path = _files(app)[-1]
        signature = json.loads(path.read_text().splitlines()[-1])["signature"]
        [mail] = self._mails()
        assert mail.recipient == "auditeur@example.test" and mail.account_id is None
        assert path.name in mail.subject
        assert signature in mail.body
        assert hashlib.sha256(path.read_bytes()).hexdigest() in mail.body

    def test_not_queued_otherwise(self, app: Flask) -> None:
        _patient(2)
        _checkpoint(app)
        assert self._mails() == []


class TestSettings:
    def test_read_from_the_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CARNET_ENV", "development")
        monkeypatch.delenv("CARNET_INSTANCE", raising=False)
        monkeypatch.delenv("AUDIT_CHECKPOINT_DIR", raising=False)
        monkeypatch.delenv("AUDIT_WITNESS_EMAIL", raising=False)
        defaults = Settings.from_env(tmp_path)
        assert defaults.audit_checkpoint_dir == tmp_path / "audit-checkpoints"
        assert defaults.audit_witness_email is None
        monkeypatch.setenv("AUDIT_CHECKPOINT_DIR", str(tmp_path / "worm"))
        monkeypatch.setenv("AUDIT_WITNESS_EMAIL", "auditeur@example.test")
        chosen = Settings.from_env(tmp_path)
        assert chosen.audit_checkpoint_dir == tmp_path / "worm"
        assert chosen.audit_witness_email == "auditeur@example.test"
