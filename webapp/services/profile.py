"""Reading the medical profile as the policy allows, and the emergency summary (SPEC §4.5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm.exc import StaleDataError

from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.pagination import PAGE_SIZE, Page, paginate
from webapp.models import (
    Account,
    Document,
    EntryKind,
    MeasureKind,
    Measurement,
    Patient,
    ProfileEntry,
    Role,
    Section,
)
from webapp.models.document import AuthorKind
from webapp.policy import queries
from webapp.services import safety
from webapp.services.audit import Action, record_access
from webapp.web.labels import severity_label


@dataclass
class ProfileView:
    """The sections the actor may read, and their entries (one query for all)."""

    readable: list[Section]
    entries: dict[Section, list[ProfileEntry]] = field(default_factory=dict)

    def of(self, section: Section, *kinds: EntryKind) -> list[ProfileEntry]:
        rows = self.entries.get(section, [])
        return [row for row in rows if not kinds or row.kind in kinds]


def view(actor: Account, patient: Patient) -> ProfileView:
    result = ProfileView(queries.readable_sections(actor, patient))
    if not result.readable:
        return result
    query = queries.entries_query(actor, patient).order_by(
        ProfileEntry.section, ProfileEntry.start_date.desc(), ProfileEntry.id
    )
    for row in db.session.scalars(query):
        result.entries.setdefault(Section(row.section), []).append(row)
    return result


def directive_documents(actor: Account, patient: Patient) -> list[Document]:
    """Advance directives the actor may see, to link from the profile: never the title of a
    masked or held document."""
    query = (
        queries.documents_query(actor, patient)
        .where(Document.type_code == DIRECTIVES_TYPE)
        .order_by(Document.care_date.desc())
        .limit(20)
    )
    return list(db.session.scalars(query))


DIRECTIVES_TYPE = "42348-3"


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


# --- writing (SPEC §3: every entry shows who wrote it and when; every change is in the history)


class Conflict(Exception):
    """The entry changed since the form was opened: show both versions, overwrite nothing."""

    def __init__(self, current: ProfileEntry | Measurement) -> None:
        super().__init__("changed meanwhile")
        self.current = current


def _author(actor: Account) -> dict[str, object]:
    kind = AuthorKind.PATIENT if actor.role == Role.PATIENT else AuthorKind.PROFESSIONAL
    return {
        "author_kind": kind,
        "author_account_id": actor.id,
        "author_label": actor.display_name,
    }


def _record(
    patient: Patient,
    actor: Account,
    action: Action,
    row: ProfileEntry | Measurement,
    reason: str = "",
) -> None:
    """Identifiers only in the history: the section and kind, never the medical words."""
    what = row.section if isinstance(row, ProfileEntry) else Section.MEASUREMENTS.value
    record_access(
        patient,
        actor,
        action,
        resource_type="profile_entry" if isinstance(row, ProfileEntry) else "measurement",
        resource_id=row.id,
        detail=f"{what}/{row.kind}",
        reason=reason,
    )


ENTRY_FIELDS = (
    "label",
    "reaction",
    "severity",
    "dose",
    "frequency",
    "start_date",
    "end_date",
    "prescriber",
    "batch",
    "relation",
    "phone",
    "text",
    "document_id",
)


def add_entry(
    actor: Account,
    patient: Patient,
    section: Section,
    kind: EntryKind,
    values: dict[str, object],
    *,
    acknowledged: str = "",
) -> ProfileEntry:
    now = clock.now()
    entry = ProfileEntry(
        patient_id=patient.id,
        section=section.value,
        kind=kind.value,
        created_at=now,
        updated_at=now,
        masked_from_pros=False,
        acknowledged=acknowledged[:300],
        **_author(actor),
        **{name: values[name] for name in ENTRY_FIELDS if name in values},
    )
    db.session.add(entry)
    db.session.flush()
    _record(patient, actor, Action.PROFILE_ENTRY_ADDED, entry)
    if acknowledged:
        _record(patient, actor, Action.SAFETY_WARNING_ACKNOWLEDGED, entry, reason=acknowledged)
    return entry


def _check_version(row: ProfileEntry | Measurement, expected: int) -> None:
    if row.version != expected:
        raise Conflict(row)


def update_entry(
    actor: Account,
    entry: ProfileEntry,
    values: dict[str, object],
    *,
    expected_version: int,
    acknowledged: str = "",
) -> ProfileEntry:
    _check_version(entry, expected_version)
    for name in ENTRY_FIELDS:
        if name in values:
            setattr(entry, name, values[name])
    entry.updated_at = clock.now()
    if acknowledged:
        entry.acknowledged = acknowledged[:300]
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        fresh = db.session.get(ProfileEntry, entry.id, populate_existing=True)
        assert fresh is not None
        raise Conflict(fresh) from None
    patient = db.session.get(Patient, entry.patient_id)
    assert patient is not None
    _record(patient, actor, Action.PROFILE_ENTRY_CHANGED, entry)
    if acknowledged:
        _record(patient, actor, Action.SAFETY_WARNING_ACKNOWLEDGED, entry, reason=acknowledged)
    return entry


def delete_row(actor: Account, row: ProfileEntry | Measurement, *, expected_version: int) -> None:
    _check_version(row, expected_version)
    row.deleted_at = clock.now()
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        fresh: ProfileEntry | Measurement | None = (
            db.session.get(ProfileEntry, row.id, populate_existing=True)
            if isinstance(row, ProfileEntry)
            else db.session.get(Measurement, row.id, populate_existing=True)
        )
        assert fresh is not None
        raise Conflict(fresh) from None
    patient = db.session.get(Patient, row.patient_id)
    assert patient is not None
    _record(patient, actor, Action.PROFILE_ENTRY_DELETED, row)


def set_masked(actor: Account, row: ProfileEntry | Measurement, *, masked: bool) -> None:
    if row.masked_from_pros == masked:
        return
    row.masked_from_pros = masked
    db.session.flush()
    patient = db.session.get(Patient, row.patient_id)
    assert patient is not None
    action = Action.PROFILE_ENTRY_MASKED if masked else Action.PROFILE_ENTRY_UNMASKED
    _record(patient, actor, action, row)


MEASURE_FIELDS = ("measured_on", "value", "value2", "unit", "fasting")


def add_measurement(
    actor: Account, patient: Patient, kind: MeasureKind, values: dict[str, object]
) -> Measurement:
    now = clock.now()
    row = Measurement(
        patient_id=patient.id,
        kind=kind.value,
        created_at=now,
        updated_at=now,
        masked_from_pros=False,
        **_author(actor),
        **{name: values[name] for name in MEASURE_FIELDS if name in values},
    )
    db.session.add(row)
    db.session.flush()
    _record(patient, actor, Action.PROFILE_ENTRY_ADDED, row)
    return row


def update_measurement(
    actor: Account, row: Measurement, values: dict[str, object], *, expected_version: int
) -> Measurement:
    _check_version(row, expected_version)
    for name in MEASURE_FIELDS:
        if name in values:
            setattr(row, name, values[name])
    row.updated_at = clock.now()
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        fresh = db.session.get(Measurement, row.id, populate_existing=True)
        assert fresh is not None
        raise Conflict(fresh) from None
    patient = db.session.get(Patient, row.patient_id)
    assert patient is not None
    _record(patient, actor, Action.PROFILE_ENTRY_CHANGED, row)
    return row


CHART_DAYS = 730  # the charts show two years
CHART_MAX = 1000


def measurements(
    actor: Account, patient: Patient, kind: MeasureKind | None = None
) -> list[Measurement]:
    """The measurements of the last two years the actor may read, oldest first, for the
    charts (one query, at most CHART_MAX rows whatever the record holds)."""
    query = queries.measurements_query(actor, patient, kind)
    since = clock.to_paris(clock.now()).date() - timedelta(days=CHART_DAYS)
    newest = (
        query.where(Measurement.measured_on >= since)
        .order_by(Measurement.measured_on.desc(), Measurement.id.desc())
        .limit(CHART_MAX)
    )
    return list(reversed(db.session.scalars(newest).all()))


def measurement_page(
    actor: Account, patient: Patient, *, page: int, size: int = PAGE_SIZE
) -> Page[Measurement]:
    """One page of the measurements, newest first, and how many there are in all."""
    query = queries.measurements_query(actor, patient).order_by(
        Measurement.measured_on.desc(), Measurement.id.desc()
    )
    return paginate(query, page, size=size)


def latest_measurements(actor: Account, patient: Patient) -> dict[str, Measurement]:
    """The latest measurement of each kind (one small query per kind)."""
    latest: dict[str, Measurement] = {}
    if Section.MEASUREMENTS not in queries.readable_sections(actor, patient):
        return latest
    for kind in MeasureKind:
        query = queries.measurements_query(actor, patient, kind)
        row = db.session.scalar(
            query.order_by(Measurement.measured_on.desc(), Measurement.id.desc()).limit(1)
        )
        if row is not None:
            latest[kind.value] = row
    return latest


def safety_warnings(
    actor: Account, patient: Patient, medicine: str, *, exclude_id: int | None = None
) -> list[safety.Warning]:
    """Allergies and current treatments the actor may read, checked against a medicine."""
    found = view(actor, patient)
    allergies = [
        safety.Recorded(
            entry.id,
            entry.label,
            ", ".join(x for x in (entry.reaction, severity_label(entry.severity)) if x),
        )
        for entry in found.of(Section.ALLERGIES, EntryKind.ALLERGY)
    ]
    current = [
        safety.Recorded(entry.id, entry.label)
        for entry in found.of(Section.TREATMENTS, EntryKind.TREATMENT)
        if entry.current and entry.id != exclude_id
    ]
    return safety.check_treatment(medicine, allergies, current)
