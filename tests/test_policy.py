"""The access policy as a table: every rule, and the order in which they apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import Flask

from tests.builders import authorise, make_agent, make_document, make_patient, make_professional
from webapp.extensions import db
from webapp.models import Account, Document
from webapp.services import access, clock
from webapp.services.access import Mode, Permission

P = Permission


@dataclass(frozen=True)
class Case:
    name: str
    actor: str  # patient, other_patient, pro, agent, anonymous
    permission: Permission
    allowed: bool
    reason: str
    on: str = "document"  # document or patient
    doc: dict[str, object] = field(default_factory=dict)
    author: str = "patient"  # patient, pro, other_pro
    grants: tuple[dict[str, object], ...] = ()
    record_state: str = "active"
    profession: str = "medecin"
    specialty: str | None = "medecine_generale"
    mode: Mode = Mode.NORMAL


AUTH: tuple[dict[str, object], ...] = ({},)
TRAITANT: tuple[dict[str, object], ...] = ({"traitant": True},)
HOUR = timedelta(hours=1)

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
]


def _when(value: object) -> object:
    if value == "+":
        return clock.now() + HOUR
    if value == "-":
        return clock.now() - HOUR
    return value


def _build(case: Case) -> tuple[Account | None, object]:
    holder = make_patient()
    assert holder.patient is not None
    holder.patient.record_state = case.record_state
    pro = make_professional(profession=case.profession, specialty=case.specialty)
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
    actor: Account | None = {
        "patient": holder,
        "other_patient": make_patient(),
        "pro": pro,
        "agent": make_agent(),
        "anonymous": None,
    }[case.actor]
    db.session.commit()
    return actor, (holder.patient if case.on == "patient" else doc)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_policy(app: Flask, case: Case) -> None:
    actor, resource = _build(case)
    decision = access.decide(actor, case.permission, resource, case.mode)  # type: ignore[arg-type]
    assert (decision.allowed, decision.reason) == (case.allowed, case.reason)


def test_the_table_covers_every_document_permission() -> None:
    covered = {case.permission for case in CASES}
    assert {p for p in Permission if p.value.startswith("document:")} <= covered
    assert len(CASES) >= 40
