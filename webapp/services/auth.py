"""Signing in: a password opens a pending state; only a second factor opens a session.
Signing out, from this device or all of them, and the patient's authenticator app."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, UserSession
from webapp.models.account import AccountState, RecordState, Role, SecondFactor
from webapp.services import codes, notify, passwords, sessions
from webapp.services.audit import Action, record_access

SIGNIN_PURPOSE = "sign_in"


def normalise_identifier(identifier: str) -> str:
    return identifier.strip().lower()[:64]


def find_account(identifier: str) -> Account | None:
    return db.session.scalar(
        select(Account).where(func.lower(Account.identifier) == normalise_identifier(identifier))
    )


def check_password(identifier: str, password: str) -> Account | None:
    """The account when the password is right; None otherwise, in the same time either way."""
    return sign_in_attempt(identifier, password)[0]


def sign_in_attempt(identifier: str, password: str) -> tuple[Account | None, bool]:
    """(account, closed): `closed` is True when the right password opens a closed record,
    so that its holder is told how to reopen it instead of being told they mistyped."""
    account = find_account(identifier)
    usable = account is not None and account.state == AccountState.ACTIVE
    closed = (
        account is not None
        and account.state == AccountState.DISABLED
        and account.patient is not None
        and account.patient.record_state == RecordState.CLOSED
    )
    stored = account.password_hash if (account is not None and (usable or closed)) else None
    # Nothing is written yet: end the read so that the slow hash holds no database lock.
    db.session.commit()
    if not passwords.verify(stored, password):
        if account is not None and account.patient is not None and usable:
            record_access(
                account.patient,
                None,
                Action.SIGN_IN_REFUSED,
                allowed=False,
                reason="wrong_password",
            )
        return None, False
    assert account is not None and account.password_hash is not None
    if closed:
        return None, True
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    return account, False


def needs_totp_enrolment(account: Account) -> bool:
    return account.role != Role.PATIENT and not account.uses_totp


def code_channel(account: Account) -> str | None:
    """Where a patient's sign-in code goes; None for accounts that use an app."""
    if account.uses_totp:
        return None
    if account.second_factor == SecondFactor.SMS and account.mobile:
        return "sms"
    return "email" if account.email else ("sms" if account.mobile else None)


def send_code(account: Account) -> str | None:
    channel = code_channel(account)
    if channel is None:
        return None
    code = codes.issue_code(account, SIGNIN_PURPOSE, channel)
    notify.enqueue(account, "signin_code", channel=channel, sensitive=True, code=code)
    return channel


class FactorResult(StrEnum):
    ACCEPTED = "accepted"
    RECOVERY = "recovery"
    REFUSED = "refused"


def check_second_factor(account: Account, code: str) -> FactorResult:
    if codes.looks_like_recovery_code(code) and account.uses_totp:
        if codes.burn_recovery_code(account, code):
            notify.enqueue(account, "recovery_code_used", when=clock.now())
            if account.patient is not None:
                record_access(account.patient, account, Action.RECOVERY_CODE_USED)
            return FactorResult.RECOVERY
    elif account.uses_totp:
        if codes.verify_totp(account, code):
            return FactorResult.ACCEPTED
    elif codes.consume_code(account, SIGNIN_PURPOSE, code):
        return FactorResult.ACCEPTED
    if account.patient is not None:
        record_access(
            account.patient,
            None,
            Action.SECOND_FACTOR_REFUSED,
            allowed=False,
            reason="wrong_code",
        )
    return FactorResult.REFUSED


@dataclass(frozen=True)
class Device:
    user_agent: str
    ip_address: str


def open_session(account: Account, device: Device, *, replacing: UserSession | None = None) -> str:
    """Start the session after the second factor; patients are told of every sign-in."""
    _session, token = sessions.start(
        account, user_agent=device.user_agent, ip_address=device.ip_address, replacing=replacing
    )
    if account.patient is not None:
        action = Action.REAUTHENTICATED if replacing is not None else Action.SIGN_IN
        record_access(
            account.patient, account, action, detail=sessions.describe_device(device.user_agent)
        )
        if replacing is None:
            notify.enqueue(
                account,
                "signin_notice",
                when=clock.now(),
                device=sessions.describe_device(device.user_agent),
                place=sessions.describe_place(device.ip_address),
            )
    return token


def account_for_pending(account_id: int, *, enrolling: bool) -> Account | None:
    """The account a sign-in in progress names, while it is in the state that step expects:
    waiting for its app when enrolling, active otherwise."""
    account = db.session.get(Account, account_id)
    expected = AccountState.PENDING_ACTIVATION if enrolling else AccountState.ACTIVE
    if account is None or account.state != expected:
        return None
    return account


def sign_out(account: Account, session: UserSession) -> None:
    """End this device's session; a patient's history shows it."""
    sessions.revoke(session)
    if account.patient is not None:
        record_access(account.patient, account, Action.SIGN_OUT)


def end_session(account: Account, session_id: int) -> UserSession | None:
    """End one of the account's own sessions, from its list of devices; None when it is not
    hers or was closed already."""
    target = db.session.scalar(
        select(UserSession).where(
            UserSession.id == session_id, UserSession.account_id == account.id
        )
    )
    if target is None or target.revoked_at is not None:
        return None
    sessions.revoke(target)
    if account.patient is not None:
        record_access(account.patient, account, Action.SESSION_ENDED, resource_id=target.id)
    return target


def sign_out_everywhere(account: Account) -> None:
    """End every session of the account, the current one included."""
    sessions.revoke_all(account)
    if account.patient is not None:
        record_access(account.patient, account, Action.SIGN_OUT_EVERYWHERE)


def may_link_authenticator(account: Account) -> bool:
    """A patient may link an app instead of codes by e-mail or SMS, once."""
    return account.role == Role.PATIENT and not account.uses_totp


def link_authenticator(account: Account, secret: str, code: str) -> list[str] | None:
    """Link the app whose secret was shown, when `code` proves it: its new recovery codes,
    or None when the code does not match."""
    recovery = codes.confirm_enrolment(account, secret, code)
    if recovery is not None and account.patient is not None:
        record_access(account.patient, account, Action.AUTHENTICATOR_ENROLLED)
    return recovery


def unlink_authenticator(account: Account) -> bool:
    """A patient goes back to codes by e-mail, and is told so; False when she had no app."""
    if account.role != Role.PATIENT or not account.uses_totp:
        return False
    codes.remove_authenticator(account)
    if account.patient is not None:
        record_access(account.patient, account, Action.AUTHENTICATOR_REMOVED)
    notify.enqueue(account, "authenticator_removed", when=clock.now())
    return True
