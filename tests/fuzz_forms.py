"""What the fuzz test needs that knows nothing of Carnet: the forms and links a page holds, and
the malformed requests made from a form (tests/test_fuzz.py runs them).

Values come from fixed tables, rotated by a digest of the route and the field: the same
requests on every run, and across routes every value of a table reaches every kind of field.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

from tests.builders import pdf_file

PDF = pdf_file("Bilan")
# What forms upload when the file is not the point: plain text streams through the checks,
# where each PDF is parsed in a process of its own.
TEXT = b"Compte rendu de consultation du 3 mars.\n"
LONG = "x" * 100_000

# --- what a page holds ----------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # an input's type, or select, select-multiple, textarea, button
    values: list[str] = field(default_factory=list)  # what a browser sends untouched
    options: list[str] = field(default_factory=list)  # radio, checkbox and select choices
    numeric: bool = False  # inputmode numeric or decimal


@dataclass
class Form:
    method: str
    action: str  # a local path, with its query string
    multipart: bool = False
    fields: dict[str, Field] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)  # hx-vals


def local(url: str, base: str) -> str | None:
    """The path and query of a link on this site, or None for another site or a fragment."""
    parts = urlsplit(urljoin("http://localhost" + base, url))
    if parts.netloc != "localhost" or parts.scheme not in ("http", "https"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Page(HTMLParser):
    """The forms, htmx requests and links of one HTML page."""

    def __init__(self, url: str, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "a" and found.get("href"):
            self._link(found["href"])
        if tag == "form":
            action = local(found.get("action") or self.url, self.url)
            self._form = Form(
                method=(found.get("method") or "get").upper(),
                action=action or self.url,
                multipart="multipart" in found.get("enctype", ""),
            )
            if action is not None:
                self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            value = found.get("value", "")
            self._select.options.append(value)
            if "selected" in found:
                self._select.values.append(value)
        elif tag in ("input", "select", "textarea", "button") and found.get("name"):
            self._field(tag, found)
        self._htmx(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.values = [(self._textarea.values or [""])[0] + data]

    def _link(self, href: str) -> None:
        found = local(href, self.url)
        if found is not None:
            self.links.append(found)

    def _field(self, tag: str, found: dict[str, str]) -> None:
        kind = found.get("type", "text").lower() if tag == "input" else tag
        if tag == "select" and "multiple" in found:
            kind = "select-multiple"
        if tag == "button" and found.get("type", "submit") != "submit":
            return
        target = self._form or Form("POST", self.url)
        known = target.fields.get(found["name"])
        if known is None:
            known = Field(found["name"], kind)
            target.fields[found["name"]] = known
        known.numeric = found.get("inputmode", "") in ("numeric", "decimal")
        value = found.get("value", "")
        if kind in ("radio", "checkbox", "button"):
            known.options.append(value or "on")
            if "checked" in found:
                known.values.append(value or "on")
        elif tag == "input" and kind != "file":
            known.values = [value]
        if tag == "select":
            self._select = known
        elif tag == "textarea":
            self._textarea = known

    def _htmx(self, found: dict[str, str]) -> None:
        """An element that sends a request of its own: with the values of its form."""
        for attribute, method in (("hx-post", "POST"), ("hx-get", "GET")):
            url = local(found[attribute], self.url) if found.get(attribute) else None
            if url is None:
                continue
            if self._form is None and not found.get("name"):
                if method == "GET":
                    self.links.append(url)
                continue
            form = Form(method, url, self._form.multipart if self._form else False)
            if self._form is not None:
                form.fields = self._form.fields  # filled as the parser goes on
            else:
                name = found["name"]
                form.fields = {name: Field(name, "text", [found.get("value", "")])}
            try:
                form.extra = {
                    k: str(v) for k, v in json.loads(found.get("hx-vals") or "{}").items()
                }
            except (ValueError, AttributeError):
                form.extra = {}
            self.forms.append(form)


# --- values -------------------------------------------------------------------------------------

Value = str | list[str]

# Every kind of field gets these, one column per request.
COMMON: list[tuple[str, Value]] = [
    ("empty", ""),
    ("blank", " \t "),
    ("100k characters", LONG),
    ("control characters", "a\x01\x02\x1b[31m\x7fb"),
    ("line break and header", "Bilan\r\nSet-Cookie: x=1"),
    ("bidi override", "\u202eexe.fdp\u202c"),
    ("emoji and astral", "😀 𝔘𝕟𝕚𝕔𝕠𝕕𝕖 \U0001f9ec"),
    ("zero width and BOM", "\ufeff\u200b\u200d"),
    ("fullwidth look-alikes", "ＡＢＣ１２３"),
    ("markup and injection", "<script>alert(1)</script>' OR 1=1 --{{7*7}}%s%n"),
    ("number for text", "12345"),
    ("negative", "-1"),
    ("1e309", "1e309"),
    ("NaN", "NaN"),
    ("superscript digit", "²"),
    ("arabic-indic digits", "١٢٣"),
    ("huge integer", "99999999999999999999"),
    ("31/02/2026", "31/02/2026"),
    ("2026-02-31", "2026-02-31"),
    ("25:00", "25:00"),
    ("0000-00-00", "0000-00-00"),
    ("9999-12-31", "9999-12-31"),
    ("unknown choice", "zz-inconnu"),
    ("two values", ["a", "b"]),
    ("path traversal", "../../../etc/passwd"),
    ("lone percent", "%E9%"),
]

# Values a validator may let through: sent one field at a time, the others being right. The
# first FIXED[kind] of each list go to every field of the kind (those that broke pages once:
# a digit int() refuses, a year past 9999, an id past 64 bits); the rest take turns.
NEAR: dict[str, list[tuple[str, Value]]] = {
    "text": [
        ("emoji", "Bilan 😀 𝔘"),
        ("bidi", "Bilan \u202eevil"),
        ("padded", "  Bilan  "),
        ("zero width", "Bi\u200blan"),
        ("fullwidth", "Ｂｉｌａｎ"),
        ("markup", "<b>Bilan</b> & co"),
        ("two lines", "Bilan\nsuite"),
        ("combining marks", "e\u0301\u0301\u0301"),
    ],
    "date": [
        ("9999-12-31", "9999-12-31"),
        ("0001-01-01", "0001-01-01"),
        ("1899-12-31", "1899-12-31"),
        ("2024-02-29", "2024-02-29"),
        ("2025-02-29", "2025-02-29"),
        ("French order", "15/06/2020"),
        ("no zeros", "2020-6-5"),
        ("padded", " 2020-06-15 "),
        ("with a time", "2020-06-15T25:00"),
    ],
    "number": [
        ("superscript", "²"),
        ("1e309", "1e309"),
        ("huge", "99999999999999999999"),
        ("NaN", "NaN"),
        ("arabic-indic", "١٢٣"),
        ("fullwidth", "１２０"),
        ("negative", "-1"),
        ("comma", "12,5"),
    ],
    "choice": [
        ("superscript", "²"),
        ("huge", "99999999999999999999"),
        ("unknown", "zz-inconnu"),
        ("empty", ""),
        ("zero", "0"),
        ("negative", "-1"),
        ("spaces", "  "),
    ],
    "hidden": [
        ("superscript", "²"),
        ("huge", "99999999999999999999"),
        ("empty", ""),
        ("negative", "-1"),
        ("1e309", "1e309"),
        ("unknown", "zz-inconnu"),
    ],
}
NEAR["secret"] = NEAR["text"]  # a password: never shown again, by design
FIXED = {"text": 0, "secret": 0, "date": 2, "number": 3, "choice": 2, "hidden": 2}

# File names a browser may send, and what they carry.
FILES: list[tuple[str, str, bytes]] = [
    ("a PDF", "bilan.pdf", PDF),
    ("path traversal", "../../../../etc/passwd.txt", TEXT),
    ("300 characters", "é" * 300 + ".txt", TEXT),
    ("line break", "bilan\r\nContent-Type: text/html.txt", TEXT),
    ("bidi", "bilan\u202etxt.exe", TEXT),
    ("no name", "", TEXT),
    ("empty file", "vide.txt", b""),
    ("markup", "bilan.txt", b"<html><script>alert(1)</script></html>"),
    ("dots", "...", TEXT),
    ("NUL", "bilan\x00.txt", TEXT),
]


def column(key: str, width: int) -> int:
    """A fixed offset for this route and field, so that fields and routes differ."""
    return zlib.crc32(key.encode()) % width


def classify(item: Field) -> str:
    name = item.name.rsplit("-", 1)[-1]
    if item.kind in ("radio", "checkbox", "select", "select-multiple", "button"):
        return "choice"
    if item.kind == "hidden":
        return "hidden"
    if item.kind == "password":
        return "secret"
    if item.kind == "date" or "date" in name or name in ("since", "until", "measured_on"):
        return "date"
    if item.numeric or item.kind == "number":
        return "number"
    return "text"


JSON, URLENCODED = "application/json", "application/x-www-form-urlencoded"
XML = b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"

# --- requests -----------------------------------------------------------------------------------

Pair = tuple[str, str | tuple[bytes, str]]


@dataclass(frozen=True)
class Attempt:
    """One request made from a form; `typed` is a value the answer must show again when it
    refuses the form (422): what the person typed is kept."""

    label: str
    method: str
    url: str
    pairs: tuple[Pair, ...] = ()
    raw: bytes | None = None  # a body sent as it is
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    with_token: bool = True
    typed: str = ""

    @property
    def has_nul(self) -> bool:
        query = self.url.partition("?")[2]
        texts = [v for _k, v in self.pairs if isinstance(v, str)]
        return "%00" in query or any("\x00" in text for text in texts)


def with_query(url: str, extra: str) -> str:
    return url + ("&" if "?" in url else "?") + extra


class Variants:
    """The malformed requests for one form: rotated columns of bad values in every field, one
    field at a time wrong, and bodies of the wrong shape."""

    def __init__(self, form: Form, baseline: list[tuple[str, str]], files: dict[str, str]) -> None:
        self.form = form
        self.baseline = baseline  # without the CSRF token, which the sender adds
        self.files = files  # file fields, with a good file name
        self.names = list(dict.fromkeys(n for n, _v in baseline))

    def _pairs(self, changes: dict[str, Value]) -> tuple[Pair, ...]:
        pairs: list[Pair] = []
        done: set[str] = set()
        for name, value in self.baseline:
            if name in changes:
                if name not in done:
                    new = changes[name]
                    pairs.extend((name, v) for v in ([new] if isinstance(new, str) else new))
                    done.add(name)
                continue
            pairs.append((name, value))
        for name, change in changes.items():
            if name not in done:
                pairs.extend((name, v) for v in ([change] if isinstance(change, str) else change))
        for name, file_name in self.files.items():
            if name not in changes:
                pairs.append((name, (TEXT, file_name)))
        return tuple(pairs)

    def _attempt(
        self,
        label: str,
        changes: dict[str, Value],
        *,
        url: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        with_token: bool = True,
        typed: str = "",
    ) -> Attempt:
        return Attempt(
            label,
            self.form.method,
            url or self.form.action,
            self._pairs(changes),
            content_type="multipart/form-data" if self.form.multipart else None,
            headers=headers,
            with_token=with_token,
            typed=typed,
        )

    def valid(self) -> Attempt:
        return self._attempt("as a browser sends it", {})

    def columns(self, count: int) -> Iterator[Attempt]:
        """Every field wrong at once, each in its own column of COMMON."""
        names = self.names + list(self.files)
        for n in range(count if names else 0):
            changes: dict[str, Value] = {}
            labels = []
            for name in names:
                label, value = COMMON[
                    (n + column(self.form.action + name, len(COMMON))) % len(COMMON)
                ]
                changes[name] = value
                labels.append(f"{name}={label}")
            yield self._attempt("all fields: " + ", ".join(labels), changes)

    def one_at_a_time(self, kinds: dict[str, str], turns: int) -> Iterator[Attempt]:
        """Each field wrong alone: the values every field of its kind gets, and `turns` more."""
        for name in self.names:
            kind = kinds.get(name, "text")
            fixed, rest = NEAR[kind][: FIXED[kind]], NEAR[kind][FIXED[kind] :]
            start = column(self.form.action + name, len(rest) or 1)
            chosen = fixed + [rest[(start + n) % len(rest)] for n in range(min(turns, len(rest)))]
            for label, value in chosen:
                shown = value if kind == "text" and isinstance(value, str) else ""
                yield self._attempt(f"{name}: {label}", {name: value}, typed=shown)

    def files_named_oddly(self) -> Iterator[Attempt]:
        for name in self.files:
            for label, file_name, content in FILES:
                pairs = [p for p in self._pairs({name: ""}) if p[0] != name]
                pairs.append((name, (content, file_name)))
                yield Attempt(
                    f"{name}: {label}",
                    self.form.method,
                    self.form.action,
                    tuple(pairs),
                    content_type="multipart/form-data",
                )

    def shapes(self) -> Iterator[Attempt]:
        """Bodies no form of this page sends."""
        method, url = self.form.method, self.form.action
        if method == "POST":
            yield self._attempt("no CSRF token", {}, with_token=False)
            body: dict[str, object] = {n: [1, 2] for n in self.names} | {"n": 1e300, "x": None}
            yield Attempt("JSON", method, url, raw=json.dumps(body).encode(), content_type=JSON)
            yield Attempt("text/plain", method, url, raw=b"a=1\nb=2", content_type="text/plain")
            yield Attempt("XML", method, url, raw=XML, content_type="application/xml")
        extra: dict[str, Value] = {"zz_extra": "1", "id": "1", "patient_id": "2", "role": "agent"}
        yield self._attempt("extra fields", extra)
        yield self._attempt("huge query string", {}, url=with_query(url, "zz=" + "x" * 50_000))
        if not self.names and not self.files:
            return
        nothing: dict[str, Value] = {n: [] for n in [*self.names, *self.files]}
        yield self._attempt("nothing but the token", nothing)
        yield self._attempt("NUL in every field", dict.fromkeys(self.names, "a\x00b"))
        twice = {n: [v, "zz-inconnu"] for n, v in self.baseline if n in self.names}
        yield self._attempt("every key twice", dict[str, Value](twice))
        yield self._attempt("htmx", {n: "" for n in self.names}, headers=(("HX-Request", "true"),))
        yield self._raw("invalid UTF-8, percent-encoded", "%FF%FE%C3%28")
        if method == "POST":
            raw = b"&".join(quote(n).encode() + b"=\xff\xfe\xc3\x28" for n in self.names)
            yield Attempt(
                "invalid UTF-8 bytes", method, url, raw=raw or b"\xff", content_type=URLENCODED
            )
            if not self.form.multipart:
                multipart = "multipart/form-data"
                yield Attempt("as multipart", method, url, self._pairs({}), content_type=multipart)

    def _raw(self, label: str, encoded: str) -> Attempt:
        body = "&".join(f"{quote(n)}={encoded}" for n in self.names) or f"zz={encoded}"
        if self.form.method == "GET":
            return Attempt(label, "GET", with_query(self.form.action.split("?")[0], body))
        return Attempt(label, "POST", self.form.action, raw=body.encode(), content_type=URLENCODED)

    def query(self, per_param: int) -> Iterator[Attempt]:
        """The parameters in the action's own query string (a section, a kind, a field)."""
        path, _sep, query = self.form.action.partition("?")
        params = parse_qsl(query, keep_blank_values=True)
        for index, (name, _value) in enumerate(params):
            pool = NEAR["choice"] + NEAR["number"]
            start = column(path + name, len(pool))
            for n in range(per_param):
                label, value = pool[(start + n) % len(pool)]
                changed = [(k, value if i == index else v) for i, (k, v) in enumerate(params)]
                flat = [(k, v) for k, vs in changed for v in ([vs] if isinstance(vs, str) else vs)]
                url = f"{path}?{urlencode(flat)}"
                yield self._attempt(f"?{name}={label}", {}, url=url)
