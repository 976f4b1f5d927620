"""Reference data kept as files: document types, professions and the access matrix.

Loaded and checked once at start: an unknown profession, type or flag in the matrix stops
the application instead of silently denying access.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
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


# The sections of the medical profile, as the matrix names them (SPEC §3, §4.3).
PROFILE_SECTIONS = (
    "PROFIL-ALLERGIES",
    "PROFIL-TRAITEMENTS",
    "PROFIL-ANTECEDENTS",
    "PROFIL-VACCINS",
    "PROFIL-FAMILLE",
    "PROFIL-MESURES",
    "PROFIL-VOLONTES",
    "PROFIL-ENTOURAGE",
)
# The reimbursement history fed by the insurer (SPEC §8b), as the matrix names it.
REIMBURSEMENTS = "REMBOURSEMENTS"


@dataclass(frozen=True)
class Specialty:
    code: str
    profession: str
    label_fr: str
    label_en: str
    # Never authorised by default: only by the patient's express grant (L1111-17 IV and V).
    express_grant: bool
    # Only the specialty's own rows of the matrix apply.
    own_rows_only: bool


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
    specialties: dict[str, Specialty] = field(default_factory=dict)

    def grant(self, profession: str, specialty: str | None, resource: str) -> Grant:
        """The most specific row wins: the specialty's own row, then the profession's
        (unless the specialty is limited to its own rows)."""
        known = self.specialties.get(specialty or "")
        keys = [(profession, specialty or "*")]
        if known is None or not known.own_rows_only:
            keys.append((profession, "*"))
        for key in keys:
            found = self.matrix.get(key, {}).get(resource)
            if found is not None:
                return found
        return Grant(read=False, download=False)

    def readable_sections(self, profession: str, specialty: str | None) -> frozenset[str]:
        return frozenset(
            code for code in PROFILE_SECTIONS if self.grant(profession, specialty, code).read
        )

    def needs_express_grant(self, specialty: str | None) -> bool:
        known = self.specialties.get(specialty or "")
        return known is not None and known.express_grant

    def specialties_of(self, profession: str) -> list[Specialty]:
        return [s for s in self.specialties.values() if s.profession == profession]

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


def _specialties(text: str, professions: dict[str, tuple[str, str]]) -> dict[str, Specialty]:
    found: dict[str, Specialty] = {}
    for number, row in _rows(
        text,
        "specialties.csv",
        ["code", "profession", "label_fr", "label_en", "express_grant", "matrix"],
    ):
        if row["profession"] not in professions:
            raise CatalogueError(
                f"specialties.csv line {number}: unknown profession {row['profession']}"
            )
        if row["matrix"] not in ("own", "profession"):
            raise CatalogueError(f"specialties.csv line {number}: matrix must be own or profession")
        found[row["code"]] = Specialty(
            row["code"],
            row["profession"],
            row["label_fr"],
            row["label_en"],
            _flag(row["express_grant"], "specialties.csv", number),
            row["matrix"] == "own",
        )
    return found


def parse(
    types_text: str, professions_text: str, matrix_text: str, specialties_text: str = ""
) -> Catalogue:
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
    specialties = _specialties(specialties_text, professions) if specialties_text else {}
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
        specialty = row["specialty"] or "*"
        if specialties and specialty != "*" and specialty not in specialties:
            raise CatalogueError(f"access_matrix.csv line {number}: unknown specialty {specialty}")
        if row["resource"] not in types and row["resource"] not in (
            *PROFILE_SECTIONS,
            REIMBURSEMENTS,
        ):
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
    catalogue = Catalogue(types, professions, matrix, specialties)
    for category in categories:
        catalogue.default_type(category)
    return catalogue


def _data(name: str) -> str:
    return resources.files("webapp.data").joinpath(name).read_text("utf-8")


@lru_cache(maxsize=1)
def current() -> Catalogue:
    return parse(
        _data("document_types.csv"),
        _data("professions.csv"),
        _data("access_matrix.csv"),
        _data("specialties.csv"),
    )
