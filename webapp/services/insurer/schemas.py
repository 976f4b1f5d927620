"""What the insurer's systems send, as pydantic models: the API validates its JSON with them,
`flask insurer import-reimbursements` its CSV lines, and the OpenAPI document is generated
from them, so the three never disagree.

Every refusal carries a stable code (`Problem.code`): ours for the rules of SPEC §8b
(`invalid_nir`, `future_date`, `invalid_amount`...), pydantic's own error type for the shape
of the body (`missing`, `extra_forbidden`, `list_type`...).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from webapp.core import clock
from webapp.services.beneficiaries import normalise_nir
from webapp.services.csvimport import InvalidValue

MAX_ITEMS = 10_000  # lines or beneficiaries in one batch; 10,000 lines fit in the 5 Mo body
MAX_AMOUNT = Decimal("9999999.99")  # Numeric(9, 2)
CENT = Decimal("0.01")
# Characters nobody types in a name or a label: control, format (direction overrides,
# zero-width), line and paragraph separators, and lone surrogates (bytes that were not UTF-8).
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class Problem:
    """One reason a batch is refused: the item's index (None for the body itself), its field
    (None for the whole item), a stable code and a message for the insurer's developers."""

    index: int | None
    field: str | None
    code: str
    message: str


def refuse(code: str, message: str) -> PydanticCustomError:
    """A refusal with our code; the message is literal (no pydantic placeholders)."""
    return PydanticCustomError(code, message.replace("{", "{{").replace("}", "}}"))


# --- field types ------------------------------------------------------------------------------


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise refuse("invalid_type", "must be a JSON string")
    stripped = value.strip()
    if any(unicodedata.category(char) in _INVISIBLE for char in stripped):
        raise refuse("control_characters", "holds control or invisible characters")
    return stripped


def _text(limit: int) -> Callable[[object], str]:
    def check(value: object) -> str:
        text = _string(value)
        if not text:
            raise refuse("required", "must not be empty")
        if len(text) > limit:
            raise refuse("too_long", f"at most {limit} characters")
        return text

    return check


def _cell(limit: int) -> Callable[[object], str | None]:
    """A register field: a string (or null when optional), checked further by the register."""

    def check(value: object) -> str | None:
        if value is None:
            return None
        text = _string(value)
        if len(text) > limit:
            raise refuse("too_long", f"at most {limit} characters")
        return text

    return check


def _line_id(limit: int) -> Callable[[object], str]:
    def check(value: object) -> str:
        text = _text(limit)(value)
        if not text.isprintable():
            raise refuse("invalid_line_id", "may only hold printable characters")
        return text

    return check


def _nir(value: object) -> str:
    text = _string(value)
    try:
        return normalise_nir(text)
    except InvalidValue as exc:
        raise refuse("invalid_nir", str(exc)) from None


def _past_date(value: object) -> date:
    text = _string(value)
    if not _ISO_DATE.fullmatch(text):
        raise refuse("invalid_date", "must be a date written YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise refuse("invalid_date", "is not a real date") from None
    if day > clock.to_paris(clock.now()).date():
        raise refuse("future_date", "is in the future (Paris time)")
    return day


def _amount(value: object) -> Decimal:
    if not isinstance(value, str):
        raise refuse("invalid_amount", 'amounts are decimal strings in euros, such as "23.00"')
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        raise refuse("invalid_amount", 'must be a decimal string in euros, such as "23.00"')
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise refuse("invalid_amount", "is not a decimal number") from None
    if amount < 0:
        raise refuse("negative_amount", "must not be negative")
    if amount != amount.quantize(CENT):
        raise refuse("invalid_amount", "has more than 2 decimals")
    if amount > MAX_AMOUNT:
        raise refuse("invalid_amount", "must be at most 9999999.99")
    return amount.quantize(CENT)


LineId = Annotated[
    str,
    BeforeValidator(_line_id(64)),
    StringConstraints(min_length=1, max_length=64),
    Field(description="The insurer's own id of the line, 1 to 64 printable characters."),
]
CertificateId = Annotated[
    str,
    BeforeValidator(_line_id(55)),
    StringConstraints(min_length=1, max_length=55),
    Field(description="The insurer's own id of the certificate, 1 to 55 printable characters."),
]
Nir = Annotated[
    str,
    BeforeValidator(_nir),
    Field(
        description="The NIR: 13 digits (2A/2B for Corsica) and its 2-digit key; spaces are "
        "accepted.",
        examples=["2 85 03 75 123 456 78"],
    ),
]
PastDate = Annotated[
    date,
    BeforeValidator(_past_date),
    Field(description="YYYY-MM-DD, not after today in Paris."),
]
Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]{1,7}(\.[0-9]{1,2})?$",
            "description": "Euros as a decimal string, at most 2 decimals, 0 to 9999999.99. "
            "A JSON number is refused (invalid_amount): amounts are never floats.",
            "examples": ["23.00"],
        }
    ),
]
ActCode = Annotated[str, BeforeValidator(_text(20)), StringConstraints(min_length=1, max_length=20)]
Label = Annotated[str, BeforeValidator(_text(200)), StringConstraints(min_length=1, max_length=200)]
Profession = Annotated[
    str, BeforeValidator(_text(100)), StringConstraints(min_length=1, max_length=100)
]
Vaccine = Annotated[
    str, BeforeValidator(_text(100)), StringConstraints(min_length=1, max_length=100)
]
# A register field: its own check is the register's; here only its type, characters and length.
Cell30 = Annotated[str, BeforeValidator(_text(30)), StringConstraints(max_length=30)]
Cell20 = Annotated[str, BeforeValidator(_text(20)), StringConstraints(max_length=20)]
Cell100 = Annotated[str, BeforeValidator(_text(100)), StringConstraints(max_length=100)]
Cell150 = Annotated[str, BeforeValidator(_text(150)), StringConstraints(max_length=150)]
Cell10 = Annotated[str, BeforeValidator(_text(10)), StringConstraints(max_length=10)]
OptionalCell254 = Annotated[str | None, BeforeValidator(_cell(254))]
OptionalCell200 = Annotated[str | None, BeforeValidator(_cell(200))]
OptionalCell100 = Annotated[str | None, BeforeValidator(_cell(100))]
OptionalCell20 = Annotated[str | None, BeforeValidator(_cell(20))]
OptionalCell10 = Annotated[str | None, BeforeValidator(_cell(10))]


# --- reimbursements ---------------------------------------------------------------------------


class ReimbursementLine(BaseModel):
    """One line of care reimbursed. Strings are stripped; control characters are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_id: LineId
    nir: Nir
    care_date: PastDate = Field(alias="date")
    act_code: ActCode
    act_label: Label
    professional: Label
    profession: Profession
    amount_paid: Amount
    amount_reimbursed: Amount
    confidential: StrictBool = Field(
        default=False,
        description="Care the patient keeps confidential (R1111-50): refused for a minor "
        "(minor_confidential), since a minor's confidential care is never fed; no effect for "
        "an adult.",
    )

    @field_validator("amount_reimbursed")
    @classmethod
    def _within_paid(cls, reimbursed: Decimal, info: ValidationInfo) -> Decimal:
        paid = info.data.get("amount_paid")
        if isinstance(paid, Decimal) and reimbursed > paid:
            raise refuse("reimbursed_exceeds_paid", "must not exceed amount_paid")
        return reimbursed

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of the normalised content: the same line sent again
        is recognised, whatever its spacing or its "23" for "23.00"."""
        fields = {
            "line_id": self.line_id,
            "nir": self.nir,
            "date": self.care_date.isoformat(),
            "act_code": self.act_code,
            "act_label": self.act_label,
            "professional": self.professional,
            "profession": self.profession,
            "amount_paid": str(self.amount_paid),
            "amount_reimbursed": str(self.amount_reimbursed),
        }
        canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class ReimbursementBatch(BaseModel):
    """A batch of lines: all are stored, or none."""

    model_config = ConfigDict(extra="forbid")

    lines: list[ReimbursementLine] = Field(min_length=1, max_length=MAX_ITEMS)


# --- the register -----------------------------------------------------------------------------


class BeneficiaryEntry(BaseModel):
    """One person of the register: the columns of `flask beneficiaries import`, checked by the
    same rules (`services.beneficiaries.check_line`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nir: Cell30 = Field(description="The NIR with its key.")
    vitale_serial: Cell20 = Field(description="The carte Vitale serial, 6 to 12 digits.")
    last_name: Cell100 = Field(description="Last name.")
    first_names: Cell150 = Field(description="First names.")
    sex: Cell10 = Field(description="F or M.")
    birth_date: Cell10 = Field(description="YYYY-MM-DD.")
    email: OptionalCell254 = Field(default=None, description="E-mail, or null.")
    mobile: OptionalCell20 = Field(default=None, description="French mobile number, or null.")
    address: OptionalCell200 = Field(default=None, description="Postal address, or null.")
    postcode: OptionalCell10 = Field(default=None, description="Postcode, or null.")
    city: OptionalCell100 = Field(default=None, description="City, or null.")

    def cells(self) -> dict[str, str]:
        """The entry as a CSV line's cells, for the register's own check."""
        return {name: value or "" for name, value in self.model_dump().items()}


class BeneficiaryBatch(BaseModel):
    """A batch of register entries: all are applied, or none."""

    model_config = ConfigDict(extra="forbid")

    beneficiaries: list[BeneficiaryEntry] = Field(min_length=1, max_length=MAX_ITEMS)


# --- vaccination certificates -----------------------------------------------------------------


class CertificateFields(BaseModel):
    """The form fields sent with a certificate's PDF (multipart/form-data)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nir: Nir
    care_date: PastDate = Field(alias="date")
    vaccine: Vaccine
    certificate_id: CertificateId


# --- turning pydantic's errors into problems --------------------------------------------------

ItemT = TypeVar("ItemT", bound=BaseModel)


def problems_from(error: ValidationError, items: str | None = None) -> list[Problem]:
    """Each error of `error` as a Problem; `items` names the list whose index it reports."""
    found = []
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        index, field = _place(tuple(detail["loc"]), items)
        found.append(Problem(index, field, detail["type"], detail["msg"]))
    return found


def _place(loc: tuple[int | str, ...], items: str | None) -> tuple[int | None, str | None]:
    if items is not None and len(loc) >= 2 and loc[0] == items and isinstance(loc[1], int):
        rest = loc[2:]
        return loc[1], ".".join(str(part) for part in rest) or None
    return None, ".".join(str(part) for part in loc) or None


def validated_items(
    batch: type[BaseModel], item: type[ItemT], items: str, body: object
) -> tuple[dict[int, ItemT], list[Problem]]:
    """The valid items of a batch by index, and every problem of the others.

    The whole body is validated first (the fast path); when some items are bad, the good ones
    are taken one by one, so that the checks against the database still report theirs.
    """
    try:
        parsed = batch.model_validate(body)
    except ValidationError as exc:
        problems = problems_from(exc, items)
    else:
        return dict(enumerate(getattr(parsed, items))), []
    if any(problem.index is None for problem in problems) or not isinstance(body, Mapping):
        return {}, problems
    bad = {problem.index for problem in problems}
    valid: dict[int, ItemT] = {}
    for index, value in enumerate(body[items]):
        if index in bad:
            continue
        try:
            valid[index] = item.model_validate(value)
        except ValidationError as exc:  # only if a check changed its mind (midnight passed)
            problems += [
                Problem(index, problem.field, problem.code, problem.message)
                for problem in problems_from(exc)
            ]
    return valid, problems
