"""Importing a register from CSV, all-or-nothing: what the beneficiary register and the RPPS
directory share.

A register brings its columns, the check of one line and the column it is keyed on
(`Register`); the rest is here: reading, the header, bad lines reported by their number in the
file (the header is line 1), a key seen twice, and an upsert that writes nothing unless every
line is good.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from webapp.core.extensions import db
from webapp.models import Base
from webapp.services import contacts

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

RecordT = TypeVar("RecordT", bound="DataclassInstance")  # one valid line, field names the model's
ValueT = TypeVar("ValueT")

_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes kept by errors="surrogateescape"
_LOOKUP_CHUNK = 500  # keeps `IN (...)` well under the databases' parameter limits


class InvalidValue(ValueError):
    """A field that cannot be imported; the message is written for the operator."""


class Reason(str):
    """Why a field is refused, worded for the operator, and the column it is about (the
    insurer's API reports each error on its field)."""

    column: str

    def __new__(cls, text: str, column: str) -> Reason:
        reason = super().__new__(cls, text)
        reason.column = column
        return reason


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # the keys of the rows created or updated

    @property
    def ok(self) -> bool:
        return not self.errors


class FieldChecks:
    """The cells of one line, each read through its check; the reasons it is refused add up."""

    def __init__(self, cells: Mapping[str, str]) -> None:
        self._cells = cells
        self.reasons: list[str] = []

    def take(self, check: Callable[[str], ValueT], column: str, fallback: ValueT) -> ValueT:
        """The checked value of the (stripped) cell, or `fallback` when the check refuses it."""
        try:
            return check(self._cells[column].strip())
        except InvalidValue as exc:
            self.reasons.append(Reason(str(exc), column))
            return fallback


def _no_stamp() -> dict[str, object]:
    return {}


@dataclass(frozen=True)
class Register(Generic[RecordT]):
    """One register: its own parts; `read_csv` and `import_csv` are the same for every one.

    The record's fields are the model's: a line becomes a row of the model `key` belongs to.
    """

    columns: tuple[str, ...]
    check_line: Callable[[dict[str, str]], RecordT | list[str]]  # the record, or the reasons
    key: InstrumentedAttribute[str]  # the unique column of the upsert, a field of the record
    key_name: str  # the key as the operator knows it ("NIR")
    stamp: Callable[[], dict[str, object]] = _no_stamp  # written on change, never compared

    @property
    def header(self) -> str:
        return ",".join(self.columns)

    @property
    def model(self) -> type[Base]:
        model = self.key.class_
        if not (isinstance(model, type) and issubclass(model, Base)):
            raise TypeError(f"{self.key} is not a column of a model")
        return model

    def import_csv(self, stream: Iterable[str]) -> ImportReport:
        """Upsert on the key, or write nothing if any line is bad. Flushes, never commits."""
        records, errors = self.read_csv(stream)
        if errors:
            return ImportReport(errors=errors)
        return self.upsert(records)

    def read_csv(self, stream: Iterable[str]) -> tuple[list[RecordT], list[LineError]]:
        """Check every line; returns the valid records and every error, in file order.

        `stream` is any text read line by line (an open file, `io.StringIO`, a list of lines).

        Open the file with `encoding="utf-8-sig", errors="surrogateescape", newline=""` so that
        a byte that is not UTF-8 is reported on its own line.
        """
        errors: list[LineError] = []
        rows = _rows(stream, errors)
        first = next(rows, None)
        if first is None:
            empty = LineError(1, f"the file is empty; expected the header {self.header}")
            return [], errors or [empty]
        line, header = first
        header[0] = header[0].removeprefix("\ufeff")
        if [name.strip() for name in header] != list(self.columns):
            return [], [LineError(line, f"the header must be exactly {self.header}")]
        records: list[RecordT] = []
        seen_on: dict[str, int] = {}
        for line, cells in rows:
            record = self._check_row(cells)
            if isinstance(record, list):
                errors.extend(LineError(line, reason) for reason in record)
            elif (key := self._key_of(record)) in seen_on:
                errors.append(LineError(line, f"same {self.key_name} as line {seen_on[key]}"))
            else:
                seen_on[key] = line
                records.append(record)
        return records, errors

    def _check_row(self, cells: list[str]) -> RecordT | list[str]:
        if _NOT_UTF8.search("".join(cells)):
            return ["this line is not UTF-8 text (save the file as UTF-8)"]
        if len(cells) != len(self.columns):
            return [f"expected {len(self.columns)} fields, found {len(cells)}"]
        return self.check_line(dict(zip(self.columns, cells, strict=True)))

    def _key_of(self, record: RecordT) -> str:
        return str(getattr(record, self.key.key))

    def upsert(self, records: list[RecordT]) -> ImportReport:
        """Write records already checked (by `check_line`), one per key: create, update, or
        leave alone. Flushes, never commits."""
        report = ImportReport()
        model = self.model
        existing = self._existing(model, [self._key_of(record) for record in records])
        stamp = self.stamp()
        for record in records:
            values = dataclasses.asdict(record)
            row = existing.get(self._key_of(record))
            if row is None:
                db.session.add(model(**values, **stamp))
                report.created += 1
            elif all(getattr(row, name) == value for name, value in values.items()):
                report.unchanged += 1
                continue
            else:
                for name, value in (values | stamp).items():
                    setattr(row, name, value)
                report.updated += 1
            report.written.append(self._key_of(record))
        db.session.flush()
        return report

    def _existing(self, model: type[Base], keys: list[str]) -> dict[str, Base]:
        found: dict[str, Base] = {}
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            for row in db.session.scalars(select(model).where(self.key.in_(chunk))):
                found[getattr(row, self.key.key)] = row
        return found


def _rows(stream: Iterable[str], errors: list[LineError]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each row that holds something; unreadable text ends the file."""
    reader = csv.reader(stream, strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            errors.append(LineError(reader.line_num + 1, "the file is not UTF-8 text from here"))
            return
        except csv.Error as exc:
            errors.append(LineError(reader.line_num, f"unreadable CSV ({exc})"))
            return
        if any(cell.strip() for cell in cells):  # blank lines and bare ",,,," are skipped
            yield reader.line_num, cells


# --- Field checks more than one register uses ------------------------------------------------


def required(label: str, limit: int) -> Callable[[str], str]:
    """Text with its runs of white space folded, at most `limit` characters, not empty."""

    def check(text: str) -> str:
        value = optional(label, limit)(text)
        if value is None:
            raise InvalidValue(f"{label} is missing")
        return value

    return check


def optional(label: str, limit: int) -> Callable[[str], str | None]:
    """Text with its runs of white space folded, at most `limit` characters; None when empty."""

    def check(text: str) -> str | None:
        value = " ".join(text.split())
        if len(value) > limit:
            raise InvalidValue(f"{label} is longer than {limit} characters")
        return value or None

    return check


def optional_email(text: str) -> str | None:
    """The address as `contacts` writes it everywhere; None when empty."""
    if not text:
        return None
    email = contacts.normalise_email(text)
    if email is None:
        raise InvalidValue(f"e-mail {text!r} is not a valid address")
    return email
