"""The beneficiary register import (`flask beneficiaries import FILE`): CSV, all-or-nothing.

Every line is checked before anything is written; one bad line and nothing changes, and the
operator gets every bad line with its number in the file (the header is line 1).
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO, TypeVar

from sqlalchemy import select
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fr import nir as nir_check

from webapp.core.extensions import db
from webapp.models import Beneficiary
from webapp.services import clock, contacts

COLUMNS = (
    "nir",
    "vitale_serial",
    "last_name",
    "first_names",
    "sex",
    "birth_date",
    "email",
    "mobile",
    "address",
    "postcode",
    "city",
)
HEADER = ",".join(COLUMNS)
EARLIEST_BIRTH = date(1900, 1, 1)
_SERIAL = re.compile(r"[0-9]{6,12}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_POSTCODE = re.compile(r"[0-9]{5}|2[AB][0-9]{3}")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes kept by errors="surrogateescape"
_LOOKUP_CHUNK = 500  # keeps `IN (...)` well under the databases' parameter limits

T = TypeVar("T")


class InvalidValue(ValueError):
    """A field that cannot be imported; the message is written for the operator."""


@dataclass(frozen=True)
class BeneficiaryRecord:
    """One valid line of the register, normalised; field names are the model's."""

    nir: str
    vitale_serial: str
    last_name: str
    first_names: str
    sex: str
    birth_date: date
    email: str | None
    mobile: str | None
    address: str | None
    postcode: str | None
    city: str | None


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

    @property
    def ok(self) -> bool:
        return not self.errors


def import_csv(stream: TextIO) -> ImportReport:
    """Upsert the register on NIR, or write nothing if any line is bad. Flushes, never commits."""
    records, errors = read_csv(stream)
    if errors:
        return ImportReport(errors=errors)
    report = ImportReport()
    existing = _existing_by_nir([record.nir for record in records])
    now = clock.now()
    for record in records:
        values = dataclasses.asdict(record)
        beneficiary = existing.get(record.nir)
        if beneficiary is None:
            db.session.add(Beneficiary(**values, updated_at=now))
            report.created += 1
        elif all(getattr(beneficiary, name) == value for name, value in values.items()):
            report.unchanged += 1
        else:
            for name, value in values.items():
                setattr(beneficiary, name, value)
            beneficiary.updated_at = now
            report.updated += 1
    db.session.flush()
    return report


def read_csv(stream: TextIO) -> tuple[list[BeneficiaryRecord], list[LineError]]:
    """Check every line; returns the valid records and every error, in file order.

    Open the file with `encoding="utf-8-sig", errors="surrogateescape", newline=""` so that a
    byte that is not UTF-8 is reported on its own line.
    """
    errors: list[LineError] = []
    rows = _rows(stream, errors)
    first = next(rows, None)
    if first is None:
        return [], errors or [LineError(1, f"the file is empty; expected the header {HEADER}")]
    line, header = first
    header[0] = header[0].removeprefix("\ufeff")
    if [name.strip() for name in header] != list(COLUMNS):
        return [], [LineError(line, f"the header must be exactly {HEADER}")]
    records: list[BeneficiaryRecord] = []
    seen_on: dict[str, int] = {}
    for line, cells in rows:
        record = _check_row(cells)
        if isinstance(record, list):
            errors.extend(LineError(line, reason) for reason in record)
        elif record.nir in seen_on:
            errors.append(LineError(line, f"same NIR as line {seen_on[record.nir]}"))
        else:
            seen_on[record.nir] = line
            records.append(record)
    return records, errors


def _check_row(cells: list[str]) -> BeneficiaryRecord | list[str]:
    if _NOT_UTF8.search("".join(cells)):
        return ["this line is not UTF-8 text (save the file as UTF-8)"]
    if len(cells) != len(COLUMNS):
        return [f"expected {len(COLUMNS)} fields, found {len(cells)}"]
    return check_line(dict(zip(COLUMNS, cells, strict=True)))


def check_line(cells: dict[str, str]) -> BeneficiaryRecord | list[str]:
    """Normalise the fields of one line: the record, or the reasons it is refused."""
    reasons: list[str] = []

    def take(check: Callable[[str], T], column: str, fallback: T) -> T:
        try:
            return check(cells[column].strip())
        except InvalidValue as exc:
            reasons.append(str(exc))
            return fallback

    record = BeneficiaryRecord(
        nir=take(normalise_nir, "nir", ""),
        vitale_serial=take(_vitale_serial, "vitale_serial", ""),
        last_name=take(_required("last name", 100), "last_name", ""),
        first_names=take(_required("first names", 150), "first_names", ""),
        sex=take(_sex, "sex", ""),
        birth_date=take(_birth_date, "birth_date", EARLIEST_BIRTH),
        email=take(_email, "email", None),
        mobile=take(normalise_mobile, "mobile", None),
        address=take(_optional("address", 200), "address", None),
        postcode=take(_postcode, "postcode", None),
        city=take(_optional("city", 100), "city", None),
    )
    return reasons or record


def normalise_nir(text: str) -> str:
    """The compact 15-character NIR (13 digits and the key); spaces and dots are accepted."""
    if not text:
        raise InvalidValue("NIR is missing")
    compact = str(nir_check.compact(text))
    if len(compact) != 15:
        raise InvalidValue(
            f"NIR must have 15 characters (13 digits and the 2-digit key), found {len(compact)}"
        )
    try:
        return str(nir_check.validate(compact))
    except InvalidChecksum:
        raise InvalidValue("NIR key does not match") from None
    except ValidationError:
        raise InvalidValue("NIR may only hold digits (and 2A or 2B for Corsica)") from None


def normalise_mobile(text: str) -> str | None:
    """A French mobile number in E.164 (as `contacts` writes it everywhere); None when empty."""
    if not text:
        return None
    mobile = contacts.normalise_mobile(text)
    if mobile is None:
        raise InvalidValue(
            f"mobile {text!r} is not a French mobile number (06 or 07, e.g. 06 12 34 56 78)"
        )
    return mobile


def _rows(stream: TextIO, errors: list[LineError]) -> Iterator[tuple[int, list[str]]]:
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


def _existing_by_nir(nirs: list[str]) -> dict[str, Beneficiary]:
    found: dict[str, Beneficiary] = {}
    for start in range(0, len(nirs), _LOOKUP_CHUNK):
        chunk = nirs[start : start + _LOOKUP_CHUNK]
        for beneficiary in db.session.scalars(
            select(Beneficiary).where(Beneficiary.nir.in_(chunk))
        ):
            found[beneficiary.nir] = beneficiary
    return found


def _vitale_serial(text: str) -> str:
    serial = text.replace(" ", "")
    if not _SERIAL.fullmatch(serial):
        raise InvalidValue("carte Vitale serial must be 6 to 12 digits")
    return serial


def _required(label: str, limit: int) -> Callable[[str], str]:
    def check(text: str) -> str:
        value = _optional(label, limit)(text)
        if value is None:
            raise InvalidValue(f"{label} is missing")
        return value

    return check


def _optional(label: str, limit: int) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        value = " ".join(text.split())
        if len(value) > limit:
            raise InvalidValue(f"{label} is longer than {limit} characters")
        return value or None

    return check


def _sex(text: str) -> str:
    if text.upper() not in ("F", "M"):
        raise InvalidValue(f"sex must be F or M, found {text!r}")
    return text.upper()


def _birth_date(text: str) -> date:
    if not _ISO_DATE.fullmatch(text):
        raise InvalidValue(f"birth date {text!r} must be written YYYY-MM-DD")
    try:
        born = date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"birth date {text} is not a real date") from None
    if born > clock.to_paris(clock.now()).date():
        raise InvalidValue(f"birth date {text} is in the future")
    if born < EARLIEST_BIRTH:
        raise InvalidValue(f"birth date {text} is before 1900")
    return born


def _email(text: str) -> str | None:
    if not text:
        return None
    email = contacts.normalise_email(text)
    if email is None:
        raise InvalidValue(f"e-mail {text!r} is not a valid address")
    return email


def _postcode(text: str) -> str | None:
    if not text:
        return None
    postcode = text.upper()
    if not _POSTCODE.fullmatch(postcode):
        raise InvalidValue("postcode must be 5 digits (or 2A/2B and 3 digits for Corsica)")
    return postcode
