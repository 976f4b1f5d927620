"""The one way a route reaches a resource: load it, decide, record, or answer 404.

A refusal is a 404, never a hint that something exists, and a professional's refusal is
written in the record's history with its reason. Reads are recorded here; changes are
recorded by the service that makes them.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort
from sqlalchemy.orm import joinedload

from webapp.core.extensions import db
from webapp.models import Account, Appointment, Conversation, Document, Patient
from webapp.models.profile import Measurement, ProfileEntry
from webapp.policy import identified
from webapp.policy.decide import Resource, conversation_rights, decide, decide_for_professional
from webapp.policy.permissions import Decision, Permission
from webapp.policy.relations import patient_of, relation
from webapp.services import consultations
from webapp.services.audit import Action, record_access

Row = ProfileEntry | Measurement


def require(actor: Account | None, permission: Permission, resource: Resource = None) -> Decision:
    """Decide, and answer 404 when refused."""
    decision = decide(actor, permission, resource)
    if not decision:
        abort(404)
    return decision


def requires(permission: Permission) -> Callable[[Account | None], None]:
    """A guard for a blueprint's `before_request`."""

    def guard(actor: Account | None) -> None:
        require(actor, permission)

    return guard


def can(actor: Account | None, permission: Permission, resource: Resource = None) -> bool:
    """For templates hiding a button; hiding is never the check."""
    return decide(actor, permission, resource).allowed


def document_check(
    actor: Account, patient: Patient, permission: Permission
) -> Callable[[Document], bool]:
    """The decision on each listed document of one record, reading the professional's
    relation once for the page."""
    pro = actor.professional
    if pro is None:
        return lambda doc: decide(actor, permission, doc).allowed
    link = relation(pro, patient)
    return lambda doc: (
        decide_for_professional(pro, actor.id, permission, patient, doc, link).allowed
    )


def own_patient(actor: Account) -> Patient:
    """The actor's own record, for pages only a record holder has."""
    if actor.patient is None:
        abort(404)
    return actor.patient


def holds(actor: Account, patient: Patient) -> bool:
    """The actor is this record's holder (her pages say "vous")."""
    return patient.account_id is not None and patient.account_id == actor.id


def get_patient_for(
    actor: Account,
    patient_id: int,
    permission: Permission,
    *,
    refusal: Action = Action.RECORD_CONSULTED,
    what: str = "",
    resource: Resource = None,
) -> tuple[Patient, Decision]:
    """A patient's record for `permission` (on the record, or on `resource` inside it)."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        abort(404)
    decision = decide(
        actor,
        permission,
        patient if resource is None else resource,
        identified=identified.is_identified(actor, patient),
    )
    if not decision:
        refuse(actor, patient, decision, refusal=refusal, what=what)
    return patient, decision


def decide_on_patient(actor: Account, patient: Patient, permission: Permission) -> Decision:
    """A decision on a record loaded already, with what this session knows of the patient."""
    return decide(actor, permission, patient, identified=identified.is_identified(actor, patient))


def refuse(
    actor: Account,
    patient: Patient,
    decision: Decision,
    *,
    refusal: Action = Action.RECORD_CONSULTED,
    what: str = "",
) -> None:
    """Record a professional's refused attempt in the record's history, then answer 404."""
    if actor.professional is not None:
        record_access(patient, actor, refusal, allowed=False, reason=decision.reason, detail=what)
        db.session.commit()
    abort(404)


def consult(
    actor: Account,
    patient: Patient,
    action: Action,
    decision: Decision,
    *,
    resource_type: str = "",
    resource_id: str | int = "",
    detail: str = "",
) -> None:
    """Record a consultation of someone else's record (the holder's own reads are not)."""
    if decision.by_holder:
        return
    consultations.note(
        patient,
        actor,
        action,
        reason=decision.reason,
        mode=decision.mode,
        resource_type=resource_type,
        resource_id=resource_id,
        detail=detail,
    )


_SEEN = {
    Permission.DOCUMENT_READ: Action.DOCUMENT_VIEWED,
    Permission.DOCUMENT_DOWNLOAD: Action.DOCUMENT_DOWNLOADED,
}


def get_document_for(actor: Account, document_id: int, permission: Permission) -> Document:
    """A document for `permission`. Every refusal is recorded, with its reason, in the
    holder's history; reads and downloads are recorded as consultations."""
    doc = db.session.get(Document, document_id)
    if doc is None:
        abort(404)
    decision = decide(actor, permission, doc)
    patient = patient_of(doc.patient_id)
    if not decision:
        _refuse_item(
            actor, patient, decision, Action.DOCUMENT_REFUSED, permission, "document", doc.id
        )
    if permission in _SEEN:  # the holder's reads too: her history shows what she opened
        consultations.note(
            patient,
            actor,
            _SEEN[permission],
            reason=decision.reason,
            mode=decision.mode,
            resource_type="document",
            resource_id=doc.id,
        )
    return doc


def get_entry_for(
    actor: Account, table: str, row_id: int, permission: Permission
) -> tuple[Patient, Row]:
    """A profile entry (`table` "entries") or a measurement ("measurements")."""
    row: Row | None = (
        db.session.get(ProfileEntry, row_id)
        if table == "entries"
        else db.session.get(Measurement, row_id)
    )
    if row is None:
        abort(404)
    patient = patient_of(row.patient_id)
    decision = decide(actor, permission, row)
    if not decision:
        refuse(actor, patient, decision, refusal=Action.PROFILE_VIEWED)
    return patient, row


def get_conversation_for(
    actor: Account, conversation_id: int, permission: Permission
) -> tuple[Conversation, Callable[[Permission], Decision]]:
    """A conversation for `permission`; a refusal is written in the record's history (a
    stranger's guess included) and answers 404."""
    # With its record in the same query: every decision on it reads the record's state.
    conversation = db.session.get(
        Conversation, conversation_id, options=[joinedload(Conversation.patient)]
    )
    if conversation is None:
        abort(404)
    rights = conversation_rights(actor, conversation)
    decision = rights(permission)
    if not decision:
        patient = patient_of(conversation.patient_id)
        refusal = Action.CONVERSATION_REFUSED
        _refuse_item(actor, patient, decision, refusal, permission, "conversation", conversation.id)
    return conversation, rights


def get_appointment_for(actor: Account, appointment_id: int, permission: Permission) -> Appointment:
    """An appointment for `permission`, with its professional and record; a refusal is written
    in the record's history and answers 404 (a cancelled one refuses changes, not sight)."""
    appointment = db.session.get(
        Appointment,
        appointment_id,
        options=[joinedload(Appointment.patient), joinedload(Appointment.professional)],
    )
    if appointment is None:
        abort(404)
    decision = decide(actor, permission, appointment)
    if not decision:
        patient = patient_of(appointment.patient_id)
        refusal = Action.APPOINTMENT_REFUSED
        _refuse_item(actor, patient, decision, refusal, permission, "appointment", appointment.id)
    return appointment


def _refuse_item(
    actor: Account,
    patient: Patient,
    decision: Decision,
    refusal: Action,
    permission: Permission,
    resource_type: str,
    resource_id: int,
) -> None:
    """Anyone's refused attempt on an item of a record (a stranger's guess included) goes
    into that record's history, then the answer is 404."""
    record_access(
        patient,
        actor,
        refusal,
        allowed=False,
        reason=decision.reason,
        resource_type=resource_type,
        resource_id=resource_id,
        detail=permission.value,
    )
    db.session.commit()
    abort(404)
