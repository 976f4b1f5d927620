"""The record as a FHIR R4 `Bundle` of type `collection` (SPEC §8), for the patient's export.

Every resource is built with fhir.resources' R4B models (which read and write R4 content): what
leaves Carnet is checked against the standard as it is built, never a hand-written dict. Each
resource's `fullUrl` is a `urn:uuid:` derived from a stable key (uuid5), so two exports of the
same record name the same resource alike, and references point at those fullUrls.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from fhir.resources.R4B.allergyintolerance import (
    AllergyIntolerance,
    AllergyIntoleranceReaction,
)
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.appointment import AppointmentParticipant
from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.communication import Communication, CommunicationPayload
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.consent import Consent, ConsentProvision, ConsentProvisionActor
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.documentreference import DocumentReference, DocumentReferenceContent
from fhir.resources.R4B.dosage import Dosage
from fhir.resources.R4B.familymemberhistory import (
    FamilyMemberHistory,
    FamilyMemberHistoryCondition,
)
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.immunization import Immunization
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.patient import PatientContact
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from sqlalchemy import select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    Account,
    Appointment,
    Authorisation,
    Conversation,
    Document,
    EntryKind,
    Measurement,
    Message,
    Patient,
    Professional,
    ProfileEntry,
)
from webapp.models.authorisation import AuthorisationKind
from webapp.models.document import AuthorKind
from webapp.models.profile import MeasureKind
from webapp.policy import queries
from webapp.services import agenda, catalogue, messages, profile, storage

# uuid5 namespace of Carnet's resources: fixed forever, or fullUrls change between exports.
NAMESPACE = uuid.UUID("6f0d7d0e-3c1b-5c8e-9a57-8c2f4e4b9a10")
NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CARNET_TYPES = "urn:carnet:document-type"
CARNET_CATEGORIES = "urn:carnet:document-category"
MMOL_PER_G_L = 5.551  # glucose: 1 g/L = 5.551 mmol/L (the profile form's factor)


@dataclass(frozen=True)
class ExportedFile:
    """A document and where its file sits in the ZIP: `path` is None when it could not be read."""

    document: Document
    path: str | None
    sha1: str | None = None  # base64, as FHIR's Attachment.hash wants it


def full_url(key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, key)}"


def _ref(key: str) -> Reference:
    return Reference(reference=full_url(key))


def _text(words: str) -> CodeableConcept:
    return CodeableConcept(text=words.strip() or "?")  # FHIR strings are never empty


def _loinc(code: str, display: str) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=LOINC, code=code, display=display)], text=display)


def _period(start: date | datetime | None, end: date | datetime | None) -> Period | None:
    return Period(start=start, end=end) if start or end else None


def _quantity(value: float, unit: str) -> Quantity:
    return Quantity(value=round(value, 2), unit=unit, system=UCUM, code=unit)


@dataclass
class _Builder:
    actor: Account
    patient: Patient
    entries: list[BundleEntry] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    @property
    def me(self) -> str:
        return f"carnet/patient/{self.patient.id}"

    def add(self, key: str, resource: Resource) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self.entries.append(BundleEntry(fullUrl=full_url(key), resource=resource))

    def take(self) -> list[BundleEntry]:
        """The entries added since the last call: the caller writes them out and forgets them."""
        taken, self.entries = self.entries, []
        return taken

    def practitioner(self, pro: Professional) -> Reference:
        key = f"carnet/practitioner/{pro.id}"
        name = HumanName(family=pro.last_name, given=pro.first_names.split() or None)
        ident = Identifier(system=RPPS_SYSTEM, value=pro.rpps)
        self.add(key, Practitioner(identifier=[ident], name=[name]))
        return _ref(key)


def record_bundle(actor: Account, patient: Patient, files: Sequence[ExportedFile]) -> Bundle:
    """Everything `actor` may read of the record, as one collection (whole, in memory)."""
    entries = list(record_entries(actor, patient, files))
    return Bundle(**_envelope(patient), entry=entries or None)


def write_bundle(
    out: IO[bytes], actor: Account, patient: Patient, files: Sequence[ExportedFile]
) -> None:
    """The same bundle as JSON, written an entry at a time (the export's fhir.json): memory
    holds one resource, not the record. The envelope is the Bundle model's own JSON."""
    envelope = Bundle(**_envelope(patient)).model_dump_json(exclude_none=True)
    out.write(envelope.removesuffix("}").encode() + b',"entry":[\n')
    for number, entry in enumerate(record_entries(actor, patient, files)):
        out.write(
            (",\n" if number else "").encode() + entry.model_dump_json(exclude_none=True).encode()
        )
    out.write(b"\n]}\n")


def _envelope(patient: Patient) -> dict[str, Any]:
    key = f"carnet/patient/{patient.id}/export"
    return {
        "identifier": Identifier(system="urn:ietf:rfc:3986", value=full_url(key)),
        "type": "collection",
        "timestamp": clock.now(),
    }


def record_entries(
    actor: Account, patient: Patient, files: Sequence[ExportedFile]
) -> Iterator[BundleEntry]:
    """The bundle's entries as they are built, the Patient first; each appears once."""
    builder = _Builder(actor, patient)
    found = profile.view(actor, patient)
    entries = [row for rows in found.entries.values() for row in rows]
    _add_patient(builder, entries)
    _add_profile(builder, entries)
    yield from builder.take()
    for section in (
        _add_measurements(builder),
        _add_appointments(builder),
        _add_documents(builder, files),
        _add_communications(builder),
        _add_consents(builder),
    ):
        for _row in section:
            yield from builder.take()


def _add_patient(builder: _Builder, entries: Iterable[ProfileEntry]) -> None:
    patient = builder.patient
    contacts = [
        PatientContact(
            relationship=[_text(row.relation or _CONTACT_ROLES[EntryKind(row.kind)])],
            name=HumanName(text=row.label),
            telecom=[ContactPoint(system="phone", value=row.phone)] if row.phone else None,
        )
        for row in entries
        if row.kind in _CONTACT_ROLES and row.label
    ]
    builder.add(
        builder.me,
        FhirPatient(
            identifier=[Identifier(system=NIR_SYSTEM, value=patient.nir)],
            name=[HumanName(family=patient.last_name, given=patient.first_names.split() or None)],
            birthDate=patient.birth_date,
            gender={"F": "female", "M": "male"}.get(patient.sex, "unknown"),
            contact=contacts or None,
        ),
    )


_CONTACT_ROLES = {
    EntryKind.TRUSTED_PERSON: "personne de confiance",
    EntryKind.EMERGENCY_CONTACT: "contact en cas d'urgence",
}


def _add_profile(builder: _Builder, entries: Iterable[ProfileEntry]) -> None:
    for row in entries:
        key = f"carnet/profile/{row.id}"
        resource = _profile_resource(builder, row)
        if resource is not None:
            builder.add(key, resource)


def _profile_resource(builder: _Builder, row: ProfileEntry) -> Resource | None:
    """The FHIR resource of one profile entry; wishes and contacts have none of their own."""
    subject = _ref(builder.me)
    kind = EntryKind(row.kind)
    if kind == EntryKind.ALLERGY:
        reaction = AllergyIntoleranceReaction(
            manifestation=[_text(row.reaction)], severity=row.severity or None
        )
        return AllergyIntolerance(
            patient=subject,
            code=_text(row.label),
            recordedDate=row.created_at,
            reaction=[reaction] if row.reaction else None,
        )
    if kind in (EntryKind.CONDITION, EntryKind.SURGERY):
        return Condition(
            subject=subject,
            code=_text(row.label),
            category=[_text("antécédent chirurgical" if kind == EntryKind.SURGERY else "maladie")],
            onsetDateTime=row.start_date,
            abatementDateTime=row.end_date,
            recordedDate=row.created_at,
        )
    if kind == EntryKind.TREATMENT:
        dosage = " ".join(part for part in (row.dose, row.frequency) if part)
        return MedicationStatement(
            status="active" if row.current else "completed",
            subject=subject,
            medicationCodeableConcept=_text(row.label),
            effectivePeriod=_period(row.start_date, row.end_date),
            dateAsserted=row.created_at,
            dosage=[Dosage(text=dosage)] if dosage else None,
        )
    if kind == EntryKind.VACCINATION:
        return Immunization(
            status="completed",
            patient=subject,
            vaccineCode=_text(row.label),
            occurrenceDateTime=row.start_date,
            occurrenceString=None if row.start_date else "date inconnue",
            lotNumber=row.batch or None,
            recorded=row.created_at,
        )
    if kind == EntryKind.FAMILY:
        return FamilyMemberHistory(
            status="completed",
            patient=subject,
            relationship=_text(row.relation or "famille"),
            condition=[FamilyMemberHistoryCondition(code=_text(row.label))] if row.label else None,
        )
    if kind == EntryKind.BLOOD_GROUP:
        return Observation(
            status="final",
            code=_loinc("882-1", "ABO and Rh group [Type] in Blood"),
            subject=subject,
            valueString=row.label,
        )
    return None


# kind -> (LOINC code, display, UCUM unit)
MEASURE_CODES: dict[str, tuple[str, str, str]] = {
    MeasureKind.HEIGHT: ("8302-2", "Body height", "cm"),
    MeasureKind.WEIGHT: ("29463-7", "Body weight", "kg"),
    MeasureKind.BLOOD_PRESSURE: ("85354-9", "Blood pressure panel", "mm[Hg]"),
}
BMI = ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
GLUCOSE_MOLAR = ("15074-8", "Glucose [Moles/volume] in Blood", "mmol/L")
GLUCOSE_MASS = ("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL")


def _add_measurements(builder: _Builder) -> Iterator[None]:
    """Each measurement as an Observation; a weight with a height taken by then also gives
    its body mass index, derived from both."""
    query = queries.measurements_query(builder.actor, builder.patient).order_by(
        Measurement.measured_on, Measurement.id
    )
    height: Measurement | None = None
    for row in db.session.scalars(query):
        key = f"carnet/measurement/{row.id}"
        builder.add(key, _observation(builder, row))
        if row.kind == MeasureKind.HEIGHT:
            height = row
        elif row.kind == MeasureKind.WEIGHT and height is not None and height.value > 0:
            metres = height.value / 100
            code, display, unit = BMI
            derived = [_ref(key), _ref(f"carnet/measurement/{height.id}")]
            bmi = Observation(
                status="final",
                code=_loinc(code, display),
                subject=_ref(builder.me),
                effectiveDateTime=row.measured_on,
                valueQuantity=_quantity(row.value / (metres * metres), unit),
                derivedFrom=derived,
            )
            builder.add(f"{key}/bmi", bmi)
        yield None


def _observation(builder: _Builder, row: Measurement) -> Observation:
    observation = Observation(
        status="final",
        code=_loinc(*_measure_code(row)[:2]),
        subject=_ref(builder.me),
        effectiveDateTime=row.measured_on,
        issued=row.created_at,
    )
    unit = _measure_code(row)[2]
    if row.kind == MeasureKind.BLOOD_PRESSURE:
        parts = [(SYSTOLIC, row.value), (DIASTOLIC, row.value2)]
        observation.component = [
            ObservationComponent(code=_loinc(*names), valueQuantity=_quantity(value, unit))
            for names, value in parts
            if value is not None
        ]
    elif row.kind == MeasureKind.GLUCOSE and row.unit == "g/L":
        observation.valueQuantity = _quantity(row.value / MMOL_PER_G_L * 100, unit)
    else:
        observation.valueQuantity = _quantity(row.value, unit)
    return observation


def _measure_code(row: Measurement) -> tuple[str, str, str]:
    """Glucose is stored in mmol/L; typed in g/L, it leaves in mg/dL (UCUM's usual mass unit)."""
    if row.kind == MeasureKind.GLUCOSE:
        return GLUCOSE_MASS if row.unit == "g/L" else GLUCOSE_MOLAR
    return MEASURE_CODES[row.kind]


def _add_appointments(builder: _Builder) -> Iterator[None]:
    query = (
        queries.appointments_query(builder.actor)
        .where(Appointment.patient_id == builder.patient.id)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    now = clock.now()
    for row in db.session.scalars(query):
        key = f"carnet/appointment/{row.id}"
        participants = [AppointmentParticipant(actor=_ref(builder.me), status="accepted")]
        pro = db.session.get(Professional, row.professional_id) if row.professional_id else None
        if pro is not None:
            ref = builder.practitioner(pro)
            participants.append(AppointmentParticipant(actor=ref, status="accepted"))
        if row.place:
            builder.add(f"{key}/place", Location(name=row.place))
            place = _ref(f"{key}/place")
            participants.append(AppointmentParticipant(actor=place, status="accepted"))
        status = (
            "cancelled" if row.cancelled_at else "fulfilled" if row.ends_at <= now else "booked"
        )
        appointment = FhirAppointment(
            status=status,
            description=row.title,
            start=row.starts_at,
            end=row.ends_at,
            minutesDuration=row.duration_minutes,
            created=row.created_at,
            comment=agenda.note_of(row) or None,
            participant=participants,
        )
        builder.add(key, appointment)
        yield None


def _document_type(code: str) -> CodeableConcept:
    known = catalogue.current().types.get(code)
    if known is None:
        return CodeableConcept(coding=[Coding(system=CARNET_TYPES, code=code)])
    system = LOINC if known.system == "LOINC" else CARNET_TYPES
    coding = Coding(system=system, code=known.code, display=known.label_fr)
    return CodeableConcept(coding=[coding], text=known.label_fr)


def _author(builder: _Builder, doc: Document) -> Reference:
    if doc.author_kind == AuthorKind.PATIENT and doc.author_account_id == builder.actor.id:
        return _ref(builder.me)
    if doc.author_kind == AuthorKind.PROFESSIONAL and doc.author_account_id is not None:
        pro = db.session.scalar(
            select(Professional).where(Professional.account_id == doc.author_account_id)
        )
        if pro is not None:
            return builder.practitioner(pro)
    key = f"carnet/author/{doc.author_kind}/{doc.author_label}"
    builder.add(key, Organization(name=doc.author_label or doc.author_kind))
    return _ref(key)


def _add_documents(builder: _Builder, files: Sequence[ExportedFile]) -> Iterator[None]:
    for item in files:
        doc = item.document
        attachment = Attachment(
            contentType=doc.media_type,
            url=item.path,
            size=doc.size if item.path else None,
            hash=item.sha1,
            title=doc.title,
            creation=date.isoformat(doc.care_date),
        )
        reference = DocumentReference(
            status="current",
            type=_document_type(doc.type_code),
            category=[
                CodeableConcept(coding=[Coding(system=CARNET_CATEGORIES, code=doc.category)])
            ],
            subject=_ref(builder.me),
            date=doc.deposited_at,
            author=[_author(builder, doc)],
            description=doc.title,
            content=[DocumentReferenceContent(attachment=attachment)],
        )
        builder.add(f"carnet/document/{doc.id}", reference)
        yield None


def _add_communications(builder: _Builder) -> Iterator[None]:
    """Each message of her conversations, oldest first, each answering the one before."""
    query = queries.conversations_query(builder.actor).where(
        Conversation.patient_id == builder.patient.id
    )
    for conversation in db.session.scalars(query):
        pro = db.session.get(Professional, conversation.professional_id)
        them = builder.practitioner(pro) if pro is not None else None
        rows = db.session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        )
        previous: str | None = None
        for row in rows:
            key = f"carnet/message/{row.id}"
            mine = row.author_kind == AuthorKind.PATIENT
            builder.add(key, _communication(builder, conversation, row, them, mine, previous))
            previous = key
            yield None


def _communication(
    builder: _Builder,
    conversation: Conversation,
    row: Message,
    them: Reference | None,
    mine: bool,
    previous: str | None,
) -> Communication:
    me = _ref(builder.me)
    try:
        payload = [CommunicationPayload(contentString=messages.text_of(row))]
    except storage.StorageError:  # a text that no longer opens: the message is still listed
        payload = None
    return Communication(
        status="completed",
        subject=me,
        topic=_text(conversation.subject),
        sent=row.sent_at,
        received=row.read_at,
        sender=me if mine else them,
        recipient=[them] if mine and them else [me] if not mine else None,
        inResponseTo=[_ref(previous)] if previous else None,
        payload=payload,
    )


def _add_consents(builder: _Builder) -> Iterator[None]:
    """Who she lets in (or keeps out), as Consents: permit for an authorisation, deny for a
    block, each for the professional it names."""
    now = clock.now()
    query = (
        select(Authorisation)
        .where(
            Authorisation.patient_id == builder.patient.id,
            Authorisation.revoked_at.is_(None),
            (Authorisation.until.is_(None)) | (Authorisation.until > now),
        )
        .order_by(Authorisation.since, Authorisation.id)
    )
    for row in db.session.scalars(query):
        pro = db.session.get(Professional, row.professional_id)
        if pro is None:
            continue
        permit = row.kind == AuthorisationKind.AUTHORISED
        role = Coding(
            system="http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
            code="PRCP",
            display="primary information recipient",
        )
        actor = ConsentProvisionActor(
            role=CodeableConcept(coding=[role]), reference=builder.practitioner(pro)
        )
        consent = Consent(
            status="active",
            scope=CodeableConcept(
                coding=[
                    Coding(
                        system="http://terminology.hl7.org/CodeSystem/consentscope",
                        code="patient-privacy",
                    )
                ]
            ),
            category=[_loinc("59284-0", "Consent Document")],
            patient=_ref(builder.me),
            dateTime=row.since,
            policyRule=_text("Code de la santé publique, L1111-15 à L1111-17"),
            provision=ConsentProvision(
                type="permit" if permit else "deny",
                period=_period(row.since, row.until),
                actor=[actor],
            ),
        )
        builder.add(f"carnet/authorisation/{row.id}", consent)
        yield None
