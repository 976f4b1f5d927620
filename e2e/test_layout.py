"""Every page of every role fits a phone, with normal text and with text enlarged to 200 %.

On a 360 × 740 phone, each page must open on its main heading and the first thing under it
(both start within the first screen), and nothing may scroll sideways: not at 360 px, not
with the root font at 200 % (as a phone's text-size setting does), not at 320 px (WCAG
1.4.10, reflow). A table too wide scrolls inside its own box, never the page.

The pages come from the application's routes: `test_every_page_is_listed` fails when a GET
route is neither visited below nor named in `NOT_PAGES` with the reason, so a new page is
never left out silently. The pages are visited on the demo data (long names, many
measurements, every kind of document), in an application of their own, once per role with
one signed-in context: phone only, one visit per page.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, url_for
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from e2e.helpers import database
from tests.builders import last_code, make_beneficiary
from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import (
    Account,
    Appointment,
    Beneficiary,
    Conversation,
    Document,
    ProfileEntry,
)
from webapp.services import assisted, codes, demo, prevention
from webapp.services.auth import find_account

WIDTH, HEIGHT, NARROW = 360, 740, 320
PHONE: dict[str, Any] = {
    "viewport": {"width": WIDTH, "height": HEIGHT},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-FR",
    "timezone_id": "Europe/Paris",
}
SECTIONS = (
    "conditions",
    "allergies",
    "treatments",
    "vaccinations",
    "family",
    "measurements",
    "wishes",
    "people",
)

# GET routes that are not pages a person reads, or that only a journey reaches.
NOT_PAGES = {
    "static": "files of the site",
    "main.healthz": "for the machines that watch the site",
    "dev.outbox": "a development tool",
    "dev.outbox_letter": "a development tool (PDF)",
    "documents.download": "a file",
    "documents.view_file": "a file",
    "access.history_csv": "a CSV file",
    "reimbursements.export_csv": "a CSV file",
    "api.openapi": "the insurer API's description, for machines",
    "messages.attachment": "a file",
    "messages.unread": "the unread count htmx polls, not a page",
    "counter_visit.letter": "a PDF letter",
    "pro_visit.letter": "a PDF letter",
    "agenda.feed_ics": "a calendar file",
    "auth.open_activation_link": "a one-time link that leads to auth.activate",
    "auth.activate": "a professional's first visit, with a one-time link (test_sign_in)",
    "auth.enrol": "a professional's first sign-in (test_sign_in)",
    "auth.forgot_code": "a step of an account recovery under way",
    "auth.forgot_password": "a step of an account recovery under way",
}

# What the page checks measure, in the page: the page's width, where the heading and the first
# thing after it start (skipping what the heading holds and what is hidden).
MEASURE = r"""(limit) => {
  const main = document.getElementById("main");
  const h1 = main ? main.querySelector("h1") : null;
  const width = document.scrollingElement.scrollWidth;
  if (!h1) { return {width, h1: null, next: null, what: ""}; }
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_ELEMENT);
  walker.currentNode = h1;
  let next = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (h1.contains(node)) { continue; }
    const box = node.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && getComputedStyle(node).visibility !== "hidden") {
      next = node;
      break;
    }
  }
  const top = (el) => Math.round(el.getBoundingClientRect().top + window.scrollY);
  const words = (el, n) => (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, n);
  const wide = [];
  if (width > limit + 1) {
    for (const el of document.body.querySelectorAll("*")) {
      const box = el.getBoundingClientRect();
      const parent = el.parentElement ? el.parentElement.getBoundingClientRect() : null;
      const edge = limit + 1;
      if (box.right > edge && (!parent || parent.right <= edge)) {
        wide.push(el.tagName.toLowerCase() + "." + el.className + " «" + words(el, 30) + "»");
      }
    }
  }
  return {
    width, h1: top(h1), next: next ? top(next) : null, wide: wide.slice(0, 3),
    what: next ? next.tagName.toLowerCase() + " «" + words(next, 40) + "»" : "",
  };
}"""


@dataclass
class Report:
    """The problems found on every page, told together at the end."""

    problems: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def check(self, page: Page, name: str) -> None:
        """The page as it is now, at 360 px, then with text at 200 %, then at 320 px."""
        self.seen.append(name)
        heading = page.locator("#main h1").first
        if heading.count() == 0:
            self.problems.append(f"{name}: no main heading (h1)")
            return
        self._fits(page, name, "360 px")
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        self._fits(page, name, "360 px, text at 200 %")
        page.evaluate("document.documentElement.style.fontSize = ''")
        page.set_viewport_size({"width": NARROW, "height": HEIGHT})
        found = page.evaluate(MEASURE, NARROW)
        if found["width"] > NARROW + 1:
            self.problems.append(
                f"{name} (320 px): scrolls sideways by {found['width'] - NARROW} px {found['wide']}"
            )
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})

    def _fits(self, page: Page, name: str, how: str) -> None:
        found = page.evaluate(MEASURE, WIDTH)
        if found["width"] > WIDTH + 1:
            self.problems.append(
                f"{name} ({how}): scrolls sideways by {found['width'] - WIDTH} px {found['wide']}"
            )
        if found["h1"] >= HEIGHT:
            self.problems.append(f"{name} ({how}): the heading starts at {found['h1']} px")
        if found["next"] is None:
            self.problems.append(f"{name} ({how}): nothing after the heading")
        elif found["next"] >= HEIGHT:
            self.problems.append(
                f"{name} ({how}): the first content, {found['what']}, starts at {found['next']} px"
            )

    def visit(self, page: Page, path: str, name: str | None = None, status: int = 200) -> None:
        response = page.goto(path)
        assert response is not None and response.status == status, f"{path}: {response}"
        self.check(page, name or path)

    def assert_none(self) -> None:
        assert self.seen, "no page was checked"
        assert not self.problems, f"{len(self.problems)} problem(s):\n" + "\n".join(self.problems)


# --- an application of its own, with the demo data -----------------------------------------


@dataclass(frozen=True)
class Demo:
    """What the pages' addresses need, read once from the demo data."""

    password: str
    patient_id: int
    own_document: int
    pro_document: int
    conversation: int
    own_entry: int
    traitant_id: int
    pharmacist_id: int
    appointment: int | None
    reminder: str | None
    pending: tuple[str, str, str, str] | None  # code, NIR, Vitale serial, birth date
    visitor_nir: str
    visitor_serial: str
    patient_nir: str
    patient_last_name: str


@pytest.fixture(scope="module")
def layout_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("carnet-layout")
    settings = Settings.for_tests(
        folder / "instance", f"sqlite:///{folder / 'layout.db'}", rate_limits_enabled=False
    )
    application = create_app(settings)
    with application.app_context():
        db.create_all()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def layout_server(layout_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, layout_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="carnet-layout", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _account(identifier: str) -> Account:
    account = find_account(identifier)
    assert account is not None, identifier
    return account


@pytest.fixture(scope="module")
def demo_data(layout_app: Flask) -> Demo:
    with database(layout_app):
        demo.load()
        db.session.commit()
        waiting = demo.pending_beneficiary()
        db.session.commit()
        pending = None
        if waiting is not None and waiting.code is not None:
            person = waiting.beneficiary
            pending = (
                waiting.code,
                person.nir,
                person.vitale_serial,
                person.birth_date.isoformat(),
            )
        holder = _account("patient.demo")
        patient = holder.patient
        assert patient is not None
        traitant = _account("medecin.demo").professional
        pharmacist = _account("pharma.demo").professional
        assert traitant is not None and pharmacist is not None
        visitor = make_beneficiary()
        db.session.commit()

        def first(query: Any) -> int:
            found = db.session.scalars(query.limit(1)).first()
            assert found is not None, str(query)
            return int(found)

        appointment = db.session.scalars(
            select(Appointment.id).where(Appointment.patient_id == patient.id).limit(1)
        ).first()
        today = clock.to_paris(clock.now()).date()
        reminders = prevention.for_patient(patient, today)
        return Demo(
            password=demo.password(),
            patient_id=patient.id,
            own_document=first(
                select(Document.id).where(
                    Document.patient_id == patient.id, Document.author_account_id == holder.id
                )
            ),
            pro_document=first(
                select(Document.id).where(
                    Document.patient_id == patient.id,
                    Document.author_account_id == traitant.account_id,
                )
            ),
            conversation=first(
                select(Conversation.id).where(Conversation.patient_id == patient.id)
            ),
            own_entry=first(
                select(ProfileEntry.id).where(
                    ProfileEntry.patient_id == patient.id,
                    ProfileEntry.author_account_id == holder.id,
                )
            ),
            traitant_id=traitant.id,
            pharmacist_id=pharmacist.id,
            appointment=appointment,
            reminder=reminders[0].code if reminders else None,
            pending=pending,
            visitor_nir=visitor.nir,
            visitor_serial=visitor.vitale_serial,
            patient_nir=patient.nir,
            patient_last_name=patient.last_name,
        )


@pytest.fixture
def page_for(browser: Browser, layout_server: str) -> Iterator[Page]:
    """A phone of its own for each role, signed in once for all its pages."""
    context = browser.new_context(**PHONE, base_url=layout_server)
    yield context.new_page()
    context.close()


def _urls(app: Flask, *targets: tuple[str, dict[str, Any]]) -> list[str]:
    with app.test_request_context():
        return [url_for(endpoint, **args) for endpoint, args in targets]


# --- the pages of each role --------------------------------------------------------------------


def patient_pages(data: Demo) -> list[tuple[str, dict[str, Any]]]:
    pages: list[tuple[str, dict[str, Any]]] = [
        ("main.home", {}),
        ("documents.index", {}),
        ("documents.new", {}),
        ("documents.show", {"document_id": data.own_document}),
        ("documents.show", {"document_id": data.pro_document}),
        ("documents.replace", {"document_id": data.own_document}),
        ("documents.delete", {"document_id": data.own_document}),
        ("profile.summary", {}),
        *[("profile.section", {"section": section}) for section in SECTIONS],
        ("profile.edit", {"table": "entries", "row_id": data.own_entry}),
        ("profile.delete", {"table": "entries", "row_id": data.own_entry}),
        ("access.index", {}),
        ("access.find", {"q": "Martin"}),
        ("access.grant", {"professional_id": data.pharmacist_id}),
        ("access.change", {"professional_id": data.traitant_id, "change": "block"}),
        ("access.emergency_settings", {}),
        ("access.history", {}),
        ("messages.index", {}),
        ("messages.thread", {"conversation_id": data.conversation}),
        ("agenda.index", {}),
        ("agenda.new", {}),
        ("agenda.feed", {}),
        ("reimbursements.index", {}),
        ("settings.index", {}),
        ("settings.authenticator", {}),
        ("settings.close_record", {}),
        ("auth.reauth", {}),
    ]
    if data.appointment is not None:
        pages.append(("agenda.edit", {"appointment_id": data.appointment}))
    if data.reminder is not None:
        pages.append(("agenda.reminder_done", {"code": data.reminder}))
        pages.append(("agenda.reminder_postpone", {"code": data.reminder}))
    return pages


def professional_pages(data: Demo, visit_id: int) -> list[tuple[str, dict[str, Any]]]:
    record = {"patient_id": data.patient_id}
    return [
        ("main.home", {}),
        ("pro.home", {}),
        ("pro.patient", record),
        ("pro.deposit", record),
        ("pro.emergency_open", record),
        ("pro.emergency_summary", record),
        ("pro_visit.visit", {"visit_id": visit_id}),
        ("profile.summary", record),
        *[("profile.section", {**record, "section": section}) for section in SECTIONS],
        ("documents.show", {"document_id": data.pro_document}),
        ("messages.index", {}),
        ("messages.new", {}),
        ("messages.thread", {"conversation_id": data.conversation}),
        ("agenda.index", {}),
        ("agenda.new", {}),
        ("settings.index", {}),
        ("settings.authenticator", {}),
    ]


def agent_pages(visit_id: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("main.home", {}),
        ("counter.home", {}),
        ("counter_visit.visit", {"visit_id": visit_id}),
        ("settings.index", {}),
        ("settings.authenticator", {}),
    ]


ANONYMOUS_PAGES: list[tuple[str, dict[str, Any]]] = [
    ("main.home", {}),
    ("auth.login", {}),
    ("auth.forgot", {}),
    ("enrolment.activate", {}),
    ("enrolment.lost_code", {}),
    ("enrolment.opposed", {}),
    ("enrolment.closed", {}),
]
# Reached on the way, by the journeys below (sign-in, activation, SAMU's search).
JOURNEY_PAGES = {
    "auth.verify",
    "enrolment.choice",
    "enrolment.oppose",
    "enrolment.contacts",
    "enrolment.check_contacts",
    "enrolment.account",
    "enrolment.emergency",
    "enrolment.done",
}


def test_every_page_is_listed(layout_app: Flask) -> None:
    """A GET route is visited below, or named in NOT_PAGES with why: none is forgotten."""
    data = Demo("", 1, 1, 1, 1, 1, 1, 1, 1, "code", None, "", "", "", "")
    listed = {
        endpoint
        for endpoint, _args in [
            *patient_pages(data),
            *professional_pages(data, 1),
            *agent_pages(1),
            *ANONYMOUS_PAGES,
        ]
    }
    listed |= JOURNEY_PAGES | set(NOT_PAGES)
    pages = {
        rule.endpoint for rule in layout_app.url_map.iter_rules() if "GET" in (rule.methods or ())
    }
    assert pages - listed == set(), "pages no role visits: add them, or say why in NOT_PAGES"
    assert set(NOT_PAGES) - pages == set(), "NOT_PAGES names routes that are gone"


# --- signing in, once per role -------------------------------------------------------------


def _sign_in(app: Flask, page: Page, report: Report, identifier: str, password: str) -> None:
    page.goto("/auth/login")
    page.locator("#identifier").fill(identifier)
    page.locator("#password").fill(password)
    page.locator("#main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    report.check(page, "/auth/verify")
    with database(app):
        account = _account(identifier)
        code = codes.current_totp(account) if account.uses_totp else last_code(account)
    page.locator("#code").fill(code)
    page.locator("#main form button[type=submit]").first.click()
    expect(page).not_to_have_url(re.compile(r"/auth/"))


def _visit_id(app: Flask, identifier: str, nir: str) -> int:
    """A visit at the counter (or in the consulting room) for a person on the register."""
    with database(app):
        helper = _account(identifier)
        person = db.session.scalar(select(Beneficiary).where(Beneficiary.nir == nir))
        assert person is not None
        visit = assisted.start(helper, person)
        db.session.commit()
        return visit.id


def test_patient_pages_fit_a_phone(layout_app: Flask, demo_data: Demo, page_for: Page) -> None:
    report = Report()
    _sign_in(layout_app, page_for, report, "patient.demo", demo_data.password)
    for path in _urls(layout_app, *patient_pages(demo_data)):
        report.visit(page_for, path)
    report.assert_none()


def test_professional_pages_fit_a_phone(layout_app: Flask, demo_data: Demo, page_for: Page) -> None:
    report = Report()
    _sign_in(layout_app, page_for, report, "medecin.demo", demo_data.password)
    visit = _visit_id(layout_app, "medecin.demo", demo_data.visitor_nir)
    for path in _urls(layout_app, *professional_pages(demo_data, visit)):
        report.visit(page_for, path)
    report.assert_none()


def test_samu_pages_fit_a_phone(layout_app: Flask, demo_data: Demo, page_for: Page) -> None:
    """The regulating physician, who has no authorisation: the search, the ways in, and the
    emergency form."""
    report = Report()
    _sign_in(layout_app, page_for, report, "samu.demo", demo_data.password)
    report.visit(page_for, "/pro/")
    page_for.locator("#find-nir").fill(demo_data.patient_nir)
    page_for.locator("#find-last_name").fill(demo_data.patient_last_name)
    page_for.locator("#find-nir").press("Enter")
    expect(page_for).to_have_url(re.compile(r"/pro/patients/\d+$"))
    report.check(page_for, "/pro/patients/<id> (no access)")
    paths = _urls(
        layout_app,
        ("pro.emergency_open", {"patient_id": demo_data.patient_id}),
        ("messages.index", {}),
        ("settings.index", {}),
    )
    for path in paths:
        report.visit(page_for, path)
    report.assert_none()


def test_agent_pages_fit_a_phone(layout_app: Flask, demo_data: Demo, page_for: Page) -> None:
    report = Report()
    _sign_in(layout_app, page_for, report, "agent.demo", demo_data.password)
    visit = _visit_id(layout_app, "agent.demo", demo_data.visitor_nir)
    for path in _urls(layout_app, *agent_pages(visit)):
        report.visit(page_for, path)
    report.assert_none()


def test_anonymous_pages_and_activation_fit_a_phone(
    layout_app: Flask, demo_data: Demo, page_for: Page
) -> None:
    report = Report()
    for path in _urls(layout_app, *ANONYMOUS_PAGES):
        report.visit(page_for, path)
    report.visit(page_for, "/no-such-page", "404", status=404)
    assert demo_data.pending is not None, "the demo has a person waiting to activate"
    code, nir, serial, born = demo_data.pending
    page = page_for

    # Activation, step by step, as far as the last page.
    page.goto("/enrolment/activate")
    page.get_by_label("Code provisoire").fill(code)
    page.get_by_label("Numéro de sécurité sociale").fill(nir)
    page.get_by_label("Numéro de série de la carte Vitale").fill(serial)
    page.get_by_label("Date de naissance").fill(born)
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_url(re.compile(r"/enrolment/choice$"))
    report.check(page, "/enrolment/choice")
    report.visit(page, "/enrolment/oppose")
    report.visit(page, "/enrolment/contacts")
    page.get_by_role("radio", name="Je veux en indiquer une autre").check()
    page.get_by_label("Nouvelle adresse e-mail").fill("une.adresse.nouvelle.et.longue@exemple.fr")
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_url(re.compile(r"/enrolment/contacts/check$"))
    report.check(page, "/enrolment/contacts/check")
    page.goto("/enrolment/contacts")
    page.get_by_role("radio", name="Elle est toujours la bonne").check()
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_url(re.compile(r"/enrolment/account$"))
    report.check(page, "/enrolment/account")
    page.get_by_label("Identifiant", exact=True).fill("lucien.layout")
    page.get_by_label("Mot de passe", exact=True).fill("Le tilleul fleurit en juin 1957")
    page.get_by_label("Le même mot de passe, une seconde fois").fill(
        "Le tilleul fleurit en juin 1957"
    )
    page.get_by_role("radio", name="E-mail").first.check()
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_url(re.compile(r"/enrolment/emergency$"))
    report.check(page, "/enrolment/emergency")
    page.get_by_role("button", name="Activer mon dossier").click()
    expect(page).to_have_url(re.compile(r"/enrolment/done$"))
    report.check(page, "/enrolment/done")
    report.assert_none()


def test_a_page_that_scrolls_sideways_is_caught(layout_server: str, page_for: Page) -> None:
    """The check itself: a word wider than the phone is reported."""
    page_for.goto("/auth/login")
    page_for.evaluate(
        """() => {
            const line = document.createElement("p");
            line.textContent = "x".repeat(200);
            line.style.whiteSpace = "nowrap";  // the CSP allows no style attribute
            document.querySelector("#main h1").after(line);
        }"""
    )
    report = Report()
    report.check(page_for, "/auth/login with a long line")
    assert any("scrolls sideways" in problem for problem in report.problems)
