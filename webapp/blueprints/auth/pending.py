"""The state between a correct password and the second factor, kept in the signed cookie.

It names the account and what the second factor will open; it expires after 10 minutes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

from flask import session

from webapp.extensions import db
from webapp.models import Account
from webapp.services import clock

LIFETIME_SECONDS = 600
KEY = "pending_sign_in"


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


def begin(account: Account, purpose: Purpose, next_url: str, channel: str | None = None) -> None:
    keep_language = session.get("lang")
    session.clear()
    if keep_language:
        session["lang"] = keep_language
    session[KEY] = asdict(Pending(account.id, purpose, next_url, clock.now().timestamp(), channel))


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
    account = db.session.get(Account, pending.account_id)
    if account is None:
        return None
    return pending, account


def end() -> None:
    session.pop(KEY, None)
