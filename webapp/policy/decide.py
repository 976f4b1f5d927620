"""The one decision: `decide(actor, permission, resource)` (SPEC §4.1).

The rules apply in this order: 1. the record's state, 2. the patient's blocks, 3. the mode,
4. an authorisation in force or the médecin traitant's rights, 5. the access matrix (data,
services.catalogue), 6. the flags of the item (masked, held), 7. authorship (an author sees
what they deposited, unless blocked). What the request knows and the database does not (the
patient was identified in this session) comes in as an input, never read here.
"""

from __future__ import annotations

from collections.abc import Callable

from webapp.models import (
    Account,
    Appointment,
    Conversation,
    Document,
    DocumentState,
    Patient,
    Professional,
    Role,
)
from webapp.models.account import RecordState
from webapp.models.profile import Measurement, ProfileEntry, Section
from webapp.policy.permissions import (
    EMERGENCY_READS,
    ON_APPOINTMENT,
    ON_CONVERSATION,
    ON_DOCUMENT,
    ON_ENTRY,
    ON_PATIENT,
    ON_SECTION,
    OWN_ACCOUNT,
    PATIENT_ONLY,
    PROFESSIONAL_ONLY,
    Decision,
    Mode,
    Permission,
    Relation,
    SectionOf,
    allow,
    deny,
)
from webapp.policy.relations import is_blocked as relations_blocked
from webapp.policy.relations import is_held, patient_of, relation
from webapp.services import catalogue

Resource = (
    Patient | Document | SectionOf | ProfileEntry | Measurement | Conversation | Appointment | None
)
Item = Document | SectionOf | None

_WORKSPACE_ROLE = {
    Permission.PRO_WORKSPACE: Role.PROFESSIONAL,
    Permission.COUNTER_WORKSPACE: Role.AGENT,
    Permission.DASHBOARD_PATIENT: Role.PATIENT,
}


def decide(
    actor: Account | None,
    permission: Permission,
    resource: Resource = None,
    mode: Mode = Mode.NORMAL,
    *,
    identified: bool = False,
) -> Decision:
    """`mode` is only ever asked with EMERGENCY_OPEN: once a window is open, the relation
    carries it and the reads follow it. `identified`: the professional proved in this session
    that the patient is in front of them (NIR and name or birth date)."""
    if actor is None:
        return deny("anonymous")
    if permission in OWN_ACCOUNT:
        return allow("own_account")
    if permission in _WORKSPACE_ROLE:
        return allow("role") if actor.role == _WORKSPACE_ROLE[permission] else deny("wrong_role")
    if isinstance(resource, Document):
        if permission not in ON_DOCUMENT:
            return deny("no_rule")
        return _decide_on(actor, permission, patient_of(resource.patient_id), resource, mode)
    if isinstance(resource, SectionOf):
        if permission not in ON_SECTION:
            return deny("no_rule")
        return _decide_on(actor, permission, resource.patient, resource, mode)
    if isinstance(resource, ProfileEntry | Measurement):
        if permission not in ON_ENTRY:
            return deny("no_rule")
        return entry_rights(actor, patient_of(resource.patient_id))(permission, resource)
    if isinstance(resource, Conversation):
        if permission not in ON_CONVERSATION:
            return deny("no_rule")
        return _decide_on_conversation(actor, permission, resource)
    if isinstance(resource, Appointment):
        if permission not in ON_APPOINTMENT:
            return deny("no_rule")
        return _decide_on_appointment(actor, permission, resource)
    if isinstance(resource, Patient) and permission in ON_PATIENT:
        return _decide_on(actor, permission, resource, None, mode, identified)
    return deny("no_rule")


def _decide_on(
    actor: Account,
    permission: Permission,
    patient: Patient,
    item: Item,
    mode: Mode,
    identified: bool = False,
) -> Decision:
    if actor.role == Role.PATIENT:
        return _for_holder(actor, permission, patient, item)
    if actor.role == Role.PROFESSIONAL and actor.professional is not None:
        pro = actor.professional
        link = relation(pro, patient)
        return decide_for_professional(
            pro, actor.id, permission, patient, item, link, mode, identified=identified
        )
    if actor.role == Role.AGENT:
        return deny("agent_no_medical_content")
    return deny("no_rule")


def _for_holder(actor: Account, permission: Permission, patient: Patient, item: Item) -> Decision:
    if patient.account_id is None or patient.account_id != actor.id:  # no query: the row says
        return deny("not_own_record")
    if patient.record_state == RecordState.DELETED:
        return deny("record_deleted")
    if permission in PROFESSIONAL_ONLY:
        return deny("professional_only")
    if permission == Permission.APPOINTMENT_CREATE and patient.record_state != RecordState.ACTIVE:
        return deny("record_not_active")
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


def decide_for_professional(
    pro: Professional,
    account_id: int | None,
    permission: Permission,
    patient: Patient,
    item: Item,
    link: Relation,
    mode: Mode = Mode.NORMAL,
    *,
    identified: bool = False,
) -> Decision:
    """Rules 1 to 7 for a professional, on facts already read (`link`): a page deciding on
    many items reads them once."""
    if permission in PATIENT_ONLY:
        return deny("patient_only")
    if patient.record_state != RecordState.ACTIVE:  # 1
        return deny("record_not_active")
    if permission == Permission.RECORD_REACH:
        return _reach(pro, account_id, patient, link, identified)
    if link.blocked:  # 2
        return deny("blocked_by_patient")
    if permission == Permission.EMERGENCY_OPEN:  # 3
        return _may_open_emergency(pro, patient, mode)
    if mode != Mode.NORMAL:
        return deny("mode_not_open")
    if permission in (Permission.DOCUMENT_CREATE, Permission.CONSENT_DECLARE):
        return _way_in(pro, account_id, permission, patient, link, identified)
    if permission == Permission.MESSAGE_START:  # an emergency window starts no conversation
        return _normal_path(pro, permission, None, link)
    if permission == Permission.APPOINTMENT_CREATE:
        return _may_book(pro, account_id, patient, link, identified)
    if permission == Permission.REIMBURSEMENT_LIST:  # 4 and 5; an emergency reads none
        return _reimbursements(pro, link)
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
    if not decision and permission == Permission.DOCUMENT_LIST and not link.blocked:
        return allow("own_deposits")  # 7: the list holds at least what they deposited
    return decision


def _reach(
    pro: Professional, account_id: int | None, patient: Patient, link: Relation, identified: bool
) -> Decision:
    if identified:
        return allow("identified")
    # Not identified: the record's own answer (authorised, or why not).
    return decide_for_professional(pro, account_id, Permission.RECORD_READ, patient, None, link)


def _way_in(
    pro: Professional,
    account_id: int | None,
    permission: Permission,
    patient: Patient,
    link: Relation,
    identified: bool,
) -> Decision:
    """Depositing reads nothing: any professional may, even without consent (R1111-47), once
    the patient is identified or the record readable. Declaring consent needs the patient in
    front of them, and is closed to professions that need an express grant."""
    if permission == Permission.CONSENT_DECLARE:
        if catalogue.current().needs_express_grant(pro.specialty):
            return deny("express_grant_only")
        return allow("declared_consent") if identified else deny("not_identified")
    reach = _reach(pro, account_id, patient, link, identified)
    return allow("deposit") if reach else reach


def _may_book(
    pro: Professional, account_id: int | None, patient: Patient, link: Relation, identified: bool
) -> Decision:
    """A professional who may reach the patient (authorised, or identified in front of them)
    books an appointment; an emergency window books nothing."""
    reach = _reach(pro, account_id, patient, link, identified)
    if reach and reach.in_emergency:
        return deny("emergency_read_only")
    return allow("book") if reach else reach


def _reimbursements(pro: Professional, link: Relation) -> Decision:
    if not link.authorised:
        return deny("no_authorisation")
    grant = catalogue.current().grant(pro.profession, pro.specialty, catalogue.REIMBURSEMENTS)
    return allow("authorised") if grant.read else deny("matrix")


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


def grant_for(pro: Professional, item: Document | SectionOf) -> catalogue.Grant:
    resource = item.type_code if isinstance(item, Document) else item.section.resource
    return catalogue.current().grant(pro.profession, pro.specialty, resource)


def _normal_path(pro: Professional, permission: Permission, item: Item, link: Relation) -> Decision:
    if not link.authorised:  # 4
        return deny("no_authorisation")
    if item is None:
        return allow("medecin_traitant_rights" if link.traitant_rights else "authorised")
    if link.traitant_rights:  # the médecin traitant sees everything, masked included
        return allow("medecin_traitant_rights")
    grant = grant_for(pro, item)  # 5
    wanted = grant.download if permission == Permission.DOCUMENT_DOWNLOAD else grant.read
    if not wanted:
        return deny("matrix")
    if isinstance(item, Document) and item.masked_from_pros:  # 6
        return deny("masked")
    return allow("authorised")


def _emergency_path(
    pro: Professional, permission: Permission, patient: Patient, item: Item, mode: Mode
) -> Decision:
    """An open emergency window: read-only, the matrix still applies, masked never shown.
    The patient's opposition is read again at every request."""
    opposed = (
        patient.oppose_emergency_access
        if mode == Mode.EMERGENCY
        else patient.oppose_regulation_access
    )
    if opposed:
        return deny(f"opposed_{mode.value}")
    if permission not in EMERGENCY_READS:
        return deny("emergency_read_only")
    if item is None:
        return allow(mode.value)
    if not grant_for(pro, item).read:
        return deny("matrix")
    if isinstance(item, Document) and item.masked_from_pros:
        return deny("masked")
    return allow(mode.value)


# --- conversations (SPEC §6) -------------------------------------------------------------------


def _decide_on_conversation(
    actor: Account, permission: Permission, conversation: Conversation
) -> Decision:
    return conversation_rights(actor, conversation)(permission)


def conversation_rights(
    actor: Account, conversation: Conversation
) -> Callable[[Permission], Decision]:
    """Decide on one conversation, reading the record and the block once for a page.

    Its participants only. A professional who lost the authorisation keeps the conversation
    they took part in; a blocked one neither reads nor writes; nobody writes once it is
    closed, nor on a record that is not open."""
    patient = patient_of(conversation.patient_id)
    blocked: list[bool] = []

    def is_blocked(pro: Professional) -> bool:
        if not blocked:
            blocked.append(relations_blocked(pro, patient))
        return blocked[0]

    def rights(permission: Permission) -> Decision:
        if permission not in ON_CONVERSATION:
            return deny("no_rule")
        if actor.role == Role.PATIENT:
            decision = _for_holder(actor, permission, patient, None)
        elif actor.role == Role.PROFESSIONAL and actor.professional is not None:
            decision = _participant(
                actor.professional, permission, patient, conversation, is_blocked
            )
        elif actor.role == Role.AGENT:
            decision = deny("agent_no_medical_content")
        else:
            decision = deny("no_rule")
        writes = permission in (Permission.CONVERSATION_REPLY, Permission.CONVERSATION_CLOSE)
        if decision and writes and not conversation.is_open:
            return deny("conversation_closed")
        if decision and writes and patient.record_state != RecordState.ACTIVE:
            return deny("record_not_active")  # a closed record writes to no one
        return decision

    return rights


def _participant(
    pro: Professional,
    permission: Permission,
    patient: Patient,
    conversation: Conversation,
    is_blocked: Callable[[Professional], bool],
) -> Decision:
    if conversation.professional_id != pro.id:
        return deny("not_participant")
    if permission in PATIENT_ONLY:
        return deny("patient_only")
    if patient.record_state != RecordState.ACTIVE:  # 1
        return deny("record_not_active")
    if is_blocked(pro):  # 2
        return deny("blocked_by_patient")
    return allow("participant")


# --- appointments (SPEC §7) -------------------------------------------------------------------


def _decide_on_appointment(
    actor: Account, permission: Permission, appointment: Appointment
) -> Decision:
    """The holder and the professional concerned, and no one else; either may move or cancel
    it while the record is open; a blocked professional loses even the sight of it."""
    patient = patient_of(appointment.patient_id)
    if actor.role == Role.PATIENT:
        decision = _for_holder(actor, permission, patient, None)
    elif actor.role == Role.PROFESSIONAL and actor.professional is not None:
        pro = actor.professional
        if appointment.professional_id != pro.id:
            return deny("not_concerned")
        if patient.record_state != RecordState.ACTIVE:  # 1
            return deny("record_not_active")
        if relations_blocked(pro, patient):  # 2
            return deny("blocked_by_patient")
        decision = allow("concerned")
    elif actor.role == Role.AGENT:
        return deny("agent_no_medical_content")
    else:
        return deny("no_rule")
    if decision and permission != Permission.APPOINTMENT_READ:
        if patient.record_state != RecordState.ACTIVE:
            return deny("record_not_active")
        if appointment.cancelled:
            return deny("appointment_cancelled")
    return decision


# --- entries of the profile -------------------------------------------------------------------

EntryCheck = Callable[[Permission, ProfileEntry | Measurement], Decision]


def entry_rights(actor: Account, patient: Patient) -> EntryCheck:
    """Decide on the entries of one record, reading the professional's relation once (a page
    of entries asks for each row)."""
    pro = actor.professional if actor.role == Role.PROFESSIONAL else None
    link = relation(pro, patient) if pro is not None else None
    cache: dict[tuple[Permission, Section], Decision] = {}

    def on_section(wanted: Permission, section: Section) -> Decision:
        key = (wanted, section)
        if key not in cache:
            item = SectionOf(patient, section)
            if pro is not None and link is not None:
                cache[key] = decide_for_professional(pro, actor.id, wanted, patient, item, link)
            else:
                cache[key] = _decide_on(actor, wanted, patient, item, Mode.NORMAL)
        return cache[key]

    def check(permission: Permission, row: ProfileEntry | Measurement) -> Decision:
        if row.patient_id != patient.id:
            return deny("not_this_record")
        return _entry_decision(actor, permission, row, on_section)

    return check


def _entry_decision(
    actor: Account,
    permission: Permission,
    entry: ProfileEntry | Measurement,
    on_section: Callable[[Permission, Section], Decision],
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
        return decision if actor.role == Role.PATIENT else deny("patient_only")
    if not decision:
        return decision
    is_author = entry.author_account_id is not None and entry.author_account_id == actor.id
    if permission == Permission.ENTRY_EDIT:
        return allow("author") if is_author else deny("not_author")
    if entry.masked_from_pros and not sees_masked(actor, decision) and not is_author:
        return deny("masked")
    return decision


def sees_masked(actor: Account, decision: Decision) -> bool:
    """The holder and the médecin traitant's rights see what is masked from professionals."""
    return actor.role != Role.PROFESSIONAL or decision.reason == "medecin_traitant_rights"
