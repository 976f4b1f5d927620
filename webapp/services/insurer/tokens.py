"""The insurer's bearer tokens: shown once at creation, kept only as their SHA-256.

A token is 256 random bits, so a plain SHA-256 is enough to keep it: nobody can guess one
from its hash, and looking it up by hash needs no per-row comparison.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import InsurerToken

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}")
# `last_used_at` is bookkeeping, not an audit trail: written at most once a minute per token.
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be created or revoked; the message is for the operator."""


def hash_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def create(name: str) -> tuple[InsurerToken, str]:
    """A new token named `name`: the row (flushed) and the token itself, to show once."""
    if not _NAME.fullmatch(name):
        raise TokenError(
            "A token's name is 1 to 60 letters, digits, dots, dashes or underscores, "
            "starting with a letter or a digit."
        )
    if db.session.scalar(select(InsurerToken.id).where(InsurerToken.name == name)) is not None:
        raise TokenError(f"A token named {name} exists already (revoked ones keep their name).")
    secret = secrets.token_urlsafe(32)
    row = InsurerToken(name=name, token_hash=hash_of(secret), created_at=clock.now())
    db.session.add(row)
    db.session.flush()
    return row, secret


def revoke(name: str) -> InsurerToken:
    """Revoke at once: the next call with it answers 401."""
    row = db.session.scalar(select(InsurerToken).where(InsurerToken.name == name))
    if row is None:
        raise TokenError(f"No token named {name}.")
    if row.revoked_at is not None:
        raise TokenError(f"The token {name} is already revoked.")
    row.revoked_at = clock.now()
    db.session.flush()
    return row


def listed() -> list[InsurerToken]:
    return list(db.session.scalars(select(InsurerToken).order_by(InsurerToken.name)))


def authenticate(presented: str) -> InsurerToken | None:
    """The token in force that `presented` is, or None (unknown or revoked)."""
    return db.session.scalar(
        select(InsurerToken).where(
            InsurerToken.token_hash == hash_of(presented), InsurerToken.revoked_at.is_(None)
        )
    )


def any_known(values: Iterable[str]) -> bool:
    """Whether one of `values` is a token (in force or not): a token written in a URL."""
    hashes = {hash_of(value) for value in values if value}
    if not hashes:
        return False
    query = select(InsurerToken.id).where(InsurerToken.token_hash.in_(sorted(hashes))).limit(1)
    return db.session.scalar(query) is not None


def touch(token: InsurerToken) -> None:
    """Note the use, unless it was noted less than a minute ago (one conditional UPDATE)."""
    now = clock.now()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    db.session.execute(
        update(InsurerToken)
        .where(
            InsurerToken.id == token.id,
            or_(
                InsurerToken.last_used_at.is_(None),
                InsurerToken.last_used_at < now - TOUCH_EVERY,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(token, "last_used_at", now)  # written above, not again at flush
