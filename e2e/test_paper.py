"""The paper copy, on a phone and on a desktop: the settings page offers it (axe clean), she
downloads it, and the file is a PDF whose text holds her allergy. The allergy is written with
the profile service before she signs in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page

from e2e.helpers import (
    Person,
    assert_accessible,
    database,
    heading,
    new_patient,
    sign_in_patient,
)
from webapp.core.extensions import db
from webapp.models import Account, EntryKind, Section
from webapp.services import profile

ALLERGY = "Arachide"
PAPER = "Imprimer une copie papier de mon dossier"


def _allergic(app: Flask, person: Person) -> None:
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None and account.patient is not None
        profile.add_entry(
            account,
            account.patient,
            Section.ALLERGIES,
            EntryKind.ALLERGY,
            {"label": ALLERGY, "reaction": "œdème", "severity": "severe"},
        )
        db.session.commit()


def _text(path: Path) -> str:
    program = shutil.which("pdftotext")
    assert program is not None, "pdftotext is missing: run `make pdf-deps`"
    done = subprocess.run(  # noqa: S603 - a fixed program on a file we downloaded
        [program, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return " ".join(done.stdout.decode().split())


def test_she_downloads_her_paper_copy_with_her_allergy(
    app: Flask, page: Page, tmp_path: Path
) -> None:
    patient = new_patient(app)
    _allergic(app, patient)
    sign_in_patient(app, page, patient)
    page.goto("/settings/")
    heading(page, "Sécurité et réglages")
    section = page.get_by_role("region", name=PAPER)
    section.scroll_into_view_if_needed()
    assert_accessible(page)

    with page.expect_download() as download_info:
        section.get_by_role("button", name="Télécharger ma copie papier (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("carnet-copie-papier-")
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    text = _text(saved)
    assert ALLERGY in text and "œdème" in text
    heading(page, "Sécurité et réglages")  # the page stays where it was
