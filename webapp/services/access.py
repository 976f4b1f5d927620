"""The one access policy. Every route asks it; nothing else decides who sees what.

This first version knows the actors and resources that exist now (accounts, the access
history, the workspaces). Documents, authorisations and the matrix extend the same
`decide`, in the order of SPEC §4.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask import abort
from sqlalchemy import Select, select

from webapp.models import AccessEvent, Account, Patient, Role
from webapp.models.account import RecordState


class Permission(StrEnum):
    HISTORY_READ = "history:read"
    SETTINGS_MANAGE = "settings:manage"
    PRO_WORKSPACE = "workspace:pro"
    COUNTER_WORKSPACE = "workspace:counter"
    DASHBOARD_PATIENT = "dashboard:patient"


class Mode(StrEnum):
    NORMAL = "normal"
    EMERGENCY = "emergency"
    REGULATION = "regulation"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


ALLOW_OWN = Decision(True, "own_record")
DENY = Decision(False, "no_rule")

# Permissions that concern the signed-in person's own account, whatever the role.
_OWN_ACCOUNT = {Permission.SETTINGS_MANAGE}
_WORKSPACE_ROLE = {
    Permission.PRO_WORKSPACE: Role.PROFESSIONAL,
    Permission.COUNTER_WORKSPACE: Role.AGENT,
    Permission.DASHBOARD_PATIENT: Role.PATIENT,
}
_PATIENT_OWN = {Permission.HISTORY_READ}


def decide(
    actor: Account | None,
    permission: Permission,
    resource: Patient | None = None,
    mode: Mode = Mode.NORMAL,
) -> Decision:
    if actor is None:
        return Decision(False, "anonymous")
    if permission in _OWN_ACCOUNT:
        return Decision(True, "own_account")
    if permission in _WORKSPACE_ROLE:
        if actor.role == _WORKSPACE_ROLE[permission]:
            return Decision(True, "role")
        return Decision(False, "wrong_role")
    if permission in _PATIENT_OWN:
        if resource is None or actor.patient is None or actor.patient.id != resource.id:
            return Decision(False, "not_own_record")
        if resource.record_state in (RecordState.DELETED,):
            return Decision(False, "record_deleted")
        return ALLOW_OWN
    return DENY


def require(
    actor: Account | None, permission: Permission, resource: Patient | None = None
) -> Decision:
    """Decide, and answer 404 when refused: never a hint that something exists."""
    decision = decide(actor, permission, resource)
    if not decision:
        abort(404)
    return decision


def requires(permission: Permission) -> Callable[[Account | None], None]:
    """A blueprint guard: `bp.before_request(lambda: requires(...)(current_account()))`."""

    def guard(actor: Account | None) -> None:
        require(actor, permission)

    return guard


def own_patient(actor: Account) -> Patient:
    """The actor's own record, for pages that only a record holder has."""
    if actor.patient is None:
        abort(404)
    return actor.patient


def history_query(
    actor: Account,
    patient: Patient,
    *,
    actor_kind: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[AccessEvent]:
    """The access-history rows the actor may read, filtered in SQL, newest first."""
    require(actor, Permission.HISTORY_READ, patient)
    query = select(AccessEvent).where(AccessEvent.patient_id == patient.id)
    if actor_kind:
        query = query.where(AccessEvent.actor_kind == actor_kind)
    if action:
        query = query.where(AccessEvent.action == action)
    if since is not None:
        query = query.where(AccessEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AccessEvent.occurred_at < until)
    return query.order_by(AccessEvent.occurred_at.desc(), AccessEvent.id.desc())
