"""Her reimbursements, on a phone and on a desktop: a patient with the demo patient's two years
of care finds them from the menu, grouped by month with their totals, keeps only her
cardiologist's, sees the totals follow, and downloads the file for a spreadsheet; the same
filter without JavaScript.

The lines are the demo data's (`reimbursements.csv`), written for a new patient of each run
under line ids of her own, dated from the server's day (it runs in this process).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from babel.numbers import format_currency
from flask import Flask
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from e2e.helpers import (
    Person,
    assert_accessible,
    database,
    heading,
    main_nav,
    new_patient,
    sign_in_patient,
    sign_in_without_script,
    unfold,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account
from webapp.services.demo import reimbursement_lines
from webapp.services.insurer import reimbursements

PAGE = "Mes remboursements"
CARDIOLOGIST = "Dr Karim Benali"
DOWNLOAD = "Télécharger ces remboursements (fichier CSV, pour un tableur)"


def _demo_lines() -> list[reimbursement_lines.DemoLine]:
    return [line for line in reimbursement_lines.current() if line.patient == "patient.demo"]


def _patient_with_demo_lines(app: Flask) -> Person:
    person = new_patient(app)
    today = clock.to_paris(clock.now()).date()
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None and account.patient is not None
        nir = account.patient.nir
        sent = {
            n: line.sent(nir, today).model_copy(update={"line_id": f"E2E-{person.id}-{n}"})
            for n, line in enumerate(_demo_lines())
        }
        reimbursements.receive(sent, token=None)
        db.session.commit()
    return person


def _euros(value: Decimal) -> str:
    """As the French page writes it: 1 253,25 €."""
    return str(format_currency(value, "EUR", locale="fr"))


def test_she_reads_filters_and_downloads_her_reimbursements(app: Flask, page: Page) -> None:
    person = _patient_with_demo_lines(app)
    lines = _demo_lines()
    sign_in_patient(app, page, person)

    main_nav(page).get_by_role("link", name="Remboursements", exact=True).click()
    heading(page, PAGE)
    summary = page.locator(".reimbursement-summary")
    expect(summary.get_by_role("status")).to_contain_text(f"{len(lines)} soins remboursés")
    expect(summary).to_contain_text(_euros(sum((line.paid for line in lines), Decimal(0))))
    newest = min(lines, key=lambda line: (line.days_ago, -line.number))  # then the latest id
    expect(page.locator(".reimbursement-line").first).to_contain_text(newest.act_label)
    expect(page.locator("h2.month-heading").first).to_have_text(re.compile(r"^\w+ \d{4}$"))
    assert_accessible(page)

    # Only the cardiologist: the list and its totals follow.
    unfold(page)
    page.get_by_label("Professionnel de santé").select_option(CARDIOLOGIST)
    page.get_by_role("button", name="Filtrer", exact=True).click()
    expect(summary.get_by_role("status")).to_contain_text("1 soin remboursé")
    expect(page).to_have_url(re.compile(r"professional=Dr(\+|%20)Karim(\+|%20)Benali"))
    theirs = [line for line in lines if line.professional == CARDIOLOGIST]
    expect(page.locator(".reimbursement-line")).to_have_count(len(theirs))
    expect(summary).to_contain_text(_euros(theirs[0].paid))
    expect(summary).to_contain_text(_euros(theirs[0].reimbursed))
    expect(summary.get_by_text("Total de ces remboursements")).to_be_visible()
    assert_accessible(page)

    # The file for a spreadsheet: French separators, the filter kept.
    with page.expect_download() as caught:
        page.get_by_role("link", name=DOWNLOAD).click()
    download = caught.value
    assert re.fullmatch(r"remboursements-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    path = download.path()
    assert path is not None
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Date des soins" and len(rows) == 1 + len(theirs)
    assert rows[1][3] == CARDIOLOGIST
    assert rows[1][5] == f"{theirs[0].paid:.2f}".replace(".", ",")


def test_the_filter_works_without_javascript(
    app: Flask, new_context: CreateContextCallback
) -> None:
    person = _patient_with_demo_lines(app)
    page = new_context(java_script_enabled=False).new_page()
    sign_in_without_script(app, page, person, professional=False)
    page.goto("/reimbursements/")
    heading(page, PAGE)
    unfold(page)
    page.get_by_label("Type de soin").select_option("Pharmacie")
    page.get_by_role("button", name="Filtrer", exact=True).click()
    expect(page).to_have_url(re.compile(r"kind=Pharmacie"))
    pharmacy = [line for line in _demo_lines() if line.profession == "Pharmacie"]
    expect(page.locator(".reimbursement-summary")).to_contain_text(
        f"{len(pharmacy)} soins remboursés"
    )
    expect(page.locator(".reimbursement-line .meta").first).to_contain_text("Pharmacie")
