"""Professionals and the record, on a phone and on a desktop: the patient grants, masks,
opposes and revokes; professionals find a record, read what the matrix allows, declare
consent, deposit a held result and open an emergency access.

Each journey has the patient and the professionals in separate browser contexts of the same
size. What is not the point of a journey (accounts, documents, profile entries, an
authorisation) is written in the database with the builders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Flask
from playwright.sync_api import FilePayload, Locator, Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback
from sqlalchemy import select

from e2e.helpers import (
    Person,
    assert_accessible,
    database,
    heading,
    main_nav,
    new_patient,
    outbox_kinds,
    sign_in_patient,
    sign_in_professional,
)
from tests.builders import authorise, make_document, make_professional
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Authorisation, Document, ProfileEntry
from webapp.models.profile import EntryKind, Section
from webapp.services.demo import files as demo_files

PRESCRIPTION = "57833-6"
IMAGING = "18748-4"
BIOLOGY = "11502-2"
ADVANCE_DIRECTIVES = "42348-3"
NOT_FOUND = "Cette page est introuvable"


@dataclass(frozen=True)
class Record:
    """A patient with a record, as the professional's pages show her."""

    person: Person
    patient_id: int
    nir: str
    last_name: str
    shown_as: str  # the heading of her record on the professional's side


@dataclass(frozen=True)
class Pro:
    person: Person
    id: int  # the directory entry (Professional.id)
    name: str  # "Dr Paul Docteur12", as every page names him
    last_name: str


# --- data written directly -----------------------------------------------------------------


def _record(app: Flask) -> Record:
    person = new_patient(app)
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None and account.patient is not None
        patient = account.patient
        return Record(
            person,
            patient.id,
            patient.nir,
            patient.last_name,
            f"{patient.last_name.upper()} {patient.first_names}",
        )


def _pro(
    app: Flask,
    *,
    profession: str = "medecin",
    specialty: str | None = "medecine_generale",
    first_names: str = "Paul",
    last_name: str | None = None,
) -> Pro:
    """A professional with an authenticator; `last_name` is made unique with his number."""
    with database(app):
        account = make_professional(
            profession=profession, specialty=specialty, first_names=first_names
        )
        pro = account.professional
        assert pro is not None
        if last_name is not None:
            pro.last_name = f"{last_name}{pro.id}"
            db.session.commit()
        return Pro(
            Person(account.id, account.identifier, first_names),
            pro.id,
            pro.display_name,
            pro.last_name,
        )


def _documents(app: Flask, record: Record, *rows: tuple[str, str, str]) -> dict[str, int]:
    """(title, category, type code) rows in the record; returns their ids by title."""
    with database(app):
        account = db.session.get(Account, record.person.id)
        assert account is not None
        return {
            title: make_document(
                account,
                title=title,
                category=category,
                type_code=type_code,
                care_date=clock.to_paris(clock.now()).date() - timedelta(days=20),
            ).id
            for title, category, type_code in rows
        }


def _authorise(app: Flask, record: Record, pro: Pro, *, traitant: bool = False) -> None:
    with database(app):
        patient = db.session.get(Account, record.person.id)
        professional = db.session.get(Account, pro.person.id)
        assert patient is not None and professional is not None
        authorise(professional, patient, traitant=traitant)


def _profile(app: Flask, record: Record, *entries: dict[str, Any]) -> None:
    with database(app):
        now = clock.now()
        for entry in entries:
            db.session.add(
                ProfileEntry(
                    patient_id=record.patient_id,
                    author_kind="patient",
                    author_account_id=record.person.id,
                    author_label="Alice",
                    created_at=now,
                    updated_at=now,
                    **entry,
                )
            )
        db.session.commit()


ALLERGY: dict[str, Any] = {
    "section": Section.ALLERGIES,
    "kind": EntryKind.ALLERGY,
    "label": "Pénicillines",
    "reaction": "Œdème de Quincke en 2009 (amoxicilline)",
    "severity": "severe",
}
DIRECTIVES: dict[str, Any] = {
    "section": Section.WISHES,
    "kind": EntryKind.ADVANCE_DIRECTIVES,
    "label": "Directives anticipées",
    "text": "Je refuse tout acharnement thérapeutique.",
    "start_date": date(2023, 1, 10),
}


def _document_id(app: Flask, record: Record, title: str) -> int:
    with database(app):
        found = db.session.scalar(
            select(Document.id).where(
                Document.patient_id == record.patient_id, Document.title == title
            )
        )
        assert found is not None
        return found


# --- steps in the browser ------------------------------------------------------------------


def _today() -> date:
    return clock.to_paris(clock.now()).date()


def _record_heading(page: Page, record: Record) -> None:
    heading(page, re.compile(rf"^{re.escape(record.shown_as)}$"))


def _find(page: Page, record: Record) -> None:
    """From the workspace, find the patient by her NIR (as on her card) and her name."""
    if not re.search(r"/pro/$", page.url):
        main_nav(page).get_by_role("link", name="Mes patients").click()
        expect(page).to_have_url(re.compile(r"/pro/$"))
    heading(page, "Espace professionnel")
    nir = record.nir
    page.locator("#find-nir").fill(
        f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    )
    page.locator("#find-last_name").fill(record.last_name.lower())
    page.get_by_role("button", name="Rechercher le dossier").click()
    expect(page).to_have_url(re.compile(rf"/pro/patients/{record.patient_id}$"))
    _record_heading(page, record)


def _open_record(page: Page, record: Record) -> None:
    """An authorised professional opens the record from a bookmark."""
    page.goto(f"/pro/patients/{record.patient_id}")
    _record_heading(page, record)
    expect(page.get_by_role("heading", level=2, name="Documents")).to_be_visible()


def _record_documents(page: Page) -> Locator:
    return page.locator("#record-documents")


def _record_link(page: Page, title: str) -> Locator:
    return _record_documents(page).get_by_role("link", name=title, exact=True)


def _flash(page: Page) -> Locator:
    return page.locator(".flashes")


def _not_found(page: Page) -> None:
    heading(page, NOT_FOUND)
    expect(page.locator(".error-code")).to_have_text("Erreur 404")
    assert_accessible(page)


def _patient_nav(page: Page, name: str) -> None:
    main_nav(page).get_by_role("link", name=name).click()


def _signed_in_professional(app: Flask, new_context: CreateContextCallback, pro: Pro) -> Page:
    """The professional, at his practice: another browser of the same size."""
    desk = new_context().new_page()
    sign_in_professional(app, desk, pro.person)
    return desk


# --- 1. granting a pharmacist for three days ------------------------------------------------


def test_patient_grants_a_pharmacist_for_three_days_who_then_sees_only_the_prescription(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    record = _record(app)
    docs = _documents(
        app,
        record,
        ("Ordonnance du Dr Martin", "ordonnances", PRESCRIPTION),
        ("IRM du genou droit", "imagerie", IMAGING),
    )
    pharmacist = _pro(
        app, profession="pharmacien", specialty=None, first_names="Claire", last_name="Lefèvre"
    )

    sign_in_patient(app, page, record.person)
    _patient_nav(page, "Qui peut voir mon dossier")
    heading(page, "Qui peut voir mon dossier")
    expect(page.locator(".people")).to_have_count(0)
    assert_accessible(page)

    # Active search, as she types: the name without its accent, then the profession and city.
    results = page.locator("#directory-results")
    page.locator("#q").press_sequentially(pharmacist.last_name.replace("è", "e").lower(), delay=20)
    found = results.locator(".person").filter(
        has=page.get_by_role("heading", name=pharmacist.name, exact=True)
    )
    expect(found).to_have_count(1)
    # Each change sends a search; wait for the last one before reading the page.
    with page.expect_response(lambda response: "city=lyo" in response.url):
        page.locator("#profession").select_option("pharmacien")
        page.locator("#city").press_sequentially("lyo", delay=20)
    expect(page).to_have_url(re.compile(r"/access/$"))  # the results came in the page
    expect(results.locator(".status")).to_have_text("1 professionnel trouvé")
    expect(found).to_contain_text("Pharmacien — Cabinet Test, Lyon")
    assert_accessible(page)

    # Without JavaScript the same form is a plain GET page.
    page.goto(f"/access/find?q={pharmacist.last_name}&profession=medecin")
    heading(page, "Chercher un professionnel dans l'annuaire")
    expect(page.locator("#directory-results .status")).to_contain_text(
        "Aucun professionnel ne correspond"
    )
    assert_accessible(page)
    page.goto(f"/access/find?q={pharmacist.last_name}&profession=pharmacien")
    heading(page, "Chercher un professionnel dans l'annuaire")
    page.locator("#directory-results").get_by_role(
        "link", name=f"Autoriser {pharmacist.name}", exact=True
    ).click()

    # The grant: three days by default for a pharmacist, the date asked only when wanted.
    heading(page, f"Autoriser {pharmacist.name}")
    expect(page).to_have_url(re.compile(rf"/access/grant/{pharmacist.id}$"))
    expect(page.get_by_role("radio", name=re.compile(r"^Pendant 3 jours"))).to_be_checked()
    expect(page.locator("#until")).to_be_hidden()
    asked_at = clock.now()
    sees = page.locator("#main section.card")
    expect(sees).to_contain_text("Ordonnances et soins")
    expect(sees).not_to_contain_text("Radio, écho, scanner, IRM")
    assert_accessible(page)
    page.get_by_role("button", name=f"Autoriser {pharmacist.name}").click()

    heading(page, "Qui peut voir mon dossier")
    expect(_flash(page)).to_contain_text(
        f"{pharmacist.name} peut maintenant consulter votre dossier."
    )
    allowed = page.locator(".people .person").filter(
        has=page.get_by_role("heading", name=pharmacist.name)
    )
    expect(allowed).to_have_count(1)
    expect(allowed).not_to_contain_text("jusqu'à ce que vous retiriez l'accès")
    assert_accessible(page)
    with database(app):
        grant = db.session.scalars(
            select(Authorisation).where(
                Authorisation.patient_id == record.patient_id,
                Authorisation.professional_id == pharmacist.id,
            )
        ).one()
        assert grant.until is not None and grant.revoked_at is None
        assert timedelta(0) <= grant.until - (asked_at + timedelta(days=3)) < timedelta(minutes=5)

    # The pharmacist, at the pharmacy: the prescription, not the imaging report.
    desk = _signed_in_professional(app, new_context, pharmacist)
    _find(desk, record)
    assert_accessible(desk)
    expect(_record_documents(desk).locator(".count")).to_have_text("1 document visible pour vous")
    expect(_record_link(desk, "Ordonnance du Dr Martin")).to_be_visible()
    expect(_record_link(desk, "IRM du genou droit")).to_have_count(0)
    categories = desk.get_by_role("navigation", name="Catégories")
    expect(categories.get_by_role("link", name=re.compile(r"^Ordonnances"))).to_be_visible()
    expect(categories.get_by_role("link", name=re.compile(r"^Radio"))).to_have_count(0)

    _record_link(desk, "Ordonnance du Dr Martin").click()
    heading(desk, "Ordonnance du Dr Martin")
    expect(desk.locator(".facts")).to_contain_text("Ordonnances et soins")
    expect(desk.get_by_role("button", name="Masquer aux professionnels")).to_have_count(0)
    assert_accessible(desk)
    desk.get_by_role("link", name="← Dossier du patient").click()
    _record_heading(desk, record)

    # The imaging report's address answers as if it did not exist.
    desk.goto(f"/documents/{docs['IRM du genou droit']}")
    _not_found(desk)


# --- 2. a masked prescription ---------------------------------------------------------------


def test_a_masked_prescription_is_hidden_from_the_pharmacist_not_from_the_medecin_traitant(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    record = _record(app)
    _documents(
        app,
        record,
        ("Ordonnance d'antibiotiques", "ordonnances", PRESCRIPTION),
        ("Bilan sanguin de novembre", "biologie", BIOLOGY),
    )
    pharmacist = _pro(app, profession="pharmacien", specialty=None, first_names="Claire")
    gp = _pro(app, first_names="Jean")
    _authorise(app, record, pharmacist)
    _authorise(app, record, gp, traitant=True)

    counter = _signed_in_professional(app, new_context, pharmacist)
    _open_record(counter, record)
    expect(_record_link(counter, "Ordonnance d'antibiotiques")).to_be_visible()
    expect(_record_documents(counter).locator(".count")).to_have_text(
        "2 documents visibles pour vous"
    )
    assert_accessible(counter)

    # The patient masks it from her document's page.
    sign_in_patient(app, page, record.person)
    _patient_nav(page, "Mes documents")
    heading(page, "Mes documents")
    page.locator("#document-results").get_by_role(
        "link", name="Ordonnance d'antibiotiques", exact=True
    ).click()
    heading(page, "Ordonnance d'antibiotiques")
    panel = page.locator("#who-can-see")
    expect(panel).to_contain_text(f"{pharmacist.name} (Pharmacien), que vous avez autorisé.")
    expect(panel).to_contain_text(f"{gp.name}, votre médecin traitant.")
    assert_accessible(page)
    page.get_by_role("button", name="Masquer aux professionnels").click()
    expect(page.locator(".facts")).to_contain_text("Masqué aux professionnels")
    expect(panel).to_contain_text(f"{pharmacist.name} (Pharmacien) ne le voit pas : il est masqué.")
    expect(panel).to_contain_text(f"{gp.name}, votre médecin traitant.")
    expect(page.get_by_role("button", name="Rendre visible aux professionnels")).to_be_visible()
    assert_accessible(page)

    # The pharmacist's next look: gone from the list and from the counts.
    counter.reload()
    _record_heading(counter, record)
    expect(_record_link(counter, "Ordonnance d'antibiotiques")).to_have_count(0)
    expect(_record_link(counter, "Bilan sanguin de novembre")).to_be_visible()
    expect(_record_documents(counter).locator(".count")).to_have_text(
        "1 document visible pour vous"
    )
    expect(
        counter.get_by_role("navigation", name="Catégories").get_by_role(
            "link", name=re.compile(r"^Ordonnances")
        )
    ).to_have_count(0)
    assert_accessible(counter)

    # The médecin traitant still sees it, marked as masked.
    surgery = _signed_in_professional(app, new_context, gp)
    _open_record(surgery, record)
    masked = (
        _record_documents(surgery)
        .locator(".document-row")
        .filter(has=surgery.get_by_role("link", name="Ordonnance d'antibiotiques", exact=True))
    )
    expect(masked).to_have_count(1)
    expect(masked.locator(".badge")).to_contain_text(["masqué par le patient"])
    expect(_record_documents(surgery).locator(".count")).to_have_text(
        "2 documents visibles pour vous"
    )
    assert_accessible(surgery)
    masked.get_by_role("link").click()
    heading(surgery, "Ordonnance d'antibiotiques")
    assert_accessible(surgery)


# --- 3. what a dentist does not see ---------------------------------------------------------


def test_a_dentist_sees_neither_advance_directives_nor_the_wishes_section(
    app: Flask, page: Page
) -> None:
    record = _record(app)
    docs = _documents(
        app,
        record,
        ("Mes directives anticipées", "ma_sante", ADVANCE_DIRECTIVES),
        ("Ordonnance de bains de bouche", "ordonnances", PRESCRIPTION),
        ("Panoramique dentaire", "imagerie", IMAGING),
    )
    _profile(app, record, ALLERGY, DIRECTIVES)
    dentist = _pro(app, profession="chirurgien_dentiste", specialty=None, first_names="Hélène")
    _authorise(app, record, dentist)

    sign_in_professional(app, page, dentist.person)
    _find(page, record)
    documents = _record_documents(page)
    expect(documents.locator(".count")).to_have_text("2 documents visibles pour vous")
    expect(_record_link(page, "Ordonnance de bains de bouche")).to_be_visible()
    expect(_record_link(page, "Panoramique dentaire")).to_be_visible()
    expect(_record_link(page, "Mes directives anticipées")).to_have_count(0)
    expect(
        page.get_by_role("navigation", name="Catégories").get_by_role(
            "link", name=re.compile(r"^Ma santé en résumé")
        )
    ).to_have_count(0)

    profile = page.locator("section[aria-labelledby=profile-title]")
    sections = profile.get_by_role("heading", level=3)
    expect(sections).to_have_text(["Allergies", "Traitements", "Antécédents"])
    expect(profile.get_by_role("heading", name="Volontés")).to_have_count(0)
    expect(profile).to_contain_text("Pénicillines")
    expect(profile).not_to_contain_text("acharnement")
    assert_accessible(page)

    # The emergency summary says what his profession cannot see, without showing it.
    page.get_by_role("link", name="Résumé d'urgence").click()
    heading(page, re.compile(r"^Résumé d'urgence"))
    directives = page.locator(".summary-part.advance_directives")
    expect(directives).to_contain_text("Non accessible à votre profession.")
    expect(page.locator(".summary-part.allergies")).to_contain_text("Pénicillines")
    expect(page.locator("#main")).not_to_contain_text("acharnement")
    assert_accessible(page)

    # Nor by its address.
    page.goto(f"/documents/{docs['Mes directives anticipées']}")
    _not_found(page)


# --- 4. consent declared in consultation ----------------------------------------------------


def test_a_professional_declares_the_patients_consent_and_the_record_opens(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    record = _record(app)
    _documents(app, record, ("Compte rendu de biologie", "biologie", BIOLOGY))
    doctor = _pro(app, specialty="cardiologie", first_names="Louis")

    sign_in_professional(app, page, doctor.person)
    _find(page, record)
    expect(page.locator(".notice")).to_contain_text("Vous n'avez pas encore accès à ce dossier.")
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_have_count(0)
    expect(page.locator("#main")).not_to_contain_text("Compte rendu de biologie")
    assert_accessible(page)

    # Without the attestation: told next to the box.
    page.get_by_role("button", name="Déclarer l'accord du patient").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Cochez l'attestation pour déclarer l'accord du patient.")
    expect(page.locator("#attest")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    assert "consent_declared" not in outbox_kinds(app, record.person)

    page.locator("#attest").check()
    page.get_by_role("button", name="Déclarer l'accord du patient").click()
    expect(page).to_have_url(re.compile(rf"/pro/patients/{record.patient_id}$"))
    _record_heading(page, record)
    expect(_flash(page)).to_contain_text("Accès enregistré. Le patient en est informé")
    expect(_record_link(page, "Compte rendu de biologie")).to_be_visible()
    assert_accessible(page)

    assert outbox_kinds(app, record.person).count("consent_declared") == 1

    # The patient finds him in her list, said to be authorised by his declaration.
    home = new_context().new_page()
    sign_in_patient(app, home, record.person)
    home.goto("/access/")
    heading(home, "Qui peut voir mon dossier")
    him = home.locator(".people .person").filter(has=home.get_by_role("heading", name=doctor.name))
    expect(him).to_contain_text("le professionnel, qui a déclaré votre accord en consultation")
    assert_accessible(home)


# --- 5. a result held until the announcement consultation -----------------------------------


def _scan_pdf() -> bytes:
    return demo_files.pdf(
        "Scanner thoraco-abdomino-pelvien",
        ["Conclusion : lésion hépatique de 2 cm, à caractériser."],
        issuer=["Centre d'imagerie du Parc"],
    )


def test_a_held_result_stays_a_neutral_notice_until_the_professional_releases_it(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    record = _record(app)
    _documents(app, record, ("Ordonnance de Lévothyroxine", "ordonnances", PRESCRIPTION))
    oncologist = _pro(app, specialty="oncologie", first_names="Sophie")
    _authorise(app, record, oncologist)
    title = "Scanner thoraco-abdomino-pelvien"

    sign_in_professional(app, page, oncologist.person)
    _open_record(page, record)
    page.get_by_role("link", name="Déposer un document").click()
    heading(page, re.compile(r"^Déposer un document dans le dossier de Alice "))
    assert_accessible(page)

    page.set_input_files(
        "#file",
        files=[FilePayload(name="scanner.pdf", mimeType="application/pdf", buffer=_scan_pdf())],
    )
    page.locator("#title").fill(title)
    page.locator("#category").select_option("imagerie")
    page.locator("#type_code").select_option(IMAGING)
    page.locator("#date").fill((_today() - timedelta(days=2)).isoformat())
    page.get_by_role("checkbox", name=re.compile(r"^Non visible par le patient")).check()

    # The patient must have been told: refused without the attestation.
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "Cochez l'attestation : le patient doit être informé."
    )
    expect(page.locator("#informed")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    page.set_input_files(
        "#file",
        files=[FilePayload(name="scanner.pdf", mimeType="application/pdf", buffer=_scan_pdf())],
    )
    expect(page.locator("#title")).to_have_value(title)
    expect(page.locator("#hold")).to_be_checked()
    page.locator("#informed").check()
    page.get_by_role("button", name="Déposer le document").click()
    expect(page).to_have_url(re.compile(rf"/pro/patients/{record.patient_id}$"))
    _record_heading(page, record)
    expect(_flash(page)).to_contain_text(
        "Il reste invisible pour le patient jusqu'à ce que vous le libériez"
    )
    held_row = (
        _record_documents(page)
        .locator(".document-row")
        .filter(has=page.get_by_role("link", name=title, exact=True))
    )
    expect(held_row.locator(".badge")).to_contain_text(["pas encore visible par le patient"])
    assert_accessible(page)
    held_id = _document_id(app, record, title)

    # The patient sees a neutral notice, not the document.
    home = new_context().new_page()
    sign_in_patient(app, home, record.person)
    _patient_nav(home, "Mes documents")
    heading(home, "Mes documents")
    notice = home.locator("#main .notice")
    expect(notice).to_have_text(
        "Un document vous sera expliqué par un professionnel de santé lors d'une "
        "consultation. Il apparaîtra ensuite ici."
    )
    expect(home.locator("#document-results .count")).to_have_text("1 document")
    expect(home.locator("#main")).not_to_contain_text("Scanner")
    assert_accessible(home)
    home.goto(f"/documents/{held_id}")
    _not_found(home)

    # After the consultation, the author releases it from his workspace.
    main_nav(page).get_by_role("link", name="Mes patients").click()
    heading(page, "Espace professionnel")
    waiting = page.locator("section[aria-labelledby=held-title]")
    expect(waiting.get_by_role("heading", name="Résultats en attente d'annonce")).to_be_visible()
    expect(waiting).to_contain_text(f"{title} — {record.shown_as}")
    assert_accessible(page)
    waiting.get_by_role("button", name=f"Libérer maintenant : {title}").click()
    expect(_flash(page)).to_contain_text(
        "Le document est maintenant visible par le patient, qui en est informé."
    )
    assert_accessible(page)
    page.goto("/pro/")
    heading(page, "Espace professionnel")
    expect(waiting).to_contain_text("Aucun document en attente d'annonce.")
    expect(waiting.get_by_role("button", name=re.compile(r"^Libérer maintenant"))).to_have_count(0)
    assert_accessible(page)

    home.goto("/documents/")
    heading(home, "Mes documents")
    expect(home.locator("#main .notice")).to_have_count(0)
    expect(home.locator("#document-results .count")).to_have_text("2 documents")
    home.locator("#document-results").get_by_role("link", name=title, exact=True).click()
    heading(home, title)
    expect(home.locator(".facts")).to_contain_text(oncologist.name)
    assert_accessible(home)


# --- 6. emergency access, opposed then allowed ---------------------------------------------


def _emergency_choice(page: Page, answer: str) -> None:
    """On the patient's side: set the emergency question and save."""
    _patient_nav(page, "Qui peut voir mon dossier")
    heading(page, "Qui peut voir mon dossier")
    page.get_by_role("link", name="Changer mes choix pour les urgences").click()
    heading(page, "Mes choix pour les urgences")
    assert_accessible(page)
    group = page.get_by_role("group", name="En cas d'urgence, si je ne peux pas m'exprimer")
    group.get_by_role("radio", name=answer).check()
    page.get_by_role("button", name="Enregistrer mes choix").click()
    heading(page, "Qui peut voir mon dossier")
    expect(_flash(page)).to_contain_text("Vos choix pour les urgences sont enregistrés.")


def _break_glass(page: Page) -> None:
    page.locator("#reason").select_option("unconscious")
    page.locator("#justification").fill(
        "Patiente retrouvée inconsciente à domicile, amenée aux urgences par les pompiers."
    )
    page.locator("#attest").check()
    page.get_by_role("button", name="Ouvrir l'accès en urgence").click()


def test_emergency_access_is_refused_while_the_patient_opposes_it_then_opens(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    record = _record(app)
    _profile(app, record, ALLERGY)
    _documents(app, record, ("Compte rendu d'hospitalisation", "comptes_rendus", "34133-9"))
    doctor = _pro(app, specialty="medecine_urgence", first_names="Marc")

    sign_in_patient(app, page, record.person)
    _emergency_choice(page, "Je m'oppose à tout accès en urgence")
    expect(page.locator("section[aria-labelledby=emergency-title]")).to_contain_text(
        "Vous vous opposez à l'accès en urgence par un professionnel."
    )
    assert_accessible(page)

    # The emergency physician finds her, then asks for emergency access.
    ward = _signed_in_professional(app, new_context, doctor)
    _find(ward, record)
    ward.get_by_role("link", name="Accès en urgence (bris de glace)").click()
    expect(ward).to_have_url(re.compile(rf"/pro/patients/{record.patient_id}/emergency$"))
    expect(
        ward.get_by_role("heading", level=2, name="Accès en urgence (bris de glace)")
    ).to_be_visible()
    expect(
        ward.get_by_role("radio", name="Urgence : le patient ne peut pas exprimer sa volonté")
    ).to_be_checked()
    assert_accessible(ward)

    # A form sent incomplete says what is missing.
    ward.get_by_role("button", name="Ouvrir l'accès en urgence").click()
    errors = ward.locator(".error-summary")
    expect(errors).to_contain_text("Choisissez le motif dans la liste.")
    expect(errors).to_contain_text("Cochez l'attestation pour ouvrir l'accès en urgence.")
    assert_accessible(ward)

    # Her opposition prevails.
    _break_glass(ward)
    refusal = ward.locator(".error-summary[role=alert]")
    expect(refusal.get_by_role("heading", name="Accès en urgence refusé")).to_be_visible()
    expect(refusal).to_contain_text("Ce patient s'est opposé à cet accès en urgence.")
    expect(ward.locator(".emergency-banner")).to_have_count(0)
    assert_accessible(ward)
    assert "emergency_access" not in outbox_kinds(app, record.person)

    # She lifts it; the next attempt opens the record.
    _emergency_choice(page, "Un professionnel peut consulter mon dossier")
    expect(page.locator("section[aria-labelledby=emergency-title]")).to_contain_text(
        "un professionnel peut consulter votre dossier en urgence"
    )
    assert_accessible(page)

    _break_glass(ward)
    expect(ward).to_have_url(re.compile(rf"/pro/patients/{record.patient_id}/emergency/summary$"))
    heading(ward, f"Résumé d'urgence — {record.shown_as}")
    banner = ward.locator(".emergency-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Accès en urgence")
    expect(banner).to_contain_text(re.compile(r"Il reste \S"))
    allergies = ward.locator(".summary-part.allergies")
    expect(allergies).to_contain_text("Pénicillines")
    expect(allergies).to_contain_text("sévère")
    assert_accessible(ward)

    # The banner follows him on every page while the window is open.
    ward.get_by_role("link", name="Voir le dossier").click()
    _record_heading(ward, record)
    expect(ward.locator(".emergency-banner")).to_be_visible()
    expect(_record_link(ward, "Compte rendu d'hospitalisation")).to_be_visible()
    expect(ward.get_by_role("link", name="Déposer un document")).to_have_count(0)
    assert_accessible(ward)
    main_nav(ward).get_by_role("link", name="Mes patients").click()
    heading(ward, "Espace professionnel")
    expect(ward.locator(".emergency-banner")).to_be_visible()
    assert_accessible(ward)

    assert outbox_kinds(app, record.person).count("emergency_access") == 1

    # Her history flags both attempts.
    _patient_nav(page, "Historique des accès")
    heading(page, "Historique des accès à mon dossier")
    events = page.locator(".history .event")
    opened = events.filter(
        has=page.locator(".what strong", has_text=re.compile(r"^Accès en urgence ouvert$"))
    )
    expect(opened).to_have_count(1)
    expect(opened.locator(".badge.danger")).to_have_text("urgence")
    expect(opened.locator(".who")).to_contain_text(doctor.name)
    expect(opened).to_contain_text("Patient inconscient")  # she sees the reason given
    refused = events.filter(
        has=page.locator(".what strong", has_text=re.compile(r"^Accès en urgence refusé$"))
    )
    expect(refused).to_have_count(1)
    expect(refused.locator(".what")).not_to_contain_text("refusé refusé")  # said once
    expect(refused.locator(".badge.danger")).to_have_text("urgence")
    assert_accessible(page)


# --- 7. a revoked professional's next click --------------------------------------------------


def test_a_revoked_professional_is_refused_at_his_next_click(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    record = _record(app)
    _documents(
        app,
        record,
        ("Ordonnance de kinésithérapie", "ordonnances", "57832-8"),
        ("Glycémie à jeun", "biologie", BIOLOGY),
    )
    doctor = _pro(app, first_names="Luc")
    _authorise(app, record, doctor)

    # Two tabs on the record: one for a category, one for a document.
    office = _signed_in_professional(app, new_context, doctor)
    _open_record(office, record)
    assert_accessible(office)
    other_tab = office.context.new_page()
    _open_record(other_tab, record)
    expect(_record_link(other_tab, "Glycémie à jeun")).to_be_visible()

    # Meanwhile, at home, she withdraws his access.
    sign_in_patient(app, page, record.person)
    _patient_nav(page, "Qui peut voir mon dossier")
    heading(page, "Qui peut voir mon dossier")
    page.get_by_role("link", name=f"Retirer l'accès — {doctor.name}").click()
    heading(page, f"Retirer l'accès de {doctor.name} ?")
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer").click()
    heading(page, "Qui peut voir mon dossier")
    expect(_flash(page)).to_contain_text(f"{doctor.name} n'a plus accès à votre dossier.")
    expect(page.locator(".people")).to_have_count(0)
    assert_accessible(page)

    # His next click, whichever it is, finds nothing.
    office.get_by_role("navigation", name="Catégories").get_by_role(
        "link", name=re.compile(r"^Ordonnances")
    ).click()
    _not_found(office)
    expect(office.locator("#main")).not_to_contain_text("Ordonnance de kinésithérapie")

    _record_link(other_tab, "Glycémie à jeun").click()
    _not_found(other_tab)
    expect(other_tab.locator("#main")).not_to_contain_text("Glycémie")
