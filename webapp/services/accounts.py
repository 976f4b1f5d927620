"""Creating accounts for professionals and agents, and activating them by a one-time link."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, ActivationToken, Agent, Professional
from webapp.models.account import AccountState, Role, SecondFactor
from webapp.models.base import affected
from webapp.services import codes, crypto, passwords, sessions
from webapp.services.auth import find_account, normalise_identifier

ACTIVATION_LIFETIME = timedelta(hours=72)


class AccountError(ValueError):
    """A request that cannot be carried out, with a reason for the operator."""


def _new_account(identifier: str, role: Role, email: str | None) -> Account:
    identifier = normalise_identifier(identifier)
    if not identifier or find_account(identifier) is not None:
        raise AccountError(f"identifier {identifier!r} is empty or already taken")
    account = Account(
        identifier=identifier,
        role=role,
        state=AccountState.PENDING_ACTIVATION,
        email=email,
        second_factor=SecondFactor.TOTP,
        language="fr",
        created_at=clock.now(),
    )
    db.session.add(account)
    db.session.flush()
    return account


def create_professional(identifier: str, professional: Professional) -> Account:
    if professional.account_id is not None:
        raise AccountError(f"RPPS {professional.rpps} already has an account")
    account = _new_account(identifier, Role.PROFESSIONAL, professional.email)
    professional.account_id = account.id
    db.session.flush()
    return account


def create_agent(
    identifier: str,
    *,
    first_names: str,
    last_name: str,
    organisation: str,
    counter: str,
    email: str | None,
) -> Account:
    account = _new_account(identifier, Role.AGENT, email)
    db.session.add(
        Agent(
            account_id=account.id,
            first_names=first_names,
            last_name=last_name,
            organisation=organisation,
            counter=counter,
        )
    )
    db.session.flush()
    return account


def issue_activation(account: Account) -> str:
    """A one-time token for the activation link, valid 72 hours; only its digest is kept."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(
        ActivationToken(
            account_id=account.id,
            token_digest=crypto.keyed_digest("activation", token),
            created_at=now,
            expires_at=now + ACTIVATION_LIFETIME,
        )
    )
    db.session.flush()
    return token


def activation_url(token: str) -> str:
    return f"{crypto.settings().public_url}/auth/activate/{token}"


def find_activation(token: str) -> ActivationToken | None:
    if len(token) > 100:
        return None
    found = db.session.scalar(
        select(ActivationToken).where(
            ActivationToken.token_digest == crypto.keyed_digest("activation", token)
        )
    )
    if found is None or found.used_at is not None or found.expires_at <= clock.now():
        return None
    return found


def usable_activation(activation_id: int) -> tuple[ActivationToken, Account] | None:
    """A link opened earlier in this browser, and its account, while it can still be used."""
    found = db.session.get(ActivationToken, activation_id)
    if found is None or found.used_at is not None or found.expires_at <= clock.now():
        return None
    account = db.session.get(Account, found.account_id)
    return None if account is None else (found, account)


def set_first_password(activation: ActivationToken, password: str) -> Account:
    """The first step of activation; the account opens only once an app is linked."""
    account = db.session.get(Account, activation.account_id)
    assert account is not None
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = clock.now()
    db.session.flush()
    return account


def complete_activation(activation: ActivationToken, account: Account) -> None:
    """Spend the link, once: a second tab or a replayed cookie finds it used and changes nothing."""
    used = db.session.execute(
        update(ActivationToken)
        .where(
            ActivationToken.id == activation.id,
            ActivationToken.used_at.is_(None),
            ActivationToken.expires_at > clock.now(),
        )
        .values(used_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if affected(used) != 1:
        raise AccountError("activation link already used or expired")
    account.state = AccountState.ACTIVE
    db.session.flush()


def live_activation(activation_id: int | None, account: Account) -> ActivationToken | None:
    if activation_id is None:
        return None
    found = db.session.get(ActivationToken, activation_id)
    if (
        found is None
        or found.account_id != account.id
        or found.used_at is not None
        or found.expires_at <= clock.now()
    ):
        return None
    return found


def reset_for_new_activation(account: Account) -> str:
    """A lost phone: the account closes, its app and sessions stop, a new link is issued."""
    account.state = AccountState.PENDING_ACTIVATION
    codes.remove_authenticator(account)
    account.second_factor = SecondFactor.TOTP
    sessions.revoke_all(account)
    return issue_activation(account)
