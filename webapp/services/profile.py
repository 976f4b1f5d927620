"""Reading the medical profile as the policy allows, and the emergency summary (SPEC §4.5)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import false, select

from webapp.extensions import db
from webapp.models import Account, EntryKind, Patient, ProfileEntry, Role, Section
from webapp.services import access


def _sees_masked(actor: Account, patient: Patient) -> bool:
    if actor.role == Role.PATIENT:
        return True
    pro = actor.professional
    return pro is not None and access.relation(pro, patient).traitant_rights


@dataclass
class ProfileView:
    """The sections the actor may read, and their entries (one query for all)."""

    readable: list[Section]
    entries: dict[Section, list[ProfileEntry]] = field(default_factory=dict)

    def of(self, section: Section, *kinds: EntryKind) -> list[ProfileEntry]:
        rows = self.entries.get(section, [])
        return [row for row in rows if not kinds or row.kind in kinds]


def view(actor: Account, patient: Patient) -> ProfileView:
    readable = access.readable_sections(actor, patient)
    result = ProfileView(readable)
    if not readable:
        return result
    query = (
        select(ProfileEntry)
        .where(
            ProfileEntry.patient_id == patient.id,
            ProfileEntry.deleted_at.is_(None),
            ProfileEntry.section.in_([section.value for section in readable]),
        )
        .order_by(ProfileEntry.section, ProfileEntry.start_date.desc(), ProfileEntry.id)
    )
    if not _sees_masked(actor, patient):
        query = query.where(ProfileEntry.masked_from_pros == false())
    for row in db.session.scalars(query):
        result.entries.setdefault(Section(row.section), []).append(row)
    return result


@dataclass(frozen=True)
class SummaryPart:
    """One block of the emergency summary: allowed or not, and what it holds."""

    key: str
    allowed: bool
    entries: list[ProfileEntry]


SUMMARY_PARTS: tuple[tuple[str, Section, tuple[EntryKind, ...]], ...] = (
    ("allergies", Section.ALLERGIES, (EntryKind.ALLERGY,)),
    ("treatments", Section.TREATMENTS, (EntryKind.TREATMENT,)),
    ("conditions", Section.CONDITIONS, (EntryKind.CONDITION, EntryKind.SURGERY)),
    ("advance_directives", Section.WISHES, (EntryKind.ADVANCE_DIRECTIVES,)),
    ("organ_donation", Section.WISHES, (EntryKind.ORGAN_DONATION,)),
    ("trusted_person", Section.PEOPLE, (EntryKind.TRUSTED_PERSON,)),
    ("emergency_contacts", Section.PEOPLE, (EntryKind.EMERGENCY_CONTACT,)),
    ("blood_group", Section.MEASUREMENTS, (EntryKind.BLOOD_GROUP,)),
)


def emergency_summary(actor: Account, patient: Patient) -> list[SummaryPart]:
    """What a professional needs in the first minute, as far as their profession may see."""
    found = view(actor, patient)
    parts = []
    for key, section, kinds in SUMMARY_PARTS:
        entries = found.of(section, *kinds)
        if key == "treatments":
            entries = [entry for entry in entries if entry.current]
        parts.append(SummaryPart(key, section in found.readable, entries))
    return parts
