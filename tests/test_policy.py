"""The access policy as a table: every rule, and the order in which they apply.

The expectations are written out by hand from webapp/data/access_matrix.csv and
specialties.csv, never computed from the catalogue: a wrong line in the CSV must fail here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import Flask

from tests.builders import (
    authorise,
    make_agent,
    make_appointment,
    make_document,
    make_patient,
    make_professional,
)
from webapp import policy
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Appointment, Conversation, Document, EmergencyAccess, Patient
from webapp.models.profile import EntryKind, MeasureKind, Measurement, ProfileEntry, Section
from webapp.policy import Mode, Permission
from webapp.services import catalogue

P = Permission


@dataclass(frozen=True)
class Case:
    name: str
    actor: str  # patient, other_patient, pro, agent, anonymous
    permission: Permission
    allowed: bool
    reason: str
    # document, patient, none, section:<Section value>, entry:<Section value> (a ProfileEntry
    # of that section), measurement (a Measurement) or conversation (a Conversation between
    # the patient and the professional: `pro`, or `other_pro` when author="other_pro"), or
    # appointment (with that professional; entry={"cancelled": True} for a cancelled one).
    on: str = "document"
    doc: dict[str, object] = field(default_factory=dict)
    # patient, pro, other_pro: of the document, entry or measurement; for a conversation, the
    # professional taking part in it (patient and pro both mean the case's professional).
    author: str = "patient"
    # The entry's or measurement's own fields: masked_from_pros, deleted_at ("-" an hour ago).
    entry: dict[str, object] = field(default_factory=dict)
    grants: tuple[dict[str, object], ...] = ()
    record_state: str = "active"
    profession: str = "medecin"
    specialty: str | None = "medecine_generale"
    mode: Mode = Mode.NORMAL
    # An emergency window on the record: mode ("emergency" or "regulation"), expires_at and
    # ended_at ("+" an hour from now, "-" an hour ago), holder ("pro" or "other_pro").
    window: dict[str, object] | None = None
    # oppose_emergency_access / oppose_regulation_access, set after any window was opened.
    patient_flags: dict[str, bool] = field(default_factory=dict)
    samu_regulator: bool = False
    # The professional proved in this session that the patient is in front of them.
    identified: bool = False
    # A conversation the professional has closed (on="conversation").
    closed: bool = False


AUTH: tuple[dict[str, object], ...] = ({},)
TRAITANT: tuple[dict[str, object], ...] = ({"traitant": True},)
DELEGATED: tuple[dict[str, object], ...] = ({"traitant_rights": True},)
BLOCKED: tuple[dict[str, object], ...] = ({"kind": "blocked"},)
HOUR = timedelta(hours=1)
WINDOW: dict[str, object] = {"mode": "emergency"}
REGULATION_WINDOW: dict[str, object] = {"mode": "regulation"}
OPPOSES_EMERGENCY = {"oppose_emergency_access": True}
OPPOSES_REGULATION = {"oppose_regulation_access": True}

# The category of each type, as document_types.csv files it.
CATEGORY = {
    "60591-5": "ma_sante",
    "42348-3": "ma_sante",
    "57833-6": "ordonnances",
    "57832-8": "ordonnances",
    "18748-4": "imagerie",
    "11502-2": "biologie",
    "11488-4": "comptes_rendus",
    "34133-9": "comptes_rendus",
    "15508-5": "comptes_rendus",
    "11369-6": "prevention",
    "CARNET-DEPIST": "prevention",
    "CARNET-CERT": "certificats",
    "CARNET-REMB": "administratif",
    "CARNET-ADMIN": "administratif",
    "CARNET-AUTRE": "autres",
}

R, D, S = P.DOCUMENT_READ, P.DOCUMENT_DOWNLOAD, P.PROFILE_READ
GP = ("medecin", "medecine_generale")
CARDIO = ("medecin", "cardiologie")
WORK = ("medecin", "medecine_du_travail")
FIRE = ("medecin", "medecin_sapeur_pompier")
MIDWIFE = ("sage_femme", None)
PHARMACIST = ("pharmacien", None)
NURSE = ("infirmier", None)
PHYSIO = ("masseur_kinesitherapeute", None)
DENTIST = ("chirurgien_dentiste", None)
PODIATRIST = ("pedicure_podologue", None)
SOCIAL = ("assistant_social", None)

# (profession, specialty), resource (a type code or section:<Section value>), permission,
# allowed. Read off access_matrix.csv by hand, for a professional authorised normally.
MATRIX: list[tuple[tuple[str, str | None], str, Permission, bool]] = [
    # médecin: every type, every section, through the medecin/* rows
    (GP, "34133-9", R, True),
    (GP, "42348-3", D, True),
    (GP, "CARNET-REMB", R, True),
    (GP, "CARNET-AUTRE", D, True),
    (GP, "section:wishes", S, True),
    (GP, "section:family", S, True),
    (CARDIO, "15508-5", R, True),
    (CARDIO, "CARNET-ADMIN", D, True),
    (CARDIO, "section:people", S, True),
    # sage-femme: everything but the reimbursement history
    (MIDWIFE, "15508-5", R, True),
    (MIDWIFE, "42348-3", D, True),
    (MIDWIFE, "18748-4", D, True),
    (MIDWIFE, "CARNET-REMB", R, False),
    (MIDWIFE, "CARNET-REMB", D, False),
    (MIDWIFE, "section:people", S, True),
    (MIDWIFE, "section:wishes", S, True),
    # pharmacien: prescriptions yes, imaging, childbirth, directives, certificates no
    (PHARMACIST, "57833-6", R, True),
    (PHARMACIST, "57832-8", D, True),
    (PHARMACIST, "11369-6", R, True),
    (PHARMACIST, "CARNET-REMB", D, True),
    (PHARMACIST, "18748-4", D, False),
    (PHARMACIST, "15508-5", R, False),
    (PHARMACIST, "42348-3", R, False),
    (PHARMACIST, "CARNET-CERT", R, False),
    (PHARMACIST, "CARNET-AUTRE", D, False),
    (PHARMACIST, "section:treatments", S, True),
    (PHARMACIST, "section:measurements", S, True),
    (PHARMACIST, "section:wishes", S, False),
    (PHARMACIST, "section:family", S, False),
    (PHARMACIST, "section:people", S, False),
    # infirmier: directives yes; imaging, childbirth, certificates, reimbursements no
    (NURSE, "42348-3", R, True),
    (NURSE, "11369-6", D, True),
    (NURSE, "CARNET-DEPIST", R, True),
    (NURSE, "18748-4", R, False),
    (NURSE, "15508-5", R, False),
    (NURSE, "CARNET-CERT", R, False),
    (NURSE, "CARNET-REMB", D, False),
    (NURSE, "CARNET-AUTRE", R, False),
    (NURSE, "section:wishes", S, True),
    (NURSE, "section:people", S, True),
    (NURSE, "section:family", S, False),
    # masseur-kinésithérapeute: imaging and reports yes; lab, vaccinations, directives no
    (PHYSIO, "18748-4", D, True),
    (PHYSIO, "11488-4", R, True),
    (PHYSIO, "34133-9", R, True),
    (PHYSIO, "11369-6", R, False),
    (PHYSIO, "42348-3", R, False),
    (PHYSIO, "CARNET-ADMIN", R, False),
    (PHYSIO, "section:measurements", S, True),
    (PHYSIO, "section:vaccinations", S, False),
    # chirurgien-dentiste: never the advance directives, nor their section
    (DENTIST, "42348-3", D, False),
    (DENTIST, "18748-4", R, True),
    (DENTIST, "57833-6", D, True),
    (DENTIST, "34133-9", R, False),
    (DENTIST, "11488-4", R, False),
    (DENTIST, "CARNET-DEPIST", R, False),
    (DENTIST, "section:wishes", S, False),
    (DENTIST, "section:allergies", S, True),
    (DENTIST, "section:conditions", S, True),
    (DENTIST, "section:vaccinations", S, False),
    # pédicure-podologue: never the childbirth report
    (PODIATRIST, "15508-5", D, False),
    (PODIATRIST, "60591-5", R, True),
    (PODIATRIST, "18748-4", D, True),
    (PODIATRIST, "11502-2", R, False),
    (PODIATRIST, "34133-9", R, False),
    (PODIATRIST, "42348-3", R, False),
    (PODIATRIST, "section:treatments", S, True),
    (PODIATRIST, "section:conditions", S, False),
    # assistant social: the administrative papers, nothing else
    (SOCIAL, "CARNET-ADMIN", R, True),
    (SOCIAL, "CARNET-ADMIN", D, True),
    (SOCIAL, "60591-5", R, False),
    (SOCIAL, "57833-6", R, False),
    (SOCIAL, "CARNET-REMB", R, False),
    (SOCIAL, "CARNET-AUTRE", R, False),
    (SOCIAL, "section:allergies", S, False),
    (SOCIAL, "section:people", S, False),
    # médecin du travail: its own rows alone, read without download, though medecin/* exists
    (WORK, "60591-5", R, True),
    (WORK, "60591-5", D, False),
    (WORK, "11369-6", R, True),
    (WORK, "11369-6", D, False),
    (WORK, "CARNET-CERT", R, True),
    (WORK, "CARNET-CERT", D, False),
    (WORK, "11502-2", R, False),
    (WORK, "57833-6", R, False),
    (WORK, "34133-9", R, False),
    (WORK, "42348-3", R, False),
    (WORK, "CARNET-ADMIN", R, False),
    (WORK, "section:allergies", S, True),
    (WORK, "section:vaccinations", S, True),
    (WORK, "section:treatments", S, False),
    (WORK, "section:wishes", S, False),
    # médecin sapeur-pompier: the same own rows
    (FIRE, "60591-5", R, True),
    (FIRE, "60591-5", D, False),
    (FIRE, "18748-4", R, False),
    (FIRE, "section:vaccinations", S, True),
    (FIRE, "section:conditions", S, False),
]


def _matrix(
    who: tuple[str, str | None], resource: str, permission: Permission, allowed: bool
) -> Case:
    profession, specialty = who
    doc: dict[str, object]
    verb = {R: "reads", D: "downloads", S: "reads"}[permission]
    name = f"matrix: {specialty or profession} {verb} {resource}"
    on, doc = resource, {}
    if not resource.startswith("section:"):
        on, doc = "document", {"type_code": resource, "category": CATEGORY[resource]}
    return Case(
        name,
        "pro",
        permission,
        allowed,
        "authorised" if allowed else "matrix",
        on=on,
        doc=doc,
        grants=AUTH,
        profession=profession,
        specialty=specialty,
    )


W, ER, EE, EM = P.PROFILE_WRITE, P.ENTRY_READ, P.ENTRY_EDIT, P.ENTRY_MASK
MASKED: dict[str, object] = {"masked_from_pros": True}
DELETED: dict[str, object] = {"deleted_at": "-"}

PROFILE_CASES = [
    # adding to a section: the holder; a professional who may read it; never in a window
    Case("holder writes a section", "patient", W, True, "own_record", on="section:allergies"),
    Case("holder writes the wishes", "patient", W, True, "own_record", on="section:wishes"),
    Case(
        "other patient writes a section",
        "other_patient",
        W,
        False,
        "not_own_record",
        on="section:allergies",
    ),
    Case(
        "holder of a deleted record writes",
        "patient",
        W,
        False,
        "record_deleted",
        on="section:treatments",
        record_state="deleted",
    ),
    Case(
        "agent writes a section",
        "agent",
        W,
        False,
        "agent_no_medical_content",
        on="section:people",
    ),
    Case("anonymous writes a section", "anonymous", W, False, "anonymous", on="section:people"),
    Case(
        "unauthorised pro writes a section",
        "pro",
        W,
        False,
        "no_authorisation",
        on="section:allergies",
    ),
    Case(
        "authorised GP writes the allergies",
        "pro",
        W,
        True,
        "authorised",
        on="section:allergies",
        grants=AUTH,
    ),
    Case(
        "authorised pharmacist writes the treatments",
        "pro",
        W,
        True,
        "authorised",
        on="section:treatments",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
    ),
    Case(
        "pharmacist cannot write what it may not read",
        "pro",
        W,
        False,
        "matrix",
        on="section:family",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
    ),
    Case(
        "dentist never writes the wishes",
        "pro",
        W,
        False,
        "matrix",
        on="section:wishes",
        grants=AUTH,
        profession="chirurgien_dentiste",
        specialty=None,
    ),
    Case(
        "traitant writes the wishes",
        "pro",
        W,
        True,
        "medecin_traitant_rights",
        on="section:wishes",
        grants=TRAITANT,
    ),
    Case(
        "delegated traitant rights let a dentist write the wishes",
        "pro",
        W,
        True,
        "medecin_traitant_rights",
        on="section:wishes",
        grants=DELEGATED,
        profession="chirurgien_dentiste",
        specialty=None,
    ),
    Case(
        "blocked traitant writes nothing",
        "pro",
        W,
        False,
        "blocked_by_patient",
        on="section:allergies",
        grants=({"traitant": True}, {"kind": "blocked"}),
    ),
    Case(
        "no writing on a closed record",
        "pro",
        W,
        False,
        "record_not_active",
        on="section:allergies",
        grants=TRAITANT,
        record_state="closed",
    ),
    Case(
        "window: no writing",
        "pro",
        W,
        False,
        "emergency_read_only",
        on="section:allergies",
        window=WINDOW,
    ),
    Case(
        "regulation window: no writing",
        "pro",
        W,
        False,
        "emergency_read_only",
        on="section:treatments",
        window=REGULATION_WINDOW,
        samu_regulator=True,
    ),
    Case(
        "window: a grant still lets one write",
        "pro",
        W,
        True,
        "authorised",
        on="section:allergies",
        grants=AUTH,
        window=WINDOW,
    ),
    Case(
        "writing is never asked in emergency mode",
        "pro",
        W,
        False,
        "mode_not_open",
        on="section:allergies",
        grants=AUTH,
        mode=Mode.EMERGENCY,
    ),
    # reading one entry: as its section, minus the masked ones
    Case("holder reads an entry", "patient", ER, True, "own_record", on="entry:allergies"),
    Case(
        "holder reads a masked entry",
        "patient",
        ER,
        True,
        "own_record",
        on="entry:allergies",
        entry=MASKED,
    ),
    Case(
        "holder reads a professional's entry",
        "patient",
        ER,
        True,
        "own_record",
        on="entry:treatments",
        author="pro",
    ),
    Case("holder reads a measurement", "patient", ER, True, "own_record", on="measurement"),
    Case(
        "other patient reads an entry",
        "other_patient",
        ER,
        False,
        "not_own_record",
        on="entry:allergies",
    ),
    Case(
        "agent reads an entry",
        "agent",
        ER,
        False,
        "agent_no_medical_content",
        on="entry:people",
    ),
    Case(
        "unauthorised pro reads an entry",
        "pro",
        ER,
        False,
        "no_authorisation",
        on="entry:allergies",
    ),
    Case(
        "authorised pharmacist reads a treatment",
        "pro",
        ER,
        True,
        "authorised",
        on="entry:treatments",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
    ),
    Case(
        "pharmacist reads no wish",
        "pro",
        ER,
        False,
        "matrix",
        on="entry:wishes",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
    ),
    Case(
        "dentist reads no wish, even its own",
        "pro",
        ER,
        False,
        "matrix",
        on="entry:wishes",
        author="pro",
        grants=AUTH,
        profession="chirurgien_dentiste",
        specialty=None,
    ),
    Case(
        "masked entry hidden from an authorised pharmacist",
        "pro",
        ER,
        False,
        "masked",
        on="entry:treatments",
        entry=MASKED,
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
    ),
    Case(
        "masked measurement hidden from an authorised physiotherapist",
        "pro",
        ER,
        False,
        "masked",
        on="measurement",
        entry=MASKED,
        grants=AUTH,
        profession="masseur_kinesitherapeute",
        specialty=None,
    ),
    Case(
        "authorised physiotherapist reads a measurement",
        "pro",
        ER,
        True,
        "authorised",
        on="measurement",
        grants=AUTH,
        profession="masseur_kinesitherapeute",
        specialty=None,
    ),
    Case(
        "médecin traitant reads a masked entry",
        "pro",
        ER,
        True,
        "medecin_traitant_rights",
        on="entry:conditions",
        entry=MASKED,
        grants=TRAITANT,
    ),
    Case(
        "delegated traitant rights read a masked measurement",
        "pro",
        ER,
        True,
        "medecin_traitant_rights",
        on="measurement",
        entry=MASKED,
        grants=DELEGATED,
    ),
    Case(
        "the author reads its masked entry",
        "pro",
        ER,
        True,
        "authorised",
        on="entry:treatments",
        author="pro",
        entry=MASKED,
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
    ),
    Case(
        "another author's masked entry stays hidden",
        "pro",
        ER,
        False,
        "masked",
        on="entry:treatments",
        author="other_pro",
        entry=MASKED,
        grants=AUTH,
    ),
    Case(
        "blocked author reads nothing",
        "pro",
        ER,
        False,
        "blocked_by_patient",
        on="entry:allergies",
        author="pro",
        grants=BLOCKED,
    ),
    Case(
        "window: an entry is read",
        "pro",
        ER,
        True,
        "emergency",
        on="entry:allergies",
        window=WINDOW,
    ),
    Case(
        "regulation window: an entry is read",
        "pro",
        ER,
        True,
        "regulation",
        on="entry:treatments",
        window=REGULATION_WINDOW,
        samu_regulator=True,
    ),
    Case(
        "window: a masked entry is never shown",
        "pro",
        ER,
        False,
        "masked",
        on="entry:allergies",
        entry=MASKED,
        window=WINDOW,
    ),
    Case(
        "window: the matrix applies to entries",
        "pro",
        ER,
        False,
        "matrix",
        on="entry:wishes",
        window=WINDOW,
        profession="chirurgien_dentiste",
        specialty=None,
    ),
    Case(
        "deleted entry read by its holder",
        "patient",
        ER,
        False,
        "entry_deleted",
        on="entry:allergies",
        entry=DELETED,
    ),
    Case(
        "deleted measurement read by the traitant",
        "pro",
        ER,
        False,
        "entry_deleted",
        on="measurement",
        entry=DELETED,
        grants=TRAITANT,
    ),
    # changing or deleting an entry: its author only, with the right to write its section
    Case("holder edits her entry", "patient", EE, True, "author", on="entry:allergies"),
    Case("holder edits her measurement", "patient", EE, True, "author", on="measurement"),
    Case(
        "holder cannot edit a professional's entry",
        "patient",
        EE,
        False,
        "not_author",
        on="entry:treatments",
        author="pro",
    ),
    Case(
        "other patient edits an entry",
        "other_patient",
        EE,
        False,
        "not_own_record",
        on="entry:allergies",
    ),
    Case("agent edits an entry", "agent", EE, False, "agent_no_medical_content", on="measurement"),
    Case(
        "authorised author edits its entry",
        "pro",
        EE,
        True,
        "author",
        on="entry:treatments",
        author="pro",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
    ),
    Case(
        "the author edits its masked entry",
        "pro",
        EE,
        True,
        "author",
        on="entry:allergies",
        author="pro",
        entry=MASKED,
        grants=AUTH,
    ),
    Case(
        "the traitant cannot edit the patient's entry",
        "pro",
        EE,
        False,
        "not_author",
        on="entry:allergies",
        grants=TRAITANT,
    ),
    Case(
        "nor another professional's",
        "pro",
        EE,
        False,
        "not_author",
        on="measurement",
        author="other_pro",
        grants=TRAITANT,
    ),
    Case(
        "an author no longer authorised",
        "pro",
        EE,
        False,
        "no_authorisation",
        on="entry:allergies",
        author="pro",
        grants=({"revoked_at": "-"},),
    ),
    Case(
        "an author the matrix now keeps out",
        "pro",
        EE,
        False,
        "matrix",
        on="entry:family",
        author="pro",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
    ),
    Case(
        "window: the author edits nothing",
        "pro",
        EE,
        False,
        "emergency_read_only",
        on="entry:allergies",
        author="pro",
        window=WINDOW,
    ),
    Case(
        "deleted entry edited by its author",
        "patient",
        EE,
        False,
        "entry_deleted",
        on="entry:treatments",
        entry=DELETED,
    ),
    # masking an entry: the holder only
    Case("holder masks an entry", "patient", EM, True, "own_record", on="entry:conditions"),
    Case(
        "holder masks a professional's entry",
        "patient",
        EM,
        True,
        "own_record",
        on="entry:treatments",
        author="pro",
    ),
    Case("holder masks a measurement", "patient", EM, True, "own_record", on="measurement"),
    Case(
        "holder unmasks (the same permission)",
        "patient",
        EM,
        True,
        "own_record",
        on="entry:allergies",
        entry=MASKED,
    ),
    Case(
        "other patient masks an entry",
        "other_patient",
        EM,
        False,
        "not_own_record",
        on="entry:allergies",
    ),
    Case(
        "traitant cannot mask",
        "pro",
        EM,
        False,
        "patient_only",
        on="entry:allergies",
        grants=TRAITANT,
    ),
    Case(
        "the author cannot mask",
        "pro",
        EM,
        False,
        "patient_only",
        on="entry:treatments",
        author="pro",
        grants=AUTH,
    ),
    Case(
        "window: no masking an entry",
        "pro",
        EM,
        False,
        "patient_only",
        on="entry:allergies",
        window=WINDOW,
    ),
    Case("agent masks an entry", "agent", EM, False, "patient_only", on="entry:allergies"),
    Case(
        "deleted entry masked",
        "patient",
        EM,
        False,
        "entry_deleted",
        on="entry:allergies",
        entry=DELETED,
    ),
    Case(
        "holder of a deleted record masks",
        "patient",
        EM,
        False,
        "record_deleted",
        on="measurement",
        record_state="deleted",
    ),
    # an entry answers only the entry permissions, and a section only the section ones
    Case("an entry is not a section", "patient", S, False, "no_rule", on="entry:allergies"),
    Case("a section has no author", "patient", EE, False, "no_rule", on="section:allergies"),
]


C = "conversation"
CONVERSATION_CASES = [
    # the holder: reads, replies, files away, keeps an attachment; never closes
    Case("holder reads her conversation", "patient", P.CONVERSATION_READ, True, "own_record", on=C),
    Case("holder replies", "patient", P.CONVERSATION_REPLY, True, "own_record", on=C),
    Case("holder archives", "patient", P.CONVERSATION_ARCHIVE, True, "own_record", on=C),
    Case("holder saves an attachment", "patient", P.ATTACHMENT_SAVE, True, "own_record", on=C),
    Case("holder cannot close", "patient", P.CONVERSATION_CLOSE, False, "professional_only", on=C),
    Case(
        "holder of a closed record still reads",
        "patient",
        P.CONVERSATION_READ,
        True,
        "own_record",
        on=C,
        record_state="closed",
    ),
    Case(
        "holder of a closed record writes to no one",
        "patient",
        P.CONVERSATION_REPLY,
        False,
        "record_not_active",
        on=C,
        record_state="closed",
    ),
    Case(
        "holder cannot reply once closed",
        "patient",
        P.CONVERSATION_REPLY,
        False,
        "conversation_closed",
        on=C,
        closed=True,
    ),
    Case(
        "holder reads a closed conversation",
        "patient",
        P.CONVERSATION_READ,
        True,
        "own_record",
        on=C,
        closed=True,
    ),
    Case(
        "holder archives a closed conversation",
        "patient",
        P.CONVERSATION_ARCHIVE,
        True,
        "own_record",
        on=C,
        closed=True,
    ),
    Case(
        "holder of a closed record reads her messages",
        "patient",
        P.CONVERSATION_READ,
        True,
        "own_record",
        on=C,
        record_state="closed",
    ),
    Case(
        "holder of a deleted record reads nothing",
        "patient",
        P.CONVERSATION_READ,
        False,
        "record_deleted",
        on=C,
        record_state="deleted",
    ),
    # the professional taking part: reads, replies, closes; never files away nor saves
    Case("participant reads", "pro", P.CONVERSATION_READ, True, "participant", on=C, grants=AUTH),
    Case(
        "participant replies", "pro", P.CONVERSATION_REPLY, True, "participant", on=C, grants=AUTH
    ),
    Case("participant closes", "pro", P.CONVERSATION_CLOSE, True, "participant", on=C, grants=AUTH),
    Case(
        "participant cannot archive",
        "pro",
        P.CONVERSATION_ARCHIVE,
        False,
        "patient_only",
        on=C,
        grants=AUTH,
    ),
    Case(
        "participant cannot save an attachment",
        "pro",
        P.ATTACHMENT_SAVE,
        False,
        "patient_only",
        on=C,
        grants=AUTH,
    ),
    Case(
        "participant cannot reply once closed",
        "pro",
        P.CONVERSATION_REPLY,
        False,
        "conversation_closed",
        on=C,
        grants=AUTH,
        closed=True,
    ),
    Case(
        "participant cannot close twice",
        "pro",
        P.CONVERSATION_CLOSE,
        False,
        "conversation_closed",
        on=C,
        grants=AUTH,
        closed=True,
    ),
    Case(
        "participant reads a closed conversation",
        "pro",
        P.CONVERSATION_READ,
        True,
        "participant",
        on=C,
        grants=AUTH,
        closed=True,
    ),
    # a lost authorisation keeps the conversation taken part in (SPEC §6)
    Case(
        "participant whose grant expired still reads",
        "pro",
        P.CONVERSATION_READ,
        True,
        "participant",
        on=C,
        grants=({"until": "-"},),
    ),
    Case(
        "participant whose grant was revoked still replies",
        "pro",
        P.CONVERSATION_REPLY,
        True,
        "participant",
        on=C,
        grants=({"revoked_at": "-"},),
    ),
    Case(
        "participant whose grant expired still closes",
        "pro",
        P.CONVERSATION_CLOSE,
        True,
        "participant",
        on=C,
        grants=({"until": "-"},),
    ),
    # a block takes everything, before the conversation's own state
    Case(
        "blocked participant cannot read",
        "pro",
        P.CONVERSATION_READ,
        False,
        "blocked_by_patient",
        on=C,
        grants=BLOCKED,
    ),
    Case(
        "blocked participant cannot reply",
        "pro",
        P.CONVERSATION_REPLY,
        False,
        "blocked_by_patient",
        on=C,
        grants=BLOCKED,
    ),
    Case(
        "blocked participant cannot close a closed conversation either",
        "pro",
        P.CONVERSATION_CLOSE,
        False,
        "blocked_by_patient",
        on=C,
        grants=BLOCKED,
        closed=True,
    ),
    Case(
        "participant whose block ended reads again",
        "pro",
        P.CONVERSATION_READ,
        True,
        "participant",
        on=C,
        grants=({"kind": "blocked", "until": "-"},),
    ),
    # the record's state comes first
    Case(
        "participant, closed record",
        "pro",
        P.CONVERSATION_READ,
        False,
        "record_not_active",
        on=C,
        grants=AUTH,
        record_state="closed",
    ),
    Case(
        "participant, pending record",
        "pro",
        P.CONVERSATION_REPLY,
        False,
        "record_not_active",
        on=C,
        grants=AUTH,
        record_state="pending",
    ),
    Case(
        "participant, suspended record",
        "pro",
        P.CONVERSATION_CLOSE,
        False,
        "record_not_active",
        on=C,
        grants=AUTH,
        record_state="suspended",
    ),
    # nobody else: another professional (even the médecin traitant), patient, agent
    Case(
        "authorised pro, another's conversation",
        "pro",
        P.CONVERSATION_READ,
        False,
        "not_participant",
        on=C,
        grants=AUTH,
        author="other_pro",
    ),
    Case(
        "médecin traitant, another's conversation",
        "pro",
        P.CONVERSATION_READ,
        False,
        "not_participant",
        on=C,
        grants=TRAITANT,
        author="other_pro",
    ),
    Case(
        "non-participant cannot close",
        "pro",
        P.CONVERSATION_CLOSE,
        False,
        "not_participant",
        on=C,
        grants=AUTH,
        author="other_pro",
    ),
    Case(
        "non-participant in an emergency window reads nothing",
        "pro",
        P.CONVERSATION_READ,
        False,
        "not_participant",
        on=C,
        author="other_pro",
        window=WINDOW,
    ),
    Case(
        "other patient reads nothing",
        "other_patient",
        P.CONVERSATION_READ,
        False,
        "not_own_record",
        on=C,
    ),
    Case(
        "other patient cannot reply",
        "other_patient",
        P.CONVERSATION_REPLY,
        False,
        "not_own_record",
        on=C,
    ),
    Case(
        "other patient cannot archive",
        "other_patient",
        P.CONVERSATION_ARCHIVE,
        False,
        "not_own_record",
        on=C,
    ),
    Case(
        "agent reads no conversation",
        "agent",
        P.CONVERSATION_READ,
        False,
        "agent_no_medical_content",
        on=C,
    ),
    Case(
        "agent saves no attachment",
        "agent",
        P.ATTACHMENT_SAVE,
        False,
        "agent_no_medical_content",
        on=C,
    ),
    Case(
        "anonymous reads no conversation",
        "anonymous",
        P.CONVERSATION_READ,
        False,
        "anonymous",
        on=C,
    ),
    # starting a conversation: a professional who may reach the patient, in normal mode
    Case(
        "authorised pro starts a conversation",
        "pro",
        P.MESSAGE_START,
        True,
        "authorised",
        on="patient",
        grants=AUTH,
    ),
    Case(
        "médecin traitant starts a conversation",
        "pro",
        P.MESSAGE_START,
        True,
        "medecin_traitant_rights",
        on="patient",
        grants=TRAITANT,
    ),
    Case(
        "pro with the traitant's rights starts a conversation",
        "pro",
        P.MESSAGE_START,
        True,
        "medecin_traitant_rights",
        on="patient",
        grants=DELEGATED,
    ),
    Case(
        "unauthorised pro starts no conversation",
        "pro",
        P.MESSAGE_START,
        False,
        "no_authorisation",
        on="patient",
    ),
    Case(
        "identified but unauthorised pro starts no conversation",
        "pro",
        P.MESSAGE_START,
        False,
        "no_authorisation",
        on="patient",
        identified=True,
    ),
    Case(
        "expired grant starts no conversation",
        "pro",
        P.MESSAGE_START,
        False,
        "no_authorisation",
        on="patient",
        grants=({"until": "-"},),
    ),
    Case(
        "blocked pro starts no conversation",
        "pro",
        P.MESSAGE_START,
        False,
        "blocked_by_patient",
        on="patient",
        grants=BLOCKED,
    ),
    Case(
        "emergency window starts no conversation",
        "pro",
        P.MESSAGE_START,
        False,
        "no_authorisation",
        on="patient",
        window=WINDOW,
    ),
    Case(
        "regulation window starts no conversation",
        "pro",
        P.MESSAGE_START,
        False,
        "no_authorisation",
        on="patient",
        window=REGULATION_WINDOW,
        samu_regulator=True,
    ),
    Case(
        "closed record: no new conversation",
        "pro",
        P.MESSAGE_START,
        False,
        "record_not_active",
        on="patient",
        grants=AUTH,
        record_state="closed",
    ),
    Case(
        "holder starts no conversation",
        "patient",
        P.MESSAGE_START,
        False,
        "professional_only",
        on="patient",
    ),
    Case(
        "agent starts no conversation",
        "agent",
        P.MESSAGE_START,
        False,
        "agent_no_medical_content",
        on="patient",
    ),
]


A = "appointment"
CANCELLED: dict[str, object] = {"cancelled": True}
APPOINTMENT_CASES = [
    # the holder: sees, moves and cancels her appointments, on an open record
    Case("holder reads her appointment", "patient", P.APPOINTMENT_READ, True, "own_record", on=A),
    Case("holder moves her appointment", "patient", P.APPOINTMENT_EDIT, True, "own_record", on=A),
    Case("holder cancels", "patient", P.APPOINTMENT_CANCEL, True, "own_record", on=A),
    Case("holder books", "patient", P.APPOINTMENT_CREATE, True, "own_record", on="patient"),
    Case(
        "holder keeps her reminders", "patient", P.AGENDA_MANAGE, True, "own_record", on="patient"
    ),
    Case(
        "holder of a closed record still sees her appointments",
        "patient",
        P.APPOINTMENT_READ,
        True,
        "own_record",
        on=A,
        record_state="closed",
    ),
    Case(
        "holder of a closed record moves nothing",
        "patient",
        P.APPOINTMENT_EDIT,
        False,
        "record_not_active",
        on=A,
        record_state="closed",
    ),
    Case(
        "holder of a closed record books nothing",
        "patient",
        P.APPOINTMENT_CREATE,
        False,
        "record_not_active",
        on="patient",
        record_state="closed",
    ),
    Case(
        "a cancelled appointment is read",
        "patient",
        P.APPOINTMENT_READ,
        True,
        "own_record",
        on=A,
        entry=CANCELLED,
    ),
    Case(
        "a cancelled appointment is not moved",
        "patient",
        P.APPOINTMENT_EDIT,
        False,
        "appointment_cancelled",
        on=A,
        entry=CANCELLED,
    ),
    Case(
        "a cancelled appointment is not cancelled twice",
        "pro",
        P.APPOINTMENT_CANCEL,
        False,
        "appointment_cancelled",
        on=A,
        entry=CANCELLED,
    ),
    Case(
        "another patient sees nothing",
        "other_patient",
        P.APPOINTMENT_READ,
        False,
        "not_own_record",
        on=A,
    ),
    Case(
        "an agent sees no appointment",
        "agent",
        P.APPOINTMENT_READ,
        False,
        "agent_no_medical_content",
        on=A,
    ),
    Case(
        "anonymous sees no appointment", "anonymous", P.APPOINTMENT_READ, False, "anonymous", on=A
    ),
    Case(
        "an agent books nothing",
        "agent",
        P.APPOINTMENT_CREATE,
        False,
        "agent_no_medical_content",
        on="patient",
    ),
    # the professional concerned, and no other
    Case("the professional concerned reads", "pro", P.APPOINTMENT_READ, True, "concerned", on=A),
    Case("the professional concerned moves it", "pro", P.APPOINTMENT_EDIT, True, "concerned", on=A),
    Case(
        "the professional concerned cancels", "pro", P.APPOINTMENT_CANCEL, True, "concerned", on=A
    ),
    Case(
        "an authorised professional not concerned sees nothing",
        "pro",
        P.APPOINTMENT_READ,
        False,
        "not_concerned",
        on=A,
        author="other_pro",
        grants=TRAITANT,
    ),
    Case(
        "an emergency window shows no one else's appointment",
        "pro",
        P.APPOINTMENT_READ,
        False,
        "not_concerned",
        on=A,
        author="other_pro",
        window=WINDOW,
    ),
    Case(
        "a blocked professional loses the appointment",
        "pro",
        P.APPOINTMENT_READ,
        False,
        "blocked_by_patient",
        on=A,
        grants=BLOCKED,
    ),
    Case(
        "concerned, on a closed record: nothing",
        "pro",
        P.APPOINTMENT_READ,
        False,
        "record_not_active",
        on=A,
        record_state="closed",
    ),
    Case(
        "the professional cannot keep her reminders",
        "pro",
        P.AGENDA_MANAGE,
        False,
        "patient_only",
        on="patient",
        grants=TRAITANT,
    ),
    # booking: a professional who may reach the patient, never through an emergency window
    Case("authorised books", "pro", P.APPOINTMENT_CREATE, True, "book", on="patient", grants=AUTH),
    Case(
        "identified in front of them books",
        "pro",
        P.APPOINTMENT_CREATE,
        True,
        "book",
        on="patient",
        identified=True,
    ),
    Case(
        "neither authorised nor identified books nothing",
        "pro",
        P.APPOINTMENT_CREATE,
        False,
        "no_authorisation",
        on="patient",
    ),
    Case(
        "an emergency window books nothing",
        "pro",
        P.APPOINTMENT_CREATE,
        False,
        "emergency_read_only",
        on="patient",
        window=WINDOW,
    ),
    Case(
        "blocked books nothing even identified",
        "pro",
        P.APPOINTMENT_CREATE,
        False,
        "blocked_by_patient",
        on="patient",
        grants=BLOCKED,
        identified=True,
    ),
    Case(
        "books nothing on a closed record",
        "pro",
        P.APPOINTMENT_CREATE,
        False,
        "record_not_active",
        on="patient",
        grants=AUTH,
        record_state="closed",
    ),
]

EX = P.RECORD_EXPORT
# Taking the whole record away (the ZIP, the paper copy): the holder's, while it exists.
EXPORT_CASES = [
    Case("holder takes her record away", "patient", EX, True, "own_record", on="patient"),
    Case(
        "holder of a closed record still takes it away",
        "patient",
        EX,
        True,
        "own_record",
        on="patient",
        record_state="closed",
    ),
    Case(
        "a deleted record cannot be taken away",
        "patient",
        EX,
        False,
        "record_deleted",
        on="patient",
        record_state="deleted",
    ),
    Case(
        "another patient takes nothing away",
        "other_patient",
        EX,
        False,
        "not_own_record",
        on="patient",
    ),
    Case(
        "an agent takes nothing away", "agent", EX, False, "agent_no_medical_content", on="patient"
    ),
    Case(
        "the médecin traitant takes nothing away",
        "pro",
        EX,
        False,
        "patient_only",
        on="patient",
        grants=DELEGATED,
    ),
]

RB = P.REIMBURSEMENT_LIST
# The reimbursement history the insurer feeds (SPEC §8b): the holder's; a professional's only
# where the matrix grants its resource, which no starter row does.
REIMBURSEMENT_CASES = [
    Case("holder reads her reimbursements", "patient", RB, True, "own_record", on="patient"),
    Case(
        "holder of a closed record still reads her reimbursements",
        "patient",
        RB,
        True,
        "own_record",
        on="patient",
        record_state="closed",
    ),
    Case(
        "holder of a pending record reads her reimbursements",
        "patient",
        RB,
        True,
        "own_record",
        on="patient",
        record_state="pending",
    ),
    Case(
        "a deleted record shows no reimbursement",
        "patient",
        RB,
        False,
        "record_deleted",
        on="patient",
        record_state="deleted",
    ),
    Case(
        "another patient reads none of hers",
        "other_patient",
        RB,
        False,
        "not_own_record",
        on="patient",
    ),
    Case(
        "an agent reads no reimbursement",
        "agent",
        RB,
        False,
        "agent_no_medical_content",
        on="patient",
    ),
    Case("nobody signed in reads none", "anonymous", RB, False, "anonymous", on="patient"),
    Case(
        "an authorised GP: no matrix row for reimbursements",
        "pro",
        RB,
        False,
        "matrix",
        on="patient",
        grants=AUTH,
    ),
    Case(
        "the médecin traitant: no matrix row either",
        "pro",
        RB,
        False,
        "matrix",
        on="patient",
        grants=TRAITANT,
    ),
    Case(
        "a médecin traitant with full rights: still the matrix",
        "pro",
        RB,
        False,
        "matrix",
        on="patient",
        grants=DELEGATED,
    ),
    Case(
        "an authorised pharmacist: no matrix row for reimbursements",
        "pro",
        RB,
        False,
        "matrix",
        on="patient",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
    ),
    Case(
        "a professional without authorisation reads none",
        "pro",
        RB,
        False,
        "no_authorisation",
        on="patient",
    ),
    Case(
        "a blocked professional reads none",
        "pro",
        RB,
        False,
        "blocked_by_patient",
        on="patient",
        grants=BLOCKED,
    ),
    Case(
        "an emergency window opens no reimbursement",
        "pro",
        RB,
        False,
        "no_authorisation",
        on="patient",
        window=WINDOW,
    ),
    Case(
        "a closed record shows a professional none",
        "pro",
        RB,
        False,
        "record_not_active",
        on="patient",
        grants=AUTH,
        record_state="closed",
    ),
]

CASES = [
    # the record holder
    Case("holder reads", "patient", P.DOCUMENT_READ, True, "own_record"),
    Case("holder downloads", "patient", P.DOCUMENT_DOWNLOAD, True, "own_record"),
    Case("other patient reads", "other_patient", P.DOCUMENT_READ, False, "not_own_record"),
    Case(
        "other patient lists",
        "other_patient",
        P.DOCUMENT_LIST,
        False,
        "not_own_record",
        on="patient",
    ),
    Case(
        "held document read",
        "patient",
        P.DOCUMENT_READ,
        False,
        "held_for_announcement",
        doc={"hidden_from_patient_until": "+"},
    ),
    Case(
        "held document download",
        "patient",
        P.DOCUMENT_DOWNLOAD,
        False,
        "held_for_announcement",
        doc={"hidden_from_patient_until": "+"},
    ),
    Case(
        "hold over",
        "patient",
        P.DOCUMENT_READ,
        True,
        "own_record",
        doc={"hidden_from_patient_until": "-"},
    ),
    Case(
        "a held document cannot even be deleted by the holder",
        "patient",
        P.DOCUMENT_DELETE,
        False,
        "held_for_announcement",
        doc={"hidden_from_patient_until": "+"},
    ),
    Case(
        "a held document cannot be masked by the holder",
        "patient",
        P.DOCUMENT_MASK,
        False,
        "held_for_announcement",
        doc={"hidden_from_patient_until": "+"},
    ),
    Case("holder masks", "patient", P.DOCUMENT_MASK, True, "own_record"),
    Case("holder deletes", "patient", P.DOCUMENT_DELETE, True, "own_record"),
    Case("holder replaces own deposit", "patient", P.DOCUMENT_REPLACE, True, "own_record"),
    Case(
        "holder cannot replace a doctor's report",
        "patient",
        P.DOCUMENT_REPLACE,
        False,
        "not_author",
        author="pro",
    ),
    Case(
        "deleted document",
        "patient",
        P.DOCUMENT_READ,
        False,
        "document_deleted",
        doc={"state": "deleted"},
    ),
    Case(
        "earlier version readable",
        "patient",
        P.DOCUMENT_READ,
        True,
        "own_record",
        doc={"state": "superseded"},
    ),
    Case(
        "earlier version not maskable",
        "patient",
        P.DOCUMENT_MASK,
        False,
        "not_current_version",
        doc={"state": "superseded"},
    ),
    Case(
        "deleted record",
        "patient",
        P.DOCUMENT_LIST,
        False,
        "record_deleted",
        on="patient",
        record_state="deleted",
    ),
    Case("holder lists", "patient", P.DOCUMENT_LIST, True, "own_record", on="patient"),
    Case("holder adds", "patient", P.DOCUMENT_CREATE, True, "own_record", on="patient"),
    Case("holder reads history", "patient", P.HISTORY_READ, True, "own_record", on="patient"),
    # professionals: rules 1 to 7 in order
    Case("no authorisation", "pro", P.DOCUMENT_READ, False, "no_authorisation"),
    Case("authorised", "pro", P.DOCUMENT_READ, True, "authorised", grants=AUTH),
    Case("authorised download", "pro", P.DOCUMENT_DOWNLOAD, True, "authorised", grants=AUTH),
    Case(
        "masked from authorised",
        "pro",
        P.DOCUMENT_READ,
        False,
        "masked",
        grants=AUTH,
        doc={"masked_from_pros": True},
    ),
    Case(
        "médecin traitant sees masked",
        "pro",
        P.DOCUMENT_READ,
        True,
        "medecin_traitant_rights",
        grants=TRAITANT,
        doc={"masked_from_pros": True},
    ),
    Case(
        "block beats traitant",
        "pro",
        P.DOCUMENT_READ,
        False,
        "blocked_by_patient",
        grants=({"traitant": True}, {"kind": "blocked"}),
    ),
    Case(
        "block beats authorship",
        "pro",
        P.DOCUMENT_READ,
        False,
        "blocked_by_patient",
        author="pro",
        grants=({"kind": "blocked"},),
    ),
    Case(
        "closed record",
        "pro",
        P.DOCUMENT_READ,
        False,
        "record_not_active",
        grants=TRAITANT,
        record_state="closed",
    ),
    Case(
        "pending record",
        "pro",
        P.DOCUMENT_LIST,
        False,
        "record_not_active",
        on="patient",
        grants=AUTH,
        record_state="pending",
    ),
    Case(
        "state before block",
        "pro",
        P.DOCUMENT_READ,
        False,
        "record_not_active",
        grants=({"kind": "blocked"},),
        record_state="suspended",
    ),
    Case("author without authorisation", "pro", P.DOCUMENT_READ, True, "author", author="pro"),
    Case(
        "author of a masked document",
        "pro",
        P.DOCUMENT_READ,
        True,
        "author",
        author="pro",
        grants=AUTH,
        doc={"masked_from_pros": True},
    ),
    Case(
        "expired authorisation",
        "pro",
        P.DOCUMENT_READ,
        False,
        "no_authorisation",
        grants=({"until": "-"},),
    ),
    Case(
        "authorisation until later",
        "pro",
        P.DOCUMENT_READ,
        True,
        "authorised",
        grants=({"until": "+"},),
    ),
    Case(
        "revoked authorisation",
        "pro",
        P.DOCUMENT_READ,
        False,
        "no_authorisation",
        grants=({"revoked_at": "-"},),
    ),
    Case(
        "emergency mode not open",
        "pro",
        P.DOCUMENT_READ,
        False,
        "mode_not_open",
        grants=AUTH,
        mode=Mode.EMERGENCY,
    ),
    Case("pro cannot mask", "pro", P.DOCUMENT_MASK, False, "patient_only", grants=TRAITANT),
    Case(
        "pro cannot delete",
        "pro",
        P.DOCUMENT_DELETE,
        False,
        "patient_only",
        grants=TRAITANT,
        author="pro",
    ),
    Case(
        "pro cannot read the history",
        "pro",
        P.HISTORY_READ,
        False,
        "patient_only",
        on="patient",
        grants=TRAITANT,
    ),
    Case("author replaces", "pro", P.DOCUMENT_REPLACE, True, "author", author="pro", grants=AUTH),
    Case(
        "non-author cannot replace",
        "pro",
        P.DOCUMENT_REPLACE,
        False,
        "not_author",
        grants=TRAITANT,
        author="other_pro",
    ),
    Case(
        "deleted document for pro",
        "pro",
        P.DOCUMENT_READ,
        False,
        "document_deleted",
        grants=TRAITANT,
        doc={"state": "deleted"},
    ),
    Case("authorised lists", "pro", P.DOCUMENT_LIST, True, "authorised", on="patient", grants=AUTH),
    Case(
        "traitant lists",
        "pro",
        P.DOCUMENT_LIST,
        True,
        "medecin_traitant_rights",
        on="patient",
        grants=TRAITANT,
    ),
    # rule 7: the list of an author without authorisation holds their own deposits
    Case("unauthorised lists", "pro", P.DOCUMENT_LIST, True, "own_deposits", on="patient"),
    # the matrix (rule 5)
    Case(
        "podiatrist, childbirth report",
        "pro",
        P.DOCUMENT_READ,
        False,
        "matrix",
        grants=AUTH,
        profession="pedicure_podologue",
        specialty=None,
        doc={"type_code": "15508-5", "category": "comptes_rendus"},
    ),
    Case(
        "dentist, advance directives",
        "pro",
        P.DOCUMENT_READ,
        False,
        "matrix",
        grants=AUTH,
        profession="chirurgien_dentiste",
        specialty=None,
        doc={"type_code": "42348-3", "category": "ma_sante"},
    ),
    Case(
        "dentist, lab report",
        "pro",
        P.DOCUMENT_READ,
        True,
        "authorised",
        grants=AUTH,
        profession="chirurgien_dentiste",
        specialty=None,
    ),
    Case(
        "pharmacist, imaging",
        "pro",
        P.DOCUMENT_READ,
        False,
        "matrix",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
        doc={"type_code": "18748-4", "category": "imagerie"},
    ),
    Case(
        "pharmacist, prescription",
        "pro",
        P.DOCUMENT_DOWNLOAD,
        True,
        "authorised",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
        doc={"type_code": "57833-6", "category": "ordonnances"},
    ),
    Case(
        "physiotherapist, lab report",
        "pro",
        P.DOCUMENT_READ,
        False,
        "matrix",
        grants=AUTH,
        profession="masseur_kinesitherapeute",
        specialty=None,
    ),
    Case(
        "matrix before masking",
        "pro",
        P.DOCUMENT_READ,
        False,
        "matrix",
        grants=AUTH,
        profession="masseur_kinesitherapeute",
        specialty=None,
        doc={"masked_from_pros": True},
    ),
    Case(
        "traitant rights beat the matrix",
        "pro",
        P.DOCUMENT_READ,
        True,
        "medecin_traitant_rights",
        grants=TRAITANT,
        profession="chirurgien_dentiste",
        specialty=None,
        doc={"type_code": "42348-3", "category": "ma_sante"},
    ),
    # the announcement hold: only its author ends it
    Case(
        "author releases a held result",
        "pro",
        P.DOCUMENT_RELEASE,
        True,
        "author",
        author="pro",
        doc={"hidden_from_patient_until": "+"},
    ),
    Case(
        "another professional cannot release",
        "pro",
        P.DOCUMENT_RELEASE,
        False,
        "not_author",
        author="other_pro",
        grants=TRAITANT,
        doc={"hidden_from_patient_until": "+"},
    ),
    # nobody else
    Case("agent, document", "agent", P.DOCUMENT_READ, False, "agent_no_medical_content"),
    Case("agent, list", "agent", P.DOCUMENT_LIST, False, "agent_no_medical_content", on="patient"),
    Case("anonymous", "anonymous", P.DOCUMENT_READ, False, "anonymous"),
    # the profile, section by section (SectionOf)
    Case("holder reads a section", "patient", S, True, "own_record", on="section:wishes"),
    Case(
        "other patient reads a section",
        "other_patient",
        S,
        False,
        "not_own_record",
        on="section:allergies",
    ),
    Case(
        "holder of a deleted record reads a section",
        "patient",
        S,
        False,
        "record_deleted",
        on="section:allergies",
        record_state="deleted",
    ),
    Case(
        "agent reads a section", "agent", S, False, "agent_no_medical_content", on="section:people"
    ),
    Case(
        "unauthorised pro reads a section",
        "pro",
        S,
        False,
        "no_authorisation",
        on="section:allergies",
    ),
    Case(
        "médecin traitant reads the wishes",
        "pro",
        S,
        True,
        "medecin_traitant_rights",
        on="section:wishes",
        grants=TRAITANT,
    ),
    Case(
        "delegated traitant rights beat the matrix on a section",
        "pro",
        S,
        True,
        "medecin_traitant_rights",
        on="section:wishes",
        grants=DELEGATED,
        profession="chirurgien_dentiste",
        specialty=None,
    ),
    Case(
        "blocked pro reads a section",
        "pro",
        S,
        False,
        "blocked_by_patient",
        on="section:allergies",
        grants=({"traitant": True}, {"kind": "blocked"}),
    ),
    Case(
        "section of a closed record",
        "pro",
        S,
        False,
        "record_not_active",
        on="section:allergies",
        grants=TRAITANT,
        record_state="closed",
    ),
    Case(
        "a section is read, never downloaded",
        "pro",
        D,
        False,
        "no_rule",
        on="section:allergies",
        grants=TRAITANT,
    ),
    # authorisations: permanent, time-limited, expired, revoked, delegated, blocked
    Case(
        "authorised opens the record",
        "pro",
        P.RECORD_READ,
        True,
        "authorised",
        on="patient",
        grants=AUTH,
    ),
    Case(
        "traitant opens the record",
        "pro",
        P.RECORD_READ,
        True,
        "medecin_traitant_rights",
        on="patient",
        grants=TRAITANT,
    ),
    Case(
        "time-limited grant opens the record",
        "pro",
        P.RECORD_READ,
        True,
        "authorised",
        on="patient",
        grants=({"until": "+"},),
    ),
    Case(
        "expired grant opens nothing",
        "pro",
        P.RECORD_READ,
        False,
        "no_authorisation",
        on="patient",
        grants=({"until": "-"},),
    ),
    Case(
        "expired grant lists own deposits only",
        "pro",
        P.DOCUMENT_LIST,
        True,
        "own_deposits",
        on="patient",
        grants=({"until": "-"},),
    ),
    Case(
        "expired grant reads no section",
        "pro",
        S,
        False,
        "no_authorisation",
        on="section:allergies",
        grants=({"until": "-"},),
    ),
    Case(
        "revoked grant opens nothing",
        "pro",
        P.RECORD_READ,
        False,
        "no_authorisation",
        on="patient",
        grants=({"revoked_at": "-"},),
    ),
    Case(
        "revoked traitant downloads nothing",
        "pro",
        D,
        False,
        "no_authorisation",
        grants=({"traitant": True, "revoked_at": "-"},),
    ),
    Case(
        "revoked then granted again",
        "pro",
        R,
        True,
        "authorised",
        grants=({"revoked_at": "-"}, {}),
    ),
    Case(
        "expired traitant rights",
        "pro",
        R,
        False,
        "masked",
        doc={"masked_from_pros": True},
        grants=({"traitant_rights": True, "until": "-"}, {}),
    ),
    Case(
        "block beats authorisation",
        "pro",
        R,
        False,
        "blocked_by_patient",
        grants=({}, {"kind": "blocked"}),
    ),
    Case(
        "block beats a time-limited grant on the record",
        "pro",
        P.RECORD_READ,
        False,
        "blocked_by_patient",
        on="patient",
        grants=({"until": "+"}, {"kind": "blocked"}),
    ),
    Case(
        "block beats delegated traitant rights",
        "pro",
        P.DOCUMENT_LIST,
        False,
        "blocked_by_patient",
        on="patient",
        grants=({"traitant_rights": True}, {"kind": "blocked"}),
    ),
    Case(
        "a lifted block no longer counts",
        "pro",
        R,
        True,
        "authorised",
        grants=({"kind": "blocked", "revoked_at": "-"}, {}),
    ),
    Case(
        "blocked pro cannot replace its own deposit",
        "pro",
        P.DOCUMENT_REPLACE,
        False,
        "blocked_by_patient",
        author="pro",
        grants=BLOCKED,
    ),
    # masking and authorship
    Case(
        "delegated traitant rights see masked",
        "pro",
        R,
        True,
        "medecin_traitant_rights",
        grants=DELEGATED,
        profession="medecin",
        specialty="cardiologie",
        doc={"masked_from_pros": True},
    ),
    Case(
        "médecin traitant downloads masked",
        "pro",
        D,
        True,
        "medecin_traitant_rights",
        grants=TRAITANT,
        doc={"masked_from_pros": True},
    ),
    Case(
        "masked from an authorised download",
        "pro",
        D,
        False,
        "masked",
        grants=({"until": "+"},),
        doc={"masked_from_pros": True},
    ),
    Case(
        "author sees own masked document without grant",
        "pro",
        R,
        True,
        "author",
        author="pro",
        doc={"masked_from_pros": True},
    ),
    Case(
        "author downloads own document despite the matrix",
        "pro",
        D,
        True,
        "author",
        author="pro",
        grants=AUTH,
        profession="pharmacien",
        specialty=None,
        doc={"type_code": "18748-4", "category": "imagerie"},
    ),
    Case("another pro's document", "pro", R, False, "no_authorisation", author="other_pro"),
    # held from the patient (announcement): only the holder is kept waiting
    Case(
        "held document listed to the holder",
        "patient",
        P.DOCUMENT_LIST,
        True,
        "own_record",
        on="patient",
    ),
    Case(
        "authorised pro reads a held document",
        "pro",
        R,
        True,
        "authorised",
        grants=AUTH,
        author="other_pro",
        doc={"hidden_from_patient_until": "+"},
    ),
    Case(
        "traitant downloads a held document",
        "pro",
        D,
        True,
        "medecin_traitant_rights",
        grants=TRAITANT,
        author="other_pro",
        doc={"hidden_from_patient_until": "+"},
    ),
    Case(
        "author reads its held deposit",
        "pro",
        R,
        True,
        "author",
        author="pro",
        doc={"hidden_from_patient_until": "+"},
    ),
    Case(
        "nothing to release once the hold is over",
        "pro",
        P.DOCUMENT_RELEASE,
        False,
        "not_held",
        author="pro",
        doc={"hidden_from_patient_until": "-"},
    ),
    Case(
        "holder cannot release",
        "patient",
        P.DOCUMENT_RELEASE,
        False,
        "professional_only",
        doc={"hidden_from_patient_until": "+"},
    ),
    # deposit, declared consent, managing access
    Case(
        "unauthorised pro deposits for a patient identified",
        "pro",
        P.DOCUMENT_CREATE,
        True,
        "deposit",
        on="patient",
        identified=True,
    ),
    Case(
        "unauthorised pro cannot deposit without identifying the patient",
        "pro",
        P.DOCUMENT_CREATE,
        False,
        "no_authorisation",
        on="patient",
    ),
    Case(
        "authorised pro deposits without identifying again",
        "pro",
        P.DOCUMENT_CREATE,
        True,
        "deposit",
        on="patient",
        grants=AUTH,
    ),
    Case(
        "pharmacist deposits",
        "pro",
        P.DOCUMENT_CREATE,
        True,
        "deposit",
        on="patient",
        profession="pharmacien",
        specialty=None,
        identified=True,
    ),
    Case(
        "blocked pro cannot deposit even identified",
        "pro",
        P.DOCUMENT_CREATE,
        False,
        "blocked_by_patient",
        on="patient",
        grants=BLOCKED,
        identified=True,
    ),
    # the ways into a record (RECORD_REACH): identified in this session, or readable already
    Case(
        "identified pro reaches",
        "pro",
        P.RECORD_REACH,
        True,
        "identified",
        on="patient",
        identified=True,
    ),
    Case(
        "authorised pro reaches",
        "pro",
        P.RECORD_REACH,
        True,
        "authorised",
        on="patient",
        grants=AUTH,
    ),
    Case("window reaches", "pro", P.RECORD_REACH, True, "emergency", on="patient", window=WINDOW),
    Case(
        "unidentified pro does not reach",
        "pro",
        P.RECORD_REACH,
        False,
        "no_authorisation",
        on="patient",
    ),
    Case(
        "blocked pro reaches the ways in once identified",
        "pro",
        P.RECORD_REACH,
        True,
        "identified",
        on="patient",
        grants=BLOCKED,
        identified=True,
    ),
    Case(
        "blocked pro does not reach unidentified",
        "pro",
        P.RECORD_REACH,
        False,
        "blocked_by_patient",
        on="patient",
        grants=BLOCKED,
    ),
    Case(
        "closed record not reached",
        "pro",
        P.RECORD_REACH,
        False,
        "record_not_active",
        on="patient",
        record_state="closed",
        identified=True,
    ),
    Case(
        "holder does not reach", "patient", P.RECORD_REACH, False, "professional_only", on="patient"
    ),
    Case(
        "agent does not reach",
        "agent",
        P.RECORD_REACH,
        False,
        "agent_no_medical_content",
        on="patient",
    ),
    Case(
        "blocked pro cannot deposit",
        "pro",
        P.DOCUMENT_CREATE,
        False,
        "blocked_by_patient",
        on="patient",
        grants=BLOCKED,
    ),
    Case(
        "no deposit in a closed record",
        "pro",
        P.DOCUMENT_CREATE,
        False,
        "record_not_active",
        on="patient",
        record_state="closed",
    ),
    Case(
        "pro declares consent",
        "pro",
        P.CONSENT_DECLARE,
        True,
        "declared_consent",
        on="patient",
        identified=True,
    ),
    Case(
        "pro cannot declare consent for a patient not identified",
        "pro",
        P.CONSENT_DECLARE,
        False,
        "not_identified",
        on="patient",
    ),
    Case(
        "nurse declares consent",
        "pro",
        P.CONSENT_DECLARE,
        True,
        "declared_consent",
        on="patient",
        profession="infirmier",
        specialty=None,
        identified=True,
    ),
    Case(
        "occupational physician cannot declare consent",
        "pro",
        P.CONSENT_DECLARE,
        False,
        "express_grant_only",
        on="patient",
        specialty="medecine_du_travail",
    ),
    Case(
        "fire-brigade doctor cannot declare consent",
        "pro",
        P.CONSENT_DECLARE,
        False,
        "express_grant_only",
        on="patient",
        specialty="medecin_sapeur_pompier",
    ),
    Case(
        "blocked pro cannot declare consent",
        "pro",
        P.CONSENT_DECLARE,
        False,
        "blocked_by_patient",
        on="patient",
        grants=BLOCKED,
    ),
    Case(
        "holder cannot declare consent",
        "patient",
        P.CONSENT_DECLARE,
        False,
        "professional_only",
        on="patient",
    ),
    Case("holder manages access", "patient", P.ACCESS_MANAGE, True, "own_record", on="patient"),
    Case(
        "other patient manages access",
        "other_patient",
        P.ACCESS_MANAGE,
        False,
        "not_own_record",
        on="patient",
    ),
    Case(
        "pro cannot manage access",
        "pro",
        P.ACCESS_MANAGE,
        False,
        "patient_only",
        on="patient",
        grants=TRAITANT,
    ),
    Case(
        "holder does not open the pro record page",
        "patient",
        P.RECORD_READ,
        False,
        "professional_only",
        on="patient",
    ),
    Case(
        "unauthorised pro opens nothing",
        "pro",
        P.RECORD_READ,
        False,
        "no_authorisation",
        on="patient",
    ),
    Case("record permission on a document", "pro", P.RECORD_READ, False, "no_rule", grants=AUTH),
    Case("document permission on a record", "pro", R, False, "no_rule", on="patient", grants=AUTH),
    # opening an emergency window (EMERGENCY_OPEN)
    Case(
        "break the glass",
        "pro",
        P.EMERGENCY_OPEN,
        True,
        "emergency",
        on="patient",
        mode=Mode.EMERGENCY,
    ),
    Case(
        "a nurse breaks the glass",
        "pro",
        P.EMERGENCY_OPEN,
        True,
        "emergency",
        on="patient",
        mode=Mode.EMERGENCY,
        profession="infirmier",
        specialty=None,
    ),
    Case(
        "SAMU regulation",
        "pro",
        P.EMERGENCY_OPEN,
        True,
        "regulation",
        on="patient",
        mode=Mode.REGULATION,
        specialty="medecine_urgence",
        samu_regulator=True,
    ),
    Case(
        "regulation by a non-regulator",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "not_regulator",
        on="patient",
        mode=Mode.REGULATION,
        specialty="medecine_urgence",
    ),
    Case(
        "break the glass, patient opposed",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "opposed_emergency",
        on="patient",
        mode=Mode.EMERGENCY,
        patient_flags=OPPOSES_EMERGENCY,
    ),
    Case(
        "regulation, patient opposed to regulation",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "opposed_regulation",
        on="patient",
        mode=Mode.REGULATION,
        samu_regulator=True,
        patient_flags=OPPOSES_REGULATION,
    ),
    Case(
        "opposing break the glass leaves regulation",
        "pro",
        P.EMERGENCY_OPEN,
        True,
        "regulation",
        on="patient",
        mode=Mode.REGULATION,
        samu_regulator=True,
        patient_flags=OPPOSES_EMERGENCY,
    ),
    Case(
        "opposing regulation leaves break the glass",
        "pro",
        P.EMERGENCY_OPEN,
        True,
        "emergency",
        on="patient",
        mode=Mode.EMERGENCY,
        samu_regulator=True,
        patient_flags=OPPOSES_REGULATION,
    ),
    Case(
        "opposed to both",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "opposed_regulation",
        on="patient",
        mode=Mode.REGULATION,
        samu_regulator=True,
        patient_flags={"oppose_emergency_access": True, "oppose_regulation_access": True},
    ),
    Case(
        "blocked pro cannot break the glass",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "blocked_by_patient",
        on="patient",
        mode=Mode.EMERGENCY,
        grants=BLOCKED,
    ),
    Case(
        "blocked regulator cannot regulate",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "blocked_by_patient",
        on="patient",
        mode=Mode.REGULATION,
        samu_regulator=True,
        grants=BLOCKED,
    ),
    Case(
        "no emergency on a closed record",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "record_not_active",
        on="patient",
        mode=Mode.EMERGENCY,
        record_state="closed",
    ),
    Case(
        "no regulation on a suspended record",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "record_not_active",
        on="patient",
        mode=Mode.REGULATION,
        samu_regulator=True,
        record_state="suspended",
    ),
    Case(
        "occupational physician cannot break the glass",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "express_grant_only",
        on="patient",
        mode=Mode.EMERGENCY,
        specialty="medecine_du_travail",
    ),
    Case(
        "fire-brigade regulator cannot regulate",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "express_grant_only",
        on="patient",
        mode=Mode.REGULATION,
        specialty="medecin_sapeur_pompier",
        samu_regulator=True,
    ),
    Case(
        "emergency open in normal mode",
        "pro",
        P.EMERGENCY_OPEN,
        False,
        "no_rule",
        on="patient",
    ),
    Case(
        "holder cannot break the glass",
        "patient",
        P.EMERGENCY_OPEN,
        False,
        "professional_only",
        on="patient",
        mode=Mode.EMERGENCY,
    ),
    Case(
        "agent cannot break the glass",
        "agent",
        P.EMERGENCY_OPEN,
        False,
        "agent_no_medical_content",
        on="patient",
        mode=Mode.EMERGENCY,
    ),
    # inside an open emergency window: read-only, matrix applies, masked never shown
    Case("window: record", "pro", P.RECORD_READ, True, "emergency", on="patient", window=WINDOW),
    Case("window: list", "pro", P.DOCUMENT_LIST, True, "emergency", on="patient", window=WINDOW),
    Case("window: read", "pro", R, True, "emergency", window=WINDOW),
    Case("window: section", "pro", S, True, "emergency", on="section:wishes", window=WINDOW),
    Case(
        "regulation window: record",
        "pro",
        P.RECORD_READ,
        True,
        "regulation",
        on="patient",
        window=REGULATION_WINDOW,
        samu_regulator=True,
    ),
    Case(
        "regulation window: list",
        "pro",
        P.DOCUMENT_LIST,
        True,
        "regulation",
        on="patient",
        window=REGULATION_WINDOW,
        samu_regulator=True,
    ),
    Case(
        "regulation window: read",
        "pro",
        R,
        True,
        "regulation",
        window=REGULATION_WINDOW,
        samu_regulator=True,
    ),
    Case(
        "regulation window: section",
        "pro",
        S,
        True,
        "regulation",
        on="section:allergies",
        window=REGULATION_WINDOW,
        samu_regulator=True,
    ),
    Case(
        "window: the matrix still applies",
        "pro",
        R,
        False,
        "matrix",
        window=WINDOW,
        profession="pharmacien",
        specialty=None,
        doc={"type_code": "18748-4", "category": "imagerie"},
    ),
    Case(
        "window: the matrix applies to sections",
        "pro",
        S,
        False,
        "matrix",
        on="section:wishes",
        window=WINDOW,
        profession="chirurgien_dentiste",
        specialty=None,
    ),
    Case(
        "window: a nurse reads the directives",
        "pro",
        R,
        True,
        "emergency",
        window=WINDOW,
        profession="infirmier",
        specialty=None,
        doc={"type_code": "42348-3", "category": "ma_sante"},
    ),
    Case(
        "window: masked never shown",
        "pro",
        R,
        False,
        "masked",
        window=WINDOW,
        doc={"masked_from_pros": True},
    ),
    Case(
        "regulation window: masked never shown",
        "pro",
        R,
        False,
        "masked",
        window=REGULATION_WINDOW,
        samu_regulator=True,
        doc={"masked_from_pros": True},
    ),
    Case("window: no download", "pro", D, False, "emergency_read_only", window=WINDOW),
    Case(
        "regulation window: no download",
        "pro",
        D,
        False,
        "emergency_read_only",
        window=REGULATION_WINDOW,
        samu_regulator=True,
    ),
    Case(
        "window: no replacing another's document",
        "pro",
        P.DOCUMENT_REPLACE,
        False,
        "not_author",
        window=WINDOW,
    ),
    Case(
        "window: the author still replaces its own",
        "pro",
        P.DOCUMENT_REPLACE,
        True,
        "author",
        author="pro",
        window=WINDOW,
    ),
    Case(
        "window: the author still downloads its own",
        "pro",
        D,
        True,
        "author",
        author="pro",
        window=WINDOW,
    ),
    Case(
        "window: no releasing another's hold",
        "pro",
        P.DOCUMENT_RELEASE,
        False,
        "not_author",
        author="other_pro",
        window=WINDOW,
        doc={"hidden_from_patient_until": "+"},
    ),
    Case(
        "window: no history",
        "pro",
        P.HISTORY_READ,
        False,
        "patient_only",
        on="patient",
        window=WINDOW,
    ),
    Case(
        "window: no masking",
        "pro",
        P.DOCUMENT_MASK,
        False,
        "patient_only",
        window=WINDOW,
    ),
    Case(
        "window: deposit as anyone may",
        "pro",
        P.DOCUMENT_CREATE,
        True,
        "deposit",
        on="patient",
        window=WINDOW,
    ),
    Case(
        "window: a grant comes first",
        "pro",
        P.RECORD_READ,
        True,
        "authorised",
        on="patient",
        grants=AUTH,
        window=WINDOW,
    ),
    Case(
        "window: expired",
        "pro",
        P.RECORD_READ,
        False,
        "no_authorisation",
        on="patient",
        window={"mode": "emergency", "expires_at": "-"},
    ),
    Case(
        "window: expired, no document",
        "pro",
        R,
        False,
        "no_authorisation",
        window={"mode": "emergency", "expires_at": "-"},
    ),
    Case(
        "window: ended, the list holds own deposits only",
        "pro",
        P.DOCUMENT_LIST,
        True,
        "own_deposits",
        on="patient",
        window={"mode": "emergency", "ended_at": "-"},
    ),
    Case(
        "regulation window: ended",
        "pro",
        R,
        False,
        "no_authorisation",
        window={"mode": "regulation", "ended_at": "-"},
        samu_regulator=True,
    ),
    Case(
        "window: another professional's",
        "pro",
        P.RECORD_READ,
        False,
        "no_authorisation",
        on="patient",
        window={"mode": "emergency", "holder": "other_pro"},
    ),
    Case(
        "window: the patient opposes after it opened",
        "pro",
        P.RECORD_READ,
        False,
        "opposed_emergency",
        on="patient",
        window=WINDOW,
        patient_flags=OPPOSES_EMERGENCY,
    ),
    Case(
        "window: opposition hides documents at once",
        "pro",
        R,
        False,
        "opposed_emergency",
        window=WINDOW,
        patient_flags=OPPOSES_EMERGENCY,
    ),
    Case(
        "regulation window: the patient opposes after it opened",
        "pro",
        S,
        False,
        "opposed_regulation",
        on="section:allergies",
        window=REGULATION_WINDOW,
        samu_regulator=True,
        patient_flags=OPPOSES_REGULATION,
    ),
    Case(
        "regulation window: opposing break the glass changes nothing",
        "pro",
        P.RECORD_READ,
        True,
        "regulation",
        on="patient",
        window=REGULATION_WINDOW,
        samu_regulator=True,
        patient_flags=OPPOSES_EMERGENCY,
    ),
    Case(
        "window: block beats it",
        "pro",
        P.RECORD_READ,
        False,
        "blocked_by_patient",
        on="patient",
        window=WINDOW,
        grants=BLOCKED,
    ),
    Case(
        "window: closed record",
        "pro",
        R,
        False,
        "record_not_active",
        window=WINDOW,
        record_state="closed",
    ),
    # each role's own pages, and the agent on every permission
    Case("pro workspace", "pro", P.PRO_WORKSPACE, True, "role", on="none"),
    Case("patient dashboard", "patient", P.DASHBOARD_PATIENT, True, "role", on="none"),
    Case("patient in the counter", "patient", P.COUNTER_WORKSPACE, False, "wrong_role", on="none"),
    Case("pro settings", "pro", P.SETTINGS_MANAGE, True, "own_account", on="none"),
    Case("anonymous settings", "anonymous", P.SETTINGS_MANAGE, False, "anonymous", on="none"),
    Case("agent settings", "agent", P.SETTINGS_MANAGE, True, "own_account", on="none"),
    Case("agent counter", "agent", P.COUNTER_WORKSPACE, True, "role", on="none"),
    Case("agent pro workspace", "agent", P.PRO_WORKSPACE, False, "wrong_role", on="none"),
    Case("agent dashboard", "agent", P.DASHBOARD_PATIENT, False, "wrong_role", on="none"),
    Case(
        "agent, history",
        "agent",
        P.HISTORY_READ,
        False,
        "agent_no_medical_content",
        on="patient",
    ),
    Case(
        "agent, deposit",
        "agent",
        P.DOCUMENT_CREATE,
        False,
        "agent_no_medical_content",
        on="patient",
    ),
    Case("agent, download", "agent", D, False, "agent_no_medical_content"),
    Case("agent, replace", "agent", P.DOCUMENT_REPLACE, False, "agent_no_medical_content"),
    Case("agent, mask", "agent", P.DOCUMENT_MASK, False, "agent_no_medical_content"),
    Case("agent, delete", "agent", P.DOCUMENT_DELETE, False, "agent_no_medical_content"),
    Case(
        "agent, release",
        "agent",
        P.DOCUMENT_RELEASE,
        False,
        "agent_no_medical_content",
        doc={"hidden_from_patient_until": "+"},
    ),
    Case("agent, record", "agent", P.RECORD_READ, False, "agent_no_medical_content", on="patient"),
    Case(
        "agent, manage access",
        "agent",
        P.ACCESS_MANAGE,
        False,
        "agent_no_medical_content",
        on="patient",
    ),
    Case(
        "agent, declare consent",
        "agent",
        P.CONSENT_DECLARE,
        False,
        "agent_no_medical_content",
        on="patient",
    ),
    # the matrix, profession by profession (MATRIX above)
    *(_matrix(*row) for row in MATRIX),
    # writing the profile, and its entries one by one (PROFILE_CASES above)
    *PROFILE_CASES,
    # secure messaging (CONVERSATION_CASES above)
    *CONVERSATION_CASES,
    # the agenda (APPOINTMENT_CASES above)
    *APPOINTMENT_CASES,
    # the reimbursement history (REIMBURSEMENT_CASES above)
    *REIMBURSEMENT_CASES,
    # taking the record away (EXPORT_CASES above)
    *EXPORT_CASES,
]


def _when(value: object) -> object:
    if value == "+":
        return clock.now() + HOUR
    if value == "-":
        return clock.now() - HOUR
    return value


def _open_window(values: dict[str, object], patient: Patient, owner: Account) -> None:
    """An emergency window as emergency.open_window leaves it."""
    assert owner.professional is not None
    over = values.get("expires_at") == "-" or values.get("ended_at") is not None
    db.session.add(
        EmergencyAccess(
            patient_id=patient.id,
            professional_id=owner.professional.id,
            account_id=owner.id,
            mode=values["mode"],
            reason_code="unconscious",
            justification="Patient inconscient, aucun proche joignable, traitement inconnu.",
            opened_at=clock.now() - (2 * HOUR if over else timedelta(minutes=10)),
            expires_at=_when(values.get("expires_at", "+")),
            ended_at=_when(values.get("ended_at")),
        )
    )
    db.session.commit()


# The kind of entry each section holds, for the cases on an entry.
ENTRY_KIND = {
    Section.ALLERGIES: EntryKind.ALLERGY,
    Section.TREATMENTS: EntryKind.TREATMENT,
    Section.CONDITIONS: EntryKind.CONDITION,
    Section.WISHES: EntryKind.ADVANCE_DIRECTIVES,
    Section.PEOPLE: EntryKind.TRUSTED_PERSON,
    Section.MEASUREMENTS: EntryKind.BLOOD_GROUP,
    Section.VACCINATIONS: EntryKind.VACCINATION,
    Section.FAMILY: EntryKind.FAMILY,
}


def _entry(case: Case, patient: Patient, author: Account) -> ProfileEntry | Measurement:
    """A profile entry (or a measurement) as services.profile leaves it."""
    now = clock.now()
    common: dict[str, object] = {
        "patient_id": patient.id,
        "author_kind": "patient" if author.role == "patient" else "professional",
        "author_account_id": author.id,
        "author_label": author.display_name,
        "created_at": now,
        "updated_at": now,
        **{key: _when(value) for key, value in case.entry.items()},
    }
    row: ProfileEntry | Measurement
    if case.on == "measurement":
        row = Measurement(
            kind=MeasureKind.WEIGHT.value,
            measured_on=now.date(),
            value=64.5,
            unit="kg",
            **common,
        )
    else:
        section = Section(case.on.removeprefix("entry:"))
        row = ProfileEntry(
            section=section.value, kind=ENTRY_KIND[section].value, label="Pénicilline", **common
        )
    db.session.add(row)
    db.session.commit()
    return row


def _conversation(patient: Patient, professional: Account, case: Case) -> Conversation:
    """A conversation as services.messages.start leaves it (its messages are not needed)."""
    pro = professional.professional
    assert pro is not None
    now = clock.now()
    conversation = Conversation(
        patient_id=patient.id,
        professional_id=pro.id,
        subject="Vos résultats",
        professional_label=pro.display_name,
        professional_profession=pro.profession,
        professional_structure=pro.structure or "",
        started_at=now - 2 * HOUR,
        last_message_at=now - 2 * HOUR,
        message_count=1,
        patient_unread=1,
        professional_unread=0,
        closed_at=now - HOUR if case.closed else None,
    )
    db.session.add(conversation)
    db.session.commit()
    return conversation


def _appointment(patient: Patient, professional: Account, case: Case) -> Appointment:
    """An appointment with the professional concerned, tomorrow."""
    assert professional.professional is not None
    start = clock.now() + 24 * HOUR
    row = make_appointment(
        patient, professional.professional.id, start, cancelled=bool(case.entry.get("cancelled"))
    )
    db.session.commit()
    return row


def _build(case: Case) -> tuple[Account | None, object]:
    holder = make_patient()
    patient = holder.patient
    assert patient is not None
    patient.record_state = case.record_state
    pro = make_professional(profession=case.profession, specialty=case.specialty)
    assert pro.professional is not None
    pro.professional.samu_regulator = case.samu_regulator
    other_pro = make_professional()
    author = {"patient": holder, "pro": pro, "other_pro": other_pro}[case.author]
    doc: Document = make_document(
        holder,
        author_account_id=author.id,
        author_kind="patient" if author is holder else "professional",
        **{key: _when(value) for key, value in case.doc.items()},
    )
    for grant in case.grants:
        values = {key: _when(value) for key, value in grant.items()}
        authorise(pro, holder, **values)  # type: ignore[arg-type]
    if case.window is not None:
        owner = {"pro": pro, "other_pro": other_pro}[str(case.window.get("holder", "pro"))]
        _open_window(case.window, patient, owner)
    for flag, value in case.patient_flags.items():  # set once the window is open
        assert flag in ("oppose_emergency_access", "oppose_regulation_access"), flag
        setattr(patient, flag, value)
    actor: Account | None = {
        "patient": holder,
        "other_patient": make_patient(),
        "pro": pro,
        "agent": make_agent(),
        "anonymous": None,
    }[case.actor]
    db.session.commit()
    resource: object = doc
    if case.on == "patient":
        resource = patient
    elif case.on == "none":
        resource = None
    elif case.on.startswith("section:"):
        resource = policy.SectionOf(patient, Section(case.on.removeprefix("section:")))
    elif case.on.startswith("entry:") or case.on == "measurement":
        resource = _entry(case, patient, author)
    elif case.on == "conversation":
        resource = _conversation(patient, other_pro if case.author == "other_pro" else pro, case)
    elif case.on == "appointment":
        resource = _appointment(patient, other_pro if case.author == "other_pro" else pro, case)
    else:
        assert case.on == "document", case.on
    return actor, resource


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_policy(app: Flask, case: Case) -> None:
    actor, resource = _build(case)
    decision = policy.decide(
        actor,
        case.permission,
        resource,  # type: ignore[arg-type]
        case.mode,
        identified=case.identified,
    )
    assert (decision.allowed, decision.reason) == (case.allowed, case.reason)


def test_the_table_covers_every_permission() -> None:
    covered = {case.permission for case in CASES}
    assert set(Permission) - covered == set()
    assert len(CASES) >= 110
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), "each case needs its own name"


def test_the_table_covers_every_profession_both_ways(app: Flask) -> None:
    """Each profession of professions.csv is seen both let in and kept out by the matrix."""
    matrix_cases = [case for case in CASES if case.actor == "pro" and not case.window]
    for profession in catalogue.current().professions:
        reasons = {case.reason for case in matrix_cases if case.profession == profession}
        assert {"authorised", "matrix"} <= reasons, profession


def test_the_table_covers_every_section() -> None:
    on = {case.on for case in CASES}
    assert {f"section:{section.value}" for section in Section} <= on


def test_the_table_covers_messaging() -> None:
    """Each messaging permission is seen both allowed and refused, for each kind of actor."""
    messaging = {
        P.MESSAGE_START,
        P.CONVERSATION_READ,
        P.CONVERSATION_REPLY,
        P.CONVERSATION_CLOSE,
        P.CONVERSATION_ARCHIVE,
        P.ATTACHMENT_SAVE,
    }
    cases = [case for case in CASES if case.permission in messaging]
    assert len(cases) >= 25
    for permission in messaging:
        outcomes = {case.allowed for case in cases if case.permission == permission}
        assert outcomes == {True, False}, permission
    reasons = {case.reason for case in cases}
    assert {
        "participant",
        "not_participant",
        "conversation_closed",
        "not_own_record",
        "blocked_by_patient",
        "record_not_active",
        "agent_no_medical_content",
        "medecin_traitant_rights",
        "no_authorisation",
        "professional_only",
        "patient_only",
    } <= reasons
    assert {case.on for case in cases} == {"conversation", "patient"}


def test_the_table_covers_the_profile_permissions() -> None:
    profile = {P.PROFILE_WRITE, P.ENTRY_READ, P.ENTRY_EDIT, P.ENTRY_MASK}
    cases = [case for case in CASES if case.permission in profile]
    assert len(cases) >= 25
    for permission in profile:
        outcomes = {case.allowed for case in cases if case.permission == permission}
        assert outcomes == {True, False}, permission
    on = {case.on for case in cases}
    assert "measurement" in on and len({o for o in on if o.startswith("entry:")}) >= 5


def test_a_matrix_row_for_reimbursements_opens_them_to_that_profession(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No starter row gives a professional the reimbursement history; a row would, for an
    authorised professional of that profession only, never in an emergency window."""
    rows = catalogue._data("access_matrix.csv") + "pharmacien,*,REMBOURSEMENTS,yes,no\n"
    granted = catalogue.parse(
        catalogue._data("document_types.csv"),
        catalogue._data("professions.csv"),
        rows,
        catalogue._data("specialties.csv"),
    )
    monkeypatch.setattr(catalogue, "current", lambda: granted)
    named = {case.name: case for case in REIMBURSEMENT_CASES}
    for name, expected in (
        ("an authorised pharmacist: no matrix row for reimbursements", (True, "authorised")),
        ("an authorised GP: no matrix row for reimbursements", (False, "matrix")),
        ("an emergency window opens no reimbursement", (False, "no_authorisation")),
    ):
        case = named[name]
        actor, resource = _build(case)
        decision = policy.decide(actor, case.permission, resource)  # type: ignore[arg-type]
        assert (decision.allowed, decision.reason) == expected, case.name
