"""Sign-in is the default: a view is reachable anonymously only when marked @public."""

from __future__ import annotations

from flask import Flask, Request, current_app, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.core.extensions import login_manager
from webapp.models import Account
from webapp.services import crypto, sessions
from webapp.web import htmx
from webapp.web.security import safe_next


def install(app: Flask) -> None:
    login_manager.request_loader(_load_from_cookie)
    login_manager.unauthorized_handler(_unauthorised)
    app.before_request(_require_sign_in)


def is_api_view(req: Request | None = None) -> bool:
    """A view of the insurer's API (`carnet_api`): it authenticates itself with a bearer
    token, and a cookie never counts there."""
    endpoint = (req or request).endpoint
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, "carnet_api", False))


def _load_from_cookie(req: Request) -> Account | None:
    if is_api_view(req):
        return None  # a signed-in person's cookie opens nothing on the API
    view = current_app.view_functions.get(req.endpoint or "")
    session = sessions.load(
        req.cookies.get(sessions.cookie_name()),
        touch=not getattr(view, "carnet_passive", False),
    )
    if session is None:
        return None
    g.user_session = session
    return session.account


def _require_sign_in() -> ResponseReturnValue | None:

    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "carnet_public", False) or getattr(view, "carnet_api", False):
        return None  # public, or an API view that checks its own bearer token
    if current_user.is_authenticated:
        return None
    return _unauthorised()


def _unauthorised() -> ResponseReturnValue:
    here = request.full_path if request.method == "GET" else request.path
    target = url_for("auth.login", next=safe_next(here.rstrip("?")))
    # A session cookie that no longer opens anything: the session was idle, too old or
    # ended elsewhere. The sign-in page says so, whether a page or an htmx request got here.
    ended = bool(request.cookies.get(sessions.cookie_name()))
    if ended:
        flash(
            _(
                "Vous avez été déconnecté pour protéger votre dossier : votre session a expiré "
                "ou a été fermée. Reconnectez-vous pour continuer."
            ),
            "info",
        )
    response: Response = (
        htmx.redirect(target, status=401) if htmx.is_request() else redirect(target, 302)
    )
    if ended:  # said once: the next visit without a session is a plain one
        response.delete_cookie(
            sessions.cookie_name(),
            path="/",
            secure=crypto.settings().secure_cookies,
            httponly=True,
            samesite="Lax",
        )
    return response
