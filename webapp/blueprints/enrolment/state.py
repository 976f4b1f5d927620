"""Where a person is in the activation steps, kept in the signed session cookie.

It names the code and the record a valid code opened, never the code itself; it lasts 30
minutes. The chosen password travels only as a sealed argon2 hash, and a code sent to check
a new e-mail or mobile only as a keyed digest.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from flask import session

from webapp.core import clock
from webapp.models import Beneficiary, Patient
from webapp.services import crypto, enrolment, provisional

KEY = "enrolment"
LIFETIME_SECONDS = 1800
CHECK_SECONDS = 600
CHECK_TRIES = 5


def _now() -> float:
    """Seconds since the epoch from the project's clock, which tests move (a cookie holds
    plain numbers, not datetimes)."""
    return clock.now().timestamp()


def begin(match: provisional.Match) -> None:
    session[KEY] = {
        "code": match.code_id,
        "patient": match.patient.id,
        "beneficiary": match.beneficiary.id,
        "started": _now(),
    }


def current() -> dict[str, Any] | None:
    found = session.get(KEY)
    if not isinstance(found, dict) or _now() - float(found.get("started", 0)) > LIFETIME_SECONDS:
        return None
    if not provisional.still_live(int(found["code"])):
        return None
    return found


def update(**values: object) -> None:
    found = dict(session.get(KEY) or {})
    found.update(values)
    session[KEY] = found


def end() -> None:
    session.pop(KEY, None)


@dataclass(frozen=True)
class Progress:
    """The steps so far (`found`, as `current` returns them), and the people they are about."""

    found: dict[str, Any]
    patient: Patient
    beneficiary: Beneficiary


def in_progress() -> Progress | None:
    """The activation under way in this browser, while its code and its people are still
    valid."""
    found = current()
    if found is None:
        return None
    pair = enrolment.people(int(found["patient"]), int(found["beneficiary"]))
    if pair is None:
        return None
    return Progress(found, *pair)


def seal_text(value: str) -> str:
    return base64.urlsafe_b64encode(crypto.seal("enrolment", value.encode())).decode()


def open_text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return crypto.unseal("enrolment", base64.urlsafe_b64decode(value)).decode()
    except (ValueError, InvalidTag):
        return None


def new_check(kind: str, address: str) -> str:
    """A 6-digit code proving a new e-mail or mobile; only its digest stays in the cookie."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    nonce = secrets.token_hex(8)
    checks = dict((session.get(KEY) or {}).get("checks", {}))
    checks[kind] = {
        "address": seal_text(address),
        "nonce": nonce,
        "digest": crypto.keyed_digest("contact-check", f"{nonce}:{code}"),
        "until": _now() + CHECK_SECONDS,
        "tries": 0,
    }
    update(checks=checks)
    return code


def pending_checks() -> dict[str, dict[str, Any]]:
    found = (session.get(KEY) or {}).get("checks", {})
    return dict(found) if isinstance(found, dict) else {}


def try_check(kind: str, typed: str) -> str | None:
    """The proven address when the code is right; a wrong one costs one of five tries."""
    checks = pending_checks()
    check = checks.get(kind)
    if not isinstance(check, dict) or check["tries"] >= CHECK_TRIES or _now() > check["until"]:
        return None
    typed = "".join(ch for ch in typed if ch.isdigit())
    digest = crypto.keyed_digest("contact-check", f"{check['nonce']}:{typed}")
    if not crypto.same(digest, check["digest"]):
        check = {**check, "tries": check["tries"] + 1}
        checks[kind] = check
        update(checks=checks)
        return None
    checks.pop(kind)
    update(checks=checks)
    return open_text(check["address"])
