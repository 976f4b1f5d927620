"""Development only: the outbox, to read the messages Carnet would have sent."""

from __future__ import annotations

from flask import Response, abort, render_template
from flask.typing import ResponseReturnValue

from webapp.blueprints.dev import bp
from webapp.services import notify, outbox_view
from webapp.services.crypto import settings
from webapp.web.paging import requested_page
from webapp.web.security import public


@bp.get("/outbox")
@public
def outbox() -> ResponseReturnValue:
    if not settings().is_development:
        abort(404)
    listing = outbox_view.outbox_page(requested_page())
    return render_template(
        "dev/outbox.html",
        messages=[(m, notify.message_text(m)) for m in listing.items],
        wiped=notify.WIPED,
        page=listing.number,
        has_next=listing.number < listing.pages,
    )


@bp.get("/outbox/<int(max=2147483647):message_id>/letter.pdf")
@public
def outbox_letter(message_id: int) -> ResponseReturnValue:
    if not settings().is_development:
        abort(404)
    message = outbox_view.printable_letter(message_id)
    if message is None:
        abort(404)
    return Response(
        notify.letter_pdf(message),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="letter-{message.id}.pdf"'},
    )
