"""The beneficiary register import (`flask beneficiaries import FILE`): CSV, all-or-nothing.

Every line is checked before anything is written; one bad line and nothing changes, and the
operator gets every bad line with its number in the file (the header is line 1). The reading,
the reports and the upsert are services.csvimport's; the columns and their checks are here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fr import nir as nir_check

from webapp.core import clock
from webapp.models import Beneficiary
from webapp.services import contacts, csvimport
from webapp.services.csvimport import InvalidValue

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
EARLIEST_BIRTH = date(1900, 1, 1)
_SERIAL = re.compile(r"[0-9]{6,12}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_POSTCODE = re.compile(r"[0-9]{5}|2[AB][0-9]{3}")


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


def check_line(cells: dict[str, str]) -> BeneficiaryRecord | list[str]:
    """Normalise the fields of one line: the record, or the reasons it is refused."""
    fields = csvimport.FieldChecks(cells)
    take = fields.take
    record = BeneficiaryRecord(
        nir=take(normalise_nir, "nir", ""),
        vitale_serial=take(_vitale_serial, "vitale_serial", ""),
        last_name=take(csvimport.required("last name", 100), "last_name", ""),
        first_names=take(csvimport.required("first names", 150), "first_names", ""),
        sex=take(_sex, "sex", ""),
        birth_date=take(_birth_date, "birth_date", EARLIEST_BIRTH),
        email=take(csvimport.optional_email, "email", None),
        mobile=take(normalise_mobile, "mobile", None),
        address=take(csvimport.optional("address", 200), "address", None),
        postcode=take(_postcode, "postcode", None),
        city=take(csvimport.optional("city", 100), "city", None),
    )
    return fields.reasons or record


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


def _vitale_serial(text: str) -> str:
    serial = text.replace(" ", "")
    if not _SERIAL.fullmatch(serial):
        raise InvalidValue("carte Vitale serial must be 6 to 12 digits")
    return serial


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


def _postcode(text: str) -> str | None:
    if not text:
        return None
    postcode = text.upper()
    if not _POSTCODE.fullmatch(postcode):
        raise InvalidValue("postcode must be 5 digits (or 2A/2B and 3 digits for Corsica)")
    return postcode


def _updated_now() -> dict[str, object]:
    """`updated_at` is when an import created or last changed the row."""
    return {"updated_at": clock.now()}


REGISTER = csvimport.Register(
    COLUMNS, check_line, key=Beneficiary.nir, key_name="NIR", stamp=_updated_now
)
import_csv = REGISTER.import_csv
read_csv = REGISTER.read_csv
