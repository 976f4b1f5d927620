"""Take it all away: the record as a ZIP (documents, FHIR bundle, history, README)."""

from __future__ import annotations

from flask import Response, stream_with_context
from flask.typing import ResponseReturnValue

from webapp.blueprints.settings import bp
from webapp.core.extensions import db
from webapp.policy import Permission, loaders
from webapp.services import export
from webapp.web.security import current_account, require_recent_auth


@bp.post("/export")
@require_recent_auth
def export_record() -> ResponseReturnValue:
    """Her own record only (a professional or an agent has none here: 404). The event and the
    e-mail are committed first; the ZIP is then written as it downloads, from the database as
    it stands, so two downloads at once each get a whole archive."""
    account = current_account()
    patient = loaders.own_patient(account)
    loaders.require(account, Permission.RECORD_EXPORT, patient)
    export.begin(account, patient)
    db.session.commit()
    archive = export.Archive(account.id, patient.id)
    return Response(
        stream_with_context(archive.chunks()),
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{export.archive_name(export.today())}"'
        },
    )
