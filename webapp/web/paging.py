"""The page number a list is asked for, from the query string, within bounds whatever is
typed (the rows of a page: core.pagination)."""

from __future__ import annotations

from flask import request

MAX_PAGE = 10_000


def requested_page() -> int:
    raw = request.args.get("page", "1")
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1
    return min(max(number, 1), MAX_PAGE)
