"""Whether the site can serve: the database answers."""

from __future__ import annotations

from sqlalchemy import select, text

from webapp.core.extensions import db


def database_reachable() -> bool:
    """One trivial query; a failed one is rolled back so that the session stays usable."""
    try:
        db.session.execute(select(text("1")))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
        return False
    return True
