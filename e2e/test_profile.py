"""The medical profile, on a phone and on a desktop: the patient records her blood pressure and
reads it back as a chart and a table, notes an allergy that then warns a prescriber, and meets
her own change made in another tab.

What is not the point of a journey (accounts, an authorisation, an allergy to edit) is written
in the database with the builders; everything the journey is about goes through the pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_date
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback
from sqlalchemy import select

from e2e.helpers import (
    Person,
    assert_accessible,
    database,
    heading,
    main_nav,
    new_patient,
    sign_in_patient,
    sign_in_professional,
)
from tests.builders import authorise, make_professional
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Measurement, ProfileEntry
from webapp.models.profile import EntryKind, Section

SAVED = "C'est enregistré."
CONFLICT = "Cette information a été modifiée entre-temps"


@dataclass(frozen=True)
class Holder:
    """A patient as the profile pages and the database know her."""

    person: Person
    patient_id: int
    last_name: str


@dataclass(frozen=True)
class Pro:
    person: Person
    name: str  # "Dr Paul Docteur12", as the pages name him


# --- data written directly -----------------------------------------------------------------


def _holder(app: Flask) -> Holder:
    person = new_patient(app)
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None and account.patient is not None
        return Holder(person, account.patient.id, account.patient.last_name)


def _authorised_doctor(app: Flask, holder: Holder) -> Pro:
    """A general practitioner the patient has authorised (not her médecin traitant)."""
    with database(app):
        account = make_professional(profession="medecin", specialty="medecine_generale")
        patient = db.session.get(Account, holder.person.id)
        assert account.professional is not None and patient is not None
        authorise(account, patient)
        return Pro(
            Person(account.id, account.identifier, account.professional.first_names),
            account.professional.display_name,
        )


def _allergy(app: Flask, holder: Holder, label: str, reaction: str) -> int:
    with database(app):
        now = clock.now()
        entry = ProfileEntry(
            patient_id=holder.patient_id,
            section=Section.ALLERGIES,
            kind=EntryKind.ALLERGY,
            label=label,
            reaction=reaction,
            severity="moderate",
            author_kind="patient",
            author_account_id=holder.person.id,
            author_label=holder.person.first_names,
            created_at=now,
            updated_at=now,
        )
        db.session.add(entry)
        db.session.commit()
        return entry.id


def _entries(app: Flask, holder: Holder, section: Section) -> list[ProfileEntry]:
    with database(app):
        rows = list(
            db.session.scalars(
                select(ProfileEntry)
                .where(
                    ProfileEntry.patient_id == holder.patient_id,
                    ProfileEntry.section == section.value,
                    ProfileEntry.deleted_at.is_(None),
                )
                .order_by(ProfileEntry.id)
            )
        )
        db.session.expunge_all()
        return rows


def _measurements(app: Flask, holder: Holder) -> list[tuple[date, float, float | None]]:
    with database(app):
        return [
            (row.measured_on, row.value, row.value2)
            for row in db.session.scalars(
                select(Measurement)
                .where(
                    Measurement.patient_id == holder.patient_id, Measurement.deleted_at.is_(None)
                )
                .order_by(Measurement.measured_on)
            )
        ]


# --- steps in the browser ------------------------------------------------------------------


def _today() -> date:
    return clock.to_paris(clock.now()).date()


def _days_ago(days: int) -> date:
    return _today() - timedelta(days=days)


def _shown(day: date) -> str:
    """A day as the chart's table writes it ("14 févr. 2026")."""
    return format_date(day, "d MMM y", locale="fr")


def _profile_summary(page: Page) -> None:
    main_nav(page).get_by_role("link", name="Mon profil médical").click()
    expect(page).to_have_url(re.compile(r"/profile/$"))
    heading(page, "Profil médical")


def _open_section(page: Page, title: str) -> None:
    """From the summary, the card's link (its name ends with the section's title)."""
    page.get_by_role("link", name=re.compile(rf": {re.escape(title)}$")).click()
    heading(page, re.compile(rf"^{re.escape(title)}"))


def _saved_status(page: Page) -> Locator:
    return page.locator("#section-body > .flash[role=status]")


def _rows(page: Page) -> Locator:
    return page.locator("#section-body ul.entries > li")


def _save(page: Page) -> None:
    page.locator("#add-form").get_by_role("button", name="Enregistrer", exact=True).click()


# --- 1. blood pressure over two months -----------------------------------------------------


def test_patient_records_her_blood_pressure_and_reads_it_as_a_chart_and_a_table(
    app: Flask, page: Page
) -> None:
    holder = _holder(app)
    sign_in_patient(app, page, holder.person)
    _profile_summary(page)
    measures = page.locator("section.summary-part").filter(
        has=page.get_by_role("heading", name="Mesures", exact=True)
    )
    expect(measures.locator("dt", has_text="Tension").locator("xpath=..")).to_contain_text("—")
    assert_accessible(page)

    _open_section(page, "Mesures")
    expect(page.locator("#section-body")).to_contain_text("Rien d'enregistré pour l'instant.")
    expect(page.locator("figure.chart")).to_have_count(0)
    assert_accessible(page)

    choices = page.get_by_role("navigation", name="Que voulez-vous ajouter ?")
    expect(choices.get_by_role("link", name="Ajouter un poids")).to_be_visible()
    choices.get_by_role("link", name="Ajouter une tension artérielle").click()
    expect(page).to_have_url(re.compile(r"[?&]kind=blood_pressure"))
    expect(
        page.get_by_role("heading", level=2, name="Ajouter une tension artérielle")
    ).to_be_visible()
    expect(choices.get_by_role("link", name="Ajouter une tension artérielle")).to_have_attribute(
        "aria-current", "page"
    )
    assert_accessible(page)

    # A nonsense reading: 400 over 20. Each field says so as soon as it is left...
    page.fill("#measured_on", _days_ago(60).isoformat())
    page.fill("#value", "400")
    page.fill("#value2", "20")
    page.locator("#measured_on").focus()  # leaving the diastolic sends its check too
    expect(page.locator("#value-feedback")).to_contain_text(
        "La systolique est le grand chiffre, entre 60 et 260 mmHg"
    )
    expect(page.locator("#value2-feedback")).to_contain_text(
        "La diastolique est le petit chiffre, entre 30 et 160 mmHg"
    )
    assert_accessible(page)

    # ... and saving it anyway is refused, with the reasons next to the fields.
    _save(page)
    summary = page.locator("#add-form .error-summary")
    expect(summary).to_contain_text("Quelque chose est à corriger")
    expect(summary).to_be_focused()
    expect(page.locator("#value-error")).to_contain_text("Si votre appareil affiche 12,5")
    expect(page.locator("#value")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#value2-error")).to_contain_text("entre 30 et 160 mmHg")
    expect(page.locator("#value")).to_have_value("400")  # what she typed is kept
    expect(page.locator("#measured_on")).to_have_value(_days_ago(60).isoformat())
    expect(_rows(page)).to_have_count(0)
    expect(_saved_status(page)).to_have_count(0)
    assert_accessible(page)
    assert _measurements(app, holder) == []

    # Three real readings, on three days.
    readings = [(60, "128", "84"), (30, "135", "88"), (14, "122", "78")]
    for count, (days, high, low) in enumerate(readings, start=1):
        page.fill("#measured_on", _days_ago(days).isoformat())
        page.fill("#value", high)
        page.fill("#value2", low)
        _save(page)
        expect(_rows(page)).to_have_count(count)
        expect(_saved_status(page)).to_have_text(SAVED)
        expect(page.locator("#value")).to_have_value("")  # a fresh form for the next one
    expect(_rows(page).first).to_contain_text("Tension 122/78 mmHg")  # newest first
    assert _measurements(app, holder) == [
        (_days_ago(60), 128.0, 84.0),
        (_days_ago(30), 135.0, 88.0),
        (_days_ago(14), 122.0, 78.0),
    ]

    # The chart: one figure, an image named by its title, a line per series...
    block = page.locator("section.chart-block")
    expect(block).to_have_count(1)
    expect(block.get_by_role("heading", level=2, name="Tension artérielle")).to_be_visible()
    chart = block.locator("figure.chart svg[role=img]")
    expect(chart).to_have_count(1)
    expect(chart.locator("title").first).to_have_text("Tension artérielle")
    expect(chart.locator("desc").first).to_contain_text("3 mesures")
    assert chart.locator("polyline").count() >= 1
    # ... and beside it the same values as a table, newest first.
    table = block.locator("table.data")
    expect(table.locator("caption")).to_contain_text("Tension artérielle")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody th[scope=row]")).to_have_text(
        [_shown(_days_ago(14)), _shown(_days_ago(30)), _shown(_days_ago(60))]
    )
    expect(table.locator("tbody tr").first.locator("td")).to_have_text(["122", "78"])
    assert_accessible(page)

    # Reloaded without htmx's help, the page says the same.
    page.reload()
    heading(page, "Mesures")
    expect(page.locator("figure.chart svg[role=img]")).to_have_count(1)
    expect(page.locator("table.data tbody tr")).to_have_count(3)
    assert_accessible(page)

    # The summary shows the latest reading.
    page.get_by_role("link", name="← Profil médical").click()
    heading(page, "Profil médical")
    expect(measures).to_contain_text("122/78 mmHg")
    assert_accessible(page)


# --- 2. an allergy that warns the prescriber -----------------------------------------------


def test_an_allergy_the_patient_notes_warns_the_doctor_who_prescribes_amoxicillin(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    holder = _holder(app)
    doctor = _authorised_doctor(app, holder)

    # The patient notes her allergy.
    sign_in_patient(app, page, holder.person)
    _profile_summary(page)
    cards = page.locator(".summary-grid > section")
    expect(cards.first.get_by_role("heading", level=2)).to_have_text("Allergies")
    expect(cards.first).to_contain_text("Aucune allergie notée.")
    _open_section(page, "Allergies")
    expect(page.get_by_role("heading", level=2, name="Ajouter une allergie")).to_be_visible()
    assert_accessible(page)
    page.fill("#label", "Pénicilline")
    page.fill("#reaction", "Urticaire géante et gonflement du visage")
    page.locator("#severity").select_option("severe")
    _save(page)
    expect(_saved_status(page)).to_have_text(SAVED)
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Pénicilline")
    expect(_rows(page).first).to_contain_text("sévère")
    expect(page.locator("#label")).to_have_value("")
    assert_accessible(page)
    (allergy,) = _entries(app, holder, Section.ALLERGIES)
    assert (allergy.label, allergy.severity) == ("Pénicilline", "severe")

    # The summary puts it first.
    page.get_by_role("link", name="← Profil médical").click()
    heading(page, "Profil médical")
    allergies = cards.first
    expect(allergies).to_have_class(re.compile(r"\balert\b"))
    expect(allergies).to_contain_text("Pénicilline")
    expect(allergies).to_contain_text("Urticaire géante")
    assert_accessible(page)

    # Her doctor, at his practice, opens her profile from her record.
    desk = new_context().new_page()
    sign_in_professional(app, desk, doctor.person)
    desk.goto(f"/pro/patients/{holder.patient_id}")
    desk.get_by_role("link", name=re.compile(r"^Ouvrir le profil médical")).click()
    expect(desk).to_have_url(re.compile(rf"/profile/patients/{holder.patient_id}/$"))
    heading(desk, re.compile(r"^Profil médical"))
    expect(desk.locator(".summary-grid > section").first).to_contain_text("Pénicilline")
    assert_accessible(desk)
    _open_section(desk, "Traitements")
    expect(desk).to_have_url(re.compile(rf"/profile/patients/{holder.patient_id}/treatments$"))
    expect(desk.locator("#section-body")).to_contain_text("Rien d'enregistré pour l'instant.")
    assert_accessible(desk)

    # He prescribes amoxicillin: the form stops and names the allergy and the class.
    desk.fill("#label", "Amoxicilline")
    desk.fill("#dose", "1 g")
    desk.fill("#frequency", "matin et soir pendant 7 jours")
    desk.fill("#start_date", _today().isoformat())
    _save(desk)
    warning = desk.locator("#add-form .safety-warning[role=alert]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("« Amoxicilline » fait partie des pénicillines")
    expect(warning).to_contain_text("une allergie à « Pénicilline » est notée dans le profil")
    acknowledge = desk.locator("#acknowledge")
    expect(acknowledge).not_to_be_checked()
    expect(desk.locator("#label")).to_have_value("Amoxicilline")
    expect(desk.locator("#dose")).to_have_value("1 g")
    expect(_rows(desk)).to_have_count(0)
    assert_accessible(desk)
    assert _entries(app, holder, Section.TREATMENTS) == []

    # He has read it, ticks the confirmation and saves.
    desk.get_by_label("J'ai lu ces alertes et je confirme ce traitement").check()
    _save(desk)
    expect(_saved_status(desk)).to_have_text(SAVED)
    expect(_rows(desk)).to_have_count(1)
    row = _rows(desk).first
    expect(row).to_contain_text("Amoxicilline 1 g, matin et soir pendant 7 jours")
    expect(row).to_contain_text("enregistré malgré une alerte")
    expect(desk.locator("#add-form .safety-warning")).to_have_count(0)
    assert_accessible(desk)
    (treatment,) = _entries(app, holder, Section.TREATMENTS)
    assert treatment.label == "Amoxicilline"
    assert treatment.author_kind == "professional"
    assert treatment.acknowledged == f"allergy:{allergy.id}"

    # The patient sees it in her profile and, in her history, that the warning was confirmed.
    _profile_summary(page)
    treatments = page.locator("section.summary-part").filter(
        has=page.get_by_role("heading", name="Traitements en cours")
    )
    expect(treatments).to_contain_text("Amoxicilline")
    main_nav(page).get_by_role("link", name="Historique des accès").click()
    heading(page, "Historique des accès à mon dossier")
    confirmed = page.locator("ol.history > li.event").filter(
        has_text="Alerte de sécurité lue et confirmée"
    )
    expect(confirmed).to_have_count(1)
    expect(confirmed).to_contain_text(doctor.name)
    expect(confirmed).not_to_contain_text("Amoxicilline")  # identifiers only, no medical words
    assert_accessible(page)


# --- 3. the same allergy edited in two tabs ------------------------------------------------


def _edit_in_place(page: Page, row_id: int) -> Locator:
    """Open the row's edit form in the list (htmx swaps the row for it)."""
    row = page.locator(f"#row-entries-{row_id}")
    row.get_by_role("link", name="Modifier").click()
    expect(row.locator("#reaction")).to_be_visible()
    return row


def test_an_allergy_changed_in_another_tab_is_not_overwritten_and_she_chooses(
    app: Flask, page: Page
) -> None:
    holder = _holder(app)
    allergy_id = _allergy(app, holder, "Arachide", "Démangeaisons")
    sign_in_patient(app, page, holder.person)

    # The allergies page, open in two tabs of the same browser, each editing the same allergy.
    page.goto("/profile/allergies")
    heading(page, "Allergies")
    other = page.context.new_page()
    other.goto("/profile/allergies")
    heading(other, "Allergies")
    first = _edit_in_place(page, allergy_id)
    expect(first.locator("#reaction")).to_have_value("Démangeaisons")
    assert_accessible(page)
    second = _edit_in_place(other, allergy_id)
    assert_accessible(other)

    # The first tab saves.
    first.locator("#reaction").fill("Urticaire")
    first.get_by_role("button", name="Enregistrer la modification").click()
    expect(first.locator("#reaction")).to_have_count(0)
    expect(first).to_contain_text("Arachide — Urticaire")
    expect(first.get_by_role("status")).to_have_text(SAVED)
    assert_accessible(page)

    # The second tab, opened before that change, saves something else: nothing is overwritten.
    second.locator("#reaction").fill("Œdème de Quincke")
    second.locator("#severity").select_option("severe")
    second.get_by_role("button", name="Enregistrer la modification").click()
    conflict = other.locator(f"#row-entries-{allergy_id}.conflict")
    expect(conflict.get_by_role("alert")).to_contain_text(CONFLICT)
    expect(conflict.get_by_role("alert")).to_contain_text(
        f"{holder.person.first_names} l'a modifiée le"
    )
    saved = conflict.locator("section").filter(
        has=other.get_by_role("heading", name="Version enregistrée")
    )
    expect(saved).to_contain_text("Arachide — Urticaire")
    mine = conflict.locator("section").filter(
        has=other.get_by_role("heading", name="Votre version (non enregistrée)")
    )
    expect(mine.locator("#reaction")).to_have_value("Œdème de Quincke")
    expect(mine.locator("#severity")).to_have_value("severe")
    assert_accessible(other)
    (entry,) = _entries(app, holder, Section.ALLERGIES)
    assert (entry.reaction, entry.severity, entry.version) == ("Urticaire", "moderate", 2)

    # She prefers what she wrote in the second tab.
    mine.get_by_role("button", name="Enregistrer ma version à la place").click()
    expect(other.locator(".conflict")).to_have_count(0)
    row = other.locator(f"#row-entries-{allergy_id}")
    expect(row).to_contain_text("Arachide — Œdème de Quincke")
    expect(row.get_by_role("status")).to_have_text(SAVED)
    expect(other).to_have_url(re.compile(r"/profile/allergies$"))  # still in the list
    heading(other, "Allergies")
    assert_accessible(other)
    (entry,) = _entries(app, holder, Section.ALLERGIES)
    assert (entry.reaction, entry.severity, entry.version) == ("Œdème de Quincke", "severe", 3)

    # The first tab, reloaded, shows it too.
    page.reload()
    heading(page, "Allergies")
    expect(page.locator(f"#row-entries-{allergy_id}")).to_contain_text("Œdème de Quincke")
    assert_accessible(page)


def _blood_pressure(app: Flask, holder: Holder, day: date, high: float, low: float) -> int:
    with database(app):
        now = clock.now()
        row = Measurement(
            patient_id=holder.patient_id,
            kind="blood_pressure",
            measured_on=day,
            value=high,
            value2=low,
            unit="mmHg",
            author_kind="patient",
            author_account_id=holder.person.id,
            author_label=holder.person.first_names,
            created_at=now,
            updated_at=now,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_a_reading_changed_in_another_tab_stays_as_saved_when_she_keeps_it(
    app: Flask, page: Page
) -> None:
    holder = _holder(app)
    day = _days_ago(3)
    reading_id = _blood_pressure(app, holder, day, 130, 85)
    sign_in_patient(app, page, holder.person)

    # The edit page itself (what "Modifier" opens without htmx), in two tabs.
    address = f"/profile/measurements/{reading_id}/edit"
    page.goto(address)
    heading(page, "Modifier une information du profil")
    expect(page.locator("#value")).to_have_value("130")
    assert_accessible(page)
    other = page.context.new_page()
    other.goto(address)
    heading(other, "Modifier une information du profil")

    page.fill("#value", "140")
    page.fill("#value2", "90")
    page.get_by_role("button", name="Enregistrer la modification").click()
    row = page.locator(f"#row-measurements-{reading_id}")
    expect(row.get_by_role("status")).to_have_text(SAVED)
    expect(row).to_contain_text("Tension 140/90 mmHg")
    assert_accessible(page)

    other.fill("#value", "118")
    other.fill("#value2", "76")
    other.get_by_role("button", name="Enregistrer la modification").click()
    conflict = other.locator(f"#row-measurements-{reading_id}.conflict")
    expect(conflict.get_by_role("alert")).to_contain_text(CONFLICT)
    saved = conflict.locator("section").filter(
        has=other.get_by_role("heading", name="Version enregistrée")
    )
    expect(saved).to_contain_text("Tension 140/90 mmHg")
    mine = conflict.locator("section").filter(
        has=other.get_by_role("heading", name="Votre version (non enregistrée)")
    )
    expect(mine.locator("#value")).to_have_value("118")
    expect(mine.locator("#value2")).to_have_value("76")
    assert_accessible(other)
    assert _measurements(app, holder) == [(day, 140.0, 90.0)]

    # She keeps the saved version: back to her measurements, nothing else written.
    saved.get_by_role("link", name="Garder cette version").click()
    heading(other, "Mesures")
    expect(other.locator(f"#row-measurements-{reading_id}")).to_contain_text("Tension 140/90 mmHg")
    expect(other.locator("table.data tbody tr")).to_have_count(1)
    assert_accessible(other)
    assert _measurements(app, holder) == [(day, 140.0, 90.0)]
