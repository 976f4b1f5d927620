"""The professional workspace: finding a patient, the ways in, declaring consent, reading the
record as the matrix allows, depositing, and the announcement hold of a result."""

from __future__ import annotations

import gc
import io
import re
from datetime import date, timedelta
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.builders import (
    authorise,
    csrf_from,
    login_as,
    make_document,
    make_patient,
    make_professional,
    page_text,
    pdf_file,
)
from tests.test_query_counts import _bulk_documents, counting
from webapp import policy
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Authorisation, Document, OutboxMessage, Patient
from webapp.models.account import RecordState
from webapp.policy import queries, relations
from webapp.services import documents, lifecycle
from webapp.services.audit import Action
from webapp.services.demo import with_key

PDF = pdf_file("Resultat", padding=b"x" * 200)
NOT_FOUND_TEXT = "Aucun dossier ouvert ne correspond à ces informations."


def _patient(account: Account) -> Patient:
    assert account.patient is not None
    return account.patient


def _tokenless(response: TestResponse) -> str:
    """The page without its CSRF tokens (a signed token carries the second it was made)."""
    return re.sub(r"[\w.-]{40,}", "TOKEN", page_text(response))


def _words(response: TestResponse) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def _events(holder: Account, action: str | None = None) -> list[AccessEvent]:
    db.session.expire_all()
    query = select(AccessEvent).where(AccessEvent.patient_id == _patient(holder).id)
    if action is not None:
        query = query.where(AccessEvent.action == action)
    return list(db.session.scalars(query.order_by(AccessEvent.seq)))


def _outbox(account: Account, kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.account_id == account.id, OutboxMessage.kind == kind
            )
        )
    )


def _documents(holder: Account) -> list[Document]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Document).where(Document.patient_id == _patient(holder).id).order_by(Document.id)
        )
    )


def find(
    client: FlaskClient,
    nir: str,
    *,
    last_name: str = "",
    birth_date: str = "",
) -> TestResponse:
    token = csrf_from(client.get("/pro/"))
    return client.post(
        "/pro/find",
        data={
            "find-csrf_token": token,
            "find-nir": nir,
            "find-last_name": last_name,
            "find-birth_date": birth_date,
        },
    )


def identify(client: FlaskClient, holder: Account) -> str:
    """The professional proves the patient is in front of them; returns the record's URL."""
    record = _patient(holder)
    response = find(client, record.nir, last_name=record.last_name)
    assert response.status_code == HTTPStatus.SEE_OTHER, _words(response)[:400]
    return response.headers["Location"]


def deposit(
    client: FlaskClient,
    patient_id: int,
    *,
    content: bytes = PDF,
    title: str = "Compte rendu de biologie",
    category: str = "biologie",
    type_code: str = "11502-2",
    informed: bool = True,
    hold: bool = False,
) -> TestResponse:
    page = client.get(f"/pro/patients/{patient_id}/deposit")
    assert page.status_code == HTTPStatus.OK
    data: dict[str, object] = {
        "csrf_token": csrf_from(page),
        "file": (io.BytesIO(content), "resultat.pdf"),
        "title": title,
        "category": category,
        "type_code": type_code,
        "date": "2025-06-01",
    }
    if informed:
        data["informed"] = "y"
    if hold:
        data["hold"] = "y"
    return client.post(
        f"/pro/patients/{patient_id}/deposit", data=data, content_type="multipart/form-data"
    )


@pytest.fixture
def pro(client: FlaskClient) -> Account:
    account = make_professional()
    login_as(client, account)
    return account


# --- finding a patient -----------------------------------------------------------------------


class TestFind:
    def test_nir_and_name_open_the_way_in(self, client: FlaskClient, pro: Account) -> None:
        holder = make_patient()
        record = _patient(holder)
        response = find(
            client, f"{record.nir[:7]} {record.nir[7:]}", last_name=record.last_name.upper()
        )
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == f"/pro/patients/{record.id}"
        page = client.get(response.headers["Location"])
        assert page.status_code == HTTPStatus.OK
        assert "Vous n'avez pas encore accès à ce dossier." in page_text(page)

    def test_nir_and_birth_date_are_enough(self, client: FlaskClient, pro: Account) -> None:
        holder = make_patient()
        record = _patient(holder)
        response = find(client, record.nir, birth_date=record.birth_date.isoformat())
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == f"/pro/patients/{record.id}"

    def test_accents_and_hyphens_of_the_name_do_not_matter(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        _patient(holder).last_name = "Lefèvre-Dupré"
        db.session.commit()
        response = find(client, _patient(holder).nir, last_name="LEFEVRE DUPRE")
        assert response.status_code == HTTPStatus.SEE_OTHER

    def test_the_name_or_the_birth_date_is_required(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        response = find(client, _patient(holder).nir)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Saisissez aussi le nom ou la date de naissance du patient." in page_text(response)

    @pytest.mark.parametrize(
        "case",
        ["wrong_name", "wrong_birth_date", "unknown_nir", "pending", "opposed", "closed"],
    )
    def test_every_miss_gets_the_same_answer_and_leaks_nothing(
        self, client: FlaskClient, pro: Account, case: str
    ) -> None:
        holder = make_patient()
        record = _patient(holder)
        nir, last_name, birth = record.nir, record.last_name, ""
        if case == "wrong_name":
            last_name = "Quelquundautre"
        elif case == "wrong_birth_date":
            last_name, birth = "", "1979-12-31"
        elif case == "unknown_nir":
            nir = with_key("2990175999999")
        else:
            record.record_state = RecordState(case)
            db.session.commit()
        response = find(client, nir, last_name=last_name, birth_date=birth)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        page = page_text(response)
        summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
        assert summary is not None
        assert _expected_message() in summary.group(0)
        assert "Location" not in response.headers
        shown = re.sub(r'value="[^"]*"', "", page)  # what the professional typed aside
        assert str(record.id) not in re.findall(r"/pro/patients/(\d+)", shown)
        assert record.last_name not in shown and record.first_names not in shown
        assert client.get(f"/pro/patients/{record.id}").status_code == HTTPStatus.NOT_FOUND

    def test_the_miss_pages_are_identical_but_for_the_input(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder, closed = make_patient(), make_patient()
        _patient(closed).record_state = RecordState.CLOSED
        db.session.commit()
        answers = [
            find(client, _patient(holder).nir, last_name="Autre"),
            find(client, with_key("1990175888888"), last_name="Autre"),
            find(client, _patient(closed).nir, last_name="Autre"),
        ]
        assert {a.status_code for a in answers} == {HTTPStatus.UNPROCESSABLE_ENTITY}
        # The NIR typed differs, and the CSRF token wherever it is written (a signed token
        # carries its second: two pages a second apart on a loaded machine differ there);
        # nothing else may.
        cleaned = {
            re.sub(r'(value|content|data-token)="[^"]*"|"X-CSRFToken": "[^"]*"', "", page_text(a))
            for a in answers
        }
        assert len(cleaned) == 1

    def test_an_unidentified_record_is_404_and_the_attempt_recorded(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        response = client.get(f"/pro/patients/{_patient(holder).id}")
        assert response.status_code == HTTPStatus.NOT_FOUND
        (event,) = _events(holder, Action.RECORD_CONSULTED)
        assert not event.allowed and event.reason == "no_authorisation"
        assert event.actor_account_id == pro.id

    def test_an_unknown_record_is_404(self, client: FlaskClient, pro: Account) -> None:
        assert client.get("/pro/patients/999999").status_code == HTTPStatus.NOT_FOUND


def _expected_message() -> str:
    return (
        "Aucun dossier ouvert ne correspond à ces informations. Vérifiez le numéro et le nom "
        "avec la carte Vitale du patient. S'il n'a pas de dossier, vous pouvez le créer avec "
        "lui ci-dessous."
    )


# --- the ways in and the declared consent ----------------------------------------------------


class TestWaysIn:
    def test_the_page_offers_consent_deposit_and_emergency(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        make_document(holder, title="Secret du dossier")
        page = page_text(client.get(identify(client, holder)))
        assert "Le patient est d'accord" in page
        assert f"/pro/patients/{_patient(holder).id}/consent" in page
        assert f"/pro/patients/{_patient(holder).id}/deposit" in page
        assert f"/pro/patients/{_patient(holder).id}/emergency" in page
        assert "Secret du dossier" not in page
        assert _patient(holder).last_name.upper() in page

    def test_an_occupational_physician_is_not_offered_to_declare(self, client: FlaskClient) -> None:
        occupational = make_professional(specialty="medecine_du_travail")
        login_as(client, occupational)
        holder = make_patient()
        page = page_text(client.get(identify(client, holder)))
        assert "Le patient est d'accord" not in page
        assert f"/pro/patients/{_patient(holder).id}/deposit" in page

    def test_a_blocked_professional_gets_the_page_of_any_professional_without_access(
        self, client: FlaskClient, pro: Account
    ) -> None:
        """Never told he is blocked (SPEC §4.1): the same page, word for word, as before the
        block; each way in then refuses him, as it would refuse anyone."""
        holder = make_patient()
        record_url = identify(client, holder)
        without_access = client.get(record_url)
        assert "Le patient est d'accord" in page_text(without_access)
        authorise(pro, holder, kind="blocked")
        blocked = client.get(record_url)
        assert blocked.status_code == without_access.status_code == HTTPStatus.OK
        assert _tokenless(blocked) == _tokenless(without_access)
        assert "bloqué" not in page_text(blocked)
        base = f"/pro/patients/{_patient(holder).id}"
        assert client.get(f"{base}/deposit").status_code == HTTPStatus.NOT_FOUND


def _declare(client: FlaskClient, record_url: str, attest: bool = True) -> TestResponse:
    page = client.get(record_url)
    data = {"csrf_token": csrf_from(page)}
    if attest:
        data["attest"] = "y"
    return client.post(f"{record_url}/consent", data=data)


class TestDeclareConsent:
    def test_the_consent_authorises_and_the_patient_is_told_at_once(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient(routine_notices="digest")
        record_url = identify(client, holder)
        response = _declare(client, record_url)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == record_url
        db.session.expire_all()
        (row,) = db.session.scalars(
            select(Authorisation).where(Authorisation.patient_id == _patient(holder).id)
        ).all()
        assert row.granted_by == "professional" and row.granted_by_account_id == pro.id
        assert row.until is None  # a physician: no default end
        (message,) = _outbox(holder, "consent_declared")
        assert message.recipient == holder.email
        assert pro.professional is not None and pro.professional.display_name in message.body
        (event,) = _events(holder, Action.CONSENT_DECLARED)
        assert event.actor_account_id == pro.id and event.actor_kind == "professional"
        page = client.get(record_url)
        assert page.status_code == HTTPStatus.OK
        assert "Profil médical" in page_text(page)

    def test_a_pharmacists_consent_ends_after_three_days(self, client: FlaskClient) -> None:
        pharmacist = make_professional(profession="pharmacien", specialty=None)
        login_as(client, pharmacist)
        holder = make_patient()
        _declare(client, identify(client, holder))
        db.session.expire_all()
        row = db.session.scalars(
            select(Authorisation).where(Authorisation.patient_id == _patient(holder).id)
        ).one()
        assert row.until is not None
        assert abs((row.until - clock.now()) - timedelta(days=3)) < timedelta(minutes=1)

    def test_without_the_attestation_nothing_happens(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        response = _declare(client, identify(client, holder), attest=False)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Cochez l'attestation pour déclarer l'accord du patient." in page_text(response)
        assert _events(holder, Action.CONSENT_DECLARED) == []
        assert _outbox(holder, "consent_declared") == []
        assert not policy.decide(pro, policy.Permission.RECORD_READ, _patient(holder))

    def test_an_occupational_physician_cannot_declare(self, client: FlaskClient) -> None:
        occupational = make_professional(specialty="medecine_du_travail")
        login_as(client, occupational)
        holder = make_patient()
        record_url = identify(client, holder)
        token = csrf_from(client.get(record_url))
        response = client.post(f"{record_url}/consent", data={"csrf_token": token, "attest": "y"})
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert _events(holder, Action.CONSENT_DECLARED) == []
        refused = [e for e in _events(holder, Action.RECORD_CONSULTED) if not e.allowed]
        assert refused[-1].reason == "express_grant_only"
        assert not policy.decide(occupational, policy.Permission.RECORD_READ, _patient(holder))

    def test_a_professional_who_did_not_identify_the_patient_cannot_declare(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        token = csrf_from(client.get("/pro/"))
        response = client.post(
            f"/pro/patients/{_patient(holder).id}/consent",
            data={"csrf_token": token, "attest": "y"},
        )
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert _events(holder, Action.CONSENT_DECLARED) == []


# --- the record as the matrix allows ---------------------------------------------------------


class TestRecord:
    def test_a_pharmacist_sees_a_prescription_not_an_imaging_report(
        self, client: FlaskClient
    ) -> None:
        pharmacist = make_professional(profession="pharmacien", specialty=None)
        login_as(client, pharmacist)
        holder = make_patient()
        authorise(pharmacist, holder)
        make_document(
            holder, title="Ordonnance amoxicilline", category="ordonnances", type_code="57833-6"
        )
        make_document(holder, title="IRM du genou", category="imagerie", type_code="18748-4")
        page = page_text(client.get(f"/pro/patients/{_patient(holder).id}"))
        assert "Ordonnance amoxicilline" in page
        assert "IRM du genou" not in page
        assert "Radio, écho, scanner, IRM" not in page  # no category line for what is hidden

    def test_a_masked_document_is_absent_except_for_the_traitant(self, app: Flask) -> None:
        holder = make_patient()
        doctor, traitant = make_professional(), make_professional()
        authorise(doctor, holder)
        authorise(traitant, holder, traitant=True)
        make_document(holder, title="Visible biologie")
        make_document(holder, title="Masquée biologie", masked_from_pros=True)
        url = f"/pro/patients/{_patient(holder).id}"
        doctor_client, traitant_client = app.test_client(), app.test_client()
        login_as(doctor_client, doctor)
        login_as(traitant_client, traitant)
        seen_by_doctor = _words(doctor_client.get(url))
        assert "Visible biologie" in seen_by_doctor and "Masquée biologie" not in seen_by_doctor
        assert "Toutes (1)" in seen_by_doctor
        assert "1 document visible pour vous" in seen_by_doctor
        seen_by_traitant = _words(traitant_client.get(url))
        assert "Masquée biologie" in seen_by_traitant and "masqué par le patient" in (
            seen_by_traitant
        )
        assert "Toutes (2)" in seen_by_traitant

    def test_counts_per_category_are_consistent(self, client: FlaskClient, pro: Account) -> None:
        holder = make_patient()
        authorise(pro, holder)
        for n in range(3):
            make_document(holder, title=f"Bio {n}")
        make_document(holder, title="Bio masquée", masked_from_pros=True)
        make_document(holder, title="Radio", category="imagerie", type_code="18748-4")
        make_document(holder, title="Ancienne", state="superseded")
        url = f"/pro/patients/{_patient(holder).id}"
        page = _words(client.get(url))
        assert "Toutes (4)" in page
        assert "Résultats de biologie (3)" in page and "Radio, écho, scanner, IRM (1)" in page
        assert "4 documents visibles pour vous" in page
        filtered = _words(client.get(url, query_string={"category": "biologie"}))
        assert "3 documents visibles pour vous" in filtered
        assert "Radio " not in filtered.split("Documents", 1)[1].split("Profil médical")[0]
        unknown = _words(client.get(url, query_string={"category": "astrologie"}))
        assert "4 documents visibles pour vous" in unknown

    def test_every_read_is_recorded_the_page_and_each_swap(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        authorise(pro, holder)
        url = f"/pro/patients/{_patient(holder).id}"
        client.get(url)
        swap = client.get(
            url,
            query_string={"category": "biologie"},
            headers={"HX-Request": "true", "HX-Target": "record-documents"},
        )
        assert swap.status_code == HTTPStatus.OK and "<html" not in page_text(swap)
        # A header the browser sets never decides what is written to the history.
        events = _events(holder, Action.RECORD_CONSULTED)
        assert len(events) == 2 and all(e.allowed and e.mode == "normal" for e in events)

    def test_the_query_count_does_not_grow_with_the_record(
        self, app: Flask, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        authorise(pro, holder)
        url = f"/pro/patients/{_patient(holder).id}"

        def queries() -> int:
            with counting(app) as statements:
                assert client.get(url).status_code == HTTPStatus.OK
            return len(statements)

        _bulk_documents(holder, 3)
        queries()  # the first look also tells the patient: not what is measured here
        small = queries()
        _bulk_documents(holder, 57, start=100)
        assert queries() == small


# --- deposits --------------------------------------------------------------------------------


class TestDeposit:
    def test_an_unauthorised_professional_who_identified_the_patient_deposits_blind(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        other = make_document(holder, title="Pas pour vous")
        record_url = identify(client, holder)
        response = deposit(client, _patient(holder).id)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"].split("?")[0] == "/pro/"  # home: nothing to read
        new = _documents(holder)[-1]
        assert new.author_account_id == pro.id and new.author_kind == "professional"
        assert new.type_code == "11502-2" and new.hidden_from_patient_until is None
        assert "Vous n'avez pas encore accès" in page_text(client.get(record_url))
        assert client.get(f"/documents/{other.id}").status_code == HTTPStatus.NOT_FOUND
        assert client.get(f"/documents/{new.id}").status_code == HTTPStatus.OK  # the author's
        assert len(_outbox(holder, "new_document")) == 1
        assert len(_events(holder, Action.DOCUMENT_DEPOSITED)) == 1

    def test_the_patient_informed_box_is_required(self, client: FlaskClient, pro: Account) -> None:
        holder = make_patient()
        identify(client, holder)
        response = deposit(client, _patient(holder).id, informed=False)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "le patient doit être informé" in page_text(response)
        assert _documents(holder) == []

    def test_a_type_of_another_category_is_refused(self, client: FlaskClient, pro: Account) -> None:
        holder = make_patient()
        identify(client, holder)
        response = deposit(client, _patient(holder).id, category="imagerie", type_code="11502-2")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert _documents(holder) == []

    def test_without_identification_or_authorisation_no_deposit(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        response = client.get(f"/pro/patients/{_patient(holder).id}/deposit")
        assert response.status_code == HTTPStatus.NOT_FOUND

    def test_a_professional_may_deposit_more_than_a_patient(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        identify(client, holder)
        response = deposit(
            client, _patient(holder).id, content=pdf_file(padding=b"0" * (6 * 1024 * 1024))
        )
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert len(_documents(holder)) == 1

    # Werkzeug's test EnvironBuilder spools a large body to a temporary file it never closes.
    @pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    def test_the_20_mb_limit_applies_to_professionals(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        identify(client, holder)
        response = deposit(
            client, _patient(holder).id, content=b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024 + 10)
        )
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "dépasse 20 Mo" in page_text(response)
        assert _documents(holder) == []
        del response
        gc.collect()


class TestHeld:
    def _held(self, client: FlaskClient, pro: Account, holder: Account) -> Document:
        authorise(pro, holder)
        response = deposit(client, _patient(holder).id, title="Biopsie", hold=True)
        assert response.status_code == HTTPStatus.SEE_OTHER
        (doc,) = _documents(holder)
        return doc

    def test_a_held_document_is_hidden_from_the_patient_until_released(
        self, app: Flask, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        doc = self._held(client, pro, holder)
        assert doc.hidden_from_patient_until is not None
        held_for = doc.hidden_from_patient_until - doc.deposited_at
        assert abs(held_for - timedelta(days=30)) < timedelta(seconds=1)
        assert _outbox(holder, "new_document") == []
        patient_client = app.test_client()
        login_as(patient_client, holder)
        listing = _words(patient_client.get("/documents/"))
        assert "Biopsie" not in listing
        assert "Un document vous sera expliqué par un professionnel de santé" in listing
        assert patient_client.get(f"/documents/{doc.id}").status_code == HTTPStatus.NOT_FOUND
        home = page_text(client.get("/pro/"))
        assert "Biopsie" in home and f"/pro/documents/{doc.id}/release" in home
        released = client.post(
            f"/pro/documents/{doc.id}/release", data={"csrf_token": csrf_from(client.get("/pro/"))}
        )
        assert released.status_code == HTTPStatus.SEE_OTHER
        listing = _words(patient_client.get("/documents/"))
        assert "Biopsie" in listing and "vous sera expliqué" not in listing
        assert patient_client.get(f"/documents/{doc.id}").status_code == HTTPStatus.OK
        assert len(_outbox(holder, "new_document")) == 1
        assert len(_events(holder, Action.DOCUMENT_RELEASED)) == 1
        db.session.refresh(doc)
        assert doc.released_at is not None

    def test_only_the_author_may_release(
        self, app: Flask, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        doc = self._held(client, pro, holder)
        colleague = make_professional()
        authorise(colleague, holder, traitant=True)
        other = app.test_client()
        login_as(other, colleague)
        response = other.post(
            f"/pro/documents/{doc.id}/release", data={"csrf_token": csrf_from(other.get("/pro/"))}
        )
        assert response.status_code == HTTPStatus.NOT_FOUND
        db.session.refresh(doc)
        assert doc.released_at is None and relations.is_held(doc)

    def test_a_patient_cannot_release(self, app: Flask, client: FlaskClient, pro: Account) -> None:
        holder = make_patient()
        doc = self._held(client, pro, holder)
        patient_client = app.test_client()
        login_as(patient_client, holder)
        token = csrf_from(patient_client.get("/documents/"))
        response = patient_client.post(
            f"/pro/documents/{doc.id}/release", data={"csrf_token": token}
        )
        assert response.status_code == HTTPStatus.NOT_FOUND
        db.session.refresh(doc)
        assert doc.released_at is None


def _held_by_service(holder: Account, author: Account) -> Document:
    doc = documents.add(
        author,
        _patient(holder),
        stream=io.BytesIO(PDF),
        file_name="biopsie.pdf",
        title="Biopsie",
        category="biologie",
        care_date=date(2025, 6, 1),
        hold_from_patient=True,
    )
    db.session.commit()
    return doc


class TestLifecycleHolds:
    def test_day_14_notice_is_sent_once_and_day_30_releases(self, app: Flask) -> None:
        holder, author = make_patient(), make_professional()
        doc = _held_by_service(holder, author)
        clock.advance(13 * 86400)
        assert lifecycle.run().hold_notices == 0
        assert _outbox(holder, "record_updated_see_doctor") == []
        clock.advance(86400 + 60)
        first, second = lifecycle.run(), lifecycle.run()
        assert (first.hold_notices, second.hold_notices) == (1, 0)
        assert len(_outbox(holder, "record_updated_see_doctor")) == 1
        assert len(_events(holder, Action.HOLD_NOTICE_SENT)) == 1
        db.session.refresh(doc)
        assert doc.hold_notice_sent_at is not None and doc.released_at is None
        assert relations.is_held(doc)
        assert _outbox(holder, "new_document") == []
        clock.advance(16 * 86400)
        first, second = lifecycle.run(), lifecycle.run()
        assert (first.released, second.released) == (1, 0)
        db.session.refresh(doc)
        assert doc.released_at is not None and not relations.is_held(doc)
        assert len(_outbox(holder, "new_document")) == 1
        (event,) = _events(holder, Action.DOCUMENT_RELEASED)
        assert event.actor_kind == "system"
        assert len(_outbox(holder, "record_updated_see_doctor")) == 1
        visible = db.session.scalars(queries.documents_query(holder, _patient(holder))).all()
        assert [d.id for d in visible] == [doc.id]

    def test_a_document_released_by_its_author_gets_no_notice(self, app: Flask) -> None:
        holder, author = make_patient(), make_professional()
        doc = _held_by_service(holder, author)
        clock.advance(86400)
        documents.release(author, doc)
        db.session.commit()
        clock.advance(20 * 86400)
        report = lifecycle.run()
        assert (report.hold_notices, report.released) == (0, 0)
        assert _outbox(holder, "record_updated_see_doctor") == []
        assert len(_outbox(holder, "new_document")) == 1
