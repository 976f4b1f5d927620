"""The demo accounts and who may open each demo patient's record (`accounts.toml`).

The first of the `[[patients]]` is *the* demo patient (`DemoAccounts.patient`): the documents,
measurements and conversations are hers; the others, her relatives, have a profile and
appointments (`profile.toml` and `agenda.toml` name whose record each entry is in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from webapp.services.demo.data import Entry, parse_toml, read_text, sample

FILE = "accounts.toml"


@dataclass(frozen=True)
class DemoPatient:
    identifier: str
    email: str
    mobile: str
    nir13: str  # the NIR without its key
    last_name: str
    first_names: str
    birth_date: date
    sex: str


@dataclass(frozen=True)
class DemoProfessional:
    identifier: str
    email: str
    rpps: str
    first_names: str
    last_name: str
    profession: str
    specialty: str | None
    structure: str
    city: str
    samu_regulator: bool


@dataclass(frozen=True)
class DemoAgent:
    identifier: str
    email: str
    first_names: str
    last_name: str
    organisation: str
    counter: str


@dataclass(frozen=True)
class DemoAuthorisation:
    patient: str  # a demo patient's identifier
    professional: str  # a demo professional's identifier
    medecin_traitant: bool


@dataclass(frozen=True)
class DemoAccounts:
    password: str
    register: str  # files of webapp/data, imported first
    directory: str
    pending_nir: str
    patients: tuple[DemoPatient, ...]  # the demo patient first, then her relatives
    professionals: tuple[DemoProfessional, ...]
    agent: DemoAgent
    authorisations: tuple[DemoAuthorisation, ...]

    @property
    def patient(self) -> DemoPatient:
        """The demo patient, whose documents, measurements and conversations the files hold."""
        return self.patients[0]

    @property
    def authors(self) -> set[str]:
        """Who may have written in her record: she and her professionals."""
        return self.authors_of(self.patient.identifier)

    def authors_of(self, patient: str) -> set[str]:
        """Who may have written in a demo patient's record: they and the professionals."""
        return {patient} | {pro.identifier for pro in self.professionals}

    def authorisations_of(self, patient: str) -> tuple[DemoAuthorisation, ...]:
        return tuple(found for found in self.authorisations if found.patient == patient)


def _digits(entry: Entry, key: str, count: int) -> str:
    value = entry.text(key)
    if len(value) != count or not value.isdigit():
        entry.fail(f'"{key}" must be {count} digits, got {value!r}')
    return value


def _sample(entry: Entry, key: str) -> str:
    path = entry.text(key)
    if not sample(path).is_file():
        entry.fail(f'"{key}": {path!r} is not a file of webapp/data')
    return path


def _patient(entry: Entry) -> DemoPatient:
    patient = DemoPatient(
        identifier=entry.text("identifier"),
        email=entry.text("email"),
        mobile=entry.text("mobile"),
        nir13=_digits(entry, "nir13", 13),
        last_name=entry.text("last_name"),
        first_names=entry.text("first_names"),
        birth_date=entry.day("birth_date"),
        sex=entry.text("sex"),
    )
    if patient.sex not in ("F", "M"):
        entry.fail(f'"sex" must be F or M, got {patient.sex!r}')
    # The NIR starts with the sex (1 a man, 2 a woman), then the year and month of birth.
    born = ("1" if patient.sex == "M" else "2") + patient.birth_date.strftime("%y%m")
    if not patient.nir13.startswith(born):
        entry.fail(f'"nir13" must start with {born} (sex, year and month of birth)')
    entry.done()
    return patient


def _professional(entry: Entry) -> DemoProfessional:
    professional = DemoProfessional(
        identifier=entry.text("identifier"),
        email=entry.text("email"),
        rpps=_digits(entry, "rpps", 11),
        first_names=entry.text("first_names"),
        last_name=entry.text("last_name"),
        profession=entry.text("profession"),
        specialty=entry.optional_text("specialty"),
        structure=entry.text("structure"),
        city=entry.text("city"),
        samu_regulator=entry.flag("samu_regulator"),
    )
    entry.done()
    return professional


def _agent(entry: Entry) -> DemoAgent:
    agent = DemoAgent(
        identifier=entry.text("identifier"),
        email=entry.text("email"),
        first_names=entry.text("first_names"),
        last_name=entry.text("last_name"),
        organisation=entry.text("organisation"),
        counter=entry.text("counter"),
    )
    entry.done()
    return agent


def _authorisation(entry: Entry, patients: list[str], professionals: set[str]) -> DemoAuthorisation:
    authorisation = DemoAuthorisation(
        patient=entry.optional_text("patient") or patients[0],
        professional=entry.text("professional"),
        medecin_traitant=entry.flag("medecin_traitant"),
    )
    if authorisation.patient not in patients:
        entry.fail(f"{authorisation.patient!r} is not one of the demo patients")
    if authorisation.professional not in professionals:
        entry.fail(f"{authorisation.professional!r} is not one of the demo professionals")
    entry.done()
    return authorisation


def _check_authorisations(top: Entry, found: tuple[DemoAuthorisation, ...]) -> None:
    pairs = [(item.patient, item.professional) for item in found]
    if len(set(pairs)) != len(pairs):
        top.fail("a professional is authorised twice on the same record")
    traitants = [item.patient for item in found if item.medecin_traitant]
    if len(set(traitants)) != len(traitants):
        top.fail("a patient has two médecins traitants")


def parse(text: str) -> DemoAccounts:
    top = parse_toml(FILE, text)
    patients = tuple(_patient(row) for row in top.tables("patients", "identifier"))
    if not patients:
        top.fail('"patients" must hold at least the demo patient')
    professionals = tuple(_professional(row) for row in top.tables("professionals", "identifier"))
    named = [patient.identifier for patient in patients]
    known = {pro.identifier for pro in professionals}
    accounts = DemoAccounts(
        password=top.text("password"),
        register=_sample(top, "register"),
        directory=_sample(top, "directory"),
        pending_nir=_digits(top, "pending_nir", 15),
        patients=patients,
        professionals=professionals,
        agent=_agent(top.table("agent", "agent")),
        authorisations=tuple(
            _authorisation(row, named, known)
            for row in top.tables("authorisations", "professional")
        ),
    )
    top.done()
    _check_authorisations(top, accounts.authorisations)
    identifiers = [*named, *(pro.identifier for pro in professionals), accounts.agent.identifier]
    if len(set(identifiers)) != len(identifiers):
        top.fail("two accounts have the same identifier")
    if len({patient.nir13 for patient in patients}) != len(patients):
        top.fail("two patients have the same NIR")
    return accounts


@lru_cache(maxsize=1)
def current() -> DemoAccounts:
    return parse(read_text(FILE))
