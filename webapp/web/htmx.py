"""The only module that reads or writes HX-* headers."""

from __future__ import annotations

from flask import Response, request


def is_request() -> bool:
    """An htmx request, but not a history restore (which wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def redirect(url: str, status: int = 200) -> Response:
    """Ask htmx to load a whole new page at `url`."""
    response = Response(status=status)
    response.headers["HX-Redirect"] = url
    return response


def add_vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def target_is(element_id: str) -> bool:
    """An htmx request aimed at this element: the page answers with that fragment only."""
    return is_request() and request.headers.get("HX-Target") == element_id


def is_boosted_get() -> bool:
    """A link followed by hx-boost (a GET for a whole page), not a fragment's request."""
    return is_request() and request.method == "GET" and request.headers.get("HX-Boosted") == "true"
