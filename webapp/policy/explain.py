"""The panel "Qui peut voir ce document ?": everyone with a say on a document, and what the
policy answers for each of them (the same `decide_for_professional`, never a rule of its own)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Authorisation, AuthorisationKind, Document, Professional
from webapp.policy.decide import decide_for_professional
from webapp.policy.permissions import NONE, Permission, Relation
from webapp.policy.relations import is_held, patient_of


@dataclass(frozen=True)
class Viewer:
    """One line of the panel."""

    name: str
    profession: str
    role: str  # holder, author, traitant, traitant_rights, authorised, blocked
    sees: bool
    reason: str


def who_can_see(doc: Document) -> list[Viewer]:
    patient = patient_of(doc.patient_id)
    holder_sees = not is_held(doc)
    viewers = [Viewer("", "", "holder", holder_sees, "own_record" if holder_sees else "held")]
    rows = _authorisations_in_force(patient.id)
    links: dict[int, Relation] = {}
    pros: dict[int, Professional] = {}
    for row in rows:
        pros[row.professional_id] = row.professional
        current = links.get(row.professional_id, NONE)
        authorised = row.kind == AuthorisationKind.AUTHORISED
        links[row.professional_id] = Relation(
            authorised=current.authorised or authorised,
            blocked=current.blocked or row.kind == AuthorisationKind.BLOCKED,
            traitant_rights=current.traitant_rights or (authorised and row.traitant_rights),
        )
    traitants = {row.professional_id for row in rows if row.is_medecin_traitant}
    author = _professional_author(doc)
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


def _authorisations_in_force(patient_id: int) -> list[Authorisation]:
    now = clock.now()
    return list(
        db.session.scalars(
            select(Authorisation)
            .where(
                Authorisation.patient_id == patient_id,
                Authorisation.revoked_at.is_(None),
                or_(Authorisation.until.is_(None), Authorisation.until > now),
            )
            .order_by(Authorisation.id)
            .options(selectinload(Authorisation.professional))
        )
    )


def _professional_author(doc: Document) -> Professional | None:
    if doc.author_kind != "professional" or doc.author_account_id is None:
        return None
    return db.session.scalar(
        select(Professional).where(Professional.account_id == doc.author_account_id)
    )
