"""The state between a correct password and the second factor, kept in the signed cookie.

It names the account and what the second factor will open; it expires after 10 minutes and
is worth nothing without a fresh second factor (codes are single use, TOTP steps too). The
secret of an app being linked travels sealed beside it, never stored on the account before
a code proves the link.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

from flask import session

from webapp.core import clock
from webapp.models import Account, ActivationToken
from webapp.services import accounts, auth, codes

LIFETIME_SECONDS = 600
KEY = "pending_sign_in"
SETUP_KEY = "totp_setup"
ACTIVATION_KEY = "activation"


class Purpose(StrEnum):
    SIGN_IN = "sign_in"
    ENROL = "enrol"
    REAUTH = "reauth"


@dataclass(frozen=True)
class Pending:
    account_id: int
    purpose: str
    next: str
    started: float
    channel: str | None = None
    activation_id: int | None = None


def begin(
    account: Account,
    purpose: Purpose,
    next_url: str,
    channel: str | None = None,
    *,
    activation_id: int | None = None,
) -> None:
    session.clear()
    session[KEY] = asdict(
        Pending(account.id, purpose, next_url, clock.now().timestamp(), channel, activation_id)
    )


def load() -> tuple[Pending, Account] | None:
    raw = session.get(KEY)
    if not isinstance(raw, dict):
        return None
    try:
        pending = Pending(**raw)
    except TypeError:
        return None
    if clock.now().timestamp() - pending.started > LIFETIME_SECONDS:
        end()
        return None
    account = auth.account_for_pending(
        pending.account_id, enrolling=pending.purpose == Purpose.ENROL
    )
    changed = account.password_changed_at if account is not None else None
    if account is None or (changed is not None and changed.timestamp() > pending.started):
        # A sign-in begun with the password that has since been replaced is worth nothing.
        end()
        return None
    return pending, account


def end() -> None:
    session.pop(KEY, None)
    session.pop(SETUP_KEY, None)


def setup_secret() -> str:
    """The secret of the app being linked in this browser: the same one until it is proved."""
    secret = codes.open_setup_secret(session.get(SETUP_KEY))
    if secret is None:
        secret = codes.new_totp_secret()
        session[SETUP_KEY] = codes.seal_setup_secret(secret)
    return secret


def drop_setup_secret() -> None:
    session.pop(SETUP_KEY, None)


def hold_activation(activation_id: int) -> None:
    session.clear()
    session[ACTIVATION_KEY] = {"id": activation_id, "at": clock.now().timestamp()}


def held_activation() -> tuple[ActivationToken, Account] | None:
    """The activation link opened in this browser within the hour, and its account."""
    raw = session.get(ACTIVATION_KEY)
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        return None
    if clock.now().timestamp() - float(raw.get("at", 0)) > 3600:
        return None
    return accounts.usable_activation(raw["id"])
