"""The professional directory (RPPS): `flask directory import FILE` and the patients' search.

The import runs on services.csvimport, as the beneficiary register's does: CSV in UTF-8,
upsert on the RPPS number, all-or-nothing; every bad line is reported with its number in the
file (the header is line 1). An import never touches the account linked to a directory entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.models import Professional
from webapp.services import catalogue, csvimport
from webapp.services.csvimport import InvalidValue

COLUMNS = (
    "rpps",
    "last_name",
    "first_names",
    "profession",
    "specialty",
    "structure",
    "city",
    "email",
    "samu_regulator",
)
EMAIL_LIMIT = 254
SAMU_PROFESSION = "medecin"
_RPPS = re.compile(r"[0-9]{11}")
_YES = frozenset({"yes", "true", "1"})
_NO = frozenset({"no", "false", "0", ""})


@dataclass(frozen=True)
class ProfessionalRecord:
    """One valid line of the directory, normalised; field names are the model's."""

    rpps: str
    last_name: str
    first_names: str
    profession: str
    specialty: str | None
    structure: str | None
    city: str | None
    email: str | None
    samu_regulator: bool


def check_line(cells: dict[str, str]) -> ProfessionalRecord | list[str]:
    """Normalise the fields of one line: the record, or the reasons it is refused."""
    fields = csvimport.FieldChecks(cells)
    take = fields.take
    rpps = take(_rpps, "rpps", "")
    last_name = take(csvimport.required("last name", 100), "last_name", "")
    first_names = take(csvimport.required("first names", 150), "first_names", "")
    profession = take(_profession, "profession", None)  # None: the checks below cannot apply
    record = ProfessionalRecord(
        rpps=rpps,
        last_name=last_name,
        first_names=first_names,
        profession=profession or "",
        specialty=take(_specialty(profession), "specialty", None),
        structure=take(csvimport.optional("structure", 200), "structure", None),
        city=take(csvimport.optional("city", 100), "city", None),
        email=take(_bounded_email, "email", None),
        samu_regulator=take(_samu_regulator(profession), "samu_regulator", False),
    )
    return fields.reasons or record


def _rpps(text: str) -> str:
    if not text:
        raise InvalidValue("RPPS is missing")
    if not _RPPS.fullmatch(text):
        raise InvalidValue(f"RPPS must be exactly 11 digits, found {text!r}")
    return text


def _profession(text: str) -> str:
    professions = catalogue.current().professions
    if not text:
        raise InvalidValue("profession is missing")
    if text not in professions:
        raise InvalidValue(
            f"unknown profession {text!r} (expected one of {', '.join(professions)})"
        )
    return text


def _specialty(profession: str | None) -> Callable[[str], str | None]:
    """The specialty must be known and be one of the line's profession (if that is valid)."""

    def check(text: str) -> str | None:
        if not text:
            return None
        specialty = catalogue.current().specialties.get(text)
        if specialty is None:
            raise InvalidValue(f"unknown specialty {text!r}")
        if profession is not None and specialty.profession != profession:
            raise InvalidValue(
                f"specialty {text} belongs to the profession {specialty.profession}, "
                f"not {profession}"
            )
        return text

    return check


def _bounded_email(text: str) -> str | None:
    if len(text) > EMAIL_LIMIT:
        raise InvalidValue(f"e-mail is longer than {EMAIL_LIMIT} characters")
    return csvimport.optional_email(text)


def _samu_regulator(profession: str | None) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        flag = text.lower()
        if flag not in _YES | _NO:
            raise InvalidValue(
                f"samu_regulator must be yes, no, true, false, 1, 0 or empty, found {text!r}"
            )
        regulator = flag in _YES
        if regulator and profession is not None and profession != SAMU_PROFESSION:
            raise InvalidValue(
                f"only a physician ({SAMU_PROFESSION}) may be a SAMU regulator, not {profession}"
            )
        return regulator

    return check


# Upsert on the RPPS number. Only the record's fields are written: the account linked to an
# entry (`account_id`) is never read nor written.
REGISTER = csvimport.Register(COLUMNS, check_line, key=Professional.rpps, key_name="RPPS")
import_csv = REGISTER.import_csv
read_csv = REGISTER.read_csv
DirectoryReport = csvimport.ImportReport  # the name callers of `import_csv` know


# --- The patients' search -------------------------------------------------------------------

# Accented letters of French (and a few neighbours) by their plain letter. A query word is
# folded to plain lower case, then turned into a regular expression in which every letter is
# the class of its forms ("e" -> [eEéÉèÈêÊëË]), written out in both cases rather than left to
# the database's case folding (SQLite's REGEXP is Python's `re`, PostgreSQL's `~` depends on
# the locale for non-ASCII letters). The expressions use only what both dialects agree on:
# classes, `(?:a|b)`, `^`, `$` and backslash-escaped punctuation.
_ACCENTED = {
    "a": "àâäáãå",
    "c": "ç",
    "e": "éèêë",
    "i": "îïíì",
    "n": "ñ",
    "o": "ôöóòõ",
    "u": "ùûüú",
    "y": "ÿý",
}
_LIGATURES = {"ae": "æ", "oe": "œ"}
_TO_PLAIN = str.maketrans(
    {accented: plain for plain, forms in _ACCENTED.items() for accented in forms}
    | {ligature: letters for letters, ligature in _LIGATURES.items()}
)


def fold(text: str) -> str:
    """Lower case without the accents and ligatures the search knows."""
    return text.lower().translate(_TO_PLAIN)


def _cases(text: str) -> str:
    forms = [text]
    for form in (text.upper(), text.lower()):
        if len(form) == 1 and form not in forms:
            forms.append(form)
    return "".join(forms)


def _letter(plain: str) -> str:
    forms = "".join(_cases(form) for form in plain + _ACCENTED.get(plain, ""))
    return f"[{forms}]" if len(forms) > 1 else re.escape(plain)


def pattern(text: str) -> str:
    """The regular expression that finds `text` whatever its case and accents."""
    folded = fold(text)
    parts: list[str] = []
    at = 0
    while at < len(folded):
        pair = folded[at : at + 2]
        if pair in _LIGATURES:
            ligature = _cases(_LIGATURES[pair])
            parts.append(f"(?:{_letter(pair[0])}{_letter(pair[1])}|[{ligature}])")
            at += 2
        else:
            parts.append(_letter(folded[at]))
            at += 1
    return "".join(parts)


def search(
    query: str, *, profession: str | None = None, city: str | None = None, limit: int = 20
) -> list[Professional]:
    """Directory entries matching every word of `query` (name, first names, city or structure),
    ignoring case and accents; `profession` (a code) and `city` (the start of the city's name,
    case and accents ignored: "clermont" finds Clermont-Ferrand) narrow the result. Ordered by
    name, at most `limit`.

    An empty query without filters finds nothing (the directory is not listed whole).
    """
    words = query.split()
    city = " ".join((city or "").split()) or None
    profession = (profession or "").strip() or None
    if limit <= 0 or not (words or profession or city):
        return []
    statement = select(Professional)
    if words:
        haystack = (
            Professional.last_name
            + " "
            + Professional.first_names
            + " "
            + func.coalesce(Professional.city, "")
            + " "
            + func.coalesce(Professional.structure, "")
        )
        for word in words:
            statement = statement.where(haystack.regexp_match(pattern(word)))
    if profession is not None:
        statement = statement.where(Professional.profession == profession)
    if city is not None:
        statement = statement.where(Professional.city.regexp_match(f"^{pattern(city)}"))
    statement = statement.order_by(
        Professional.last_name, Professional.first_names, Professional.id
    ).limit(limit)
    return list(db.session.scalars(statement))
