"""The outbox against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select, update

from tests.builders import make_patient
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import OutboxMessage
from webapp.models.outbox import OutboxStatus
from webapp.services import notify


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    messages: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: Settings, smtp_port: int) -> Settings:
    return replace(settings, smtp_url=f"smtp://127.0.0.1:{smtp_port}")


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


def _queue(count: int = 1) -> list[int]:
    patient = make_patient()
    ids = []
    for n in range(count):
        message = notify.enqueue(patient, "signin_code", sensitive=True, code=f"{n:06d}")
        assert message is not None
        ids.append(message.id)
    db.session.commit()
    return ids


def _status(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message_id)
    assert message is not None
    return message


def test_a_message_reaches_the_smtp_server(app: Flask, inbox: Inbox) -> None:
    (message_id,) = _queue()
    assert notify.deliver_due("worker-a") == 1
    assert len(inbox.messages) == 1
    assert b"Subject: Votre code de connexion Carnet" in inbox.messages[0]
    assert b"000000" in inbox.messages[0]
    message = _status(message_id)
    assert message.status == OutboxStatus.SENT and message.sent_at is not None
    assert "000000" not in message.body  # a one-time secret is wiped once delivered


def test_nothing_is_sent_twice(app: Flask, inbox: Inbox) -> None:
    _queue()
    notify.deliver_due("worker-a")
    assert notify.deliver_due("worker-a") == 0
    assert len(inbox.messages) == 1


def test_with_the_server_down_the_message_waits_then_goes(app: Flask, smtp_port: int) -> None:
    (message_id,) = _queue()
    assert notify.deliver_due("worker-a") == 0
    waiting = _status(message_id)
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.attempts == 1 and waiting.last_error
    assert waiting.next_attempt_at > clock.now()
    # still waiting: not retried before its backoff
    assert notify.deliver_due("worker-a") == 0
    assert _status(message_id).attempts == 1

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        clock.advance(notify.backoff(1).total_seconds() + 1)
        assert notify.deliver_due("worker-a") == 1
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    assert _status(message_id).status == OutboxStatus.SENT


def test_backoff_grows_and_is_capped() -> None:
    delays = [notify.backoff(n).total_seconds() for n in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[0] == 30 and delays[-1] == 3600


def test_gives_up_after_the_last_attempt(app: Flask) -> None:
    (message_id,) = _queue()
    for _ in range(notify.MAX_ATTEMPTS):
        notify.deliver_due("worker-a")
        clock.advance(3601)
    assert _status(message_id).status == OutboxStatus.FAILED


def test_two_workers_at_once_send_each_message_once(app: Flask, inbox: Inbox) -> None:
    ids = _queue(12)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            with app.app_context():
                for _ in range(3):
                    notify.deliver_due(name, limit=5)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(inbox.messages) == len(ids)
    sent = db.session.scalars(select(OutboxMessage.status)).all()
    assert set(sent) == {OutboxStatus.SENT}


def test_the_message_is_written_in_the_events_transaction(app: Flask) -> None:
    patient = make_patient()
    notify.enqueue(patient, "signin_code", code="123456")
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_without_a_contact_nothing_is_queued(app: Flask) -> None:
    patient = make_patient(email=None)
    assert notify.enqueue(patient, "signin_notice", when=clock.now(), device="x", place="y") is None


def test_a_code_left_by_a_dead_worker_goes_within_a_minute(app: Flask, inbox: Inbox) -> None:
    (message_id,) = _queue()
    db.session.execute(  # a worker claimed it, then died before sending
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(claimed_by="dead", claimed_until=clock.now() + timedelta(seconds=60))
    )
    db.session.commit()
    assert notify.deliver_due("worker-b") == 0  # still its lease
    clock.advance(61)
    assert notify.deliver_due("worker-b") == 1
    assert len(inbox.messages) == 1


def test_a_code_is_claimed_for_a_minute_other_mail_for_five(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    (code_id,) = _queue()
    notice = notify.enqueue(make_patient(), "welcome")
    assert notice is not None
    db.session.commit()
    original = notify._claim  # noqa: SLF001
    held: dict[int, int] = {}

    def spy(message_id: int, worker: str, seconds: int) -> bool:
        held[message_id] = seconds
        return original(message_id, worker, seconds)

    monkeypatch.setattr(notify, "_claim", spy)
    notify.deliver_due("worker-a")  # the server is down: both attempts fail
    assert held == {code_id: notify.CLAIM_SECONDS_CODES, notice.id: notify.CLAIM_SECONDS}
    assert notify.CLAIM_SECONDS_CODES == 60
    # each claim ends with its attempt: nothing stays held
    assert _status(code_id).claimed_until is None and _status(notice.id).claimed_until is None


def test_status_and_retry_from_the_command_line(app: Flask) -> None:
    (code_id,) = _queue()
    patient = make_patient()
    notice = notify.enqueue(patient, "welcome")
    assert notice is not None
    db.session.commit()
    for _ in range(notify.MAX_ATTEMPTS):  # the server never answers
        notify.deliver_due("worker-a")
        clock.advance(3601)
    assert _status(code_id).status == _status(notice.id).status == OutboxStatus.FAILED
    runner = app.test_cli_runner()
    status = runner.invoke(args=["outbox", "status"])
    assert status.exit_code == 0, status.output
    assert "pending: 0" in status.output and "failed: 2" in status.output
    assert runner.invoke(args=["outbox", "retry"]).exit_code != 0  # an ID or --failed
    again = runner.invoke(args=["outbox", "retry", "--failed"])
    assert "1 message(s) queued again." in again.output
    assert "1 one-time code(s) left" in again.output  # its text is wiped: never resent
    assert _status(notice.id).status == OutboxStatus.PENDING
    assert _status(notice.id).attempts == 0
    assert _status(code_id).status == OutboxStatus.FAILED
    after = runner.invoke(args=["outbox", "status"])
    assert "pending: 1" in after.output and "failed: 1" in after.output
    one = runner.invoke(args=["outbox", "retry", str(code_id)])
    assert "0 message(s) queued again." in one.output
