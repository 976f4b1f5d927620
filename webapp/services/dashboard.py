"""What the patient's home page shows: her latest documents, the essentials of her profile,
who came to her record lately (SPEC §5), and her latest reimbursements (SPEC §8b)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Document, Patient, Reimbursement, Section
from webapp.models.profile import ProfileEntry
from webapp.policy import queries
from webapp.services import profile, reimbursements
from webapp.services.audit import Action, ActorKind

RECENT = 5
LATEST_DOCUMENTS = 5
EMERGENCIES = 3
# Emergency accesses of the last 90 days stay on the dashboard (SPEC §5).
EMERGENCY_DAYS = 90


@dataclass(frozen=True)
class Dashboard:
    """The few rows of each kind the home page shows, each read through the policy."""

    recent: Sequence[AccessEvent]
    last_by_other: AccessEvent | None
    emergencies: Sequence[AccessEvent]
    latest: Sequence[Document]
    allergies: list[ProfileEntry]
    treatments: list[ProfileEntry]
    reimbursements: Sequence[Reimbursement]


def for_patient(actor: Account, patient: Patient) -> Dashboard:
    """The dashboard of `patient` as `actor` (her own account) may read it."""
    history = queries.history_query(actor, patient)
    by_others = history.where(AccessEvent.actor_kind.in_([ActorKind.PROFESSIONAL, ActorKind.AGENT]))
    emergencies = queries.history_query(
        actor,
        patient,
        action=Action.EMERGENCY_OPENED,
        since=clock.now() - timedelta(days=EMERGENCY_DAYS),
    )
    view = profile.view(actor, patient)
    latest = queries.documents_query(actor, patient).order_by(
        Document.deposited_at.desc(), Document.id.desc()
    )
    return Dashboard(
        recent=db.session.scalars(history.limit(RECENT)).all(),
        last_by_other=db.session.scalar(by_others.limit(1)),
        emergencies=db.session.scalars(emergencies.limit(EMERGENCIES)).all(),
        latest=db.session.scalars(latest.limit(LATEST_DOCUMENTS)).all(),
        allergies=view.of(Section.ALLERGIES),
        treatments=[entry for entry in view.of(Section.TREATMENTS) if entry.current],
        reimbursements=reimbursements.latest(actor, patient),
    )
