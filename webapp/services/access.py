"""The one access policy. Every route asks it; nothing else decides who sees what.

`decide(actor, permission, resource, mode)` follows the order of SPEC §4.1:
1. the record's state, 2. the patient's blocks, 3. the mode, 4. an authorisation in force or
the médecin traitant's rights, 5. the access matrix (data, services.catalogue), 6. the
document's flags, 7. authorship (an author always sees what they deposited, unless blocked).
Lists are built here too, filtered in SQL by the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask import abort
from sqlalchemy import Select, false, or_, select, true
from sqlalchemy.orm import selectinload

from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    Authorisation,
    AuthorisationKind,
    Document,
    DocumentState,
    Patient,
    Professional,
    Role,
)
from webapp.models.account import RecordState
from webapp.models.emergency import EmergencyAccess
from webapp.models.profile import Measurement, ProfileEntry, Section
from webapp.services import catalogue, clock, notify
from webapp.services.audit import Action, record_access


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
    PROFILE_READ = "profile:read"  # one section of the medical profile
    PROFILE_WRITE = "profile:write"  # add an entry to a section
    ENTRY_READ = "entry:read"  # one entry of the profile
    ENTRY_EDIT = "entry:edit"  # change or delete an entry: its author only
    ENTRY_MASK = "entry:mask"  # hide an entry from professionals: the holder only
    ACCESS_MANAGE = "access:manage"  # the holder grants, revokes, blocks
    CONSENT_DECLARE = "consent:declare"  # a professional declares the patient's consent
    EMERGENCY_OPEN = "emergency:open"  # bris de glace or SAMU regulation


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


def allow(reason: str) -> Decision:
    return Decision(True, reason)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


@dataclass(frozen=True)
class Relation:
    """What a professional is to a patient, from the authorisations in force and any open
    emergency window."""

    authorised: bool = False
    blocked: bool = False
    traitant_rights: bool = False
    emergency: Mode | None = None  # an emergency window open now, in this mode
    emergency_id: int | None = None


@dataclass(frozen=True)
class SectionOf:
    """A section of a patient's medical profile, as a resource of the policy."""

    patient: Patient
    section: Section


NONE = Relation()
_OWN_ACCOUNT = {Permission.SETTINGS_MANAGE}
_WORKSPACE_ROLE = {
    Permission.PRO_WORKSPACE: Role.PROFESSIONAL,
    Permission.COUNTER_WORKSPACE: Role.AGENT,
    Permission.DASHBOARD_PATIENT: Role.PATIENT,
}
_ON_PATIENT = {
    Permission.HISTORY_READ,
    Permission.DOCUMENT_LIST,
    Permission.DOCUMENT_CREATE,
    Permission.RECORD_READ,
    Permission.ACCESS_MANAGE,
    Permission.CONSENT_DECLARE,
    Permission.EMERGENCY_OPEN,
}
_ON_DOCUMENT = {
    Permission.DOCUMENT_READ,
    Permission.DOCUMENT_DOWNLOAD,
    Permission.DOCUMENT_REPLACE,
    Permission.DOCUMENT_MASK,
    Permission.DOCUMENT_DELETE,
    Permission.DOCUMENT_RELEASE,
}
_PATIENT_ONLY = {
    Permission.ENTRY_MASK,
    Permission.HISTORY_READ,
    Permission.DOCUMENT_MASK,
    Permission.DOCUMENT_DELETE,
    Permission.ACCESS_MANAGE,
}
_PROFESSIONAL_ONLY = {
    Permission.RECORD_READ,
    Permission.CONSENT_DECLARE,
    Permission.EMERGENCY_OPEN,
    Permission.DOCUMENT_RELEASE,
}
# What an emergency window lets a professional do: read, never change or take away.
_EMERGENCY_READS = {
    Permission.RECORD_READ,
    Permission.DOCUMENT_LIST,
    Permission.DOCUMENT_READ,
    Permission.PROFILE_READ,
}


def relation(professional: Professional, patient: Patient) -> Relation:
    """Two queries: the authorisations in force between this professional and this patient,
    and the emergency window they may have open on it."""
    now = clock.now()
    rows = db.session.scalars(
        select(Authorisation).where(
            Authorisation.patient_id == patient.id,
            Authorisation.professional_id == professional.id,
            Authorisation.revoked_at.is_(None),
            or_(Authorisation.until.is_(None), Authorisation.until > now),
        )
    ).all()
    window = db.session.execute(
        select(EmergencyAccess.id, EmergencyAccess.mode)
        .where(
            EmergencyAccess.patient_id == patient.id,
            EmergencyAccess.professional_id == professional.id,
            EmergencyAccess.ended_at.is_(None),
            EmergencyAccess.expires_at > now,
        )
        .order_by(EmergencyAccess.opened_at.desc())
        .limit(1)
    ).first()
    blocked = any(row.kind == AuthorisationKind.BLOCKED for row in rows)
    authorised = [row for row in rows if row.kind == AuthorisationKind.AUTHORISED]
    return Relation(
        authorised=bool(authorised),
        blocked=blocked,
        traitant_rights=any(row.traitant_rights for row in authorised),
        emergency=Mode(window.mode) if window else None,
        emergency_id=window.id if window else None,
    )


Resource = Patient | Document | SectionOf | ProfileEntry | Measurement | None
_ON_SECTION = {Permission.PROFILE_READ, Permission.PROFILE_WRITE}
_ON_ENTRY = {Permission.ENTRY_READ, Permission.ENTRY_EDIT, Permission.ENTRY_MASK}


def decide(
    actor: Account | None,
    permission: Permission,
    resource: Resource = None,
    mode: Mode = Mode.NORMAL,
) -> Decision:
    """The one decision. `mode` is only ever asked with EMERGENCY_OPEN: once a window is
    open, the relation carries it and the reads below follow it."""
    if actor is None:
        return deny("anonymous")
    if permission in _OWN_ACCOUNT:
        return allow("own_account")
    if permission in _WORKSPACE_ROLE:
        return allow("role") if actor.role == _WORKSPACE_ROLE[permission] else deny("wrong_role")
    if isinstance(resource, Document):
        if permission not in _ON_DOCUMENT:
            return deny("no_rule")
        patient = db.session.get(Patient, resource.patient_id)
        assert patient is not None
        return _decide_on(actor, permission, patient, resource, mode)
    if isinstance(resource, SectionOf):
        if permission not in _ON_SECTION:
            return deny("no_rule")
        return _decide_on(actor, permission, resource.patient, resource, mode)
    if isinstance(resource, ProfileEntry | Measurement):
        if permission not in _ON_ENTRY:
            return deny("no_rule")
        return _decide_on_entry(actor, permission, resource, mode)
    if isinstance(resource, Patient) and permission in _ON_PATIENT:
        return _decide_on(actor, permission, resource, None, mode)
    return deny("no_rule")


SectionDecider = Callable[[Permission, Section], Decision]


def _decide_on_entry(
    actor: Account, permission: Permission, entry: ProfileEntry | Measurement, mode: Mode
) -> Decision:
    patient = db.session.get(Patient, entry.patient_id)
    assert patient is not None

    def on_section(wanted: Permission, section: Section) -> Decision:
        return _decide_on(actor, wanted, patient, SectionOf(patient, section), mode)

    return _entry_decision(actor, permission, entry, on_section)


def _entry_decision(
    actor: Account,
    permission: Permission,
    entry: ProfileEntry | Measurement,
    on_section: SectionDecider,
) -> Decision:
    """An entry is read as its section is, minus the masked ones; changed by its author."""
    if entry.deleted_at is not None:
        return deny("entry_deleted")
    section = Section(entry.section) if isinstance(entry, ProfileEntry) else Section.MEASUREMENTS
    wanted = (
        Permission.PROFILE_WRITE
        if permission == Permission.ENTRY_EDIT
        else (Permission.PROFILE_READ)
    )
    decision = on_section(wanted, section)
    if permission == Permission.ENTRY_MASK:
        if actor.role != Role.PATIENT:
            return deny("patient_only")
        return decision
    is_author = entry.author_account_id is not None and entry.author_account_id == actor.id
    if permission == Permission.ENTRY_EDIT:
        if not decision:
            return decision
        return allow("author") if is_author else deny("not_author")
    if not decision:
        return decision
    if (
        entry.masked_from_pros
        and actor.role == Role.PROFESSIONAL
        and decision.reason != "medecin_traitant_rights"
        and not is_author
    ):
        return deny("masked")
    return decision


def entry_rights(
    actor: Account, patient: Patient
) -> Callable[[Permission, ProfileEntry | Measurement], bool]:
    """Decide on many entries of one record with one relation lookup (a page of entries)."""
    link = (
        relation(actor.professional, patient)
        if actor.role == Role.PROFESSIONAL and actor.professional is not None
        else None
    )
    cache: dict[tuple[Permission, Section], Decision] = {}

    def on_section(wanted: Permission, section: Section) -> Decision:
        key = (wanted, section)
        if key not in cache:
            if link is not None and actor.professional is not None:
                cache[key] = decide_for_professional(
                    actor.professional, actor.id, wanted, patient, SectionOf(patient, section), link
                )
            else:
                cache[key] = decide(actor, wanted, SectionOf(patient, section))
        return cache[key]

    def check(permission: Permission, row: ProfileEntry | Measurement) -> bool:
        if row.patient_id != patient.id:
            return False
        return _entry_decision(actor, permission, row, on_section).allowed

    return check


def _decide_on(
    actor: Account,
    permission: Permission,
    patient: Patient,
    item: Document | SectionOf | None,
    mode: Mode,
) -> Decision:
    if actor.role == Role.PATIENT:
        return _for_holder(actor, permission, patient, item)
    if actor.role == Role.PROFESSIONAL and actor.professional is not None:
        pro = actor.professional
        return decide_for_professional(
            pro, actor.id, permission, patient, item, relation(pro, patient), mode
        )
    if actor.role == Role.AGENT:
        return deny("agent_no_medical_content")
    return deny("no_rule")


def _for_holder(
    actor: Account, permission: Permission, patient: Patient, item: Document | SectionOf | None
) -> Decision:
    if actor.patient is None or actor.patient.id != patient.id:
        return deny("not_own_record")
    if patient.record_state == RecordState.DELETED:
        return deny("record_deleted")
    if permission in _PROFESSIONAL_ONLY:
        return deny("professional_only")
    if not isinstance(item, Document):
        return allow("own_record")
    doc = item
    if doc.state == DocumentState.DELETED:
        return deny("document_deleted")
    if is_held(doc):  # not even its title until the announcement (SPEC §4.4)
        return deny("held_for_announcement")
    if permission == Permission.DOCUMENT_REPLACE and doc.author_account_id != actor.id:
        return deny("not_author")
    if permission in (Permission.DOCUMENT_REPLACE, Permission.DOCUMENT_MASK) and (
        doc.state != DocumentState.CURRENT
    ):
        return deny("not_current_version")
    return allow("own_record")


def is_held(doc: Document) -> bool:
    held = doc.hidden_from_patient_until
    return held is not None and held > clock.now()


def decide_for_professional(
    pro: Professional,
    account_id: int | None,
    permission: Permission,
    patient: Patient,
    item: Document | SectionOf | None,
    link: Relation,
    mode: Mode = Mode.NORMAL,
) -> Decision:
    """Rules 1 to 7 for a professional; also used to explain who can see a document."""
    if permission in _PATIENT_ONLY:
        return deny("patient_only")
    if patient.record_state != RecordState.ACTIVE:  # 1
        return deny("record_not_active")
    if link.blocked:  # 2
        return deny("blocked_by_patient")
    if permission == Permission.EMERGENCY_OPEN:  # 3
        return _may_open_emergency(pro, patient, mode)
    if mode != Mode.NORMAL:
        return deny("mode_not_open")
    if permission == Permission.DOCUMENT_CREATE:
        # Any professional may deposit, even without the patient's consent (R1111-47);
        # depositing reads nothing.
        return allow("deposit")
    if permission == Permission.CONSENT_DECLARE:
        if catalogue.current().needs_express_grant(pro.specialty):
            return deny("express_grant_only")
        return allow("declared_consent")
    doc = item if isinstance(item, Document) else None
    if doc is not None and doc.state == DocumentState.DELETED:
        return deny("document_deleted")
    is_author = doc is not None and account_id is not None and doc.author_account_id == account_id
    if permission in (Permission.DOCUMENT_REPLACE, Permission.DOCUMENT_RELEASE):
        return _authors_change(permission, doc, is_author)
    decision = _normal_path(pro, permission, item, link)
    if not decision and decision.reason == "no_authorisation" and link.emergency is not None:
        decision = _emergency_path(pro, permission, patient, item, link.emergency)
    if not decision and is_author:  # 7
        return allow("author")
    return decision


def _authors_change(permission: Permission, doc: Document | None, is_author: bool) -> Decision:
    if doc is None or not is_author:
        return deny("not_author")
    if doc.state != DocumentState.CURRENT:
        return deny("not_current_version")
    if permission == Permission.DOCUMENT_RELEASE and not is_held(doc):
        return deny("not_held")
    return allow("author")


def _may_open_emergency(pro: Professional, patient: Patient, mode: Mode) -> Decision:
    if catalogue.current().needs_express_grant(pro.specialty):
        return deny("express_grant_only")
    if mode == Mode.EMERGENCY:
        return deny("opposed_emergency") if patient.oppose_emergency_access else allow("emergency")
    if mode == Mode.REGULATION:
        if not pro.samu_regulator:
            return deny("not_regulator")
        return (
            deny("opposed_regulation") if patient.oppose_regulation_access else allow("regulation")
        )
    return deny("no_rule")


def _grant_for(pro: Professional, item: Document | SectionOf) -> catalogue.Grant:
    resource = item.type_code if isinstance(item, Document) else item.section.resource
    return catalogue.current().grant(pro.profession, pro.specialty, resource)


def _normal_path(
    pro: Professional, permission: Permission, item: Document | SectionOf | None, link: Relation
) -> Decision:
    if not link.authorised:  # 4
        return deny("no_authorisation")
    if item is None:
        return allow("medecin_traitant_rights" if link.traitant_rights else "authorised")
    if link.traitant_rights:  # the médecin traitant sees everything, masked included
        return allow("medecin_traitant_rights")
    grant = _grant_for(pro, item)  # 5
    wanted = grant.download if permission == Permission.DOCUMENT_DOWNLOAD else grant.read
    if not wanted:
        return deny("matrix")
    if isinstance(item, Document) and item.masked_from_pros:  # 6
        return deny("masked")
    return allow("authorised")


def _emergency_path(
    pro: Professional,
    permission: Permission,
    patient: Patient,
    item: Document | SectionOf | None,
    mode: Mode,
) -> Decision:
    """An open emergency window: read-only, the matrix still applies, masked never shown.

    The patient's opposition is read again at every request: lifting or setting it takes
    effect at once, even inside a window.
    """
    opposed = (
        patient.oppose_emergency_access
        if mode == Mode.EMERGENCY
        else patient.oppose_regulation_access
    )
    if opposed:
        return deny(f"opposed_{mode.value}")
    if permission not in _EMERGENCY_READS:
        return deny("emergency_read_only")
    if item is None:
        return allow(mode.value)
    if not _grant_for(pro, item).read:
        return deny("matrix")
    if isinstance(item, Document) and item.masked_from_pros:
        return deny("masked")
    return allow(mode.value)


def require(
    actor: Account | None, permission: Permission, resource: Patient | Document | None = None
) -> Decision:
    """Decide, and answer 404 when refused: never a hint that something exists."""
    decision = decide(actor, permission, resource)
    if not decision:
        abort(404)
    return decision


def requires(permission: Permission) -> Callable[[Account | None], None]:
    def guard(actor: Account | None) -> None:
        require(actor, permission)

    return guard


def own_patient(actor: Account) -> Patient:
    """The actor's own record, for pages that only a record holder has."""
    if actor.patient is None:
        abort(404)
    return actor.patient


_SEEN = {
    Permission.DOCUMENT_READ: Action.DOCUMENT_VIEWED,
    Permission.DOCUMENT_DOWNLOAD: Action.DOCUMENT_DOWNLOADED,
}


def get_document_for(actor: Account, document_id: int, permission: Permission) -> Document:
    """Load, decide, record, or answer 404: the one way a route reaches a document.

    Reads and downloads are recorded here; changes are recorded by the service that makes
    them. Every refusal is recorded, with its reason, in the holder's history.
    """
    doc = db.session.get(Document, document_id)
    if doc is None:
        abort(404)
    decision = decide(actor, permission, doc)
    patient = db.session.get(Patient, doc.patient_id)
    assert patient is not None
    if not decision:
        record_access(
            patient,
            actor,
            Action.DOCUMENT_REFUSED,
            allowed=False,
            reason=decision.reason,
            resource_type="document",
            resource_id=doc.id,
            detail=permission.value,
        )
        db.session.commit()
        abort(404)
    if permission in _SEEN:
        note_consultation(
            patient,
            actor,
            _SEEN[permission],
            decision,
            resource_type="document",
            resource_id=doc.id,
        )
    return doc


# What counts as opening a record, for the "first access" notice.
_OPENINGS = (
    Action.DOCUMENT_VIEWED,
    Action.DOCUMENT_DOWNLOADED,
    Action.RECORD_CONSULTED,
    Action.PROFILE_VIEWED,
    Action.EMERGENCY_SUMMARY_VIEWED,
)


def note_consultation(
    patient: Patient,
    actor: Account,
    action: Action,
    decision: Decision,
    *,
    resource_type: str = "",
    resource_id: str | int = "",
    detail: str = "",
) -> None:
    """Record a consultation; a professional's first one is told to the patient at once
    (SPEC §5). An emergency access has its own notice, sent when the window opens."""
    mode = mode_of(decision)
    first = actor.role == Role.PROFESSIONAL and not has_opened_before(patient, actor)
    record_access(
        patient,
        actor,
        action,
        reason=decision.reason,
        mode=mode,
        resource_type=resource_type,
        resource_id=resource_id,
        detail=detail,
    )
    if first and mode == Mode.NORMAL.value and patient.account is not None:
        notify.enqueue(patient.account, "first_access", who=actor.display_name, when=clock.now())


def has_opened_before(patient: Patient, actor: Account) -> bool:
    found = db.session.scalar(
        select(AccessEvent.id)
        .where(
            AccessEvent.patient_id == patient.id,
            AccessEvent.actor_account_id == actor.id,
            AccessEvent.allowed == true(),
            AccessEvent.action.in_(list(_OPENINGS)),
        )
        .limit(1)
    )
    return found is not None


def documents_query(actor: Account, patient: Patient) -> Select[Document]:
    """The current documents the actor may see in this record, filtered in SQL.

    Counts and searches start from this query, so that a masked document is absent from
    them too, not removed after loading.
    """
    require(actor, Permission.DOCUMENT_LIST, patient)
    query = select(Document).where(
        Document.patient_id == patient.id, Document.state == DocumentState.CURRENT
    )
    if actor.role == Role.PATIENT:
        now = clock.now()
        return query.where(
            or_(
                Document.hidden_from_patient_until.is_(None),
                Document.hidden_from_patient_until <= now,
            )
        )
    pro = actor.professional
    assert pro is not None
    link = relation(pro, patient)
    if link.traitant_rights:
        return query
    if not link.authorised and not _emergency_open(patient, link):
        return query.where(Document.author_account_id == actor.id)
    readable = catalogue.current().readable_types(pro.profession, pro.specialty)
    visible = (
        Document.type_code.in_(sorted(readable)) & (Document.masked_from_pros == false())
        if readable
        else false()
    )
    return query.where(or_(visible, Document.author_account_id == actor.id))


def _emergency_open(patient: Patient, link: Relation) -> bool:
    if link.emergency is None:
        return False
    if link.emergency == Mode.EMERGENCY:
        return not patient.oppose_emergency_access
    return not patient.oppose_regulation_access


def mode_of(decision: Decision) -> str:
    """The mode an allowed decision was made in, for the access history."""
    if decision.reason in (Mode.EMERGENCY.value, Mode.REGULATION.value):
        return decision.reason
    return Mode.NORMAL.value


def readable_sections(actor: Account, patient: Patient) -> list[Section]:
    """The profile sections this actor may read, in the order a doctor scans them."""
    if actor.role != Role.PROFESSIONAL or actor.professional is None:
        return [
            section
            for section in PROFILE_ORDER
            if decide(actor, Permission.PROFILE_READ, SectionOf(patient, section))
        ]
    pro = actor.professional
    link = relation(pro, patient)  # once for the eight sections
    return [
        section
        for section in PROFILE_ORDER
        if decide_for_professional(
            pro, actor.id, Permission.PROFILE_READ, patient, SectionOf(patient, section), link
        )
    ]


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


@dataclass(frozen=True)
class Viewer:
    """One line of the panel "Qui peut voir ce document ?", decided by the rules above."""

    name: str
    profession: str
    role: str  # holder, author, traitant, traitant_rights, authorised
    sees: bool
    reason: str


def who_can_see(doc: Document) -> list[Viewer]:
    """Everyone with a say on this document, and whether the policy lets them read it."""
    patient = db.session.get(Patient, doc.patient_id)
    assert patient is not None
    holder_sees = not is_held(doc)
    viewers = [Viewer("", "", "holder", holder_sees, "own_record" if holder_sees else "held")]
    now = clock.now()
    rows = db.session.scalars(
        select(Authorisation)
        .where(
            Authorisation.patient_id == patient.id,
            Authorisation.revoked_at.is_(None),
            or_(Authorisation.until.is_(None), Authorisation.until > now),
        )
        .order_by(Authorisation.id)
        .options(selectinload(Authorisation.professional))
    ).all()
    links: dict[int, Relation] = {}
    pros: dict[int, Professional] = {}
    for row in rows:
        pros[row.professional_id] = row.professional
        current = links.get(row.professional_id, NONE)
        links[row.professional_id] = Relation(
            authorised=current.authorised or row.kind == AuthorisationKind.AUTHORISED,
            blocked=current.blocked or row.kind == AuthorisationKind.BLOCKED,
            traitant_rights=current.traitant_rights
            or (row.kind == AuthorisationKind.AUTHORISED and row.traitant_rights),
        )
    traitants = {row.professional_id for row in rows if row.is_medecin_traitant}
    author = (
        db.session.scalar(
            select(Professional).where(Professional.account_id == doc.author_account_id)
        )
        if doc.author_kind == "professional" and doc.author_account_id is not None
        else None
    )
    if author is not None and author.id not in pros:
        pros[author.id] = author
        links[author.id] = NONE
    for pro_id, pro in pros.items():
        link = links[pro_id]
        decision = decide_for_professional(
            pro, pro.account_id, Permission.DOCUMENT_READ, patient, doc, link
        )
        if author is not None and pro_id == author.id:
            role = "author"
        elif pro_id in traitants:
            role = "traitant"
        elif link.traitant_rights:
            role = "traitant_rights"
        else:
            role = "authorised" if not link.blocked else "blocked"
        viewers.append(
            Viewer(pro.display_name, pro.profession, role, decision.allowed, decision.reason)
        )
    return viewers
