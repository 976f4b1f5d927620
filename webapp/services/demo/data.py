"""Reading the demo data files of `webapp/data/demo/`, field by field.

Every value is checked as it is read: a missing field, a field of the wrong type or an
unknown field raises `DemoDataError` naming the file and the entry, e.g.
`documents.toml, documents[0] ('Synthèse médicale'): "category" must be text, got 12 (a whole
number)`.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import NoReturn, TypeVar

T = TypeVar("T")


class DemoDataError(ValueError):
    """A demo data file is malformed."""


def _kind(value: object) -> str:
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "text"}
    return names.get(type(value), type(value).__name__)


class Entry:
    """One table of a data file (or one row of a CSV file); remembers which fields were read,
    so that `done()` can refuse a misspelt one."""

    def __init__(self, file: str, where: str, values: Mapping[str, object]) -> None:
        self.file = file
        self.where = where
        self.values = values
        self._read: set[str] = set()

    def fail(self, message: str) -> NoReturn:
        raise DemoDataError(f"{self.file}, {self.where}: {message}")

    def has(self, key: str) -> bool:
        return key in self.values

    def _get(self, key: str, kind: type[T], what: str) -> T:
        self._read.add(key)
        if key not in self.values:
            self.fail(f'"{key}" is missing')
        value = self.values[key]
        # bool is an int in Python, never in these files.
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.fail(f'"{key}" must be {what}, got {value!r} ({_kind(value)})')
        return value

    def text(self, key: str) -> str:
        return self._get(key, str, "text")

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if key in self.values else None

    def integer(self, key: str, default: int | None = None) -> int:
        if default is not None and key not in self.values:
            return default
        return self._get(key, int, "a whole number")

    def flag(self, key: str, default: bool = False) -> bool:
        return self._get(key, bool, "true or false") if key in self.values else default

    def day(self, key: str) -> date:
        value = self._get(key, date, "a date (YYYY-MM-DD)")
        if isinstance(value, datetime):
            self.fail(f'"{key}" must be a date without a time, got {value!r}')
        return value

    def choice(self, key: str, allowed: type[StrEnum]) -> str:
        value = self.text(key)
        if value not in {member.value for member in allowed}:
            names = ", ".join(member.value for member in allowed)
            self.fail(f'"{key}" must be one of {names}, got {value!r}')
        return value

    def items(self, key: str, what: str) -> list[object]:
        return list(self._get(key, list, what))

    def texts(self, key: str) -> tuple[str, ...]:
        texts: list[str] = []
        for index, value in enumerate(self.items(key, "a list of texts")):
            if not isinstance(value, str):
                self.fail(f'"{key}"[{index}] must be text, got {value!r} ({_kind(value)})')
            texts.append(value)
        return tuple(texts)

    def table(self, key: str, name: str | None = None) -> Entry:
        values = self._get(key, dict, "a table")
        return Entry(self.file, name or f"{self.where}.{key}", values)

    def tables(self, key: str, label: str = "") -> list[Entry]:
        """An array of tables; each entry is named by its index and its `label` field."""
        rows = self._get(key, list, "an array of tables")
        entries = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                self.fail(f'"{key}"[{index}] must be a table, got {row!r}')
            named = f" ({row[label]!r})" if label and isinstance(row.get(label), str) else ""
            entries.append(Entry(self.file, f"{key}[{index}]{named}", row))
        return entries

    def cell(self, key: str, parse: Callable[[str], T], what: str) -> T:
        """A CSV cell, parsed; a parser's ValueError becomes a DemoDataError."""
        raw = self.text(key)
        try:
            return parse(raw)
        except ValueError:
            self.fail(f'"{key}" must be {what}, got {raw!r}')

    def done(self) -> None:
        unknown = sorted(set(self.values) - self._read)
        if unknown:
            self.fail(f"unknown field(s): {', '.join(unknown)}")


def read_text(name: str) -> str:
    """A file of webapp/data/demo."""
    return resources.files("webapp.data").joinpath("demo", name).read_text("utf-8")


def sample(path: str) -> Path:
    """A file of webapp/data, named by its path from there ("samples/directory.csv")."""
    return Path(__file__).resolve().parents[2].joinpath("data", *path.split("/"))


def parse_toml(name: str, text: str) -> Entry:
    try:
        return Entry(name, "top level", tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise DemoDataError(f"{name}: not valid TOML ({exc})") from exc


def parse_csv(name: str, text: str, columns: list[str]) -> list[Entry]:
    """Rows of a CSV file with a header line; lines starting with "#" are comments."""
    kept = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.startswith("#")
    ]
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in kept)))
    if reader.fieldnames != columns:
        raise DemoDataError(f"{name}: the columns must be {','.join(columns)}")
    rows = []
    for row in reader:
        number = kept[reader.line_num - 1][0]  # the file's own line, comments included
        if None in row or any(value is None for value in row.values()):
            raise DemoDataError(f"{name}, line {number}: expected {len(columns)} cells")
        rows.append(Entry(name, f"line {number}", row))
    return rows
