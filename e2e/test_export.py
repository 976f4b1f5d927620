"""The patient takes her whole record away, on a phone and on a desktop: freshly signed in, she
downloads the ZIP from her settings; it opens, holds her document byte for byte, and its
fhir.json reads back as a FHIR R4 Bundle."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

from fhir.resources.R4B.bundle import Bundle
from flask import Flask
from playwright.sync_api import Page, expect

from e2e.helpers import assert_accessible, database, heading, new_patient, sign_in_patient
from tests.builders import pdf_file
from webapp.core.extensions import db
from webapp.models import Account
from webapp.services import documents

CONTENT = pdf_file("Bilan sanguin")


def test_she_downloads_her_whole_record_and_it_opens(app: Flask, page: Page) -> None:
    person = new_patient(app)
    with database(app):
        account = db.session.get_one(Account, person.id)
        assert account.patient is not None
        documents.add(
            account,
            account.patient,
            stream=io.BytesIO(CONTENT),
            file_name="bilan.pdf",
            title="Bilan sanguin",
            category="biologie",
            care_date=date(2025, 3, 12),
        )
        db.session.commit()
    sign_in_patient(app, page, person)

    page.goto("/settings/")
    heading(page, "Sécurité et réglages")
    section = page.get_by_role("region", name="Télécharger tout mon dossier")
    expect(section).to_be_visible()
    expect(section.get_by_text("fhir.json")).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as arriving:
        section.get_by_role("button", name="Télécharger tout mon dossier (ZIP)").click()
    download = arriving.value
    assert re.fullmatch(r"carnet-\d{4}-\d{2}-\d{2}\.zip", download.suggested_filename)
    archive = zipfile.ZipFile(download.path())
    assert archive.testzip() is None
    assert archive.read("documents/2025-03-12 Bilan sanguin.pdf") == CONTENT
    bundle = Bundle.model_validate_json(archive.read("fhir.json"))
    assert bundle.type == "collection"
    assert "README.txt" in archive.namelist() and "history.csv" in archive.namelist()
    # The page stays as it was: a download, not a navigation.
    heading(page, "Sécurité et réglages")
