"""All models, imported here so that metadata and Alembic see every table."""

from webapp.models.account import Account, Agent, Patient, Professional, Role
from webapp.models.audit import AccessEvent
from webapp.models.auth import ActivationToken, OneTimeCode, RecoveryCode, UserSession
from webapp.models.base import Base
from webapp.models.outbox import OutboxMessage

__all__ = [
    "AccessEvent",
    "Account",
    "ActivationToken",
    "Agent",
    "Base",
    "OneTimeCode",
    "OutboxMessage",
    "Patient",
    "Professional",
    "RecoveryCode",
    "Role",
    "UserSession",
]
