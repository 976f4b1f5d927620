"""The calendar feed: created or regenerated (the address shown once), revoked, and read by a
calendar application with nothing but the token."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from webapp.blueprints.agenda import bp
from webapp.blueprints.agenda.forms import FeedForm, PlainForm
from webapp.core.extensions import db
from webapp.models import Account, Patient
from webapp.policy import Permission, loaders
from webapp.services import agenda_feed
from webapp.services.crypto import settings
from webapp.web.security import current_account, public


def _holder() -> tuple[Account, Patient]:
    actor = current_account()
    patient = actor.patient
    if patient is None:
        abort(404)
    loaders.require(actor, Permission.AGENDA_MANAGE, patient)
    return actor, patient


@bp.get("/feed")
def feed() -> ResponseReturnValue:
    _actor, patient = _holder()
    return render_template(
        "agenda/feed.html",
        feed=agenda_feed.current(patient),
        form=FeedForm(),
        plain_form=PlainForm(),
        address=None,
    )


@bp.post("/feed")
def feed_create() -> ResponseReturnValue:
    """The address is in this answer only: the page is not a redirect, and is never cached."""
    actor, patient = _holder()
    form = FeedForm()
    token = agenda_feed.create(actor, patient, include_notes=bool(form.include_notes.data))
    db.session.commit()
    address = settings().public_url.rstrip("/") + url_for(".feed_ics", token=token)
    return render_template(
        "agenda/feed.html",
        feed=agenda_feed.current(patient),
        form=form,
        plain_form=PlainForm(),
        address=address,
    )


@bp.post("/feed/revoke")
def feed_revoke() -> ResponseReturnValue:
    actor, patient = _holder()
    if agenda_feed.revoke(actor, patient):
        db.session.commit()
        flash(
            _("Le lien est supprimé : votre calendrier ne recevra plus vos rendez-vous."), "success"
        )
    return redirect(url_for(".feed"), 303)


@bp.get("/feed/<string(maxlength=64):token>.ics")
@public
def feed_ics(token: str) -> ResponseReturnValue:
    """No cookie, no session: the token alone; a wrong, revoked or old one is a plain 404."""
    found = agenda_feed.lookup(token)
    if found is None:
        abort(404)
    agenda_feed.note_reading(found)
    if request.if_none_match.contains(found.etag):
        response = Response(status=304)
    else:
        host = request.host.split(":")[0] or "carnet"
        response = Response(agenda_feed.calendar(found, host), mimetype="text/calendar")
        response.headers["Content-Disposition"] = 'inline; filename="carnet.ics"'
    response.set_etag(found.etag)
    return response
