"""The vocabulary of the policy: what may be asked, in which mode, and the answer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from webapp.models import Patient
from webapp.models.profile import Section


class Permission(StrEnum):
    HISTORY_READ = "history:read"
    SETTINGS_MANAGE = "settings:manage"
    PRO_WORKSPACE = "workspace:pro"
    COUNTER_WORKSPACE = "workspace:counter"
    DASHBOARD_PATIENT = "dashboard:patient"
    DOCUMENT_LIST = "document:list"
    DOCUMENT_CREATE = "document:create"
    DOCUMENT_READ = "document:read"
    DOCUMENT_DOWNLOAD = "document:download"
    DOCUMENT_REPLACE = "document:replace"
    DOCUMENT_MASK = "document:mask"
    DOCUMENT_DELETE = "document:delete"
    DOCUMENT_RELEASE = "document:release"  # the author ends an announcement hold
    RECORD_READ = "record:read"  # a professional opens the record's page
    # A professional may act on the record's ways in (declare consent, deposit, emergency):
    # the patient was identified in this session, or the record is already readable.
    RECORD_REACH = "record:reach"
    PROFILE_READ = "profile:read"  # one section of the medical profile
    PROFILE_WRITE = "profile:write"  # add an entry to a section
    ENTRY_READ = "entry:read"  # one entry of the profile
    ENTRY_EDIT = "entry:edit"  # change or delete an entry: its author only
    ENTRY_MASK = "entry:mask"  # hide an entry from professionals: the holder only
    ACCESS_MANAGE = "access:manage"  # the holder grants, revokes, blocks
    CONSENT_DECLARE = "consent:declare"  # a professional declares the patient's consent
    EMERGENCY_OPEN = "emergency:open"  # bris de glace or SAMU regulation
    MESSAGE_START = "message:start"  # a professional writes first, to a patient they may reach
    CONVERSATION_READ = "conversation:read"  # its participants only
    CONVERSATION_REPLY = "conversation:reply"  # while it is open
    CONVERSATION_CLOSE = "conversation:close"  # the professional ends it
    CONVERSATION_ARCHIVE = "conversation:archive"  # the patient files it away, or back
    ATTACHMENT_SAVE = "attachment:save"  # the patient keeps an attachment among her documents
    APPOINTMENT_CREATE = "appointment:create"  # the holder, or a professional who may reach her
    APPOINTMENT_READ = "appointment:read"  # the holder and the professional concerned only
    APPOINTMENT_EDIT = "appointment:edit"  # move it, change its words: either party
    APPOINTMENT_CANCEL = "appointment:cancel"  # either party
    AGENDA_MANAGE = "agenda:manage"  # the holder's reminders and calendar feed
    # The reimbursement history the insurer feeds: the holder; a professional only where the
    # access matrix grants its resource (it does not, in the starter matrix).
    REIMBURSEMENT_LIST = "reimbursement:list"
    # Take the whole record away (the ZIP, the paper copy): the holder only, while it exists.
    RECORD_EXPORT = "record:export"


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

    @property
    def mode(self) -> str:
        """The mode an allowed decision was made in, for the access history."""
        if self.reason in (Mode.EMERGENCY.value, Mode.REGULATION.value):
            return self.reason
        return Mode.NORMAL.value

    @property
    def in_emergency(self) -> bool:
        return self.mode != Mode.NORMAL.value

    @property
    def by_holder(self) -> bool:
        """The record's holder acting on it: her own reads are not consultations."""
        return self.reason == "own_record"


def allow(reason: str) -> Decision:
    return Decision(True, reason)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


@dataclass(frozen=True)
class SectionOf:
    """A section of a patient's medical profile, as a resource of the policy."""

    patient: Patient
    section: Section


@dataclass(frozen=True)
class Relation:
    """What a professional is to a patient, from the authorisations in force and any open
    emergency window."""

    authorised: bool = False
    blocked: bool = False
    traitant_rights: bool = False
    emergency: Mode | None = None  # an emergency window open now, in this mode
    emergency_id: int | None = None


NONE = Relation()

OWN_ACCOUNT = frozenset({Permission.SETTINGS_MANAGE})
ON_PATIENT = frozenset(
    {
        Permission.HISTORY_READ,
        Permission.DOCUMENT_LIST,
        Permission.DOCUMENT_CREATE,
        Permission.RECORD_READ,
        Permission.RECORD_REACH,
        Permission.ACCESS_MANAGE,
        Permission.CONSENT_DECLARE,
        Permission.EMERGENCY_OPEN,
        Permission.MESSAGE_START,
        Permission.APPOINTMENT_CREATE,
        Permission.AGENDA_MANAGE,
        Permission.REIMBURSEMENT_LIST,
        Permission.RECORD_EXPORT,
    }
)
ON_APPOINTMENT = frozenset(
    {Permission.APPOINTMENT_READ, Permission.APPOINTMENT_EDIT, Permission.APPOINTMENT_CANCEL}
)
ON_CONVERSATION = frozenset(
    {
        Permission.CONVERSATION_READ,
        Permission.CONVERSATION_REPLY,
        Permission.CONVERSATION_CLOSE,
        Permission.CONVERSATION_ARCHIVE,
        Permission.ATTACHMENT_SAVE,
    }
)
ON_DOCUMENT = frozenset(
    {
        Permission.DOCUMENT_READ,
        Permission.DOCUMENT_DOWNLOAD,
        Permission.DOCUMENT_REPLACE,
        Permission.DOCUMENT_MASK,
        Permission.DOCUMENT_DELETE,
        Permission.DOCUMENT_RELEASE,
    }
)
ON_SECTION = frozenset({Permission.PROFILE_READ, Permission.PROFILE_WRITE})
ON_ENTRY = frozenset({Permission.ENTRY_READ, Permission.ENTRY_EDIT, Permission.ENTRY_MASK})
PATIENT_ONLY = frozenset(
    {
        Permission.ENTRY_MASK,
        Permission.HISTORY_READ,
        Permission.DOCUMENT_MASK,
        Permission.DOCUMENT_DELETE,
        Permission.ACCESS_MANAGE,
        Permission.CONVERSATION_ARCHIVE,
        Permission.ATTACHMENT_SAVE,
        Permission.AGENDA_MANAGE,
        Permission.RECORD_EXPORT,
    }
)
PROFESSIONAL_ONLY = frozenset(
    {
        Permission.RECORD_READ,
        Permission.RECORD_REACH,
        Permission.CONSENT_DECLARE,
        Permission.EMERGENCY_OPEN,
        Permission.DOCUMENT_RELEASE,
        Permission.MESSAGE_START,
        Permission.CONVERSATION_CLOSE,
    }
)
# What an emergency window lets a professional do: read, never change or take away.
EMERGENCY_READS = frozenset(
    {
        Permission.RECORD_READ,
        Permission.DOCUMENT_LIST,
        Permission.DOCUMENT_READ,
        Permission.PROFILE_READ,
    }
)

# The profile's sections in the order a doctor scans them.
PROFILE_ORDER = (
    Section.ALLERGIES,
    Section.TREATMENTS,
    Section.CONDITIONS,
    Section.WISHES,
    Section.PEOPLE,
    Section.MEASUREMENTS,
    Section.VACCINATIONS,
    Section.FAMILY,
)
