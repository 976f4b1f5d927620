"""The outbox against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

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
