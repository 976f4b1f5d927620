"""All models, imported here so that metadata and Alembic see every table."""

from webapp.models.account import Account, Agent, Patient, Professional, Role
from webapp.models.agenda import AgendaFeed, AgendaNotice, Appointment, ReminderState
from webapp.models.audit import AccessEvent
from webapp.models.auth import ActivationToken, OneTimeCode, RecoveryCode, UserSession
from webapp.models.authorisation import Authorisation, AuthorisationKind
from webapp.models.base import Base
from webapp.models.digest import Digest, DigestEntry
from webapp.models.document import Category, Document, DocumentState
from webapp.models.emergency import EmergencyAccess, EmergencyMode
from webapp.models.enrolment import (
    AssistedEnrolment,
    Beneficiary,
    CodeIssuer,
    CounterAction,
    ProvisionalCode,
)
from webapp.models.insurer import InsurerToken, Reimbursement
from webapp.models.message import Conversation, Message, MessageAttachment
from webapp.models.outbox import OutboxMessage
from webapp.models.profile import EntryKind, MeasureKind, Measurement, ProfileEntry, Section

__all__ = [
    "AgendaFeed",
    "AgendaNotice",
    "Appointment",
    "ReminderState",
    "AccessEvent",
    "AssistedEnrolment",
    "Beneficiary",
    "CodeIssuer",
    "CounterAction",
    "Conversation",
    "InsurerToken",
    "Message",
    "Reimbursement",
    "MessageAttachment",
    "ProvisionalCode",
    "Account",
    "ActivationToken",
    "Authorisation",
    "AuthorisationKind",
    "Agent",
    "Base",
    "Category",
    "Digest",
    "DigestEntry",
    "Document",
    "DocumentState",
    "EmergencyAccess",
    "EmergencyMode",
    "EntryKind",
    "MeasureKind",
    "Measurement",
    "ProfileEntry",
    "Section",
    "OneTimeCode",
    "OutboxMessage",
    "Patient",
    "Professional",
    "RecoveryCode",
    "Role",
    "UserSession",
]
