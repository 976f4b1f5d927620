"""Second factors: e-mailed or texted codes, TOTP without replay, and recovery codes."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from markupsafe import Markup
from sqlalchemy import or_, select, update

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, OneTimeCode, RecoveryCode
from webapp.models.account import SecondFactor
from webapp.models.base import affected
from webapp.services import crypto, passwords

CODE_LIFETIME = timedelta(minutes=10)
CODE_MAX_TRIES = 5
TOTP_STEP = 30
TOTP_ISSUER = "Carnet"
RECOVERY_COUNT = 10
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def normalise(code: str) -> str:
    """Codes are read aloud and typed on phones: ignore spaces, dashes and case."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


# --- codes sent by e-mail or SMS -------------------------------------------------------------


def issue_code(account: Account, purpose: str, channel: str, *, digits: int = 6) -> str:
    """Create a code of `digits` digits; earlier unused codes for the same purpose stop working.

    Six for a person to type; a longer one serves as a ticket that leaves the server only
    sealed in the session cookie (a forgotten password's last step).
    """
    now = clock.now()
    db.session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.account_id == account.id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.consumed_at.is_(None),
        )
        .values(consumed_at=now)
    )
    code = f"{secrets.randbelow(10**digits):0{digits}d}"
    db.session.add(
        OneTimeCode(
            account_id=account.id,
            purpose=purpose,
            channel=channel,
            code_hmac=crypto.keyed_digest("one-time-code", f"{account.id}:{code}"),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
            attempts=0,
        )
    )
    db.session.flush()
    return code


def consume_code(account: Account, purpose: str, code: str) -> bool:
    """Accept a sent code once; a wrong one costs a try, and the fifth kills the code."""
    now = clock.now()
    digest = crypto.keyed_digest("one-time-code", f"{account.id}:{normalise(code)}")
    live = (
        OneTimeCode.account_id == account.id,
        OneTimeCode.purpose == purpose,
        OneTimeCode.consumed_at.is_(None),
        OneTimeCode.expires_at > now,
        OneTimeCode.attempts < CODE_MAX_TRIES,
    )
    won = db.session.execute(
        update(OneTimeCode).where(*live, OneTimeCode.code_hmac == digest).values(consumed_at=now)
    )
    if won.rowcount == 1:  # type: ignore[attr-defined]
        return True
    db.session.execute(update(OneTimeCode).where(*live).values(attempts=OneTimeCode.attempts + 1))
    return False


def spend_try(account: Account, purpose: str) -> None:
    """A wrong answer given beside a code (a second proof) costs the code a try all the same."""
    db.session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.account_id == account.id,
            OneTimeCode.purpose == purpose,
            OneTimeCode.consumed_at.is_(None),
            OneTimeCode.expires_at > clock.now(),
            OneTimeCode.attempts < CODE_MAX_TRIES,
        )
        .values(attempts=OneTimeCode.attempts + 1)
    )


def void_codes(account: Account) -> None:
    """Every code still waiting for this account stops working (its password just changed)."""
    db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.account_id == account.id, OneTimeCode.consumed_at.is_(None))
        .values(consumed_at=clock.now())
    )


# --- TOTP -----------------------------------------------------------------------------------


def new_totp_secret() -> str:
    """A secret for an app being linked; it reaches the account only once a code proves it."""
    return pyotp.random_base32()


def seal_setup_secret(secret: str) -> str:
    """The secret being linked, sealed for the signed session cookie (never in clear there)."""
    return base64.urlsafe_b64encode(crypto.seal("totp-setup", secret.encode())).decode()


def open_setup_secret(sealed: object) -> str | None:
    if not isinstance(sealed, str):
        return None
    try:
        return crypto.unseal("totp-setup", base64.urlsafe_b64decode(sealed)).decode()
    except (ValueError, InvalidTag):
        return None


def link_authenticator(account: Account, secret: str | None = None) -> str:
    """Link an app without a confirming code (demo data and tests only)."""
    secret = secret or new_totp_secret()
    account.totp_secret_sealed = crypto.seal("totp", secret.encode())
    account.totp_confirmed_at = clock.now()
    account.totp_last_step = None
    account.second_factor = SecondFactor.TOTP
    return secret


def totp_secret(account: Account) -> str | None:
    if account.totp_secret_sealed is None:
        return None
    return crypto.unseal("totp", account.totp_secret_sealed).decode()


def display_secret(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(account: Account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.identifier, issuer_name=TOTP_ISSUER)


def qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG (no image request, nothing to cache)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", border=2)
    return Markup(svg)  # produced by segno from our own URI, never from user input


def _matching_step(secret: str, code: str) -> int | None:
    totp = pyotp.TOTP(secret)
    current = int(clock.now().timestamp()) // TOTP_STEP
    for step in (current - 1, current, current + 1):
        if crypto.same(totp.at(step * TOTP_STEP), code):
            return step
    return None


def totp_matches(account: Account, code: str) -> bool:
    """Whether `code` is the linked app's code now, without recording it (`verify_totp` does)."""
    secret = totp_secret(account)
    code = normalise(code)
    if secret is None or not account.uses_totp or len(code) != 6 or not code.isdigit():
        return False
    return _matching_step(secret, code) is not None


def verify_totp(account: Account, code: str) -> bool:
    """Accept a TOTP code for a time step strictly later than the last one accepted.

    One conditional UPDATE decides: two requests with the same code cannot both win.
    """
    secret = totp_secret(account)
    code = normalise(code)
    if secret is None or not account.uses_totp or len(code) != 6 or not code.isdigit():
        return False
    step = _matching_step(secret, code)
    if step is None:
        return False
    result = db.session.execute(
        update(Account)
        .where(
            Account.id == account.id,
            or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return affected(result) == 1


def current_totp(account: Account) -> str:
    secret = totp_secret(account)
    if secret is None:
        raise ValueError("this account has no authenticator app")
    return pyotp.TOTP(secret).at(clock.now())


# --- recovery codes -------------------------------------------------------------------------


def _format_recovery(raw: str) -> str:
    return f"{raw[:5]}-{raw[5:]}"


def issue_recovery_codes(account: Account) -> list[str]:
    """Replace the account's recovery codes with 10 new ones, returned once for display."""
    db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now())
    )
    shown = []
    for _ in range(RECOVERY_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        shown.append(_format_recovery(raw))
        db.session.add(
            RecoveryCode(
                account_id=account.id,
                code_hash=passwords.hash_password(raw),
                created_at=clock.now(),
            )
        )
    db.session.flush()
    return shown


def looks_like_recovery_code(code: str) -> bool:
    return len(normalise(code)) == 10


def _recovery_raw(code: str) -> str:
    return normalise(code).replace("O", "0").replace("I", "1").replace("L", "1")


def burn_recovery_code(account: Account, code: str) -> bool:
    raw = _recovery_raw(code)
    unused = db.session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    for candidate in unused:
        if passwords.verify(candidate.code_hash, raw):
            burned = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == candidate.id, RecoveryCode.used_at.is_(None))
                .values(used_at=clock.now())
                .execution_options(synchronize_session=False)
            )
            return affected(burned) == 1
    return False


def matching_recovery_code(account: Account | None, code: str) -> int | None:
    """The id of the unused recovery code `code` is, without using it up.

    Every one of the ten places is checked, filled or not, and without stopping at a match:
    the time taken tells neither how many codes are left nor whether the account exists.
    """
    raw = _recovery_raw(code)
    unused: list[RecoveryCode] = []
    if account is not None:
        unused = list(
            db.session.scalars(
                select(RecoveryCode).where(
                    RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)
                )
            )
        )
    found = None
    for index in range(max(RECOVERY_COUNT, len(unused))):
        candidate = unused[index] if index < len(unused) else None
        right = passwords.verify(candidate.code_hash if candidate else None, raw)
        if right and candidate is not None and found is None:
            found = candidate.id
    return found


def burn_recovery_code_id(account: Account, code_id: int) -> bool:
    """Use up the recovery code found by `matching_recovery_code`: once, even in a race."""
    burned = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.id == code_id,
            RecoveryCode.account_id == account.id,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return affected(burned) == 1


def remaining_recovery_codes(account: Account) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def confirm_enrolment(account: Account, secret: str, code: str) -> list[str] | None:
    """Link the app whose secret was shown, once a code from it proves the link.

    The app replaces any earlier one, and 10 new recovery codes replace the old ones.
    """
    code = normalise(code)
    step = _matching_step(secret, code) if len(code) == 6 and code.isdigit() else None
    if step is None:
        return None
    account.totp_secret_sealed = crypto.seal("totp", secret.encode())
    account.totp_confirmed_at = clock.now()
    account.totp_last_step = step
    account.second_factor = SecondFactor.TOTP
    return issue_recovery_codes(account)


def remove_authenticator(account: Account) -> None:
    """Back to codes by e-mail: the app's secret and every unused recovery code stop working."""
    account.totp_secret_sealed = None
    account.totp_confirmed_at = None
    account.totp_last_step = None
    account.second_factor = SecondFactor.EMAIL
    db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
        .values(used_at=clock.now())
    )
