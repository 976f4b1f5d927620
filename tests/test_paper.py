"""The paper copy of the record (SPEC §8): the holder's PDF download, and the postal copy an agent
requests at the counter, which goes to the print spool and never to the agent's screen."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.builders import (
    authorise,
    csrf_from,
    fresh_csrf,
    login_as,
    make_agent,
    make_beneficiary,
    make_document,
    make_patient,
    make_professional,
    page_text,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import AccessEvent, Account, Beneficiary, EntryKind, Section
from webapp.models.account import RecordState
from webapp.services import profile
from webapp.services.audit import Action, record_access

PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"
ALLERGY = "Pénicilline"
TREATMENT = "Lévothyroxine"


def pdf_text(data: bytes) -> str:
    """The PDF's words as poppler reads them, on one line (`make pdf-deps` installs it)."""
    assert Path(PDFTOTEXT).exists(), "pdftotext is missing: run `make pdf-deps`"
    assert data.startswith(b"%PDF-")
    done = subprocess.run(  # noqa: S603 - a fixed program on bytes we made
        [PDFTOTEXT, "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode().split())


def rich_record(holder: Account) -> Account:
    """An allergy, a current treatment, a document, an authorised doctor who consulted it."""
    patient = holder.patient
    assert patient is not None
    profile.add_entry(
        holder,
        patient,
        Section.ALLERGIES,
        EntryKind.ALLERGY,
        {"label": ALLERGY, "reaction": "urticaire", "severity": "severe"},
    )
    profile.add_entry(
        holder,
        patient,
        Section.TREATMENTS,
        EntryKind.TREATMENT,
        {"label": TREATMENT, "dose": "75 µg", "frequency": "le matin"},
    )
    make_document(holder, title="Bilan thyroïdien", category="biologie")
    doctor = make_professional(first_names="Claire")
    assert doctor.professional is not None
    doctor.professional.last_name = "Martinez"
    authorise(doctor, holder)
    record_access(patient, doctor, Action.RECORD_CONSULTED)
    db.session.commit()
    return doctor


def download(client: FlaskClient) -> bytes:
    response = client.post("/settings/paper", data={"csrf_token": fresh_csrf(client)})
    assert response.status_code == HTTPStatus.OK, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    day = clock.to_paris(clock.now()).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="carnet-copie-papier-{day}.pdf"'
    )
    return response.get_data()


class TestDownload:
    def test_the_pdf_holds_the_record_in_words(self, client: FlaskClient) -> None:
        holder = make_patient()
        doctor = rich_record(holder)
        login_as(client, holder)
        data = download(client)
        text = pdf_text(data)
        assert ALLERGY in text and "urticaire" in text
        assert TREATMENT in text and "75 µg" in text
        assert "Bilan thyroïdien" in text
        assert doctor.professional is not None
        assert doctor.professional.last_name == "Martinez" and "Martinez" in text
        assert "Dossier consulté" in text  # a history line, in words
        assert "Connexion" in text
        patient = holder.patient
        assert patient is not None
        assert patient.last_name.upper() in text
        spaced = " ".join([patient.nir[0], patient.nir[1:3], patient.nir[3:5]])
        assert spaced in text  # the NIR is spaced as on the carte Vitale
        assert "page 1 / " in text
        assert b"/JavaScript" not in data and b"/JS " not in data and b"/URI" not in data

    def test_the_download_is_in_the_history(self, client: FlaskClient) -> None:
        holder = make_patient()
        login_as(client, holder)
        download(client)
        events = db.session.scalars(
            select(AccessEvent).where(AccessEvent.action == Action.PAPER_COPY_DOWNLOADED)
        ).all()
        assert len(events) == 1 and events[0].actor_account_id == holder.id

    def test_in_english_when_she_chose_english(self, client: FlaskClient) -> None:
        holder = make_patient(language="en")
        rich_record(holder)
        login_as(client, holder)
        text = pdf_text(download(client))
        assert ALLERGY in text
        assert "Record viewed" in text and "Dossier consulté" not in text

    def test_it_needs_a_recent_sign_in(self, client: FlaskClient) -> None:
        holder = make_patient()
        login_as(client, holder)
        csrf = fresh_csrf(client)
        clock.advance(6 * 60)
        response = client.post("/settings/paper", data={"csrf_token": csrf})
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"].startswith("/auth/reauth")
        assert not db.session.scalars(
            select(AccessEvent).where(AccessEvent.action == Action.PAPER_COPY_DOWNLOADED)
        ).all()

    @pytest.mark.parametrize("role", ["professional", "agent"])
    def test_other_roles_get_nothing(self, client: FlaskClient, role: str) -> None:
        rich_record(make_patient())
        login_as(client, make_professional() if role == "professional" else make_agent())
        response = client.post("/settings/paper", data={"csrf_token": fresh_csrf(client)})
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.mimetype != "application/pdf"

    def test_her_masked_documents_are_listed_but_not_a_held_one(self, client: FlaskClient) -> None:
        holder = make_patient()
        make_document(holder, title="Compte rendu masqué", masked_from_pros=True)
        make_document(
            holder,
            title="Résultat en attente d'annonce",
            author_kind="professional",
            hidden_from_patient_until=clock.now() + timedelta(days=5),
        )
        login_as(client, holder)
        text = pdf_text(download(client))
        assert "Compte rendu masqué" in text
        assert "attente d'annonce" not in text

    def test_the_settings_page_offers_it(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        page = client.get("/settings/").get_data(as_text=True)
        assert "Imprimer une copie papier de mon dossier" in page
        assert 'action="/settings/paper"' in page and 'hx-boost="false"' in page


# --- at the counter ---------------------------------------------------------------------------


def register_entry(holder: Account, **overrides: object) -> Beneficiary:
    patient = holder.patient
    assert patient is not None
    values: dict[str, object] = {
        "nir": patient.nir,
        "last_name": patient.last_name,
        "first_names": patient.first_names,
    }
    values.update(overrides)
    return make_beneficiary(**values)


class Counter:
    """An agent's browser, keeping every page it was sent."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.seen: list[str] = []

    def get(self, url: str) -> str:
        response = self.client.get(url)
        self.seen.append(page_text(response))
        return self.seen[-1]

    def identify(self, person: Beneficiary) -> str:
        page = self.client.get("/counter/")
        response = self.client.post(
            "/counter/identify",
            data={
                "nir": person.nir,
                "vitale_serial": person.vitale_serial,
                "csrf_token": csrf_from(page),
            },
        )
        assert response.status_code == HTTPStatus.SEE_OTHER
        return response.headers["Location"]

    def request_copy(self, visit: str, confirm: bool = True) -> str:
        page = self.client.get(visit)
        self.seen.append(page_text(page))
        data = {"csrf_token": csrf_from(page)}
        if confirm:
            data["confirm"] = "yes"
        response = self.client.post(f"{visit}/paper-copy", data=data)
        self.seen.append(page_text(response))
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.mimetype != "application/pdf"
        return self.get(response.headers["Location"])


def spooled(settings: Settings) -> list[Path]:
    folder = settings.letters_dir
    return sorted(folder.glob("paper-copy-*.pdf")) if folder.exists() else []


def requests_made() -> list[AccessEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AccessEvent).where(AccessEvent.action == Action.PAPER_COPY_REQUESTED)
        )
    )


class TestAtTheCounter:
    def test_the_copy_goes_to_the_spool_and_never_to_the_agent(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        holder = make_patient()
        rich_record(holder)
        person = register_entry(holder, address="12 rue des Lilas", city="Lyon", postcode="69003")
        agent = make_agent()
        login_as(client, agent)
        counter = Counter(client)
        visit = counter.identify(person)
        page = counter.request_copy(visit)
        assert "La demande est enregistrée" in page
        assert "adresse connue de l'Assurance Maladie" in page
        for seen in counter.seen:
            assert ALLERGY not in seen and TREATMENT not in seen
            assert "Bilan thyroïdien" not in seen and "%PDF" not in seen
        letters = spooled(settings)
        assert len(letters) == 1
        text = pdf_text(letters[0].read_bytes())
        assert "12 rue des Lilas" in text and "69003 Lyon" in text  # the address block
        assert ALLERGY in text and TREATMENT in text and "Bilan thyroïdien" in text
        assert "Dossier consulté" in text  # in French
        made = requests_made()
        assert len(made) == 1 and made[0].actor_account_id == agent.id

    def test_a_spool_that_cannot_be_written_says_so_and_records_nothing(
        self, client: FlaskClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        holder = make_patient()
        rich_record(holder)
        person = register_entry(holder)

        def full_disk(*_args: object) -> Path:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("webapp.services.letters.write_to_spool", full_disk)
        login_as(client, make_agent())
        counter = Counter(client)
        page = counter.request_copy(counter.identify(person))
        assert "Le courrier n'a pas pu être préparé et rien n'a été enregistré" in page
        assert not spooled(settings) and not requests_made()

    def test_the_box_must_be_ticked(self, client: FlaskClient, settings: Settings) -> None:
        holder = make_patient()
        person = register_entry(holder)
        login_as(client, make_agent())
        counter = Counter(client)
        page = counter.request_copy(counter.identify(person), confirm=False)
        assert "Cochez la case" in page
        assert not spooled(settings) and not requests_made()

    def test_refused_without_a_postal_address(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        holder = make_patient()
        rich_record(holder)
        person = register_entry(holder, address=None, postcode=None, city=None)
        login_as(client, make_agent())
        counter = Counter(client)
        page = counter.request_copy(counter.identify(person))
        assert "ne connaît pas d'adresse postale" in page
        assert not spooled(settings) and not requests_made()

    def test_refused_when_the_record_is_closed(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        holder = make_patient()
        rich_record(holder)
        assert holder.patient is not None
        holder.patient.record_state = RecordState.CLOSED
        db.session.commit()
        person = register_entry(holder)
        login_as(client, make_agent())
        counter = Counter(client)
        page = counter.request_copy(counter.identify(person))
        assert "Ce dossier n'est pas ouvert" in page
        assert ALLERGY not in page
        assert not spooled(settings) and not requests_made()

    def test_refused_when_there_is_no_record(self, client: FlaskClient, settings: Settings) -> None:
        person = make_beneficiary()
        login_as(client, make_agent())
        counter = Counter(client)
        page = counter.request_copy(counter.identify(person))
        assert "n'a pas de dossier" in page
        assert not spooled(settings)

    def test_another_agents_visit_is_not_found(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        person = register_entry(make_patient())
        login_as(client, make_agent())
        visit = Counter(client).identify(person)
        other = client.application.test_client()
        login_as(other, make_agent())
        response = other.post(
            f"{visit}/paper-copy", data={"confirm": "yes", "csrf_token": fresh_csrf(other)}
        )
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert not spooled(settings)

    def test_a_professional_cannot_use_the_counter_action(
        self, client: FlaskClient, settings: Settings
    ) -> None:
        person = register_entry(make_patient())
        login_as(client, make_professional())
        response = client.post(
            "/counter/visits/1/paper-copy",
            data={"confirm": "yes", "csrf_token": fresh_csrf(client)},
        )
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert person.id and not spooled(settings)
