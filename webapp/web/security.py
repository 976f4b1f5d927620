"""Who is signed in, which views are public, and the step-up check for sensitive actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.models import Account, UserSession
from webapp.services import sessions
from webapp.services.auth import Device
from webapp.web import htmx

P = ParamSpec("P")
R = TypeVar("R")


def public(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view that an anonymous visitor may open; every other view requires sign-in."""
    view.carnet_public = True  # type: ignore[attr-defined]
    return view


def passive(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view that pages call on their own (a badge's poll): it is not the person's
    activity, so it never keeps an idle session alive."""
    view.carnet_passive = True  # type: ignore[attr-defined]
    return view


def current_account() -> Account:
    account = current_user._get_current_object()  # noqa: SLF001
    if not isinstance(account, Account):
        raise RuntimeError("current_account() called on a public view without a session")
    return account


def current_account_or_none() -> Account | None:
    account = current_user._get_current_object()  # noqa: SLF001
    return account if isinstance(account, Account) else None


def current_session_or_none() -> UserSession | None:
    current_user._get_current_object()  # noqa: SLF001 - loads the session on public views too
    found = g.get("user_session")
    return found if isinstance(found, UserSession) else None


def current_session() -> UserSession:
    found = current_session_or_none()
    if found is None:
        raise RuntimeError("no user session on this request")
    return found


def request_device() -> Device:
    return Device(
        user_agent=request.headers.get("User-Agent", "")[:300],
        ip_address=request.remote_addr or "",
    )


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only a local path may follow sign-in: no scheme, no host, no protocol-relative tricks."""
    if not target:
        return fallback
    cleaned = target.strip()
    if any(ch in cleaned for ch in ("\\", "\r", "\n", "\t")) or not cleaned.startswith("/"):
        return fallback
    if cleaned.startswith("//"):
        return fallback
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return fallback
    return cleaned


def require_recent_auth(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Sensitive actions need a sign-in confirmed less than 5 minutes ago."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if sessions.is_recent(current_session()):
            return view(*args, **kwargs)
        back = request.full_path if request.method == "GET" else (request.referrer or "/")
        target = url_for("auth.reauth", next=safe_next(_local_path(back)))
        if htmx.is_request():
            return htmx.redirect(target)
        return redirect(target, 303)

    return wrapper


def _local_path(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path
