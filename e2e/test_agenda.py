"""The agenda, on a phone and on a desktop: a patient books with her cardiologist, who finds the
appointment in his week and moves it, and she is told without the title or the note; a woman of
67 in the flu season marks her flu vaccination done (it lands in her medical profile), puts off
a reminder and dismisses then restores another; the private calendar feed, read with nothing but
its address, then revoked; and the same forms without JavaScript.

The reminders depend on the day: their journey moves the server's clock (the app runs in this
process) to a fixed day of the flu season, and puts it back after. Accounts, authorisations and
the feed's appointment are written with the builders and the agenda service.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode, urlparse

import icalendar
import pytest
from babel.dates import format_date
from flask import Flask
from playwright.sync_api import Locator, Page, Playwright, Request, Route, expect
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
    sign_in_without_script,
)
from tests.builders import authorise, make_professional
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, OutboxMessage
from webapp.models.digest import DigestEntry
from webapp.services import agenda, notify, prevention
from webapp.services.crypto import settings

TITLE = "Consultation de suivi cardiologique"
NOTE = "Apporter l'électrocardiogramme de mars et la liste des médicaments"
PLACE = "Cabinet de cardiologie, 12 rue des Lilas, Lyon"
AGENDA = "Mon agenda"
FEED_PAGE = "Mes rendez-vous dans mon calendrier"
FEED_LINK = "Voir mes rendez-vous dans le calendrier de mon téléphone ou de mon ordinateur"
# The reminders' names, as the rules file gives them in French.
FLU = prevention.rule_for("flu").label_fr
DTP = prevention.rule_for("dtp").label_fr
COLORECTAL = prevention.rule_for("colorectal").label_fr
FLU_VACCINE = prevention.rule_for("flu").vaccine
# A Tuesday of the flu season (15 October to the end of February), mid-morning in Paris.
FLU_DAY = datetime(2027, 1, 12, 10, 0, tzinfo=clock.PARIS)
BORN_AT_67 = date(1959, 6, 15)  # 67 on FLU_DAY: flu, dTP at 65, colorectal (50–74) are due
SCREENSHOT = "/tmp/agenda-phone-reminders.png"


@dataclass(frozen=True)
class Pair:
    """A patient and the cardiologist she has authorised."""

    patient: Person
    patient_name: str  # as a professional's agenda shows it
    doctor: Person
    doctor_id: int  # the directory entry (Professional.id)


def _pair(app: Flask) -> Pair:
    patient = new_patient(app)
    with database(app):
        doctor = make_professional(specialty="cardiologie", first_names="Karim")
        holder = db.session.get(Account, patient.id)
        assert holder is not None and holder.patient is not None
        assert doctor.professional is not None
        authorise(doctor, holder)
        return Pair(
            patient,
            f"{holder.patient.first_names} {holder.patient.last_name}",
            Person(doctor.id, doctor.identifier, "Karim"),
            doctor.professional.id,
        )


def _born(app: Flask, person: Person, birth_date: date) -> None:
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None and account.patient is not None
        account.patient.birth_date = birth_date
        db.session.commit()


def _today() -> date:
    """The server's day, in Paris (the server runs in this process, on the same clock)."""
    return clock.to_paris(clock.now()).date()


def _long_day(day: date) -> str:
    """A day heading of the agenda: "Vendredi 4 décembre 2026"."""
    text = format_date(day, "EEEE d MMMM y", locale="fr")
    return text[:1].upper() + text[1:]


@pytest.fixture
def flu_season() -> Iterator[date]:
    """The server's clock on FLU_DAY for the whole test, whatever the real date."""
    clock.advance((FLU_DAY - clock.now()).total_seconds())
    try:
        yield FLU_DAY.date()
    finally:
        clock.reset()


# --- what the pages show ----------------------------------------------------------------------


def _flash(page: Page) -> Locator:
    return page.locator(".flashes")


def _open_agenda(page: Page) -> None:
    main_nav(page).get_by_role("link", name="Agenda", exact=True).click()
    heading(page, AGENDA)


def _day_list(page: Page, day: date) -> Locator:
    """The appointments listed under a day's heading of the patient's agenda."""
    return page.locator("h3.day-heading", has_text=_long_day(day)).locator(
        "xpath=following-sibling::ul[1]"
    )


def _appointment(scope: Locator, title: str) -> Locator:
    return scope.locator("li.appointment").filter(has=scope.page.get_by_role("link", name=title))


def _reminder(page: Page, label: str) -> Locator:
    return page.locator("#reminders li.reminder").filter(has_text=label)


def _due(page: Page) -> Locator:
    return page.locator("#reminders li.reminder-due .reminder-title")


def _fill_appointment(page: Page, *, title: str, day: date, at: str, note: str = "") -> None:
    page.locator("#title").fill(title)
    page.locator("#date").fill(day.isoformat())
    page.locator("#time").fill(at)
    if note:
        page.locator("#note").fill(note)


def _notices(app: Flask, person: Person) -> list[str]:
    """Every appointment notice queued for this person, as she would read it: e-mail subject
    and body, or the line kept for her daily digest."""
    with database(app):
        messages = db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.account_id == person.id,
                OutboxMessage.kind == "appointment_notice",
            )
            .order_by(OutboxMessage.id)
        ).all()
        lines = db.session.scalars(
            select(DigestEntry.summary)
            .where(DigestEntry.account_id == person.id, DigestEntry.kind == "appointment_notice")
            .order_by(DigestEntry.id)
        ).all()
        return [f"{m.subject}\n{notify.message_text(m)}" for m in messages] + list(lines)


# --- 1. booked by her, moved by him -----------------------------------------------------------


def test_she_books_with_her_cardiologist_who_moves_it_and_she_is_told_without_details(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    pair = _pair(app)
    day = _today() + timedelta(days=3)

    sign_in_patient(app, page, pair.patient)
    _open_agenda(page)
    assert_accessible(page)
    page.get_by_role("link", name="Ajouter un rendez-vous").click()
    heading(page, "Ajouter un rendez-vous")
    assert_accessible(page)
    _fill_appointment(page, title=TITLE, day=day, at="10:30", note=NOTE)
    page.locator("#place").fill(PLACE)
    page.locator("#professional").select_option(str(pair.doctor_id))
    page.get_by_role("button", name="Enregistrer le rendez-vous").click()
    heading(page, AGENDA)
    expect(_flash(page)).to_contain_text("Le rendez-vous est enregistré.")
    booked = _appointment(_day_list(page, day), TITLE)
    expect(booked.locator(".appointment-time")).to_contain_text("10:30 – 11:00")
    expect(booked.locator(".meta")).to_contain_text("Karim")
    expect(booked.locator(".meta")).to_contain_text("Cardiologie")
    expect(booked.locator(".meta")).to_contain_text(PLACE)
    assert_accessible(page)

    # The cardiologist finds it in his week, with her name, and moves it to 15:00.
    desk = new_context().new_page()
    sign_in_professional(app, desk, pair.doctor)
    _open_agenda(desk)
    monday = _today() - timedelta(days=_today().weekday())
    if day >= monday + timedelta(days=7):
        desk.get_by_role("link", name="Semaine suivante →").click()
        heading(desk, AGENDA)
    expect(desk.locator(".agenda-nav .period")).to_contain_text("Semaine du")
    that_day = desk.locator(f"section.agenda-day[aria-labelledby='day-{day.isoformat()}']")
    row = _appointment(that_day, TITLE)
    expect(row.locator(".meta")).to_contain_text(pair.patient_name)
    expect(row.locator(".appointment-time")).to_contain_text("10:30")
    assert_accessible(desk)
    row.get_by_role("link", name=TITLE).click()
    heading(desk, TITLE)
    expect(desk.locator(".facts")).to_contain_text(pair.patient_name)
    expect(desk.locator(".facts")).to_contain_text(NOTE)
    expect(desk.locator("#time")).to_have_value("10:30")
    assert_accessible(desk)
    desk.locator("#time").fill("15:00")
    desk.get_by_role("button", name="Enregistrer les changements").click()
    heading(desk, TITLE)
    expect(_flash(desk)).to_contain_text("Le rendez-vous est modifié. L'autre personne en est")
    expect(desk.locator(".facts")).to_contain_text("à 15:00 – 15:30")
    expect(desk.locator("#time")).to_have_value("15:00")
    assert_accessible(desk)

    # Her agenda says 15:00, and she was told: the time and who, never the title or the note.
    _open_agenda(page)
    moved = _appointment(_day_list(page, day), TITLE)
    expect(moved.locator(".appointment-time")).to_contain_text("15:00 – 15:30")
    assert_accessible(page)
    notices = _notices(app, pair.patient)
    assert len(notices) == 1, notices
    assert "15:00" in notices[0], notices[0]
    for notice in notices + _notices(app, pair.doctor):
        assert TITLE not in notice and NOTE not in notice and PLACE not in notice, notice


# --- 2. prevention reminders ------------------------------------------------------------------


def test_flu_vaccination_marked_done_reaches_her_profile_and_reminders_are_put_off(
    app: Flask, page: Page, flu_season: date
) -> None:
    patient = new_patient(app)
    _born(app, patient, BORN_AT_67)
    sign_in_patient(app, page, patient)
    _open_agenda(page)
    for label in (FLU, DTP, COLORECTAL):
        expect(_due(page).filter(has_text=label)).to_have_count(1)
    flu = _reminder(page, FLU)
    expect(flu).to_have_class(re.compile(r"\breminder-due\b"))
    expect(flu.locator(".meta")).to_contain_text("À faire")
    expect(flu.get_by_role("link", name="Source de cette recommandation")).to_be_visible()
    assert_accessible(page)
    viewport = page.viewport_size
    if viewport is not None and viewport["width"] < 600:
        page.locator("#reminders").scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOT, full_page=True)

    # Done today: the form keeps the day the server proposes.
    flu.get_by_role("link", name="C'est fait").click()
    heading(page, FLU)
    expect(page.locator("#date")).to_have_value(flu_season.isoformat())
    assert_accessible(page)
    page.locator("#main form").get_by_role("button", name="C'est fait").click()
    heading(page, AGENDA)
    expect(_flash(page)).to_contain_text(
        "C'est noté : la vaccination est ajoutée à votre profil médical."
    )
    expect(_reminder(page, FLU)).to_have_count(0)  # next season's comes next autumn
    assert_accessible(page)

    main_nav(page).get_by_role("link", name="Mon profil médical").click()
    heading(page, "Profil médical")
    vaccinations = page.locator("section[aria-labelledby='s-vaccinations']")
    expect(vaccinations).to_contain_text(FLU_VACCINE)
    expect(vaccinations).to_contain_text(format_date(flu_season, "long", locale="fr"))
    assert_accessible(page)

    # Put off by two months: no longer due, shown with its new day.
    _open_agenda(page)
    _reminder(page, DTP).get_by_role("link", name="Reporter").click()
    heading(page, DTP)
    assert_accessible(page)
    later = date(2027, 3, 12)
    page.locator("#date").fill(later.isoformat())
    page.locator("#main form").get_by_role("button", name="Reporter").click()
    heading(page, AGENDA)
    expect(_flash(page)).to_contain_text("Le rappel est reporté.")
    expect(_due(page).filter(has_text=DTP)).to_have_count(0)
    put_off = _reminder(page, DTP)
    expect(put_off).to_have_class(re.compile(r"\breminder-postponed\b"))
    expect(put_off.locator(".meta")).to_contain_text(
        f"Reporté au {format_date(later, 'long', locale='fr')}"
    )
    assert_accessible(page)

    # Dismissed, then brought back from the folded list of dismissed reminders.
    _reminder(page, COLORECTAL).get_by_role("button", name="Ne plus me le rappeler").click()
    heading(page, AGENDA)
    expect(_flash(page)).to_contain_text("Le rappel est retiré.")
    expect(_reminder(page, COLORECTAL)).to_have_count(0)
    dismissed = page.locator("#reminders details.dismissed")
    expect(dismissed.locator("summary")).to_have_text("1 rappel retiré")
    assert_accessible(page)
    dismissed.locator("summary").click()
    expect(dismissed).to_contain_text(COLORECTAL)
    assert_accessible(page)
    dismissed.get_by_role("button", name="Remettre ce rappel").click()
    heading(page, AGENDA)
    expect(_flash(page)).to_contain_text("Le rappel est remis.")
    expect(_due(page).filter(has_text=COLORECTAL)).to_have_count(1)
    expect(page.locator("#reminders details.dismissed")).to_have_count(0)
    assert_accessible(page)


# --- 3. the calendar feed ---------------------------------------------------------------------


def test_the_calendar_feed_holds_titles_without_notes_and_dies_when_revoked(
    app: Flask, page: Page, playwright: Playwright, live_server: str
) -> None:
    patient = new_patient(app)
    day = _today() + timedelta(days=6)
    with database(app):
        holder = db.session.get(Account, patient.id)
        assert holder is not None and holder.patient is not None
        details = agenda.Details(TITLE, day, time(9, 45), 45, PLACE, NOTE, None)
        agenda.create(holder, holder.patient, details)
        db.session.commit()

    sign_in_patient(app, page, patient)
    _open_agenda(page)
    page.get_by_role("link", name=FEED_LINK).click()
    heading(page, FEED_PAGE)
    expect(page.locator("#feed-address")).to_have_count(0)
    expect(page.locator("#include_notes")).not_to_be_checked()
    assert_accessible(page)
    page.get_by_role("button", name="Créer mon lien").click()
    heading(page, FEED_PAGE)
    address = page.locator("#feed-address").input_value()
    with database(app):
        public_url = settings().public_url
    assert address.startswith(f"{public_url}/agenda/feed/"), address
    assert address.endswith(".ics"), address
    expect(page.locator("#main")).to_contain_text("Vos notes n'y figurent pas.")
    assert_accessible(page)

    # A calendar application: no cookie, nothing but the address (served here on the test port).
    path = urlparse(address).path
    calendar_app = playwright.request.new_context(base_url=live_server)
    try:
        response = calendar_app.get(path)
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/calendar")
        assert NOTE not in response.text()
        events = icalendar.Calendar.from_ical(response.body()).walk("VEVENT")
        [event] = [e for e in events if str(e.get("SUMMARY")) == TITLE]
        assert str(event["LOCATION"]) == PLACE
        assert clock.to_paris(event.decoded("DTSTART")).replace(tzinfo=None) == datetime.combine(
            day, time(9, 45)
        )
        assert NOTE not in str(event.get("DESCRIPTION", ""))

        page.get_by_role("button", name="Supprimer le lien").click()
        heading(page, FEED_PAGE)
        expect(_flash(page)).to_contain_text("Le lien est supprimé")
        expect(page.get_by_role("button", name="Supprimer le lien")).to_have_count(0)
        assert_accessible(page)
        assert calendar_app.get(path).status == 404
    finally:
        calendar_app.dispose()


# --- 4. without JavaScript --------------------------------------------------------------------


def _send_bad_time(route: Route, request: Request) -> None:
    """Chromium's time field accepts no "25:00": the form is sent with it all the same, as an
    old browser or a hand-made request would."""
    if request.method != "POST":
        route.continue_()
        return
    fields = [
        (name, "25:00" if name == "time" else value)
        for name, value in parse_qsl(request.post_data or "", keep_blank_values=True)
    ]
    route.continue_(post_data=urlencode(fields))


def test_without_javascript_booking_a_wrong_hour_and_a_reminder_are_plain_forms(
    app: Flask, new_context: CreateContextCallback
) -> None:
    patient = new_patient(app)  # born in 1980: the dTP booster of 45 is due
    day = _today() + timedelta(days=5)
    home = new_context(java_script_enabled=False).new_page()
    sign_in_without_script(app, home, patient, professional=False)
    home.goto("/agenda/")
    heading(home, AGENDA)

    # A personal appointment, with no professional.
    home.get_by_role("link", name="Ajouter un rendez-vous").click()
    heading(home, "Ajouter un rendez-vous")
    expect(home.locator("#professional")).to_have_value("")
    _fill_appointment(home, title="Coiffeur puis pharmacie", day=day, at="09:15")
    home.get_by_role("button", name="Enregistrer le rendez-vous").click()
    heading(home, AGENDA)
    expect(_flash(home)).to_contain_text("Le rendez-vous est enregistré.")
    mine = _appointment(_day_list(home, day), "Coiffeur puis pharmacie")
    expect(mine.locator(".appointment-time")).to_contain_text("09:15 – 09:45")

    # An hour that does not exist: refused, explained, and what she typed is kept.
    home.get_by_role("link", name="Ajouter un rendez-vous").click()
    heading(home, "Ajouter un rendez-vous")
    _fill_appointment(home, title="Prise de sang à jeun", day=day, at="08:00")
    home.route("**/agenda/new", _send_bad_time)
    with home.expect_response(lambda r: r.request.method == "POST") as sent:
        home.get_by_role("button", name="Enregistrer le rendez-vous").click()
    home.unroute("**/agenda/new")
    assert sent.value.status == 422
    heading(home, "Ajouter un rendez-vous")
    summary = home.locator(".error-summary")
    expect(summary).to_contain_text("Quelque chose est à corriger")
    expect(
        summary.get_by_role("link", name=re.compile(r"^Heure : Cette heure n'existe pas"))
    ).to_be_visible()
    expect(home.locator("#time-error")).to_contain_text("entre 00:00 et 23:59")
    expect(home.locator("#time")).to_have_attribute("aria-invalid", "true")
    expect(home.locator("#title")).to_have_value("Prise de sang à jeun")
    expect(home.locator("#date")).to_have_value(day.isoformat())

    # A reminder marked done.
    home.get_by_role("link", name="Annuler").click()
    heading(home, AGENDA)
    expect(_day_list(home, day).locator("li.appointment")).to_have_count(1)
    _reminder(home, DTP).get_by_role("link", name="C'est fait").click()
    heading(home, DTP)
    expect(home.locator("#date")).to_have_value(_today().isoformat())
    home.locator("#main form").get_by_role("button", name="C'est fait").click()
    heading(home, AGENDA)
    expect(_flash(home)).to_contain_text("la vaccination est ajoutée à votre profil médical")
    expect(_reminder(home, DTP)).to_have_count(0)
