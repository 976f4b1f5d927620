"""The fuzz test's browser (tests/test_fuzz.py): it crawls the pages a role reaches, sends
requests, and writes down every answer that is wrong: a 500 or an error the application
logged, a traceback, a status no form should give, a CSRF check that let a request through,
or a refused form that does not show what was typed."""

from __future__ import annotations

import io
import logging
import re
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Flask
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import MapAdapter, RequestRedirect, Rule
from werkzeug.test import TestResponse

from tests.builders import csrf_from
from tests.fuzz_forms import Attempt, Form, Page, with_query
from tests.fuzz_world import Actor, local_location

# The answers a form may give to bad input; 429 is not among them (limits are off here).
ANSWERS = frozenset({200, 204, 302, 303, 400, 401, 403, 404, 405, 409, 413, 414, 415, 422})
FOREIGN_TYPES = ("application/json", "application/xml", "text/plain")
EXPIRED = ("Cette page a expiré", "This page has expired")
PAGES_PER_ROLE, URLS_PER_PAGE_KIND, URLS_PER_ENDPOINT = 80, 2, 4


# --- sending and judging ------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """The exceptions the application logged (errors._unexpected), with where they rose."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            frames = [
                f"{Path(f.filename).name}:{f.lineno}"
                for f in traceback.extract_tb(error.__traceback__)
                if "/webapp/" in f.filename
            ]
            self.found.append(f"{type(error).__name__}: {str(error)[:200]} at {frames[-3:]}")


@dataclass
class Fuzzer:
    """One role's browser, and the wrong answers it met."""

    app: Flask
    actor: Actor
    others: dict[str, list[int]]  # ids of what is someone else's, by URL argument
    log: ErrorLog
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    lost_state: bool = False
    adapter: MapAdapter = field(init=False)

    def __post_init__(self) -> None:
        self.adapter = self.app.url_map.bind("localhost")

    def endpoint(self, url: str, method: str) -> tuple[Rule, dict[str, object]] | None:
        try:
            rule, args = self.adapter.match(urlsplit(url).path, method=method, return_rule=True)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            return None
        return rule, dict(args)

    def send(self, attempt: Attempt) -> TestResponse | None:
        """Send, and write down what is wrong with the answer; None when it raised."""
        response = self._open(attempt)
        if response is not None and attempt.with_token and _expired(response):
            # A step that succeeded cleared the session (a sign-in, an account's password):
            # a new token, or the state again if the page that held one is gone.
            self.refresh_token()
            response = self._open(attempt)
            if response is not None and _expired(response):
                self._fail(attempt, "the CSRF token of the page was refused")
        if response is not None:
            self._judge(attempt, response)
        return response

    def _open(self, attempt: Attempt) -> TestResponse | None:
        headers, url = dict(attempt.headers), attempt.url
        body: object = None
        token = [("csrf_token", self.actor.token)] if attempt.with_token else []
        if attempt.raw is not None:
            body = attempt.raw
            headers.update({"X-CSRFToken": self.actor.token} if attempt.with_token else {})
        elif attempt.method == "GET":
            url = with_query(url, urlencode(attempt.pairs)) if attempt.pairs else url
        else:
            files = [
                (k, (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v)
                for k, v in attempt.pairs
            ]
            body = MultiDict([*files, *token])
        self.sent += 1
        before = len(self.log.found)
        try:
            response = self.actor.client.open(
                url,
                method=attempt.method,
                data=body,
                content_type=attempt.content_type,
                headers=headers,
            )
        except Exception as error:  # noqa: BLE001 - the error handler itself failed
            self._fail(attempt, f"raised {type(error).__name__}: {error}")
            return None
        if len(self.log.found) > before:
            self._fail(attempt, f"logged {self.log.found[before:]}")
        response.close()
        return response

    def _judge(self, attempt: Attempt, response: TestResponse) -> None:
        status, expected = response.status_code, self._expected(attempt)
        if status not in expected:
            self._fail(attempt, f"answered {status}, expected one of {sorted(expected)}")
        body = _text(response)
        if "Traceback" in body or "Werkzeug Debugger" in body:
            self._fail(attempt, "shows a traceback")
        if status == HTTPStatus.UNPROCESSABLE_ENTITY and str(escape(attempt.typed)) not in body:
            self._fail(attempt, f"refused the form without showing {attempt.typed!r} again")
        location = response.headers.get("Location", "") + response.headers.get("HX-Redirect", "")
        if (
            not attempt.with_token
            and status == HTTPStatus.FOUND
            and not location.startswith("/auth/login")
        ):
            self._fail(attempt, f"without a CSRF token, went on to {location}")
        if self.actor.signed_in and location.startswith(("/auth/login", "/auth/verify")):
            self.lost_state = True  # signed out, or a new sign-in that forgets the session

    def _expected(self, attempt: Attempt) -> frozenset[int]:
        if attempt.has_nul:
            return frozenset({400})  # refused before anything reads it
        if attempt.method == "POST" and attempt.content_type in FOREIGN_TYPES:
            return frozenset({415})
        if attempt.method == "POST" and not attempt.with_token:
            found = self.endpoint(attempt.url, "POST")
            public = found is not None and getattr(
                self.app.view_functions[found[0].endpoint], "carnet_public", False
            )
            # Refused by the CSRF check, or sent to sign in (a request before it signed out).
            return frozenset({400, 302} if self.actor.signed_in or public else {302})
        return ANSWERS

    def _fail(self, attempt: Attempt, problem: str) -> None:
        url = attempt.url if len(attempt.url) < 120 else attempt.url[:120] + "…"
        self.failures.append(
            f"[{self.actor.name}] {attempt.method} {url} ({attempt.label[:150]}): {problem}"
        )

    def refresh_token(self) -> None:
        page = self.actor.client.get(self.actor.token_page)
        if page.status_code == HTTPStatus.OK:
            self.actor.token = csrf_from(page)
        else:
            self.actor.begin()

    def keep_state(self) -> None:
        """After each form: back to the state the role stands in, if a request left it (a
        signed-in role leaves it only through the sign-in pages)."""
        self.actor.client.delete_cookie("lang")
        if self.actor.signed_in and not self.lost_state:
            return
        if self.actor.client.get(self.actor.probe).status_code != HTTPStatus.OK:
            self.actor.begin()
        self.lost_state = False

    # --- crawling ------------------------------------------------------------------------------

    def crawl(
        self, starts: list[str], limit: int = PAGES_PER_ROLE
    ) -> tuple[list[Form], dict[str, dict[str, str]]]:
        """The pages the role reaches from its start pages: their forms, and the query
        parameters their links carry, by path."""
        queue: deque[tuple[str, tuple[object, ...]]] = deque((url, ()) for url in starts)
        seen: set[str] = set()
        per_kind: Counter[object] = Counter()
        forms: list[Form] = []
        params: dict[str, dict[str, str]] = {}
        while queue and len(seen) < limit:
            url, referrer = queue.popleft()
            found = self.endpoint(url, "GET")
            if url in seen or found is None or found[0].endpoint == "static":
                continue
            # Pages of one kind: one endpoint, the same words in its URL (a section, a kind of
            # entry), linked from pages of one kind, whatever the ids.
            kind = (*_page_kind(found[0], found[1], url), referrer[:3])
            if (
                per_kind[kind] >= URLS_PER_PAGE_KIND
                or per_kind[found[0].endpoint] >= URLS_PER_ENDPOINT
            ):
                continue
            per_kind[kind] += 1
            per_kind[found[0].endpoint] += 1
            seen.add(url)
            response = self.send(Attempt("crawl", "GET", url))
            if response is None:
                continue
            queue.extend((location, referrer) for location in local_location(response))
            if response.mimetype != "text/html" or response.status_code != HTTPStatus.OK:
                continue
            page = Page(url, _text(response))
            forms.extend(page.forms)
            for link in page.links:
                queue.append((link, kind))
                path, _sep, query = link.partition("?")
                if query and self.endpoint(path, "GET") is not None:
                    known = params.setdefault(path, {})
                    known.update((k, v) for k, v in parse_qsl(query) if k not in known)
        return forms, params


def _text(response: TestResponse) -> str:
    return response.get_data().decode("utf-8", "replace")


def _expired(response: TestResponse) -> bool:
    return response.status_code == HTTPStatus.BAD_REQUEST and any(
        text in _text(response) for text in EXPIRED
    )


def _page_kind(rule: Rule, args: dict[str, object], url: str) -> tuple[object, ...]:
    """Ids, page numbers and dates do not make another kind of page; words do."""
    words = tuple(sorted(str(v) for v in args.values() if not isinstance(v, int)))
    query = tuple(sorted((k, re.sub(r"\d", "0", v)) for k, v in parse_qsl(urlsplit(url).query)))
    return (rule.endpoint, words, query)
