"""The rules of `decide` as SQL, for lists and counts: what is not allowed is filtered in the
query, never removed after loading. tests/test_policy_agreement.py holds every query to the
decisions of `decide` over the whole policy table."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from sqlalchemy import ColumnElement, Exists, Select, false, func, or_, select, true
from sqlalchemy.orm import QueryableAttribute, contains_eager

from webapp.core import clock
from webapp.models import (
    AccessEvent,
    Account,
    Appointment,
    Authorisation,
    AuthorisationKind,
    Beneficiary,
    Conversation,
    CounterAction,
    Document,
    DocumentState,
    Patient,
    Reimbursement,
    Role,
)
from webapp.models.account import RecordState
from webapp.models.profile import MeasureKind, Measurement, ProfileEntry, Section
from webapp.policy.decide import decide, decide_for_professional, sees_masked
from webapp.policy.permissions import PROFILE_ORDER, Decision, Permission, SectionOf
from webapp.policy.relations import emergency_in_force, relation
from webapp.services import catalogue


def documents_query(actor: Account, patient: Patient) -> Select[Document]:
    """The current documents the actor may read in this record (older versions are reached
    from their current one). Counts and searches start from this query."""
    query = select(Document).where(
        Document.patient_id == patient.id, Document.state == DocumentState.CURRENT
    )
    return query.where(_documents_filter(actor, patient))


def _documents_filter(actor: Account, patient: Patient) -> ColumnElement[bool]:
    listing = decide(actor, Permission.DOCUMENT_LIST, patient)
    if not listing:
        return false()
    if actor.role == Role.PATIENT:
        now = clock.now()
        return or_(
            Document.hidden_from_patient_until.is_(None),
            Document.hidden_from_patient_until <= now,
        )
    pro = actor.professional
    if pro is None:
        return false()
    link = relation(pro, patient)
    own = Document.author_account_id == actor.id
    if link.traitant_rights:
        return true()
    if not link.authorised and not emergency_in_force(patient, link):
        return own
    readable = catalogue.current().readable_types(pro.profession, pro.specialty)
    if not readable:
        return own
    visible = Document.type_code.in_(sorted(readable)) & (Document.masked_from_pros == false())
    return or_(visible, own)


def readable_sections(actor: Account, patient: Patient) -> list[Section]:
    """The profile sections this actor may read, in the order a doctor scans them."""
    return [section for section, _ in _section_reads(actor, patient)]


def _section_reads(actor: Account, patient: Patient) -> list[tuple[Section, Decision]]:
    pro = actor.professional if actor.role == Role.PROFESSIONAL else None
    found = []
    link = relation(pro, patient) if pro is not None else None  # once for the eight sections
    for section in PROFILE_ORDER:
        item = SectionOf(patient, section)
        if pro is not None and link is not None:
            decision = decide_for_professional(
                pro, actor.id, Permission.PROFILE_READ, patient, item, link
            )
        else:
            decision = decide(actor, Permission.PROFILE_READ, item)
        if decision:
            found.append((section, decision))
    return found


def entries_query(actor: Account, patient: Patient) -> Select[ProfileEntry]:
    """The profile entries the actor may read: readable sections, not deleted, masked ones
    only for those who see them and for their author."""
    reads = _section_reads(actor, patient)
    query = select(ProfileEntry).where(
        ProfileEntry.patient_id == patient.id,
        ProfileEntry.deleted_at.is_(None),
        ProfileEntry.section.in_([section.value for section, _ in reads]) if reads else false(),
    )
    masked_seen = [section.value for section, decision in reads if sees_masked(actor, decision)]
    return query.where(
        or_(
            ProfileEntry.masked_from_pros == false(),
            ProfileEntry.author_account_id == actor.id,
            ProfileEntry.section.in_(masked_seen) if masked_seen else false(),
        )
    )


def measurements_query(
    actor: Account, patient: Patient, kind: MeasureKind | None = None
) -> Select[Measurement]:
    """The measurements the actor may read, of one kind or all, as `entries_query` does."""
    decision = next(
        (
            found
            for section, found in _section_reads(actor, patient)
            if section == Section.MEASUREMENTS
        ),
        None,
    )
    query = select(Measurement).where(
        Measurement.patient_id == patient.id, Measurement.deleted_at.is_(None)
    )
    if decision is None:
        return query.where(false())
    if kind is not None:
        query = query.where(Measurement.kind == kind.value)
    if sees_masked(actor, decision):
        return query
    return query.where(
        or_(Measurement.masked_from_pros == false(), Measurement.author_account_id == actor.id)
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
    query = select(AccessEvent).where(AccessEvent.patient_id == patient.id)
    if not decide(actor, Permission.HISTORY_READ, patient):
        return query.where(false())
    if actor_kind:
        query = query.where(AccessEvent.actor_kind == actor_kind)
    if action:
        query = query.where(AccessEvent.action == action)
    if since is not None:
        query = query.where(AccessEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AccessEvent.occurred_at < until)
    return query.order_by(AccessEvent.occurred_at.desc(), AccessEvent.id.desc())


def counter_actions_query(viewer: Account, beneficiary: Beneficiary) -> Select[CounterAction]:
    """Counter agents see every counter's actions on a person; a professional only their own
    (which doctor or office a person saw is not a pharmacist's business)."""
    query = select(CounterAction).where(CounterAction.beneficiary_id == beneficiary.id)
    if viewer.role != Role.AGENT:
        query = query.where(CounterAction.actor_account_id == viewer.id)
    return query


def conversations_query(actor: Account, *, archived: bool | None = None) -> Select[Conversation]:
    """The conversations the actor may read: the holder's (those she archived, or the
    others, when `archived` says), or those a professional takes part in, on an open record
    that does not block them. Newest first."""
    query = select(Conversation).join(Patient, Patient.id == Conversation.patient_id)
    if actor.role == Role.PATIENT:
        query = query.where(
            Patient.account_id == actor.id,
            Patient.record_state != RecordState.DELETED,
        )
        if archived is not None:
            filed = Conversation.archived_at.is_not(None)
            query = query.where(filed if archived else ~filed)
    elif actor.role == Role.PROFESSIONAL and actor.professional is not None:
        query = query.where(
            Conversation.professional_id == actor.professional.id,
            Patient.record_state == RecordState.ACTIVE,
            ~_blocked(actor.professional.id, Conversation.patient_id),
        )
    else:
        query = query.where(false())
    return query.options(contains_eager(Conversation.patient)).order_by(
        Conversation.last_message_at.desc(), Conversation.id.desc()
    )


def appointments_query(actor: Account) -> Select[Appointment]:
    """The appointments the actor may read (APPOINTMENT_READ): the holder's own, or those where
    a professional is the one concerned, on an open record that does not block them. The
    caller orders and bounds them (upcoming, past, a day, a week)."""
    query = select(Appointment).join(Patient, Patient.id == Appointment.patient_id)
    if actor.role == Role.PATIENT:
        query = query.where(
            Patient.account_id == actor.id, Patient.record_state != RecordState.DELETED
        )
    elif actor.role == Role.PROFESSIONAL and actor.professional is not None:
        query = query.where(
            Appointment.professional_id == actor.professional.id,
            Patient.record_state == RecordState.ACTIVE,
            ~_blocked(actor.professional.id, Appointment.patient_id),
        )
    else:
        query = query.where(false())
    return query.options(contains_eager(Appointment.patient))


def reimbursements_query(actor: Account, patient: Patient) -> Select[Reimbursement]:
    """The patient's reimbursement lines the actor may read (REIMBURSEMENT_LIST), within the
    24 months the record shows: a line older than that leaves the view the day it turns 24
    months old, before `flask lifecycle run` purges it. The caller orders and filters."""
    if not decide(actor, Permission.REIMBURSEMENT_LIST, patient):
        return select(Reimbursement).where(false())
    return select(Reimbursement).where(
        Reimbursement.patient_id == patient.id,
        Reimbursement.care_date >= reimbursements_shown_from(),
    )


def reimbursements_shown_from() -> date:
    """The first day of the 24 months shown: today in Paris, 24 months back."""
    today = clock.to_paris(clock.now()).date()
    year, month = divmod(today.year * 12 + today.month - 1 - REIMBURSEMENT_MONTHS, 12)
    month += 1
    day = min(today.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


REIMBURSEMENT_MONTHS = 24


def feed_opens() -> ColumnElement[bool]:
    """A calendar feed's token reads its holder's agenda while the record is open (the query
    joins Patient): a closed, suspended or deleted record's address answers 404."""
    return Patient.record_state == RecordState.ACTIVE


def reachable_patients(actor: Account) -> Select[Patient]:
    """The patients a professional may write to (MESSAGE_START): an authorisation in force,
    an open record, no block."""
    pro = actor.professional
    if pro is None or actor.role != Role.PROFESSIONAL:
        return select(Patient).where(false())
    now = clock.now()
    granted = select(Authorisation.patient_id).where(
        Authorisation.professional_id == pro.id,
        Authorisation.kind == AuthorisationKind.AUTHORISED,
        Authorisation.revoked_at.is_(None),
        or_(Authorisation.until.is_(None), Authorisation.until > now),
    )
    return (
        select(Patient)
        .where(
            Patient.id.in_(granted),
            Patient.record_state == RecordState.ACTIVE,
            ~_blocked(pro.id, Patient.id),
        )
        .order_by(Patient.last_name, Patient.first_names, Patient.id)
    )


def _blocked(professional_id: int, patient_id: QueryableAttribute[int]) -> Exists:
    now = clock.now()
    return (
        select(Authorisation.id)
        .where(
            Authorisation.patient_id == patient_id,
            Authorisation.professional_id == professional_id,
            Authorisation.kind == AuthorisationKind.BLOCKED,
            Authorisation.revoked_at.is_(None),
            or_(Authorisation.until.is_(None), Authorisation.until > now),
        )
        .exists()
    )


def unread_query(actor: Account) -> Select[int]:
    """How many messages wait for the actor, counted over what they may read (a blocked
    professional learns nothing of new replies): one query on an index."""
    if actor.role == Role.PATIENT:
        return select(func.coalesce(func.sum(Conversation.patient_unread), 0)).where(
            Conversation.patient_id
            == select(Patient.id).where(Patient.account_id == actor.id).scalar_subquery(),
            Conversation.patient_unread > 0,
        )
    readable = (
        conversations_query(actor)
        .where(Conversation.professional_unread > 0)
        .order_by(None)
        .with_only_columns(Conversation.professional_unread)
        .subquery()
    )
    return select(func.coalesce(func.sum(readable.c.professional_unread), 0))
