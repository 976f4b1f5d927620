"""The demo accounts and who may open the demo patient's record (`accounts.toml`)."""

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
    professional: str  # a demo professional's identifier
    medecin_traitant: bool


@dataclass(frozen=True)
class DemoAccounts:
    password: str
    register: str  # files of webapp/data, imported first
    directory: str
    pending_nir: str
    patient: DemoPatient
    professionals: tuple[DemoProfessional, ...]
    agent: DemoAgent
    authorisations: tuple[DemoAuthorisation, ...]

    @property
    def authors(self) -> set[str]:
        """Who may have written in her record: she and her professionals."""
        return {self.patient.identifier} | {pro.identifier for pro in self.professionals}


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


def _authorisation(entry: Entry, professionals: set[str]) -> DemoAuthorisation:
    authorisation = DemoAuthorisation(
        professional=entry.text("professional"),
        medecin_traitant=entry.flag("medecin_traitant"),
    )
    if authorisation.professional not in professionals:
        entry.fail(f"{authorisation.professional!r} is not one of the demo professionals")
    entry.done()
    return authorisation


def parse(text: str) -> DemoAccounts:
    top = parse_toml(FILE, text)
    professionals = tuple(_professional(row) for row in top.tables("professionals", "identifier"))
    known = {pro.identifier for pro in professionals}
    accounts = DemoAccounts(
        password=top.text("password"),
        register=_sample(top, "register"),
        directory=_sample(top, "directory"),
        pending_nir=_digits(top, "pending_nir", 15),
        patient=_patient(top.table("patient", "patient")),
        professionals=professionals,
        agent=_agent(top.table("agent", "agent")),
        authorisations=tuple(
            _authorisation(row, known) for row in top.tables("authorisations", "professional")
        ),
    )
    top.done()
    if len(accounts.authors | {accounts.agent.identifier}) != 2 + len(professionals):
        top.fail("two accounts have the same identifier")
    return accounts


@lru_cache(maxsize=1)
def current() -> DemoAccounts:
    return parse(read_text(FILE))
