"""Malformed input on every form of every role: never a 500, never a traceback, always one of
the answers a form may give (SECURITY.md, "Bad input").

Each role signs in (or walks to the step it stands at) in a world of records, documents,
profile entries, conversations and visits, then crawls the pages it can reach from its home:
every form and htmx request found there is sent malformed (tests/fuzz_forms.py) with a valid
CSRF token, with its URL's ids swapped for someone else's, 0 and out-of-range ones, and every
POST route of the URL map that no page offered is posted to blind. New blueprints are picked up
through the pages that link to them and the URL map, without being listed here.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from tests.builders import PASSWORD
from tests.conftest import IsolatedClient, database_url, reset_schema
from tests.fuzz_client import ErrorLog, Fuzzer
from tests.fuzz_forms import Attempt, Field, Form, Variants, classify
from tests.fuzz_world import ROLES, World, build_world, local_location, make_actor
from webapp import create_app
from webapp.blueprints.enrolment import routes as enrolment_routes
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings

# How many requests a form gets: columns of bad values, values per field, per query parameter.
COLUMNS, TURNS, PER_PARAM = 3, 1, 1
# A form met again (same fields elsewhere, or another row of the same kind) gets fewer.
COLUMNS_AGAIN = 1
PAGES_AFTER = 30  # the second crawl, of what the fuzzing stored and revealed
# Nothing, a 64-bit overflow (an SQL error where the route does not bound it), not a number.
HUGE_IDS = (0, 10**20, -1)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, World, Tried]]:
    """One application and one world for every role: templates are compiled once, and the
    roles run one after the other in it (the holder last: she closes her record at the end).
    Without rate limits (a fuzzer is not a person typing) nor the enrolment pages' answer
    floor of 0.2 s."""
    folder = tmp_path_factory.mktemp("fuzz")
    settings = Settings.for_tests(
        folder / "instance", database_url(folder), rate_limits_enabled=False
    )
    application = create_app(settings)
    application.test_client_class = IsolatedClient
    with pytest.MonkeyPatch.context() as patch, application.app_context():
        patch.setattr(enrolment_routes, "ANSWER_FLOOR_SECONDS", 0.0)
        reset_schema()
        yield application, build_world(), Tried()
        db.session.remove()
        db.engine.dispose()
    clock.reset()


# --- what to send to a form ---------------------------------------------------------------------

HINTS = {
    "email": "fuzz@example.test",
    "mobile": "06 12 34 56 78",
    "phone": "06 12 34 56 78",
    "password": PASSWORD,
    "confirm": PASSWORD,
    "identifier": "fuzz.personne",
    "code": "123456",
    "justification": "Patient inconscient aux urgences, aucun proche joignable.",
    "body": "Bonjour, voici ma question.",
    "subject": "Question",
    "title": "Bilan",
    "value": "80",
    "value2": "60",
    "q": "Docteur",
    "next": "/",
}
TYPED = {
    "date": "2020-06-15",
    "email": "fuzz@example.test",
    "tel": "06 12 34 56 78",
    "password": PASSWORD,
    "number": "42",
    "textarea": "Un texte ordinaire, assez long pour les minimums.",
}


def baseline(form: Form, hints: dict[str, str]) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """What a person filling the form in sends: every box ticked, the first choice chosen."""
    pairs: list[tuple[str, str]] = []
    files: dict[str, str] = {}
    named = [f for f in form.fields.values() if f.kind == "button"]
    for item in form.fields.values():
        if item.name.endswith("csrf_token") or item.kind in ("button", "submit", "reset", "image"):
            continue
        if item.kind == "file":
            files[item.name] = "bilan.txt"
        elif item.kind == "checkbox":
            pairs.extend((item.name, v) for v in item.options)
        elif item.kind in ("radio", "select", "select-multiple"):
            chosen = item.values or [v for v in item.options if v][:1] or item.options[:1]
            many = item.kind == "select-multiple"
            pairs.extend((item.name, v) for v in (chosen if many else chosen[:1]))
        else:
            pairs.append((item.name, _value_for(item, hints)))
    if named:
        pairs.append((named[0].name, named[0].options[0]))
    pairs.extend(form.extra.items())
    return pairs, files


def _value_for(item: Field, hints: dict[str, str]) -> str:
    short = item.name.rsplit("-", 1)[-1]
    for key in (item.name, short):
        if key in hints:
            return hints[key]
        if key in HINTS and item.kind != "hidden":
            return HINTS[key]
    if item.values and item.values[0]:
        return item.values[0]
    return TYPED.get(item.kind, "" if item.kind == "hidden" else "Texte ordinaire")


@dataclass
class Tried:
    """What the roles before sent malformed: a form met again is tried lightly."""

    endpoints: set[str] = field(default_factory=set)
    field_sets: set[frozenset[str]] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)


def plan(
    fuzzer: Fuzzer,
    forms: list[Form],
    params: dict[str, dict[str, str]],
    tried: Tried,
    keys: set[tuple[object, ...]],
) -> list[tuple[Form, bool]]:
    """Each form once (`keys` holds those planned already); a GET form also gets the
    parameters that links to its page carry (?page=, ?category=…), and pages linked with
    parameters but no form are forms of their own."""
    found: list[tuple[Form, bool]] = []
    linked = {path: dict(names) for path, names in params.items()}
    bare = [Form("GET", path) for path in sorted(linked)]
    for form in [*forms, *bare]:
        match = fuzzer.endpoint(form.action, form.method)
        if match is None:
            continue
        rule, args = match
        if form.method == "GET":
            for name, example in linked.pop(urlsplit(form.action).path, {}).items():
                form.fields.setdefault(
                    name, Field(name, "text", [example], numeric=example.isdigit())
                )
            if not form.fields:
                continue
        words = tuple(sorted(str(v) for v in args.values() if not isinstance(v, int)))
        names = frozenset(form.fields) | frozenset(form.extra)
        query = tuple(sorted(k for k, _v in parse_qsl(urlsplit(form.action).query)))
        key = (form.method, rule.endpoint, words, names, query)
        if key in keys:
            continue
        again = names in tried.field_sets or rule.endpoint in tried.endpoints
        keys.add(key)
        tried.field_sets.add(names)
        tried.endpoints.add(rule.endpoint)
        filled = {n for n in names if not n.endswith("csrf_token")}
        found.append((form, again and bool(filled)))
    return found


def last_word(form: Form) -> bool:
    """Closing the record: after it, the holder cannot sign in again."""
    return urlsplit(form.action).path.rstrip("/").endswith("/settings/close")


def attempts_for(form: Form, again: bool, hints: dict[str, str]) -> Iterator[Attempt]:
    """The requests for one form, each once (a form of no fields has few distinct ones)."""
    pairs, files = baseline(form, hints)
    variants = Variants(form, pairs, files)
    kinds = {item.name: classify(item) for item in form.fields.values()}
    every = [
        *variants.columns(COLUMNS_AGAIN if again else COLUMNS),
        *variants.one_at_a_time(kinds, 0 if again else TURNS),
        *variants.query(1 if again else PER_PARAM),
        *([] if again else [*variants.files_named_oddly(), *variants.shapes()]),
    ]
    valid = variants.valid()
    sent = {_same(valid)}
    for attempt in every:
        if _same(attempt) not in sent:
            sent.add(_same(attempt))
            yield attempt
    yield valid  # last: it may change the state the role stands in


def _same(attempt: Attempt) -> tuple[object, ...]:
    return (
        attempt.url,
        attempt.pairs,
        attempt.raw,
        attempt.content_type,
        attempt.headers,
        attempt.with_token,
    )


def id_swaps(fuzzer: Fuzzer, form: Form) -> Iterator[Attempt]:
    """The same form at URLs naming someone else's object, nothing, or out of range ids."""
    match = fuzzer.endpoint(form.action, form.method)
    if match is None:
        return
    rule, args = match
    path, _sep, query = form.action.partition("?")
    for name, value in args.items():
        converter = rule._converters[name]  # noqa: SLF001
        swaps: list[object]
        if isinstance(converter, IntegerConverter):
            swaps = [*fuzzer.others.get(name, [1])[:1], *HUGE_IDS]
        elif isinstance(converter, AnyConverter):
            swaps = ["zz-inconnu"]
        else:
            swaps = ["%00", "%FF%FE", "x" * 300, "..%2F..%2Fetc"]
        for swap in swaps:
            new_path = _replace_segment(path, str(value), str(swap))
            if new_path != path:
                url = new_path + (f"?{query}" if query else "")
                yield Attempt(f"{name}={str(swap)[:20]}", form.method, url)


def _replace_segment(path: str, old: str, new: str) -> str:
    parts = path.split("/")
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] == old:
            parts[index] = new
            return "/".join(parts)
    return path


def blind_urls(fuzzer: Fuzzer, offered: set[str]) -> Iterator[tuple[Rule, str]]:
    """POST routes no page of this role offered: their URL with ids this role has seen, or
    someone else's."""
    for rule in fuzzer.app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.endpoint in offered:
            continue
        if _is_api(fuzzer.app, rule.endpoint):
            continue  # a browser has no bearer token: 401 to all (tests/test_routes.py)
        public = getattr(fuzzer.app.view_functions[rule.endpoint], "carnet_public", False)
        if not (public or fuzzer.actor.signed_in):
            continue  # sent to sign in first (tests/test_routes.py)
        path = rule.rule
        for name in rule.arguments:
            converter = rule._converters[name]  # noqa: SLF001
            if isinstance(converter, AnyConverter):
                value = sorted(converter.items)[0]
            elif isinstance(converter, IntegerConverter):
                value = str((fuzzer.others.get(name) or [1])[0])
            else:
                value = "x"
            path = re.sub(rf"<(?:[^<>]+:)?{name}>", value, path)
        yield rule, path


# --- the test -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one role's run found: the bad answers, and whether it had a form to fill in."""

    failures: list[str]
    filled_a_form: bool


@pytest.fixture(scope="module")
def campaign(fuzzed: tuple[Flask, World, Tried]) -> tuple[Flask, Tried, dict[str, Outcome]]:
    """Every role in turn, in one world (the holder last: she closes her record at the end),
    whichever test asks first: each test then reads its own part, and the coverage check
    always sees every role."""
    app, world, tried = fuzzed
    outcomes = {}
    for role in ROLES:
        try:
            outcomes[role] = run_role(app, world, tried, role)
        except Exception as exc:  # noqa: BLE001 - reported by that role's own test
            outcomes[role] = Outcome([f"[{role}] the run stopped: {exc!r}"], False)
    return app, tried, outcomes


def run_role(app: Flask, world: World, tried: Tried, role: str) -> Outcome:
    started, actor, log = time.perf_counter(), make_actor(role, world, app), ErrorLog()
    fuzzer = Fuzzer(app, actor, world.others, log)
    logging.getLogger("webapp").addHandler(log)
    try:
        actor.begin()
        forms, params = fuzzer.crawl(actor.starts)
        # A POST route no page links to may have a page of its own that shows its form.
        linked = {m[0].endpoint for f in forms if (m := fuzzer.endpoint(f.action, f.method))}
        unlinked = [u for rule, u in blind_urls(fuzzer, linked) if "GET" in (rule.methods or ())]
        forms += fuzzer.crawl(unlinked, len(unlinked))[0]
        keys: set[tuple[object, ...]] = set()
        found = plan(fuzzer, forms, params, tried, keys)
        fuzz_forms(fuzzer, [item for item in found if not last_word(item[0])], tried, keys)
        # What the fuzzing stored (odd titles, names, files) is shown again without a fault,
        # and forms it revealed are fuzzed in turn.
        later = plan(fuzzer, *fuzzer.crawl(actor.starts, PAGES_AFTER), tried, keys)
        fuzz_forms(fuzzer, [item for item in later if not last_word(item[0])], tried, keys)
        fuzz_blind(fuzzer, {str(key[1]) for key in keys})
        final = [item for item in found + later if last_word(item[0])]
        fuzz_forms(fuzzer, final, tried, keys, keep=False)
    finally:
        logging.getLogger("webapp").removeHandler(log)
    tried.roles.add(role)
    took = time.perf_counter() - started
    print(f"{role}: {len(keys)} forms, {fuzzer.sent} requests, {took:.1f} s")  # with -s
    filled = any(f.method == "POST" for f, _again in found)
    return Outcome(list(fuzzer.failures), filled)


@pytest.mark.parametrize("role", ROLES)
def test_no_malformed_request_gets_a_500(
    campaign: tuple[Flask, Tried, dict[str, Outcome]], role: str
) -> None:
    outcome = campaign[2][role]
    assert outcome.filled_a_form, f"{role} found no form to fill in"
    assert not outcome.failures, f"{len(outcome.failures)} bad answers:\n" + "\n".join(
        outcome.failures[:60]
    )


def test_nearly_every_post_route_was_filled_in_from_its_form(
    campaign: tuple[Flask, Tried, dict[str, Outcome]],
) -> None:
    """The crawl keeps finding the forms: a POST route no role reached through a page was only
    posted to blind, with made-up field names. A few need a state the world does not hold."""
    app, tried, _outcomes = campaign
    assert tried.roles == set(ROLES)
    posted = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or set()) and not _is_api(app, rule.endpoint)
    }
    blind = posted - tried.endpoints
    assert len(blind) <= len(posted) // 10, f"posted to blind only: {sorted(blind)}"


def _is_api(app: Flask, endpoint: str) -> bool:
    """The insurer's API has no forms and no browser: its malformed bodies are sent with a
    token in tests/test_insurer_api.py."""
    return bool(getattr(app.view_functions[endpoint], "carnet_api", False))


def fuzz_forms(
    fuzzer: Fuzzer,
    forms: list[tuple[Form, bool]],
    tried: Tried,
    keys: set[tuple[object, ...]],
    *,
    keep: bool = True,
) -> None:
    """Every form malformed, and at swapped ids once per endpoint. The page a right answer
    leads to may hold the next step (a visit's next form, a masked document's unmask): its
    new forms come next."""
    queue, swapped = deque(forms), set[str]()
    while queue:
        form, again = queue.popleft()
        match = fuzzer.endpoint(form.action, form.method)
        assert match is not None
        answer = None
        for attempt in attempts_for(form, again, fuzzer.actor.hints):
            answer = fuzzer.send(attempt)  # the right one comes last
        if match[0].endpoint not in swapped:
            swapped.add(match[0].endpoint)
            for attempt in id_swaps(fuzzer, form):
                fuzzer.send(attempt)
        if answer is not None and keep and not fuzzer.lost_state:
            after = fuzzer.crawl(local_location(answer), 1)[0]
            following = plan(fuzzer, after, {}, tried, keys)
            queue.extendleft(reversed([item for item in following if not last_word(item[0])]))
        if keep:
            fuzzer.keep_state()


def fuzz_blind(fuzzer: Fuzzer, offered: set[str]) -> None:
    """POST routes no page of this role offered: bad values and a JSON body all the same."""
    for _rule, url in blind_urls(fuzzer, offered):
        form = Form("POST", url, fields={"q": Field("q", "text"), "id": Field("id", "hidden")})
        for attempt in Variants(form, [("q", ""), ("id", "1")], {}).columns(1):
            fuzzer.send(attempt)
        fuzzer.send(Attempt("JSON", "POST", url, raw=b"[1]", content_type="application/json"))
        if fuzzer.lost_state:
            fuzzer.keep_state()
