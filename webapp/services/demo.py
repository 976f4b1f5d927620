"""Demo data of SPEC §11 (development only), loaded idempotently: the accounts, the demo
patient's professionals and her documents in the nine categories."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from stdnum.fr import nir as nir_check

from webapp.core.extensions import db
from webapp.models import (
    Account,
    Agent,
    Authorisation,
    AuthorisationKind,
    Beneficiary,
    CodeIssuer,
    Document,
    EntryKind,
    MeasureKind,
    Measurement,
    OutboxMessage,
    Patient,
    Professional,
    ProfileEntry,
    Section,
)
from webapp.models.account import AccountState, Role, SecondFactor
from webapp.models.document import AuthorKind
from webapp.services import (
    beneficiaries,
    clock,
    codes,
    demo_files,
    directory,
    documents,
    enrolment,
    lifecycle,
    passwords,
)

PASSWORD = "Carnet-Demo-2026"


def with_key(nir13: str) -> str:
    """A valid-format test NIR: 13 digits and their key."""
    key = 97 - int(nir13) % 97
    full = f"{nir13}{key:02d}"
    nir_check.validate(full)
    return full


@dataclass(frozen=True)
class DemoProfessional:
    identifier: str
    rpps: str
    first_names: str
    last_name: str
    profession: str
    specialty: str | None
    structure: str
    city: str
    samu_regulator: bool = False


PROFESSIONALS = (
    DemoProfessional(
        "medecin.demo",
        "10000000001",
        "Claire",
        "Martin",
        "medecin",
        "medecine_generale",
        "Cabinet médical des Tilleuls",
        "Lyon",
    ),
    DemoProfessional(
        "cardio.demo",
        "10000000002",
        "Karim",
        "Benali",
        "medecin",
        "cardiologie",
        "Hôpital Édouard-Herriot",
        "Lyon",
    ),
    DemoProfessional(
        "pharma.demo",
        "10000000003",
        "Sophie",
        "Leroy",
        "pharmacien",
        None,
        "Pharmacie de la Croix-Rousse",
        "Lyon",
    ),
    DemoProfessional(
        "dentiste.demo",
        "10000000004",
        "Thomas",
        "Petit",
        "chirurgien_dentiste",
        None,
        "Cabinet dentaire Bellecour",
        "Lyon",
    ),
    DemoProfessional(
        "samu.demo",
        "10000000005",
        "Nadia",
        "Rousseau",
        "medecin",
        "medecine_urgence",
        "SAMU 69",
        "Lyon",
        samu_regulator=True,
    ),
)


def _account(identifier: str, role: Role, email: str) -> tuple[Account, bool]:
    existing = db.session.scalar(select(Account).where(Account.identifier == identifier))
    if existing is not None:
        return existing, False
    account = Account(
        identifier=identifier,
        role=role,
        state=AccountState.ACTIVE,
        email=email,
        password_hash=passwords.hash_password(PASSWORD),
        password_changed_at=clock.now(),
        second_factor=SecondFactor.EMAIL if role == Role.PATIENT else SecondFactor.TOTP,
        language="fr",
        created_at=clock.now(),
    )
    db.session.add(account)
    db.session.flush()
    if role != Role.PATIENT:
        codes.link_authenticator(account)
    return account, True


SAMPLE_REGISTER = Path(__file__).resolve().parent.parent / "data" / "samples" / "beneficiaries.csv"
SAMPLE_DIRECTORY = SAMPLE_REGISTER.with_name("directory.csv")
PENDING_NIR = "149066938401261"  # Lucien Fabre, in the sample register


def load() -> list[str]:
    """Create whatever demo data is missing; returns the identifiers of the accounts created."""
    created: list[str] = []
    with SAMPLE_REGISTER.open(encoding="utf-8-sig") as stream:
        report = beneficiaries.import_csv(stream)
    if not report.ok:
        raise RuntimeError(f"sample register refused: {report.errors[:3]}")
    patient_account, new = _account("patient.demo", Role.PATIENT, "patient.demo@carnet.example")
    if new:
        patient_account.mobile = "+33612345678"
        db.session.add(
            Patient(
                account_id=patient_account.id,
                nir=with_key("2850375116042"),
                last_name="Dubois",
                first_names="Marie",
                birth_date=date(1985, 3, 14),
                sex="F",
                audit_head_seq=0,
            )
        )
        created.append(patient_account.identifier)
    with SAMPLE_DIRECTORY.open(encoding="utf-8-sig") as stream:
        listed = directory.import_csv(stream)
    if not listed.ok:
        raise RuntimeError(f"sample directory refused: {listed.errors[:3]}")
    for demo in PROFESSIONALS:
        account, new = _account(
            demo.identifier, Role.PROFESSIONAL, f"{demo.identifier}@carnet.example"
        )
        if not new:
            continue
        entry = db.session.scalar(select(Professional).where(Professional.rpps == demo.rpps))
        if entry is None:
            entry = Professional(
                rpps=demo.rpps,
                first_names=demo.first_names,
                last_name=demo.last_name,
                profession=demo.profession,
                specialty=demo.specialty,
                structure=demo.structure,
                city=demo.city,
                email=account.email,
                samu_regulator=demo.samu_regulator,
            )
            db.session.add(entry)
        entry.account_id = account.id
        created.append(account.identifier)
    agent_account, new = _account("agent.demo", Role.AGENT, "agent.demo@carnet.example")
    if new:
        db.session.add(
            Agent(
                account_id=agent_account.id,
                first_names="Julien",
                last_name="Moreau",
                organisation="CPAM du Rhône",
                counter="Accueil Lyon 3e",
            )
        )
        created.append(agent_account.identifier)
    db.session.flush()
    # Relationships read before the rows above existed would still say None.
    db.session.expire_all()
    patient = db.session.scalar(
        select(Patient).join(Account).where(Account.identifier == "patient.demo")
    )
    assert patient is not None
    _authorise(patient)
    _add_documents(patient)
    _add_profile(patient)
    _add_measurements(patient)
    _add_held_result(patient)
    return created


@dataclass(frozen=True)
class DemoAuthorisation:
    identifier: str
    traitant: bool = False


# Her médecin traitant, and the professionals she allowed to open her record.
AUTHORISATIONS = (
    DemoAuthorisation("medecin.demo", traitant=True),
    DemoAuthorisation("cardio.demo"),
    DemoAuthorisation("pharma.demo"),
    DemoAuthorisation("dentiste.demo"),
)


def _professional(identifier: str) -> Professional:
    pro = db.session.scalar(
        select(Professional).join(Account).where(Account.identifier == identifier)
    )
    assert pro is not None, identifier
    return pro


def _authorise(patient: Patient) -> None:
    """Each pair once: a professional she later revoked or blocked is left as it is."""
    for demo in AUTHORISATIONS:
        pro = _professional(demo.identifier)
        exists = db.session.scalar(
            select(func.count()).where(
                Authorisation.patient_id == patient.id,
                Authorisation.professional_id == pro.id,
            )
        )
        if exists:
            continue
        db.session.add(
            Authorisation(
                patient_id=patient.id,
                professional_id=pro.id,
                kind=AuthorisationKind.AUTHORISED,
                traitant_rights=demo.traitant,
                is_medecin_traitant=demo.traitant,
                granted_by="patient",
                since=clock.now(),
                until=None,
            )
        )
    db.session.flush()


def _add_documents(patient: Patient) -> None:
    """Her documents in the nine categories, once: never again after any document exists,
    even deleted, so that what a developer removed by hand stays removed."""
    if db.session.scalar(select(func.count()).where(Document.patient_id == patient.id)):
        return
    holder_account = patient.account
    assert holder_account is not None
    holder = demo_files.Holder(
        patient.first_names, patient.last_name, patient.birth_date, patient.nir
    )
    today = clock.to_paris(clock.now()).date()
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    authors: dict[str, Account] = {}
    for demo in demo_files.record(today, holder):
        actor = holder_account
        if demo.author is not None:
            if demo.author not in authors:
                found = _professional(demo.author).account
                assert found is not None
                authors[demo.author] = found
            actor = authors[demo.author]
        doc = documents.add(
            actor,
            patient,
            stream=io.BytesIO(demo.content()),
            file_name=demo.file_name,
            title=demo.title,
            category=demo.category,
            care_date=demo.care_date,
            type_code=demo.type_code,
        )
        if demo.masked:
            documents.set_masked(holder_account, doc, masked=True)
    # These documents are her history, not news: no "new document" e-mail for each.
    db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.id > last_message,
            OutboxMessage.account_id == holder_account.id,
            OutboxMessage.kind == "new_document",
        )
    )
    db.session.flush()


@dataclass(frozen=True)
class PendingDemo:
    beneficiary: Beneficiary
    code: str | None  # None once the person has activated or opposed
    state: str


def pending_beneficiary() -> PendingDemo | None:
    """The person waiting to activate: a fresh code at every start while the record waits."""
    person = db.session.scalar(select(Beneficiary).where(Beneficiary.nir == PENDING_NIR))
    if person is None:
        return None
    record = lifecycle.record_for(person)
    if record is not None and record.record_state != "pending":
        return PendingDemo(person, None, record.record_state)
    _, code = enrolment.send_code(person, "email", issued_by=CodeIssuer.CAMPAIGN, actor=None)
    return PendingDemo(person, code, "pending")


def _add_profile(patient: Patient) -> None:
    """Her medical profile, once (what the emergency summary shows first)."""
    if db.session.scalar(select(func.count()).where(ProfileEntry.patient_id == patient.id)):
        return
    doctor = _professional("medecin.demo")
    cardio = _professional("cardio.demo")
    today = clock.to_paris(clock.now()).date()
    her = (AuthorKind.PATIENT, patient.account_id, f"{patient.first_names} {patient.last_name}")
    gp = (AuthorKind.PROFESSIONAL, doctor.account_id, doctor.display_name)
    heart = (AuthorKind.PROFESSIONAL, cardio.account_id, cardio.display_name)
    rows: list[tuple[tuple[str, int | None, str], dict[str, object]]] = [
        (
            gp,
            {
                "section": Section.ALLERGIES,
                "kind": EntryKind.ALLERGY,
                "label": "Pénicillines",
                "reaction": "Œdème de Quincke en 2009 (amoxicilline)",
                "severity": "severe",
            },
        ),
        (
            her,
            {
                "section": Section.ALLERGIES,
                "kind": EntryKind.ALLERGY,
                "label": "Pollens de graminées",
                "reaction": "Rhinite, yeux qui piquent",
                "severity": "mild",
            },
        ),
        (
            gp,
            {
                "section": Section.TREATMENTS,
                "kind": EntryKind.TREATMENT,
                "label": "Lévothyroxine",
                "dose": "75 µg",
                "frequency": "1 comprimé le matin à jeun",
                "start_date": date(2019, 5, 6),
                "prescriber": doctor.display_name,
            },
        ),
        (
            heart,
            {
                "section": Section.TREATMENTS,
                "kind": EntryKind.TREATMENT,
                "label": "Bisoprolol",
                "dose": "2,5 mg",
                "frequency": "1 comprimé le matin",
                "start_date": date(2024, 9, 12),
                "prescriber": cardio.display_name,
            },
        ),
        (
            gp,
            {
                "section": Section.TREATMENTS,
                "kind": EntryKind.TREATMENT,
                "label": "Salbutamol (inhalateur)",
                "dose": "100 µg par bouffée",
                "frequency": "2 bouffées si gêne respiratoire",
                "start_date": date(2001, 4, 2),
                "prescriber": doctor.display_name,
            },
        ),
        (
            gp,
            {
                "section": Section.TREATMENTS,
                "kind": EntryKind.TREATMENT,
                "label": "Amoxicilline",
                "dose": "1 g",
                "frequency": "matin et soir",
                "start_date": date(2008, 2, 1),
                "end_date": date(2008, 2, 8),
                "prescriber": "Dr Roux",
                "text": "Arrêtée : réaction allergique",
            },
        ),
        (
            gp,
            {
                "section": Section.CONDITIONS,
                "kind": EntryKind.CONDITION,
                "label": "Hypothyroïdie (maladie de Hashimoto)",
                "start_date": date(2019, 4, 15),
            },
        ),
        (
            heart,
            {
                "section": Section.CONDITIONS,
                "kind": EntryKind.CONDITION,
                "label": "Tachycardie sinusale, suivie en cardiologie",
                "start_date": date(2024, 9, 12),
            },
        ),
        (
            gp,
            {
                "section": Section.CONDITIONS,
                "kind": EntryKind.CONDITION,
                "label": "Asthme allergique léger",
                "start_date": date(2001, 3, 1),
            },
        ),
        (
            her,
            {
                "section": Section.CONDITIONS,
                "kind": EntryKind.SURGERY,
                "label": "Appendicectomie",
                "start_date": date(2003, 7, 21),
            },
        ),
        (
            her,
            {
                "section": Section.WISHES,
                "kind": EntryKind.ADVANCE_DIRECTIVES,
                "label": "Directives anticipées",
                "text": "Je refuse tout acharnement thérapeutique si mon cerveau est gravement "
                "et définitivement atteint. Ma personne de confiance connaît mes souhaits.",
                "start_date": date(2023, 1, 10),
            },
        ),
        (
            her,
            {
                "section": Section.WISHES,
                "kind": EntryKind.ORGAN_DONATION,
                "label": "favorable",
            },
        ),
        (
            her,
            {
                "section": Section.PEOPLE,
                "kind": EntryKind.TRUSTED_PERSON,
                "label": "Paul Dubois",
                "relation": "Époux",
                "phone": "+33 6 98 76 54 32",
            },
        ),
        (
            her,
            {
                "section": Section.PEOPLE,
                "kind": EntryKind.EMERGENCY_CONTACT,
                "label": "Anne Dubois",
                "relation": "Sœur",
                "phone": "+33 6 11 22 33 44",
            },
        ),
        (
            gp,
            {
                "section": Section.MEASUREMENTS,
                "kind": EntryKind.BLOOD_GROUP,
                "label": "A Rhésus positif (A+)",
                "start_date": date(2010, 6, 1),
            },
        ),
        (
            gp,
            {
                "section": Section.VACCINATIONS,
                "kind": EntryKind.VACCINATION,
                "label": "Diphtérie, tétanos, poliomyélite (rappel)",
                "dose": "Rappel de 25 ans",
                "batch": "DTP-2010-4471",
                "start_date": date(2010, 6, 1),
            },
        ),
        (
            gp,
            {
                "section": Section.VACCINATIONS,
                "kind": EntryKind.VACCINATION,
                "label": "Grippe saisonnière",
                "batch": "GRP-25-0912",
                "start_date": date(today.year - 1, 10, 20),
            },
        ),
        (
            her,
            {
                "section": Section.FAMILY,
                "kind": EntryKind.FAMILY,
                "label": "Diabète de type 2",
                "relation": "Père",
            },
        ),
        (
            her,
            {
                "section": Section.FAMILY,
                "kind": EntryKind.FAMILY,
                "label": "Cancer du sein à 62 ans",
                "relation": "Mère",
            },
        ),
    ]
    now = clock.now()
    for (kind, account_id, label), values in rows:
        db.session.add(
            ProfileEntry(
                patient_id=patient.id,
                author_kind=kind,
                author_account_id=account_id,
                author_label=label,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
    db.session.flush()


def _add_measurements(patient: Patient) -> None:
    """A year of home blood pressure, her weight and height, fasting glucose: once."""
    if db.session.scalar(select(func.count()).where(Measurement.patient_id == patient.id)):
        return
    today = clock.to_paris(clock.now()).date()
    her: dict[str, object] = {
        "author_kind": AuthorKind.PATIENT,
        "author_account_id": patient.account_id,
        "author_label": f"{patient.first_names} {patient.last_name}",
    }
    doctor = _professional("medecin.demo")
    gp: dict[str, object] = {
        "author_kind": AuthorKind.PROFESSIONAL,
        "author_account_id": doctor.account_id,
        "author_label": doctor.display_name,
    }
    now = clock.now()
    rows: list[tuple[dict[str, object], dict[str, object]]] = []
    pressures = [
        (138, 88),
        (135, 86),
        (141, 90),
        (132, 84),
        (129, 83),
        (127, 81),
        (124, 79),
        (126, 80),
    ]
    for index, (high, low) in enumerate(pressures):
        day = today - timedelta(days=45 * (len(pressures) - index))
        rows.append(
            (
                her,
                {
                    "kind": MeasureKind.BLOOD_PRESSURE,
                    "measured_on": day,
                    "value": float(high),
                    "value2": float(low),
                    "unit": "mmHg",
                },
            )
        )
    for index, weight in enumerate((67.5, 66.8, 66.0, 65.2)):
        day = today - timedelta(days=90 * (4 - index))
        rows.append(
            (her, {"kind": MeasureKind.WEIGHT, "measured_on": day, "value": weight, "unit": "kg"})
        )
    rows.append(
        (
            gp,
            {
                "kind": MeasureKind.HEIGHT,
                "measured_on": today - timedelta(days=300),
                "value": 166.0,
                "unit": "cm",
            },
        )
    )
    for index, grams in enumerate((1.02, 0.97, 0.94)):
        day = today - timedelta(days=120 * (3 - index))
        rows.append(
            (
                gp,
                {
                    "kind": MeasureKind.GLUCOSE,
                    "measured_on": day,
                    "value": round(grams * 5.551, 2),
                    "unit": "g/L",
                    "fasting": True,
                },
            )
        )
    for author, values in rows:
        db.session.add(
            Measurement(patient_id=patient.id, created_at=now, updated_at=now, **author, **values)
        )
    db.session.flush()


HELD_TITLE = "Échographie cardiaque : compte rendu"


def _add_held_result(patient: Patient) -> None:
    """A result her cardiologist holds until he has explained it (SPEC §4.4): she sees a
    neutral notice, he sees it under "Résultats en attente d'annonce". Added once."""
    exists = db.session.scalar(
        select(func.count()).where(Document.patient_id == patient.id, Document.title == HELD_TITLE)
    )
    if exists:
        return
    cardio = _professional("cardio.demo").account
    assert cardio is not None
    today = clock.to_paris(clock.now()).date()
    content = demo_files.pdf(
        HELD_TITLE,
        [
            f"Patiente : {patient.first_names} {patient.last_name}",
            "Indication : bilan de tachycardie.",
            "Ventricule gauche de taille normale, fraction d'éjection conservée.",
            "Conclusion à commenter lors de la consultation.",
        ],
        issuer=("Dr Karim Benali", "Cardiologie, Hôpital Édouard-Herriot"),
    )
    documents.add(
        cardio,
        patient,
        stream=io.BytesIO(content),
        file_name="echographie-cardiaque.pdf",
        title=HELD_TITLE,
        category="imagerie",
        care_date=today,
        type_code="18748-4",
        hold_from_patient=True,
    )
    db.session.flush()
