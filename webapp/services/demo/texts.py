"""What the demo patient's documents say (`documents.toml`), checked when it is read.

Each document names its file: a `.pdf` has a `heading` and `lines` (and may name one of the
`issuers` and who `signed` it), a `.png` a `picture`, a `.txt` `lines` and maybe a `log` of
blood pressure readings. Texts are templates (see `templates`) over the document's `day`,
the named `dates` of the record, `holder`, `age` and the `phrases` that name her.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from webapp.models.document import Category
from webapp.services.demo import people
from webapp.services.demo.data import Entry, parse_toml, read_text
from webapp.services.demo.dates import DateRule, parse_rule
from webapp.services.demo.templates import check

FILE = "documents.toml"

# The values every text may use, besides the named dates; then what each kind of text adds.
BASE_FIELDS = frozenset({"holder", "day", "age"})
NAME_FIELDS = frozenset({"name", "born", "patient_line"})
LOG_FIELDS = frozenset({"mean_systolic", "mean_diastolic", "count"})


@dataclass(frozen=True)
class Phrases:
    """How her papers name her, the signature block, the notice at the foot of every PDF."""

    fiction_notice: str
    name: str
    born: str
    patient_line: str
    signature: tuple[str, ...]


@dataclass(frozen=True)
class PdfFile:
    heading: str
    issuer: tuple[str, ...]  # the letterhead, first line in bold
    lines: tuple[str, ...]  # in the line language of `files.pdf`
    signed: str | None  # who signs under the lines, with `phrases.signature`


@dataclass(frozen=True)
class PngFile:
    """A chest radiograph (`files.png`)."""

    width: int
    height: int
    seed: int
    opacity: bool


@dataclass(frozen=True)
class Log:
    """Home blood pressure readings, day by day (the last on the document's day), split
    evenly between the `moments`."""

    day_line: str
    moment_line: str
    reading: str
    separator: str
    moments: tuple[str, ...]
    days: tuple[tuple[tuple[int, int, int], ...], ...]  # (systolic, diastolic, pulse)
    summary: tuple[str, ...]


@dataclass(frozen=True)
class TxtFile:
    lines: tuple[str, ...]
    log: Log | None  # written after the lines


@dataclass(frozen=True)
class DocumentSpec:
    title: str
    category: str
    type_code: str
    date: str  # one of the named dates
    author: str  # a demo account's identifier
    file_name: str
    masked: bool
    file: PdfFile | PngFile | TxtFile


@dataclass(frozen=True)
class DocumentTexts:
    phrases: Phrases
    dates: dict[str, DateRule]  # in the file's order: a date may use those above it
    documents: tuple[DocumentSpec, ...]
    held: DocumentSpec  # the result her cardiologist holds until he has explained it


def _phrases(entry: Entry, dates: frozenset[str]) -> Phrases:
    fields = BASE_FIELDS | dates
    named = fields | NAME_FIELDS
    phrases = Phrases(
        fiction_notice=entry.text("fiction_notice"),  # drawn as it is, not a template
        name=check(entry, "name", entry.text("name"), fields),
        born=check(entry, "born", entry.text("born"), fields),
        patient_line=check(entry, "patient_line", entry.text("patient_line"), named),
        signature=tuple(
            check(entry, "signature", line, named | {"signed"}) for line in entry.texts("signature")
        ),
    )
    entry.done()
    return phrases


def _dates(entry: Entry) -> dict[str, DateRule]:
    rules: dict[str, DateRule] = {}
    for name in entry.values:
        if not name.isidentifier() or name in BASE_FIELDS | NAME_FIELDS | LOG_FIELDS | {"signed"}:
            entry.fail(f"{name!r} cannot name a date")
        rules[name] = parse_rule(entry, name, list(rules))
    return rules


def _issuers(entry: Entry) -> dict[str, tuple[str, ...]]:
    return {name: entry.texts(name) for name in entry.values}


def _lines(entry: Entry, key: str, fields: frozenset[str]) -> tuple[str, ...]:
    return tuple(check(entry, key, line, fields) for line in entry.texts(key))


def _reading(entry: Entry, value: object) -> tuple[int, int, int]:
    numbers = value if isinstance(value, list) else []
    if len(numbers) != 3 or not all(type(n) is int for n in numbers):
        entry.fail(f"a reading is [systolic, diastolic, pulse], got {value!r}")
    return (numbers[0], numbers[1], numbers[2])


def _log(entry: Entry, fields: frozenset[str]) -> Log:
    moments = entry.texts("moments")
    days: list[tuple[tuple[int, int, int], ...]] = []
    for value in entry.items("days", "a list of days, each a list of readings"):
        readings = value if isinstance(value, list) else []
        if not moments or not readings or len(readings) % len(moments):
            entry.fail(f"each day needs readings split evenly between {len(moments)} moments")
        days.append(tuple(_reading(entry, reading) for reading in readings))
    log = Log(
        day_line=check(entry, "day_line", entry.text("day_line"), {"date"}),
        moment_line=check(entry, "moment_line", entry.text("moment_line"), {"moment", "readings"}),
        reading=check(entry, "reading", entry.text("reading"), {"systolic", "diastolic", "pulse"}),
        separator=entry.text("separator"),
        moments=moments,
        days=tuple(days),
        summary=_lines(entry, "summary", fields | LOG_FIELDS),
    )
    entry.done()
    return log


def _file(
    entry: Entry, fields: frozenset[str], issuers: dict[str, tuple[str, ...]]
) -> PdfFile | PngFile | TxtFile:
    """What makes the file: its fields depend on the type its name ends with."""
    kind = entry.text("file_name").rpartition(".")[2]
    if kind == "png":
        picture = entry.table("picture")
        png = PngFile(
            width=picture.integer("width"),
            height=picture.integer("height"),
            seed=picture.integer("seed"),
            opacity=picture.flag("opacity"),
        )
        if not (8 <= png.width <= 4096 and 8 <= png.height <= 4096):
            picture.fail("width and height must be between 8 and 4096")
        picture.done()
        return png
    if kind == "txt":
        log = _log(entry.table("log"), fields) if entry.has("log") else None
        return TxtFile(_lines(entry, "lines", fields), log)
    if kind != "pdf":
        entry.fail(f'"file_name" must end in .pdf, .png or .txt, got {entry.text("file_name")!r}')
    issuer = entry.optional_text("issuer")
    if issuer is not None and issuer not in issuers:
        entry.fail(f'"issuer" must be one of the [issuers], got {issuer!r}')
    return PdfFile(
        heading=check(entry, "heading", entry.text("heading"), fields),
        issuer=issuers[issuer] if issuer is not None else (),
        lines=_lines(entry, "lines", fields),
        signed=entry.optional_text("signed"),
    )


def _document(
    entry: Entry, dates: frozenset[str], issuers: dict[str, tuple[str, ...]], authors: set[str]
) -> DocumentSpec:
    spec = DocumentSpec(
        title=entry.text("title"),
        category=entry.choice("category", Category),
        type_code=entry.text("type_code"),
        date=entry.text("date"),
        author=entry.text("author"),
        file_name=entry.text("file_name"),
        masked=entry.flag("masked"),
        file=_file(entry, BASE_FIELDS | NAME_FIELDS | dates, issuers),
    )
    if spec.date not in dates:
        entry.fail(f'"date" must be one of the [dates], got {spec.date!r}')
    if spec.author not in authors:
        entry.fail(f'"author" must be a demo account of {people.FILE}, got {spec.author!r}')
    entry.done()
    return spec


def parse(text: str, authors: set[str]) -> DocumentTexts:
    """`authors`: the identifiers a document may name as its author."""
    top = parse_toml(FILE, text)
    dates = _dates(top.table("dates", "[dates]"))
    names = frozenset(dates)
    issuers = _issuers(top.table("issuers", "[issuers]"))
    texts = DocumentTexts(
        phrases=_phrases(top.table("phrases", "[phrases]"), names),
        dates=dates,
        documents=tuple(
            _document(row, names, issuers, authors) for row in top.tables("documents", "title")
        ),
        held=_document(top.table("held", "[held]"), names, issuers, authors),
    )
    top.done()
    return texts


@lru_cache(maxsize=1)
def current() -> DocumentTexts:
    return parse(read_text(FILE), people.current().authors)
