"""E-mail addresses and French mobile numbers, checked and written one way everywhere."""

from __future__ import annotations

import re

import phonenumbers

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def normalise_email(value: str) -> str | None:
    """The address in lower case, or None when it cannot be an address."""
    cleaned = value.strip().lower()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        return None
    return cleaned


def normalise_mobile(value: str) -> str | None:
    """A French mobile number (06, 07, or overseas) in E.164, or None."""
    try:
        parsed = phonenumbers.parse(value.strip(), "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    kind = phonenumbers.number_type(parsed)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
