"""The outbox seen from outside its worker: the development pages (a page of messages, a
letter to print) and the operator's commands (how the queue stands, sending again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.pagination import Page, paginate
from webapp.models import OutboxMessage
from webapp.models.outbox import OutboxStatus
from webapp.services.notify import WIPED


def outbox_page(page: int) -> Page[OutboxMessage]:
    """One page of the outbox, newest first."""
    return paginate(select(OutboxMessage).order_by(OutboxMessage.id.desc()), page)


def printable_letter(message_id: int) -> OutboxMessage | None:
    """A letter of the outbox that can still be printed (its body is not wiped yet)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.channel != "letter" or message.body == WIPED:
        return None
    return message


@dataclass(frozen=True)
class QueueStatus:
    pending: int
    oldest_pending: datetime | None
    failed: int
    sent_last_day: int


def status() -> QueueStatus:
    """How the queue stands, for `flask outbox status` (three small queries)."""
    pending, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING
        )
    ).one()
    failed = db.session.scalar(
        select(func.count()).where(OutboxMessage.status == OutboxStatus.FAILED)
    )
    sent = db.session.scalar(
        select(func.count()).where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at >= clock.now() - timedelta(days=1),
        )
    )
    return QueueStatus(int(pending or 0), oldest, int(failed or 0), int(sent or 0))


def retry(message_ids: list[int] | None) -> tuple[int, int]:
    """Put failed messages back in the queue, now: the ones named, or every failed one when
    None. A one-time code whose text was wiped cannot be sent again (a new code must be
    asked for): (put back, left because wiped)."""
    query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(message_ids))
    again = wiped = 0
    for message in db.session.scalars(query):
        if message.body == WIPED:
            wiped += 1
            continue
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = clock.now()
        message.last_error = None
        again += 1
    db.session.flush()
    return again, wiped
