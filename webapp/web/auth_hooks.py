"""Sign-in is the default: a view is reachable anonymously only when marked @public."""

from __future__ import annotations

from flask import Flask, Request, current_app, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.core.extensions import login_manager
from webapp.models import Account
from webapp.services import sessions
from webapp.web import htmx
from webapp.web.security import safe_next


def install(app: Flask) -> None:
    login_manager.request_loader(_load_from_cookie)
    login_manager.unauthorized_handler(_unauthorised)
    app.before_request(_require_sign_in)


def _load_from_cookie(req: Request) -> Account | None:
    session = sessions.load(req.cookies.get(sessions.cookie_name()))
    if session is None:
        return None
    g.user_session = session
    return session.account


def _require_sign_in() -> ResponseReturnValue | None:

    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "carnet_public", False):
        return None
    if current_user.is_authenticated:
        return None
    return _unauthorised()


def _unauthorised() -> ResponseReturnValue:
    here = request.full_path if request.method == "GET" else request.path
    target = url_for("auth.login", next=safe_next(here.rstrip("?")))
    if htmx.is_request():
        return htmx.redirect(target, status=401)
    return redirect(target, 302)
