"""Reference data kept as files: document types, professions and the access matrix.

Loaded and checked once at start: an unknown profession, type or flag in the matrix stops
the application instead of silently denying access.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from webapp.models.document import Category


class CatalogueError(ValueError):
    """The reference data is inconsistent; the message names the file and the line."""


@dataclass(frozen=True)
class DocumentType:
    code: str
    system: str
    label_fr: str
    label_en: str
    category: str
    default_for_category: bool


@dataclass(frozen=True)
class Grant:
    read: bool
    download: bool


@dataclass(frozen=True)
class Catalogue:
    types: dict[str, DocumentType]
    professions: dict[str, tuple[str, str]]
    # (profession, specialty or "*") -> resource -> grant
    matrix: dict[tuple[str, str], dict[str, Grant]]

    def grant(self, profession: str, specialty: str | None, resource: str) -> Grant:
        """The most specific row wins: the specialty's own row, then the profession's."""
        for key in ((profession, specialty or "*"), (profession, "*")):
            found = self.matrix.get(key, {}).get(resource)
            if found is not None:
                return found
        return Grant(read=False, download=False)

    def readable_types(self, profession: str, specialty: str | None) -> frozenset[str]:
        return frozenset(
            code for code in self.types if self.grant(profession, specialty, code).read
        )

    def default_type(self, category: str) -> str:
        for document_type in self.types.values():
            if document_type.category == category and document_type.default_for_category:
                return document_type.code
        raise CatalogueError(f"no default type for category {category}")


def _rows(text: str, name: str, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if reader.fieldnames != columns:
        raise CatalogueError(f"{name}: columns must be {','.join(columns)}")
    return [(number, row) for number, row in enumerate(reader, start=2)]


def _flag(value: str, name: str, number: int) -> bool:
    if value not in ("yes", "no"):
        raise CatalogueError(f"{name} line {number}: '{value}' must be yes or no")
    return value == "yes"


def parse(types_text: str, professions_text: str, matrix_text: str) -> Catalogue:
    categories = {category.value for category in Category}
    types: dict[str, DocumentType] = {}
    for number, row in _rows(
        types_text,
        "document_types.csv",
        ["code", "system", "label_fr", "label_en", "category", "default_for_category"],
    ):
        if row["category"] not in categories:
            raise CatalogueError(
                f"document_types.csv line {number}: unknown category {row['category']}"
            )
        types[row["code"]] = DocumentType(
            row["code"],
            row["system"],
            row["label_fr"],
            row["label_en"],
            row["category"],
            _flag(row["default_for_category"], "document_types.csv", number),
        )
    professions = {
        row["code"]: (row["label_fr"], row["label_en"])
        for _n, row in _rows(professions_text, "professions.csv", ["code", "label_fr", "label_en"])
    }
    matrix: dict[tuple[str, str], dict[str, Grant]] = {}
    for number, row in _rows(
        matrix_text,
        "access_matrix.csv",
        ["profession", "specialty", "resource", "read", "download"],
    ):
        if row["profession"] not in professions:
            raise CatalogueError(
                f"access_matrix.csv line {number}: unknown profession {row['profession']}"
            )
        if row["resource"] not in types:
            raise CatalogueError(
                f"access_matrix.csv line {number}: unknown resource {row['resource']}"
            )
        read = _flag(row["read"], "access_matrix.csv", number)
        download = _flag(row["download"], "access_matrix.csv", number)
        if download and not read:
            raise CatalogueError(f"access_matrix.csv line {number}: download without read")
        matrix.setdefault((row["profession"], row["specialty"] or "*"), {})[row["resource"]] = (
            Grant(read, download)
        )
    catalogue = Catalogue(types, professions, matrix)
    for category in categories:
        catalogue.default_type(category)
    return catalogue


def _data(name: str) -> str:
    return resources.files("webapp.data").joinpath(name).read_text("utf-8")


@lru_cache(maxsize=1)
def current() -> Catalogue:
    return parse(_data("document_types.csv"), _data("professions.csv"), _data("access_matrix.csv"))
