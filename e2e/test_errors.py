"""No request fails in silence, and every new page is announced: on a phone and a desktop.

413, 429, 500 and a lost connection are said above the page, which keeps what was typed; a
file over the limit is refused before it is sent; an ended session is explained on the sign-in
page; focus goes to the code field after the password, and to the heading of each new page.

429 and 500 need a Carnet of their own (`strict_server`): rate limits on, and a page that
fails, registered by this module only.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from playwright.sync_api import FilePayload, Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback
from werkzeug.serving import make_server

from e2e.helpers import (
    Person,
    assert_accessible,
    database,
    heading,
    new_patient,
    sign_in_patient,
    submit,
    submit_password,
)
from tests.builders import PASSWORD
from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db, limiter
from webapp.core.settings import Settings
from webapp.models import Account
from webapp.services import sessions
from webapp.web.security import public

MB = 1024 * 1024
ENDED = (
    "Vous avez été déconnecté pour protéger votre dossier : votre session a expiré ou a été "
    "fermée. Reconnectez-vous pour continuer."
)
FAILURE = "Un problème technique nous empêche d'afficher cette page"
NOTE = "Tension ce matin : 13/8"

TEST_PAGE = """{% extends "base.html" %}
{% block title %}Page d'essai{% endblock %}
{% block content %}
<section class="panel narrow">
  <h1>Page d'essai</h1>
  <p><a href="/test/failure">Une page qui échoue</a></p>
  <form method="post" action="/test/failure" novalidate>
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <div class="field"><label for="note">Note</label><input id="note" name="note" type="text"></div>
    <button class="button primary" type="submit">Envoyer</button>
  </form>
</section>
{% endblock %}"""


def _test_page() -> str:
    return render_template_string(TEST_PAGE)


def _failure() -> str:
    raise RuntimeError("a failure made by the test")


@pytest.fixture
def strict_server(app: Flask, tmp_path: Path) -> Iterator[str]:
    """A second Carnet, rate limits on, with a page whose link and form reach a failing view.

    Flask-Limiter is one object for every app of the process: the run's app (limits off) is
    created first and given it back at the end."""
    settings = Settings.for_tests(tmp_path / "instance", f"sqlite:///{tmp_path / 'strict.db'}")
    strict = create_app(settings)
    strict.add_url_rule("/test/page", "test_page", public(_test_page))
    strict.add_url_rule("/test/failure", "test_failure", public(_failure), methods=["GET", "POST"])
    with strict.app_context():
        db.create_all()
        db.session.remove()
    server = make_server("127.0.0.1", 0, strict, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="carnet-e2e-strict", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with strict.app_context():
            db.engine.dispose()
        limiter.init_app(app)


@pytest.fixture
def moved_clock() -> Iterator[None]:
    yield
    clock.reset()


def _past_day(days: int) -> str:
    return (clock.to_paris(clock.now()).date() - timedelta(days=days)).isoformat()


def _end_sessions(app: Flask, person: Person) -> None:
    """As "Se déconnecter de tous les appareils" does from another device."""
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None
        sessions.revoke_all(account)
        db.session.commit()


def test_a_failing_request_is_said_and_the_page_kept(page: Page, strict_server: str) -> None:
    page.goto(f"{strict_server}/test/page")
    heading(page, "Page d'essai")
    page.locator("#note").fill(NOTE)
    page.get_by_role("button", name="Envoyer").click()

    problem = page.locator("#request-problem")
    expect(problem.get_by_role("alert")).to_contain_text("Erreur 500")
    expect(problem).to_contain_text(FAILURE)
    expect(problem).to_contain_text("Rien de ce que vous aviez enregistré n'est perdu.")
    expect(problem).to_be_focused()
    expect(page.locator("#note")).to_have_value(NOTE)
    expect(page).to_have_url(re.compile(r"/test/page$"))
    assert_accessible(page)

    # The connection drops: said too, in place of the earlier problem.
    page.route("**/test/failure", lambda route: route.abort("internetdisconnected"))
    page.get_by_role("button", name="Envoyer").click()
    expect(problem).to_contain_text("La connexion à Carnet a échoué")
    expect(problem).not_to_contain_text("Erreur 500")
    expect(problem).to_be_focused()
    expect(page.locator("#note")).to_have_value(NOTE)
    page.unroute("**/test/failure")

    # A followed link shows the error page as the page, as it would without JavaScript.
    page.get_by_role("link", name="Une page qui échoue").click()
    heading(page, FAILURE)
    expect(page).to_have_url(re.compile(r"/test/failure$"))
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    expect(page.locator("#page-announcer")).to_have_text(f"{FAILURE} · Carnet")
    assert_accessible(page)


def test_too_many_tries_are_said_and_the_form_kept(page: Page, strict_server: str) -> None:
    page.goto(f"{strict_server}/auth/login")
    heading(page, "Se connecter à Carnet")
    identifier = "personne.inconnue@example.fr"
    for attempt in range(5):  # the limit: 5 a minute for one identifier
        page.locator("#identifier").fill(identifier)
        page.locator("#password").fill(f"pas le bon {attempt}")
        submit(page)
        expect(page.locator("#password")).to_have_value("")  # the page came back
        expect(page.locator(".error-summary")).to_be_focused()

    page.locator("#password").fill("encore un autre")
    submit(page)
    problem = page.locator("#request-problem")
    expect(problem).to_contain_text("Erreur 429")
    expect(problem).to_contain_text("Trop d'essais en peu de temps")
    expect(problem).to_contain_text("patientez quelques minutes avant de réessayer")
    expect(problem).to_be_focused()
    expect(page.locator("#identifier")).to_have_value(identifier)
    expect(page.locator("#password")).to_have_value("encore un autre")
    assert_accessible(page)


def test_a_file_over_the_limit_is_refused_before_sending_and_by_the_server(
    app: Flask, page: Page
) -> None:
    patient = new_patient(app)
    sign_in_patient(app, page, patient)
    page.goto("/documents/new")
    heading(page, "Ajouter un document")
    day = _past_day(5)
    page.locator("#title").fill("Scanner du genou")
    page.locator("#category").select_option("imagerie")
    page.locator("#date").fill(day)
    sent: list[str] = []
    page.on(
        "request", lambda request: sent.append(request.url) if request.method == "POST" else None
    )

    big = FilePayload(
        name="scanner.pdf", mimeType="application/pdf", buffer=b"%PDF-1.4\n" + bytes(6 * MB)
    )
    page.set_input_files("#file", files=[big])
    field = page.locator("#file")
    expect(page.locator("#file-size")).to_have_text(
        "Ce fichier pèse 6 Mo : la limite est de 5 Mo. Choisissez un fichier plus petit, "
        "ou une photo moins lourde."
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\bfile-size\b"))
    assert_accessible(page)
    page.get_by_role("button", name="Ajouter à mon dossier").click()
    expect(field).to_be_focused()
    expect(page).to_have_url(re.compile(r"/documents/new$"))
    assert sent == []

    # A small file takes the message away; the big one brings it back.
    small = FilePayload(name="compte-rendu.txt", mimeType="text/plain", buffer=b"Genou sain.")
    page.set_input_files("#file", files=[small])
    expect(page.locator("#file-size")).to_have_count(0)
    expect(field).not_to_have_attribute("aria-invalid", "true")
    page.set_input_files("#file", files=[big])
    expect(page.locator("#file-size")).to_be_visible()

    # A browser that skips the check: the server refuses the file and says the size and the
    # limit above the form, which keeps what was typed.
    field.evaluate("input => input.removeAttribute('data-max-bytes')")
    page.get_by_role("button", name="Ajouter à mon dossier").click()
    problem = page.locator("#request-problem")
    expect(problem).to_contain_text("Erreur 413")
    expect(problem).to_contain_text("Le fichier est trop volumineux")
    expect(problem).to_contain_text("Votre fichier pèse environ 6 Mo ; la limite est de 5 Mo.")
    expect(problem).to_be_focused()
    expect(page.locator("#title")).to_have_value("Scanner du genou")
    expect(page.locator("#category")).to_have_value("imagerie")
    expect(page.locator("#date")).to_have_value(day)
    assert len(sent) == 1
    assert_accessible(page)


def test_an_idle_session_is_explained_on_the_sign_in_page(
    app: Flask, page: Page, moved_clock: None
) -> None:
    patient = new_patient(app)
    sign_in_patient(app, page, patient)
    clock.advance(31 * 60)
    page.goto("/documents/")
    expect(page).to_have_url(re.compile(r"/auth/login\?next="))
    heading(page, "Se connecter à Carnet")
    expect(page.locator(".flashes")).to_have_text(ENDED)
    assert_accessible(page)


def test_a_session_ended_elsewhere_is_explained_after_an_htmx_request(
    app: Flask, page: Page
) -> None:
    patient = new_patient(app)
    sign_in_patient(app, page, patient)
    page.goto("/documents/")
    heading(page, "Mes documents")
    _end_sessions(app, patient)
    page.get_by_role("link", name="Ajouter un document").click()  # boosted: an htmx request
    expect(page).to_have_url(re.compile(r"/auth/login\?next=(/|%2F)documents(/|%2F)new$"))
    heading(page, "Se connecter à Carnet")
    expect(page.locator(".flashes")).to_have_text(ENDED)
    assert_accessible(page)


def test_the_code_field_has_the_focus_after_the_password(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    patient = new_patient(app)
    submit_password(page, patient)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    expect(page.locator("#code")).to_be_focused()
    assert_accessible(page)

    # Without JavaScript, the browser honours the same autofocus.
    plain = new_context(java_script_enabled=False).new_page()
    plain.goto("/auth/login")
    plain.locator("#identifier").fill(patient.identifier)
    plain.locator("#password").fill(PASSWORD)
    submit(plain)
    expect(plain).to_have_url(re.compile(r"/auth/verify$"))
    expect(plain.locator("#code")).to_be_focused()


def test_a_followed_link_focuses_and_announces_the_new_page(app: Flask, page: Page) -> None:
    patient = new_patient(app)
    sign_in_patient(app, page, patient)  # the code form, boosted, lands on the dashboard
    expect(page.get_by_role("heading", level=1)).to_be_focused()

    page.goto("/documents/")
    heading(page, "Mes documents")
    page.get_by_role("link", name="Ajouter un document").click()
    heading(page, "Ajouter un document")
    title = page.get_by_role("heading", level=1)
    expect(title).to_be_focused()
    expect(title).to_have_attribute("tabindex", "-1")
    expect(page.locator("#page-announcer")).to_have_text("Ajouter un document · Carnet")
    assert_accessible(page)

    # A form sent with mistakes: the error summary keeps the focus.
    page.get_by_role("button", name="Ajouter à mon dossier").click()
    expect(page.locator(".error-summary")).to_be_focused()
    assert_accessible(page)
