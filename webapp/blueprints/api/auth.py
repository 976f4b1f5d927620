"""Who calls the API: a bearer token in the Authorization header, never a cookie and never a
token in the URL (URLs end up in logs, histories and Referer headers).

The app's hooks know API views by their `carnet_api` mark: no sign-in redirect, no session
loaded from a cookie, no form-only body check; the views authenticate themselves here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import Response, g, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address

from webapp.blueprints.api import bp
from webapp.blueprints.api.responses import error
from webapp.core.extensions import db
from webapp.models import InsurerToken
from webapp.services.insurer import tokens

P = ParamSpec("P")
PER_TOKEN = "120 per minute"
# Query parameters that are tokens by name; any other holding a token is refused as well.
_TOKEN_PARAMETERS = ("token", "access_token")
log = logging.getLogger("carnet.insurer")


def api_view(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Mark a view of the API; only the OpenAPI document is one without a token."""
    view.carnet_api = True  # type: ignore[attr-defined]
    return view


def insurer_api(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """The call needs a bearer token in force; its use is noted (at most once a minute)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if any(name in request.args for name in _TOKEN_PARAMETERS) or tokens.any_known(
            request.args.values()
        ):
            return _unauthorised("the token goes in the Authorization header", "invalid_request")
        presented = _bearer()
        if presented is None:
            return _unauthorised("send the token as Authorization: Bearer <token>", None)
        token = tokens.authenticate(presented)
        if token is None:
            return _unauthorised("this token is unknown or revoked", "invalid_token")
        g.insurer_token = token
        tokens.touch(token)
        db.session.commit()  # a refused batch is still a use of the token
        return view(*args, **kwargs)

    return api_view(wrapper)


def current_token() -> InsurerToken:
    token = g.get("insurer_token")
    if not isinstance(token, InsurerToken):
        raise RuntimeError("current_token() called outside an authenticated API view")
    return token


def per_token() -> str:
    """The rate limit's key: the token's hash, or the client's address before one is known."""
    token = g.get("insurer_token")
    if isinstance(token, InsurerToken):
        return f"insurer:{token.token_hash}"
    return get_remote_address() or "unknown"


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def _unauthorised(message: str, reason: str | None) -> Response:
    challenge = 'Bearer realm="carnet-insurer"'
    if reason:
        challenge += f', error="{reason}"'
    return error(401, "unauthorised", message, headers={"WWW-Authenticate": challenge})


# --- the technical log: one line per call, never a NIR, a name or an amount --------------------


@bp.before_request
def _start_clock() -> None:
    g.api_started = time.perf_counter()


@bp.after_request
def _log_call(response: Response) -> Response:
    started = g.get("api_started")
    took = (time.perf_counter() - started) * 1000 if isinstance(started, float) else 0.0
    token = g.get("insurer_token")
    counts = g.get("api_counts") or {}
    log.info(
        "insurer api token=%s endpoint=%s status=%d %s duration_ms=%d",
        token.name if isinstance(token, InsurerToken) else "-",
        request.endpoint,
        response.status_code,
        " ".join(f"{name}={value}" for name, value in counts.items()) or "-",
        took,
    )
    return response
