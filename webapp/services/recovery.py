"""A forgotten password (SPEC §1): a code to a contact on file, plus a second proof that the
mailbox alone does not give, then a new password that ends every session.

Patients only. Each step does the same work whether or not the identifier names a patient who
may recover, and answers the same, so that a stranger learns nothing about who has an account.
A patient who has lost everything gets a provisional code at a counter instead; the end is the
same (`password_reset`), written once here for both paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Beneficiary, Patient
from webapp.models.account import AccountState, RecordState, Role, SecondFactor
from webapp.services import codes, crypto, notify, passwords, sessions
from webapp.services.audit import Action, record_access
from webapp.services.auth import find_account

CODE_PURPOSE = "recovery"
# Proofs accepted, the new password may be chosen once, within the code's 10 minutes.
TICKET_PURPOSE = "recovery_ticket"
TICKET_DIGITS = 24


class Proof(StrEnum):
    VITALE = "vitale"
    RECOVERY_CODE = "recovery_code"
    APP = "app"


@dataclass(frozen=True)
class Evidence:
    """The second proof, as typed: the carte Vitale and birth date, or one code."""

    kind: Proof
    vitale_serial: str = ""
    birth_date: date | None = None
    code: str = ""


def recoverable(identifier: str) -> Account | None:
    """The patient account this identifier names, while it may recover online."""
    account = find_account(identifier)
    if (
        account is None
        or account.role != Role.PATIENT
        or account.state != AccountState.ACTIVE
        or account.patient is None
    ):
        return None
    return account


def _channel(account: Account) -> str | None:
    """Where the code goes: the mobile when the person signs in by SMS, else the e-mail."""
    if account.second_factor == SecondFactor.SMS and account.mobile:
        return "sms"
    return "email" if account.email else ("sms" if account.mobile else None)


def request_code(identifier: str) -> None:
    """Step 1. Nothing is returned: the page says the same whatever happened.

    A real professional or agent is told by e-mail whom to ask (their own mailbox, so the
    person typing learns nothing); a closed, unknown or unreachable account gets nothing.
    """
    account = find_account(identifier)
    if account is not None and account.role != Role.PATIENT:
        if account.state == AccountState.ACTIVE:
            notify.enqueue(account, "password_help_staff", when=clock.now())
        return
    account = recoverable(identifier)
    channel = _channel(account) if account is not None else None
    if account is None or channel is None:
        return
    code = codes.issue_code(account, CODE_PURPOSE, channel)
    notify.enqueue(account, "password_reset_code", channel=channel, sensitive=True, code=code)


def _register_entry(account: Account | None) -> Beneficiary | None:
    nir = account.patient.nir if account is not None and account.patient is not None else ""
    return db.session.scalar(select(Beneficiary).where(Beneficiary.nir == nir))


def _vitale_holds(account: Account | None, evidence: Evidence) -> bool:
    """The carte Vitale serial and the birth date, checked against the insurer's register."""
    entry = _register_entry(account)
    serial_ok = crypto.same(entry.vitale_serial if entry else "-", evidence.vitale_serial)
    return entry is not None and serial_ok and entry.birth_date == evidence.birth_date


def _app_holds(account: Account | None, code: str) -> bool:
    """A code from the linked app; recorded as used (no replay) only by `_spend`."""
    return account is not None and codes.totp_matches(account, code)


@dataclass(frozen=True)
class _Checked:
    holds: bool
    recovery_code_id: int | None = None


def _check(account: Account | None, evidence: Evidence) -> _Checked:
    """Whether the second proof holds, without using anything up."""
    if evidence.kind == Proof.VITALE:
        return _Checked(_vitale_holds(account, evidence))
    if evidence.kind == Proof.RECOVERY_CODE:
        found = codes.matching_recovery_code(account, evidence.code)
        return _Checked(found is not None, found)
    return _Checked(_app_holds(account, evidence.code))


def _spend(account: Account, evidence: Evidence, checked: _Checked) -> bool:
    """Use the proof up: a recovery code burns, an app's time step cannot serve again."""
    if checked.recovery_code_id is not None:
        if not codes.burn_recovery_code_id(account, checked.recovery_code_id):
            return False
        notify.enqueue(account, "recovery_code_used", when=clock.now())
        return True
    if evidence.kind == Proof.APP:
        return codes.verify_totp(account, evidence.code)
    return True


def prove(identifier: str, code: str, evidence: Evidence) -> str | None:
    """Step 2: the code sent and the second proof. A ticket for the new password, or None.

    A wrong proof costs the code a try, as a wrong code does: five and the code is dead.
    Both are checked before either is used up, so a slip in one spends neither.
    """
    account = recoverable(identifier)
    checked = _check(account, evidence)
    if account is None:
        return None
    assert account.patient is not None
    if not checked.holds:
        codes.spend_try(account, CODE_PURPOSE)
        _refused(account.patient, "wrong_proof")
        return None
    if not codes.consume_code(account, CODE_PURPOSE, code):
        _refused(account.patient, "wrong_code")
        return None
    if not _spend(account, evidence, checked):
        _refused(account.patient, "proof_used")
        return None
    return codes.issue_code(account, TICKET_PURPOSE, "web", digits=TICKET_DIGITS)


def _refused(patient: Patient, reason: str) -> None:
    record_access(patient, None, Action.PASSWORD_RESET_REFUSED, allowed=False, reason=reason)


def personal_words(account: Account) -> tuple[str, ...]:
    """What a new password must not contain: the identifier, names and birth date."""
    patient = account.patient
    if patient is None:
        return (account.identifier,)
    return (
        account.identifier,
        patient.first_names,
        patient.last_name,
        patient.birth_date.isoformat(),
    )


def set_new_password(account: Account, ticket: str, password: str) -> bool:
    """Step 3: spend the ticket (once, even in a race) and put the new password in place."""
    if not codes.consume_code(account, TICKET_PURPOSE, ticket):
        return False
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = clock.now()
    password_reset(account, via="online")
    return True


def password_reset(
    account: Account, *, via: str, earlier: set[tuple[str, str]] | None = None
) -> None:
    """A new password is in place: every session and waiting code ends, the history shows it,
    and every contact on file hears of it (`earlier`: contacts it had before, when they changed).
    """
    sessions.revoke_all(account)
    codes.void_codes(account)
    if account.patient is not None:
        record_access(account.patient, account, Action.PASSWORD_RESET, detail=via)
    tell_every_contact(account, earlier or set())


def contacts_on_file(account: Account) -> set[tuple[str, str]]:
    """The e-mails and mobiles the account and the insurer's register hold for this person."""
    found: set[tuple[str, str]] = set()
    for holder in (account, _register_entry(account)):
        if holder is None:
            continue
        if holder.email:
            found.add(("email", holder.email))
        if holder.mobile:
            found.add(("sms", holder.mobile))
    return found


def tell_every_contact(account: Account, earlier: set[tuple[str, str]]) -> None:
    """The routine notice, once to each address: the account's own, then any other."""
    now = clock.now()
    own: set[tuple[str, str]] = set()
    for channel, address in (("email", account.email), ("sms", account.mobile)):
        if address:
            own.add((channel, address))
            notify.enqueue(account, "password_changed", channel=channel, when=now)
    for channel, address in sorted((contacts_on_file(account) | earlier) - own):
        notify.enqueue_contact(
            address, channel, "password_changed", language=account.language, when=now
        )


# --- at a counter ---------------------------------------------------------------------------


def online(patient: Patient | None) -> bool:
    """An open record whose holder has online access: a code for it leads to a new password."""
    return (
        patient is not None
        and patient.record_state == RecordState.ACTIVE
        and patient.account is not None
        and patient.account.state == AccountState.ACTIVE
    )


def counter_may_reissue(patient: Patient | None, actor: Account) -> bool:
    """Only a counter agent, with the person and her carte Vitale in front of them, gives a
    code that replaces the password of an account in use (SPEC §1)."""
    return actor.role == Role.AGENT and online(patient)


def reset_at_counter(account: Account, earlier: set[tuple[str, str]]) -> None:
    """The code from the counter was used: the password chosen with it is in place already.

    The person has lost everything, perhaps the phone with the app too: the app and its
    recovery codes stop working, and codes come again by e-mail or SMS.
    """
    if account.uses_totp:
        codes.remove_authenticator(account)
        if account.patient is not None:
            record_access(account.patient, account, Action.AUTHENTICATOR_REMOVED)
    password_reset(account, via="counter", earlier=earlier)
