"""Getting a record: provisional codes sent to the contacts on file, activation, opposition.

The person proves who they are with the code and the details of their carte Vitale; codes go
only to the e-mail, mobile or postal address the insurer holds, never to one typed in a form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Beneficiary, CodeIssuer, Patient
from webapp.models.account import AccountState, RecordState, Role, SecondFactor
from webapp.services import crypto, lifecycle, notify, provisional, recovery
from webapp.services.audit import Action, record_access
from webapp.services.auth import find_account, normalise_identifier


class EnrolmentError(ValueError):
    """The step cannot be carried out; the message says why, for the person."""


class CodeGone(EnrolmentError):
    """The code was used, replaced or expired meanwhile."""


def find_beneficiary(nir: str, vitale_serial: str) -> Beneficiary | None:
    """A person as a card reader identifies them at a counter: NIR and carte Vitale serial."""
    found = db.session.scalar(select(Beneficiary).where(Beneficiary.nir == nir))
    if found is None or not crypto.same(found.vitale_serial, vitale_serial):
        return None
    return found


def people(patient_id: int, beneficiary_id: int) -> tuple[Patient, Beneficiary] | None:
    """The record and the insured person a valid code named, while both still exist."""
    patient = db.session.get(Patient, patient_id)
    beneficiary = db.session.get(Beneficiary, beneficiary_id)
    if patient is None or beneficiary is None:
        return None
    return patient, beneficiary


def destination(beneficiary: Beneficiary, channel: str) -> str | None:
    if channel == "email":
        return beneficiary.email
    if channel == "sms":
        return beneficiary.mobile
    if channel == "letter":
        return beneficiary.postal_address if beneficiary.address else None
    return None


def send_code(
    beneficiary: Beneficiary,
    channel: str,
    *,
    issued_by: str,
    actor: Account | None,
    deliver: bool = True,
) -> tuple[Patient, str]:
    """Issue a code for this person's record and queue it to the contact on file.

    With `deliver=False` (a letter printed at the counter) the caller puts the code in the
    letter itself; it is never returned for display.
    """
    target = destination(beneficiary, channel)
    if target is None and deliver:
        raise EnrolmentError(f"no {channel} on file")
    patient = lifecycle.ensure_for_code(beneficiary, actor=actor)
    code = provisional.issue(
        patient,
        channel=channel,
        issued_by=issued_by,
        actor_id=actor.id if actor else None,
        destination=target,
    )
    shown = provisional.display(code)
    expires_on = (clock.now() + provisional.LIFETIME).date()
    names: dict[str, Any] = {
        "first_names": beneficiary.first_names,
        "last_name": beneficiary.last_name,
    }
    if target is None or not deliver:
        pass  # printed by the caller
    elif channel == "letter":
        notify.enqueue_letter(
            target, "activation", sensitive=True, code=shown, expires_on=expires_on, **names
        )
    else:
        notify.enqueue_contact(
            target,
            channel,
            "provisional_code",
            sensitive=True,
            code=shown,
            expires_on=expires_on,
            **names,
        )
    record_access(
        patient,
        actor,
        Action.CODE_ISSUED,
        resource_type="record",
        resource_id=patient.id,
        detail=f"{channel}:{issued_by}",
    )
    return patient, code


def request_lost_code(nir: str, vitale_serial: str, birth_date: date, channel: str) -> bool:
    """The lost-code form. True when a code was queued; the page says the same either way."""
    beneficiary = db.session.scalar(select(Beneficiary).where(Beneficiary.nir == nir))
    serial_ok = crypto.same(beneficiary.vitale_serial if beneficiary else "-", vitale_serial)
    if beneficiary is None or not serial_ok or beneficiary.birth_date != birth_date:
        return False
    target = destination(beneficiary, channel)
    patient = lifecycle.record_for(beneficiary)
    if target is None or not lifecycle.can_receive_code(patient):
        return False
    if (
        patient is not None
        and provisional.recently_issued(patient) >= provisional.PER_RECORD_PER_DAY
    ):
        return False
    if provisional.recently_sent_to(target) >= provisional.PER_DESTINATION_PER_DAY:
        return False
    send_code(beneficiary, channel, issued_by=CodeIssuer.SELF_SERVICE, actor=None)
    return True


def send_campaign(*, limit: int | None = None) -> tuple[int, int]:
    """The insurer's mailing: a code to everyone on the register who has no record yet.

    By e-mail when the insurer has one, else by letter; people without either are skipped.
    Returns (e-mails, letters).
    """
    have_record = select(Patient.nir)
    people = db.session.scalars(
        select(Beneficiary).where(Beneficiary.nir.not_in(have_record)).order_by(Beneficiary.id)
    ).all()
    emails = letters = 0
    for beneficiary in people[:limit]:
        channel = "email" if beneficiary.email else ("letter" if beneficiary.address else None)
        if channel is None:
            continue
        send_code(beneficiary, channel, issued_by=CodeIssuer.CAMPAIGN, actor=None)
        db.session.commit()
        if channel == "email":
            emails += 1
        else:
            letters += 1
    return emails, letters


def mask_email(email: str | None) -> str:
    """`camille.martin@exemple.fr` → `c****@e****.fr`."""
    if not email or "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    return f"{local[:1]}****@{name[:1]}****{'.' + tld if tld else ''}"


def mask_mobile(mobile: str | None) -> str:
    """`+33612345678` → `06 ** ** ** 78`."""
    if not mobile:
        return ""
    digits = "".join(ch for ch in mobile if ch.isdigit())
    if mobile.startswith("+33") and len(digits) == 11:
        digits = "0" + digits[2:]
    return f"{digits[:2]} ** ** ** {digits[-2:]}"


@dataclass(frozen=True)
class Activation:
    """What the person chose along the activation steps."""

    identifier: str
    password_hash: str  # argon2, hashed when the person chose it
    email: str | None
    mobile: str | None
    second_factor: str
    oppose_emergency: bool
    oppose_regulation: bool


def identifier_problem(identifier: str, patient: Patient) -> str | None:
    wanted = normalise_identifier(identifier)
    if len(wanted) < 3:
        return "short"
    if not all(ch.isalnum() or ch in "._-@" for ch in wanted):
        return "characters"
    taken = find_account(wanted)
    if taken is not None and taken.id != patient.account_id:
        return "taken"
    return None


def activate(code_id: int, patient_id: int, choice: Activation) -> Account:
    """The last step: the code is used, the record opens, the account is ready to sign in."""
    patient = db.session.get(Patient, patient_id)
    if patient is None or patient.record_state == RecordState.SUSPENDED:
        raise CodeGone("record not open to activation")
    if not provisional.consume(code_id):
        raise CodeGone("code no longer valid")
    if identifier_problem(choice.identifier, patient) is not None:
        raise EnrolmentError("identifier")
    now = clock.now()
    account = patient.account
    # A code from a counter for an account in use: the person lost access and chooses a new
    # password; the record, its documents and its history stay as they are.
    recovering = recovery.online(patient)
    emergency_before = emergency_detail(patient)
    earlier = _known_contacts(patient)
    if account is None:
        account = Account(
            identifier=normalise_identifier(choice.identifier),
            role=Role.PATIENT,
            language="fr",
            created_at=now,
        )
        db.session.add(account)
    account.identifier = normalise_identifier(choice.identifier)
    account.password_hash = choice.password_hash
    account.password_changed_at = now
    account.state = AccountState.ACTIVE
    account.email = choice.email
    account.mobile = choice.mobile
    if recovering:
        recovery.reset_at_counter(account, earlier)
    if not account.uses_totp:
        account.second_factor = choice.second_factor
    patient.account = account
    patient.oppose_emergency_access = choice.oppose_emergency
    patient.oppose_regulation_access = choice.oppose_regulation
    db.session.flush()
    if patient.record_state != RecordState.ACTIVE:
        lifecycle.transition(patient, RecordState.ACTIVE, actor=account)
    if not recovering:
        record_access(patient, account, Action.ONLINE_ACCESS_OPENED, resource_type="record")
    if not recovering or emergency_detail(patient) != emergency_before:
        record_access(
            patient,
            account,
            Action.EMERGENCY_SETTINGS_CHANGED,
            resource_type="record",
            detail=emergency_detail(patient),
        )
    if recovering:
        return account  # every contact was told by `reset_at_counter`
    notify.enqueue(account, "welcome", identifier=account.identifier)
    # Whoever held the card could have asked for the code: the contacts known before this
    # activation hear of it at once, so that the real holder can react.
    for channel, address in earlier - {("email", choice.email), ("sms", choice.mobile)}:
        notify.enqueue_contact(address, channel, "online_access_notice", when=now)
    return account


def _known_contacts(patient: Patient) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    beneficiary = db.session.scalar(select(Beneficiary).where(Beneficiary.nir == patient.nir))
    for holder in (patient.account, beneficiary):
        if holder is None:
            continue
        if holder.email:
            found.add(("email", holder.email))
        if holder.mobile:
            found.add(("sms", holder.mobile))
    return found


def emergency_detail(patient: Patient) -> str:
    return (
        f"emergency:{'opposed' if patient.oppose_emergency_access else 'allowed'};"
        f"regulation:{'opposed' if patient.oppose_regulation_access else 'allowed'}"
    )


def oppose(code_id: int, patient_id: int) -> Patient:
    """The person refuses the record: the code is used, nothing is created, they are told."""
    patient = db.session.get(Patient, patient_id)
    if patient is None or patient.record_state != RecordState.PENDING:
        raise EnrolmentError("not pending")
    if not provisional.consume(code_id):
        raise CodeGone("code no longer valid")
    lifecycle.transition(patient, RecordState.OPPOSED, actor=None, actor_kind="patient")
    lifecycle.notify_person(patient, "opposition_confirmed", opposed_on=clock.now().date())
    return patient


def second_factor_for(email: str | None, mobile: str | None, wanted: str) -> str:
    if wanted == SecondFactor.SMS and mobile:
        return SecondFactor.SMS
    return SecondFactor.EMAIL if email else SecondFactor.SMS
