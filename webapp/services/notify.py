"""Notifications through the transactional outbox, and the worker that delivers them.

`enqueue_*` only adds a row to the caller's transaction: if the event is rolled back, so is
its message; if the mail server is down, the row waits and is retried with backoff.
"""

from __future__ import annotations

import base64
import json
import logging
import smtplib
import ssl
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Digest, DigestEntry, OutboxMessage
from webapp.models.base import affected
from webapp.models.outbox import OutboxStatus
from webapp.services import crypto, letters

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
CLAIM_SECONDS = 300
# A one-time code is worth nothing late: a worker that dies while sending one leaves it to
# another within a minute (a send is a few calls of at most 10 s each).
CLAIM_SECONDS_CODES = 60
WIPED = "[effacé après l'envoi]"
SEALED_PREFIX = "sealed:"


def _seal_body(body: str) -> str:
    """A body holding a one-time secret is kept encrypted until it is delivered."""
    sealed = crypto.seal("outbox-body", body.encode())
    return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode()


def message_text(message: OutboxMessage) -> str:
    """The body as the recipient reads it."""
    if not message.body.startswith(SEALED_PREFIX):
        return message.body
    sealed = base64.urlsafe_b64decode(message.body[len(SEALED_PREFIX) :])
    return crypto.unseal("outbox-body", sealed).decode()


def _render(kind: str, language: str, context: dict[str, object]) -> tuple[str, str]:
    with force_locale(language):
        subject = render_template(f"email/{kind}/subject.txt", **context).strip()
        body = render_template(f"email/{kind}/body.txt", **context)
    return subject, body


def enqueue(
    account: Account,
    kind: str,
    *,
    channel: str = "email",
    sensitive: bool = False,
    **context: object,
) -> OutboxMessage | None:
    """Queue a message to an account in its language; None when it has no such contact."""
    return _queue(account, kind, channel, sensitive, dict(context))


def enqueue_contact(
    recipient: str,
    channel: str,
    kind: str,
    *,
    language: str = "fr",
    sensitive: bool = False,
    **context: object,
) -> OutboxMessage:
    """Queue a message to a contact without an account (a beneficiary's, held by the insurer)."""
    context.setdefault("public_url", crypto.settings().public_url)
    subject, body = _render(kind, language, context)
    return _store(channel, kind, recipient, None, subject, body, sensitive)


def enqueue_letter(
    postal_address: str,
    kind: str,
    *,
    language: str = "fr",
    sensitive: bool = False,
    account: Account | None = None,
    **context: object,
) -> OutboxMessage:
    """Queue a postal letter; its HTML is rendered now, in the caller's transaction."""
    body = letters.render_html(kind, language, postal_address=postal_address, **context)
    account_id = account.id if account is not None else None
    recipient = postal_address[:254]
    return _store("letter", kind, recipient, account_id, letters.SUBJECTS[kind], body, sensitive)


def _queue(
    account: Account, kind: str, channel: str, sensitive: bool, context: dict[str, object]
) -> OutboxMessage | None:
    recipient = account.email if channel == "email" else account.mobile
    if not recipient:
        return None
    context.setdefault("public_url", crypto.settings().public_url)
    subject, body = _render(kind, account.language, {"account": account, **context})
    return _store(channel, kind, recipient, account.id, subject, body, sensitive)


def _store(
    channel: str,
    kind: str,
    recipient: str,
    account_id: int | None,
    subject: str,
    body: str,
    sensitive: bool,
) -> OutboxMessage:
    now = clock.now()
    message = OutboxMessage(
        channel=channel,
        kind=kind,
        recipient=recipient,
        account_id=account_id,
        subject=subject,
        body=_seal_body(body) if sensitive else body,
        sensitive=sensitive,
        status=OutboxStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


# --- delivery -------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A temporary failure: the message stays queued and is retried."""


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> OutboxStatus: ...


@dataclass(frozen=True)
class SmtpSender:
    url: str
    mail_from: str
    timeout: float = 10.0

    def send(self, message: OutboxMessage) -> OutboxStatus:
        parts = urlsplit(self.url)
        email = EmailMessage()
        email["From"] = self.mail_from
        email["To"] = message.recipient
        email["Subject"] = message.subject
        # The same id on every attempt, so that a retried message can be recognised.
        domain = urlsplit(crypto.settings().public_url).hostname or "carnet.invalid"
        email["Message-ID"] = f"<carnet-outbox-{message.id}@{domain}>"
        email.set_content(message_text(message))
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
        try:
            if parts.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    parts.hostname or "", port, timeout=self.timeout
                )
            else:
                client = smtplib.SMTP(parts.hostname or "", port, timeout=self.timeout)
            with client:
                if parts.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if parts.username:
                    client.login(unquote(parts.username), unquote(parts.password or ""))
                client.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(type(exc).__name__) from exc
        return OutboxStatus.SENT


@dataclass(frozen=True)
class HttpSmsSender:
    """Posts {"to", "text"} as JSON to the SMS gateway configured by SMS_URL."""

    url: str
    timeout: float = 10.0

    def send(self, message: OutboxMessage) -> OutboxStatus:
        data = json.dumps({"to": message.recipient, "text": message_text(message)}).encode()
        request = urllib.request.Request(
            self.url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if response.status >= 300:
                    raise DeliveryError(f"gateway answered {response.status}")
        except (TimeoutError, OSError) as exc:
            raise DeliveryError(type(exc).__name__) from exc
        return OutboxStatus.SENT


def letter_pdf(message: OutboxMessage) -> bytes:
    """The letter as it is printed (for development, while its body is not wiped)."""
    return letters.to_pdf(message_text(message))


@dataclass(frozen=True)
class LetterSender:
    """Hands each letter to the print room: a PDF file in the spool folder, written whole."""

    folder: Path

    def send(self, message: OutboxMessage) -> OutboxStatus:
        name = f"letter-{message.id}-{message.kind}.pdf"
        try:
            # Same name on every attempt: a retried letter replaces its file, never doubles it.
            letters.write_to_spool(self.folder, name, letter_pdf(message))
        except OSError as exc:
            raise DeliveryError(type(exc).__name__) from exc
        return OutboxStatus.SENT


class KeepInOutbox:
    """Development without SMTP_URL (or SMS_URL): the message stays readable at /dev/outbox."""

    def send(self, message: OutboxMessage) -> OutboxStatus:
        return OutboxStatus.KEPT


def sender_for(channel: str) -> Sender:
    current = crypto.settings()
    if channel == "letter":
        return LetterSender(current.letters_dir)
    if channel == "email" and current.smtp_url:
        return SmtpSender(current.smtp_url, current.mail_from)
    if channel == "sms" and current.sms_url:
        return HttpSmsSender(current.sms_url)
    if current.environment == "production":
        raise DeliveryError(f"no sender configured for {channel}")
    return KeepInOutbox()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _due_ids(limit: int) -> list[tuple[int, bool]]:
    now = clock.now()
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.sensitive)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    return [(message_id, sensitive) for message_id, sensitive in rows]


def _claim(message_id: int, worker: str, seconds: int) -> bool:
    now = clock.now()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_by=worker, claimed_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return affected(result) == 1


def _finish(message: OutboxMessage, worker: str, values: dict[str, object]) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(and_(OutboxMessage.id == message.id, OutboxMessage.claimed_by == worker))
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def deliver_due(worker: str, limit: int = 50) -> int:
    """Deliver what is due; returns how many messages left the queue."""
    delivered = 0
    for message_id, sensitive in _due_ids(limit):
        if not _claim(message_id, worker, CLAIM_SECONDS_CODES if sensitive else CLAIM_SECONDS):
            continue  # another worker has it
        message = db.session.get(OutboxMessage, message_id, populate_existing=True)
        assert message is not None
        try:
            status = sender_for(message.channel).send(message)
        except Exception as exc:  # noqa: BLE001 - any failure is one failed attempt, never a stuck row
            attempts = message.attempts + 1
            gave_up = attempts >= MAX_ATTEMPTS
            log.warning("outbox message %s not delivered: %s", message.id, exc)
            _finish(
                message,
                worker,
                {
                    "attempts": attempts,
                    "last_error": str(exc)[:500],
                    "next_attempt_at": clock.now() + backoff(attempts),
                    "status": OutboxStatus.FAILED if gave_up else OutboxStatus.PENDING,
                    **({"body": WIPED} if gave_up and message.sensitive else {}),
                },
            )
            continue
        values: dict[str, object] = {
            "status": status,
            "attempts": message.attempts + 1,
            "sent_at": clock.now(),
            "last_error": None,
        }
        if message.sensitive and status == OutboxStatus.SENT:
            values["body"] = WIPED
        _finish(message, worker, values)
        delivered += 1
    return delivered


# --- routine notices and the daily digest ----------------------------------------------------


def routine(account: Account, kind: str, summary: str, **context: object) -> None:
    """A routine notice: sent at once, or kept for the daily digest, as the person chose."""
    if account.routine_notices == "digest":
        db.session.add(
            DigestEntry(
                account_id=account.id, kind=kind, summary=summary[:300], created_at=clock.now()
            )
        )
        db.session.flush()
        return
    _queue(account, kind, "email", False, dict(context))


def send_digests(day: date) -> int:
    """One e-mail per account with waiting notices, at most once per day; returns how many."""
    sent = 0
    waiting = db.session.scalars(
        select(DigestEntry.account_id).where(DigestEntry.digest_id.is_(None)).distinct()
    ).all()
    for account_id in waiting:
        try:
            with db.session.begin_nested():
                digest = Digest(account_id=account_id, day=day, created_at=clock.now())
                db.session.add(digest)
                db.session.flush()
        except IntegrityError:
            continue  # already sent today: these notices wait for tomorrow's digest
        entries = db.session.scalars(
            select(DigestEntry)
            .where(DigestEntry.account_id == account_id, DigestEntry.digest_id.is_(None))
            .order_by(DigestEntry.id)
        ).all()
        for entry in entries:
            entry.digest_id = digest.id
        account = db.session.get(Account, account_id)
        if account is not None:
            enqueue(account, "daily_digest", entries=[e.summary for e in entries], day=day)
        db.session.commit()
        sent += 1
    return sent


def set_routine_notices(account: Account, choice: str) -> bool:
    """The person's choice for routine notices: "immediate" or "digest"; False for anything
    else, which changes nothing."""
    if choice not in ("immediate", "digest"):
        return False
    account.routine_notices = choice
    db.session.flush()
    return True
