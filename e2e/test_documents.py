"""A patient's documents, on a phone and on a desktop: add, find, mask, delete; a bad file."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from flask import Flask
from playwright.sync_api import FilePayload, Locator, Page, expect

from e2e.helpers import (
    Person,
    assert_accessible,
    database,
    heading,
    main_nav,
    new_patient,
    sign_in_patient,
    unfold,
)
from tests.builders import authorise, make_professional
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account
from webapp.services import documents
from webapp.services.demo import files as demo_files

TITLE = "Prise de sang de contrôle"
OTHER_TITLE = "Ordonnance du Dr Martin"


def _blood_test_pdf() -> bytes:
    return demo_files.pdf(
        "Numération formule sanguine",
        [
            "**Analyse\tRésultat\tValeurs de référence",
            "Hémoglobine\t13,4 g/dL\t12,0 – 16,0",
            "Plaquettes\t245 G/L\t150 – 400",
        ],
        issuer=["Laboratoire Rhône-Biologie"],
    )


def _with_a_professional_and_a_prescription(app: Flask, person: Person) -> str:
    """Authorise a doctor for this patient and give her another document; returns his name."""
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None and account.patient is not None
        professional = make_professional()
        authorise(professional, account)
        documents.add(
            account,
            account.patient,
            stream=io.BytesIO(demo_files.pdf("Ordonnance", ["Paracétamol 1 g"])),
            file_name="ordonnance.pdf",
            title=OTHER_TITLE,
            category="ordonnances",
            care_date=clock.to_paris(clock.now()).date() - timedelta(days=90),
        )
        db.session.commit()
        assert professional.professional is not None
        return professional.professional.display_name


def _past_day(days: int) -> str:
    return (clock.to_paris(clock.now()).date() - timedelta(days=days)).isoformat()


def _results(page: Page, title: str) -> Locator:
    return page.locator("#document-results").get_by_role("link", name=title, exact=True)


def test_patient_adds_finds_masks_and_deletes_a_document(app: Flask, page: Page) -> None:
    patient = new_patient(app)
    doctor = _with_a_professional_and_a_prescription(app, patient)
    sign_in_patient(app, page, patient)

    main_nav(page).get_by_role("link", name="Mes documents").click()
    heading(page, "Mes documents")
    expect(page.locator("#document-results .count")).to_have_text("1 document")
    assert_accessible(page)

    # Add a blood test through the form.
    page.get_by_role("link", name="Ajouter un document").click()
    heading(page, "Ajouter un document")
    assert_accessible(page)
    pdf = FilePayload(
        name="prise-de-sang.pdf", mimeType="application/pdf", buffer=_blood_test_pdf()
    )
    page.set_input_files("#file", files=[pdf])
    page.locator("#title").fill(TITLE)
    page.locator("#category").select_option("biologie")
    page.locator("#date").fill(_past_day(12))
    page.get_by_role("button", name="Ajouter à mon dossier").click()

    heading(page, TITLE)
    expect(page).to_have_url(re.compile(r"/documents/\d+$"))
    expect(page.get_by_text(f"Le document « {TITLE} » est ajouté à votre dossier.")).to_be_visible()
    facts = page.locator(".facts")
    expect(facts).to_contain_text("Résultats de biologie")
    expect(facts).to_contain_text("PDF")
    expect(facts).to_contain_text("Visible des professionnels autorisés")
    assert_accessible(page)

    # Back to the list: find it by searching its title, as one types.
    page.get_by_role("link", name="← Tous mes documents").click()
    heading(page, "Mes documents")
    expect(page.locator("#document-results .count")).to_have_text("2 documents")
    assert_accessible(page)
    unfold(page)  # on a phone the list comes first, the search behind one line
    page.locator("#q").press_sequentially("prise de", delay=30)
    expect(page.locator("#document-results .count")).to_have_text("1 document")
    expect(_results(page, TITLE)).to_be_visible()
    expect(_results(page, OTHER_TITLE)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]q=prise(%20|\+)de"))
    assert_accessible(page)
    page.locator("#q").fill("")
    page.locator("#q").press("Backspace")  # fill() types nothing: a keyup runs the search
    expect(page.locator("#document-results .count")).to_have_text("2 documents")

    # ... and with the category filter.
    categories = page.get_by_role("navigation", name="Catégories")
    unfold(page)
    categories.get_by_role("link", name=re.compile(r"^Résultats de biologie")).click()
    expect(page).to_have_url(re.compile(r"[?&]category=biologie"))
    # The fold says which category is shown; opened, the category is the current one.
    expect(page.locator("#main .fold-toggle summary")).to_contain_text("Résultats de biologie")
    unfold(page)
    expect(
        categories.get_by_role("link", name=re.compile(r"^Résultats de biologie"))
    ).to_have_attribute("aria-current", "page")
    expect(_results(page, TITLE)).to_be_visible()
    expect(_results(page, OTHER_TITLE)).to_have_count(0)
    assert_accessible(page)

    # Open it and mask it: the panel says who no longer sees it.
    _results(page, TITLE).click()
    heading(page, TITLE)
    panel = page.locator("#who-can-see")
    expect(panel.get_by_role("heading", name="Qui peut voir ce document ?")).to_be_visible()
    expect(panel).to_contain_text(f"{doctor} (Médecin), que vous avez autorisé.")
    assert_accessible(page)
    page.get_by_role("button", name="Masquer aux professionnels").click()
    expect(panel).to_contain_text(f"{doctor} (Médecin) ne le voit pas : il est masqué.")
    expect(panel).not_to_contain_text("que vous avez autorisé")
    expect(page.locator(".facts")).to_contain_text("Masqué aux professionnels")
    expect(page.get_by_role("button", name="Rendre visible aux professionnels")).to_be_visible()
    assert_accessible(page)

    # Delete it, through the confirmation page.
    page.get_by_role("link", name="Supprimer", exact=True).click()
    heading(page, "Supprimer ce document ?")
    expect(page.locator(".lead")).to_contain_text(TITLE)
    assert_accessible(page)
    page.get_by_role("button", name="Oui, supprimer définitivement").click()
    heading(page, "Mes documents")
    expect(page.get_by_text(f"Le document « {TITLE} » est supprimé.")).to_be_visible()
    expect(_results(page, TITLE)).to_have_count(0)
    expect(_results(page, OTHER_TITLE)).to_be_visible()
    expect(page.locator("#document-results .count")).to_have_text("1 document")
    assert_accessible(page)


def test_a_file_that_is_not_what_its_name_says_is_refused_next_to_the_field(
    app: Flask, page: Page
) -> None:
    patient = new_patient(app)
    sign_in_patient(app, page, patient)
    page.goto("/documents/new")
    heading(page, "Ajouter un document")

    web_page = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
    photo = FilePayload(name="photo.jpg", mimeType="image/jpeg", buffer=web_page)
    page.set_input_files("#file", files=[photo])
    page.locator("#title").fill("Photo de mon ordonnance")
    page.locator("#category").select_option("ordonnances")
    page.locator("#date").fill(_past_day(3))
    page.get_by_role("button", name="Ajouter à mon dossier").click()

    heading(page, "Ajouter un document")
    error = page.locator("#file-error")
    expect(error).to_contain_text("Ce type de fichier n'est pas accepté")
    expect(page.locator("#file")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#file")).to_have_attribute(
        "aria-describedby", re.compile(r"\bfile-error\b")
    )
    expect(page.get_by_role("alert")).to_contain_text("Fichier")
    expect(page.locator("#title")).to_have_value("Photo de mon ordonnance")
    expect(page.locator("#category")).to_have_value("ordonnances")
    assert_accessible(page)

    # Nothing was added.
    page.goto("/documents/")
    heading(page, "Mes documents")
    expect(page.locator("#document-results")).to_contain_text(
        "Votre dossier ne contient encore aucun document."
    )
