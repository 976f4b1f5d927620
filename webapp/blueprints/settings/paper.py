"""The paper copy of the record: a PDF in large, plain type (SPEC §8), for the holder only,
after a recent sign-in like every download of the whole record."""

from __future__ import annotations

from flask import Response
from flask.typing import ResponseReturnValue

from webapp.blueprints.settings import bp
from webapp.core import clock
from webapp.core.extensions import db
from webapp.policy import Permission, loaders
from webapp.services import paper
from webapp.web.security import current_account, require_recent_auth


@bp.post("/paper")
@require_recent_auth
def paper_copy() -> ResponseReturnValue:
    account = current_account()
    patient = loaders.own_patient(account)  # a professional or an agent has none: 404
    loaders.require(account, Permission.RECORD_EXPORT, patient)
    pdf = paper.download(account, patient)
    db.session.commit()
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{paper.file_name(clock.now())}"',
            # Opened by mistake in a tab, it can run nothing and fetch nothing.
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "no-store",
        },
    )
