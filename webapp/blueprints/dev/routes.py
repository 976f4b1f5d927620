"""Development only: the outbox, to read the messages Carnet would have sent."""

from __future__ import annotations

from flask import Response, abort, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from webapp.blueprints.dev import bp
from webapp.core.extensions import db
from webapp.core.security import public
from webapp.models import OutboxMessage
from webapp.services import notify
from webapp.services.crypto import settings
from webapp.ui.paging import requested_page

PAGE = 25


@bp.get("/outbox")
@public
def outbox() -> ResponseReturnValue:
    if not settings().is_development:
        abort(404)
    page = requested_page()
    messages = db.session.scalars(
        select(OutboxMessage)
        .order_by(OutboxMessage.id.desc())
        .offset((page - 1) * PAGE)
        .limit(PAGE + 1)
    ).all()
    return render_template(
        "dev/outbox.html",
        messages=[(m, notify.message_text(m)) for m in messages[:PAGE]],
        wiped=notify.WIPED,
        page=page,
        has_next=len(messages) > PAGE,
    )


@bp.get("/outbox/<int:message_id>/letter.pdf")
@public
def outbox_letter(message_id: int) -> ResponseReturnValue:
    if not settings().is_development:
        abort(404)
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.channel != "letter" or message.body == notify.WIPED:
        abort(404)
    return Response(
        notify.letter_pdf(message),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="letter-{message.id}.pdf"'},
    )
