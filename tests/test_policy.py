"""The access policy as a table: every rule, and the order in which they apply.

The expectations are written out by hand from webapp/data/access_matrix.csv and
specialties.csv, never computed from the catalogue: a wrong line in the CSV must fail here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import Flask

from tests.builders import authorise, make_agent, make_document, make_patient, make_professional
from webapp.extensions import db
from webapp.models import Account, Document, EmergencyAccess, Patient
from webapp.models.profile import Section
from webapp.services import access, catalogue, clock
from webapp.services.access import Mode, Permission

P = Permission


@dataclass(frozen=True)
class Case:
    name: str
    actor: str  # patient, other_patient, pro, agent, anonymous
    permission: Permission
    allowed: bool
    reason: str
    on: str = "document"  # document, patient, none, or section:<Section value>
    doc: dict[str, object] = field(default_factory=dict)
    author: str = "patient"  # patient, pro, other_pro
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
        "held document can still be deleted",
        "patient",
        P.DOCUMENT_DELETE,
        True,
        "own_record",
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
    Case("unauthorised lists", "pro", P.DOCUMENT_LIST, False, "no_authorisation", on="patient"),
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
        "expired grant lists nothing",
        "pro",
        P.DOCUMENT_LIST,
        False,
        "no_authorisation",
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
    Case("unauthorised pro deposits", "pro", P.DOCUMENT_CREATE, True, "deposit", on="patient"),
    Case(
        "pharmacist deposits",
        "pro",
        P.DOCUMENT_CREATE,
        True,
        "deposit",
        on="patient",
        profession="pharmacien",
        specialty=None,
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
        "window: ended",
        "pro",
        P.DOCUMENT_LIST,
        False,
        "no_authorisation",
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
        resource = access.SectionOf(patient, Section(case.on.removeprefix("section:")))
    else:
        assert case.on == "document", case.on
    return actor, resource


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_policy(app: Flask, case: Case) -> None:
    actor, resource = _build(case)
    decision = access.decide(actor, case.permission, resource, case.mode)  # type: ignore[arg-type]
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
