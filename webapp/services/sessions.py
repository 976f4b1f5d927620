"""Server-side, revocable sessions: the cookie holds an opaque token, the row holds the truth."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from user_agents import parse as parse_user_agent

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Role, UserSession
from webapp.models.account import AccountState
from webapp.models.base import affected
from webapp.services import crypto

COOKIE = "carnet_sid"


def cookie_name() -> str:
    """`__Host-` in production: a sibling subdomain cannot plant or read it."""
    return f"__Host-{COOKIE}" if crypto.settings().secure_cookies else COOKIE


TOUCH_EVERY = timedelta(seconds=60)


def _digest(token: str) -> str:
    return crypto.keyed_digest("session", token)


def idle_limit(account: Account) -> timedelta:
    current = crypto.settings()
    minutes = (
        current.idle_minutes_patient if account.role == Role.PATIENT else current.idle_minutes_staff
    )
    return timedelta(minutes=minutes)


def start(
    account: Account, *, user_agent: str, ip_address: str, replacing: UserSession | None = None
) -> tuple[UserSession, str]:
    """Open a new session (a new id every time); a step-up replaces the old one."""
    now = clock.now()
    token = secrets.token_urlsafe(32)
    created = replacing.created_at if replacing is not None else now
    second_factor_at = now
    if replacing is not None:
        revoke(replacing)
    session = UserSession(
        token_digest=_digest(token),
        account_id=account.id,
        created_at=created,
        last_seen_at=now,
        second_factor_at=second_factor_at,
        reauthenticated_at=now,
        user_agent=user_agent[:300],
        ip_address=ip_address[:64],
    )
    db.session.add(session)
    db.session.flush()
    return session, token


def load(token: str | None, *, touch: bool = True) -> UserSession | None:
    """The live session for a cookie, or None when unknown, revoked, idle or too old.
    `touch`: the request is the person's own activity, which keeps the session alive (a
    page's background poll is not)."""
    if not token or len(token) > 100:
        return None
    # The account and its patient, professional or agent row come with it: one query, not
    # one more on every page that asks who is signed in.
    account = joinedload(UserSession.account)
    session = db.session.scalar(
        select(UserSession)
        .where(UserSession.token_digest == _digest(token))
        .options(
            account.joinedload(Account.patient),
            account.joinedload(Account.professional),
            account.joinedload(Account.agent),
        )
    )
    if session is None or session.revoked_at is not None:
        return None
    if session.account.state != AccountState.ACTIVE:
        revoke(session)
        db.session.commit()
        return None
    now = clock.now()
    absolute = timedelta(hours=crypto.settings().absolute_hours)
    if now - session.created_at > absolute or now - session.last_seen_at > idle_limit(
        session.account
    ):
        revoke(session)
        db.session.commit()
        return None
    if touch and now - session.last_seen_at > TOUCH_EVERY:
        session.last_seen_at = now
        db.session.commit()
    return session


def revoke(session: UserSession) -> None:
    if session.revoked_at is None:
        session.revoked_at = clock.now()


def revoke_all(account: Account, *, keep: UserSession | None = None) -> int:
    query = update(UserSession).where(
        UserSession.account_id == account.id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    result = db.session.execute(
        query.values(revoked_at=clock.now()).execution_options(synchronize_session="fetch")
    )
    return affected(result)


def active_for(account: Account) -> list[UserSession]:
    now = clock.now()
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.account_id == account.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())
        .limit(50)
    ).all()
    absolute = timedelta(hours=crypto.settings().absolute_hours)
    limit = idle_limit(account)
    return [
        row for row in rows if now - row.created_at <= absolute and now - row.last_seen_at <= limit
    ]


def is_recent(session: UserSession) -> bool:
    window = timedelta(minutes=crypto.settings().reauth_minutes)
    return clock.now() - session.reauthenticated_at <= window


def describe_device(user_agent: str) -> str:
    if not user_agent:
        return _("Appareil inconnu")
    agent = parse_user_agent(user_agent)
    browser = agent.browser.family if agent.browser.family != "Other" else _("navigateur inconnu")
    system = agent.os.family if agent.os.family != "Other" else _("système inconnu")
    kind = (
        _("téléphone")
        if agent.is_mobile
        else (_("tablette") if agent.is_tablet else _("ordinateur"))
    )
    return _("%(browser)s sur %(system)s (%(kind)s)", browser=browser, system=system, kind=kind)


def describe_place(ip_address: str) -> str:
    """Where a session comes from, without a location database: the network, partly hidden."""
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return _("Adresse inconnue")
    if address.is_loopback:
        return _("Réseau local")
    if isinstance(address, ipaddress.IPv4Address):
        head = ".".join(str(address).split(".")[:3])
        return _("Réseau %(network)s.x", network=head)
    return _("Réseau %(network)s::", network=":".join(address.exploded.split(":")[:4]))
