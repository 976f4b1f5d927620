"""Loading the demo data (development only), idempotently: the accounts, the demo patient's
professionals, her documents in the nine categories, her profile and measurements, her
conversations with her professionals; for every demo patient (she and her father), who may
open the record, its profile, its appointments and its reimbursements."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, func, select
from stdnum.fr import nir as nir_check

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    Account,
    Agent,
    Authorisation,
    AuthorisationKind,
    Beneficiary,
    CodeIssuer,
    Document,
    Measurement,
    OutboxMessage,
    Patient,
    Professional,
    ProfileEntry,
)
from webapp.models.account import AccountState, Role, SecondFactor
from webapp.models.document import AuthorKind
from webapp.services import (
    beneficiaries,
    codes,
    directory,
    documents,
    enrolment,
    lifecycle,
    passwords,
)
from webapp.services.demo import (
    appointments,
    certificate,
    entries,
    people,
    reimbursement_lines,
    replay,
)
from webapp.services.demo.data import sample
from webapp.services.demo.record import Holder, held_result, record


def password() -> str:
    """Every demo account's password."""
    return people.current().password


def with_key(nir13: str) -> str:
    """A valid-format test NIR: 13 digits and their key."""
    key = 97 - int(nir13) % 97
    full = f"{nir13}{key:02d}"
    nir_check.validate(full)
    return full


def _account(identifier: str, role: Role, email: str) -> tuple[Account, bool]:
    existing = db.session.scalar(select(Account).where(Account.identifier == identifier))
    if existing is not None:
        return existing, False
    account = Account(
        identifier=identifier,
        role=role,
        state=AccountState.ACTIVE,
        email=email,
        password_hash=passwords.hash_password(password()),
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


def load() -> list[str]:
    """Create whatever demo data is missing; returns the identifiers of the accounts created."""
    data = people.current()
    with sample(data.register).open("r", encoding="utf-8-sig") as stream:
        report = beneficiaries.import_csv(stream)
    if not report.ok:
        raise RuntimeError(f"sample register refused: {report.errors[:3]}")
    created = [identifier for demo in data.patients for identifier in _add_patient(demo)]
    with sample(data.directory).open("r", encoding="utf-8-sig") as stream:
        listed = directory.import_csv(stream)
    if not listed.ok:
        raise RuntimeError(f"sample directory refused: {listed.errors[:3]}")
    created += _add_professionals(data.professionals)
    created += _add_agent(data.agent)
    db.session.flush()
    # Relationships read before the rows above existed would still say None.
    db.session.expire_all()
    for demo in data.patients:
        patient = db.session.scalar(
            select(Patient).join(Account).where(Account.identifier == demo.identifier)
        )
        assert patient is not None, demo.identifier
        _authorise(patient, data.authorisations_of(demo.identifier))
        _add_profile(patient, entries.profile_of(demo.identifier))
        if demo == data.patient:  # the documents, measurements and conversations are hers
            _add_documents(patient)
            _add_measurements(patient)
            _add_held_result(patient)
            replay.add(patient)
            certificate.add(patient, _holder(patient), _today())
        appointments.add(patient)
        reimbursement_lines.add(patient)
    return created


def _add_patient(demo: people.DemoPatient) -> list[str]:
    account, new = _account(demo.identifier, Role.PATIENT, demo.email)
    if not new:
        return []
    account.mobile = demo.mobile
    db.session.add(
        Patient(
            account_id=account.id,
            nir=with_key(demo.nir13),
            last_name=demo.last_name,
            first_names=demo.first_names,
            birth_date=demo.birth_date,
            sex=demo.sex,
            audit_head_seq=0,
        )
    )
    return [account.identifier]


def _add_professionals(demos: tuple[people.DemoProfessional, ...]) -> list[str]:
    """Their accounts, tied to their entries of the directory (added when missing)."""
    created: list[str] = []
    for demo in demos:
        account, new = _account(demo.identifier, Role.PROFESSIONAL, demo.email)
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
    return created


def _add_agent(demo: people.DemoAgent) -> list[str]:
    account, new = _account(demo.identifier, Role.AGENT, demo.email)
    if not new:
        return []
    db.session.add(
        Agent(
            account_id=account.id,
            first_names=demo.first_names,
            last_name=demo.last_name,
            organisation=demo.organisation,
            counter=demo.counter,
        )
    )
    return [account.identifier]


def _professional(identifier: str) -> Professional:
    pro = db.session.scalar(
        select(Professional).join(Account).where(Account.identifier == identifier)
    )
    assert pro is not None, identifier
    return pro


def _author(patient: Patient, identifier: str) -> tuple[str, int | None, str]:
    """Author kind, account and label of what a demo account wrote in her record."""
    account = patient.account
    if account is not None and identifier == account.identifier:
        return AuthorKind.PATIENT, patient.account_id, f"{patient.first_names} {patient.last_name}"
    pro = _professional(identifier)
    return AuthorKind.PROFESSIONAL, pro.account_id, pro.display_name


def _authorise(patient: Patient, demos: tuple[people.DemoAuthorisation, ...]) -> None:
    """Each pair once: a professional she later revoked or blocked is left as it is."""
    for demo in demos:
        pro = _professional(demo.professional)
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
                traitant_rights=demo.medecin_traitant,
                is_medecin_traitant=demo.medecin_traitant,
                granted_by="patient",
                since=clock.now(),
                until=None,
            )
        )
    db.session.flush()


def _holder(patient: Patient) -> Holder:
    return Holder(patient.first_names, patient.last_name, patient.birth_date, patient.nir)


def _today() -> date:
    return clock.to_paris(clock.now()).date()


def _add_documents(patient: Patient) -> None:
    """Her documents in the nine categories, once: never again after any document exists,
    even deleted, so that what a developer removed by hand stays removed."""
    if db.session.scalar(select(func.count()).where(Document.patient_id == patient.id)):
        return
    holder_account = patient.account
    assert holder_account is not None
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    authors: dict[str, Account] = {holder_account.identifier: holder_account}
    for demo in record(_today(), _holder(patient)):
        if demo.author not in authors:
            found = _professional(demo.author).account
            assert found is not None
            authors[demo.author] = found
        doc = documents.add(
            authors[demo.author],
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
    nir = people.current().pending_nir
    person = db.session.scalar(select(Beneficiary).where(Beneficiary.nir == nir))
    if person is None:
        return None
    found = lifecycle.record_for(person)
    if found is not None and found.record_state != "pending":
        return PendingDemo(person, None, found.record_state)
    _, code = enrolment.send_code(person, "email", issued_by=CodeIssuer.CAMPAIGN, actor=None)
    return PendingDemo(person, code, "pending")


def _add_profile(patient: Patient, items: tuple[entries.ProfileItem, ...]) -> None:
    """A medical profile, once (what the emergency summary shows first)."""
    if db.session.scalar(select(func.count()).where(ProfileEntry.patient_id == patient.id)):
        return
    today = _today()
    now = clock.now()
    for item in items:
        kind, account_id, label = _author(patient, item.author)
        values = item.columns(today)
        if item.prescribed_by is not None:
            values["prescriber"] = _professional(item.prescribed_by).display_name
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
    today = _today()
    now = clock.now()
    for item in entries.measurements():
        kind, account_id, label = _author(patient, item.author)
        db.session.add(
            Measurement(
                patient_id=patient.id,
                kind=item.kind,
                measured_on=today - timedelta(days=item.days_ago),
                value=item.value,
                value2=item.value2,
                unit=item.unit,
                fasting=item.fasting,
                author_kind=kind,
                author_account_id=account_id,
                author_label=label,
                created_at=now,
                updated_at=now,
            )
        )
    db.session.flush()


def _add_held_result(patient: Patient) -> None:
    """A result her cardiologist holds until he has explained it (SPEC §4.4): she sees a
    neutral notice, he sees it under "Résultats en attente d'annonce". Added once."""
    demo = held_result(_today(), _holder(patient))
    exists = db.session.scalar(
        select(func.count()).where(Document.patient_id == patient.id, Document.title == demo.title)
    )
    if exists:
        return
    author = _professional(demo.author).account
    assert author is not None
    documents.add(
        author,
        patient,
        stream=io.BytesIO(demo.content()),
        file_name=demo.file_name,
        title=demo.title,
        category=demo.category,
        care_date=demo.care_date,
        type_code=demo.type_code,
        hold_from_patient=True,
    )
    db.session.flush()
