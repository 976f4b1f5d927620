"""The outbox as the development pages show it: a page of messages, a letter to print."""

from __future__ import annotations

from sqlalchemy import select

from webapp.core.extensions import db
from webapp.core.pagination import Page, paginate
from webapp.models import OutboxMessage
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
