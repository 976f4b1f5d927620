"""Secure messaging, on a phone and on a desktop: a cardiologist writes with a letter, the
patient sees her unread count change without reloading, reads, answers and keeps the letter
among her documents, then he closes the conversation and she can no longer answer; a
professional she blocks finds nothing at his next click; and the same exchange without
JavaScript, as plain forms.

The patient's browser runs Playwright's clock, so that the badge's 30-second poll comes at
once instead of after a wait. Accounts and authorisations are written with the builders.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from playwright.sync_api import FilePayload, Frame, Locator, Page, Response, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

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
    start_conversation,
)
from tests.builders import authorise, make_professional
from webapp.core.extensions import db
from webapp.models import Account
from webapp.services.demo import files as demo_files

SUBJECT = "Votre échographie cardiaque"
BODY = (
    "Bonjour Madame, voici le compte rendu de votre échographie cardiaque : le cœur est de "
    "taille normale et se contracte bien. Nous en reparlerons à la consultation de contrôle."
)
REPLY = "Merci docteur, c'est rassurant. Je prendrai rendez-vous pour le contrôle."
FILE_NAME = "echographie-cardiaque.pdf"
SAVED_TITLE = "echographie-cardiaque"  # a saved attachment is titled after its file
NOT_FOUND = "Cette page est introuvable"
POLL_MS = 31_000  # just over the badge's 30-second polling interval


@dataclass(frozen=True)
class Pair:
    """A patient and a professional she has authorised."""

    patient: Person
    patient_id: int
    doctor: Person
    doctor_id: int  # the directory entry (Professional.id)
    doctor_name: str


def _pair(app: Flask, *, specialty: str = "cardiologie", first_names: str = "Karim") -> Pair:
    patient = new_patient(app)
    with database(app):
        doctor = make_professional(specialty=specialty, first_names=first_names)
        holder = db.session.get(Account, patient.id)
        assert holder is not None and holder.patient is not None
        assert doctor.professional is not None
        authorise(doctor, holder)
        return Pair(
            patient,
            holder.patient.id,
            Person(doctor.id, doctor.identifier, first_names),
            doctor.professional.id,
            doctor.professional.display_name,
        )


def _letter() -> FilePayload:
    content = demo_files.pdf(
        "Échographie cardiaque : compte rendu",
        [
            "Indication : palpitations.",
            "Ventricule gauche de taille normale, fraction d'éjection conservée (62 %).",
            "Pas de valvulopathie significative. Péricarde sec.",
        ],
        issuer=["Dr Karim Benali", "Cardiologie"],
    )
    return FilePayload(name=FILE_NAME, mimeType="application/pdf", buffer=content)


# --- what the pages show ----------------------------------------------------------------------


def _nav_link(page: Page, name: str) -> Locator:
    """A link of the menu, whatever its unread count adds to its name."""
    return main_nav(page).get_by_role("link", name=re.compile(rf"^{re.escape(name)}"))


def _nav(page: Page, name: str) -> None:
    _nav_link(page, name).click()


def _flash(page: Page) -> Locator:
    return page.locator(".flashes")


def _badge_count(page: Page) -> Locator:
    return page.locator("#unread-badge .count-badge")


def _messages(page: Page) -> Locator:
    return page.locator(".message-list .message")


def _row(page: Page, subject: str) -> Locator:
    return page.locator(".conversation-row").filter(
        has=page.get_by_role("link", name=subject, exact=True)
    )


def _inbox(page: Page) -> None:
    _nav(page, "Messages")
    heading(page, "Messagerie")
    expect(page.locator(".emergency-note")).to_contain_text("appelez le 15")


def _thread_id(page: Page) -> int:
    found = re.search(r"/messages/(\d+)(?:#.*)?$", page.url)
    assert found, page.url
    return int(found.group(1))


def _closed_for_her(page: Page) -> None:
    """No reply box any more, and the page says why."""
    heading(page, SUBJECT)
    expect(page.locator("#body")).to_have_count(0)
    expect(page.get_by_role("button", name="Envoyer", exact=True)).to_have_count(0)
    expect(page.get_by_role("heading", level=2, name="Conversation close")).to_be_visible()
    expect(page.locator("#reply .notice")).to_contain_text(
        "Le professionnel a clos cette conversation"
    )
    expect(page.locator("#reply .notice")).to_contain_text("vous ne pouvez plus y répondre")


def _not_found(page: Page) -> None:
    heading(page, NOT_FOUND)
    expect(page.locator(".error-code")).to_have_text("Erreur 404")
    assert_accessible(page)


# --- 1. a letter, answered, kept, and the conversation closed ----------------------------------


def _write(desk: Page, pair: Pair) -> int:
    """The professional writes from /messages/new, with the letter; returns the thread's id."""
    desk.get_by_role("link", name="Écrire à un patient").click()
    heading(desk, "Écrire à un patient")
    expect(desk.locator(".emergency-note")).to_be_visible()
    assert_accessible(desk)
    desk.locator("#patient").select_option(str(pair.patient_id))
    desk.locator("#subject").fill(SUBJECT)
    desk.locator("#body").fill(BODY)
    desk.set_input_files("#attachment", files=[_letter()])
    desk.get_by_role("button", name="Envoyer le message").click()
    heading(desk, SUBJECT)
    expect(_flash(desk)).to_contain_text("Votre message est envoyé. Le patient en est averti.")
    expect(_messages(desk)).to_have_count(1)
    expect(desk.get_by_role("link", name=FILE_NAME)).to_be_visible()
    expect(desk.get_by_role("button", name="Clore la conversation")).to_be_visible()
    assert_accessible(desk)
    return _thread_id(desk)


def _polled(path: str, status: int) -> Callable[[Response], bool]:
    """The badge's poll of `path`, answered with `status`."""

    def matches(response: Response) -> bool:
        return path in response.url and response.status == status

    return matches


def test_a_letter_is_answered_kept_among_her_documents_and_the_conversation_closed(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    pair = _pair(app)
    page.clock.install()  # her browser's timers: the badge's poll comes when the test says
    sign_in_patient(app, page, pair.patient)
    expect(page.locator("#unread-badge")).to_have_count(1)
    expect(_badge_count(page)).to_have_count(0)
    moved: list[str] = []

    def navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            moved.append(frame.url)

    page.on("framenavigated", navigated)

    desk = new_context().new_page()
    sign_in_professional(app, desk, pair.doctor)
    _inbox(desk)
    expect(desk.locator("#conversation-list .empty")).to_contain_text("Aucune conversation.")
    assert_accessible(desk)
    conversation_id = _write(desk, pair)

    # On her dashboard, the next poll brings the count; the page is not reloaded.
    with page.expect_response(_polled("/messages/unread?seen=0", 200)):
        page.clock.run_for(POLL_MS)
    expect(_badge_count(page)).to_have_text("1")
    expect(_nav_link(page, "Messages")).to_have_accessible_name(
        re.compile(r"^Messages\s*1 message non lu$")
    )
    heading(page, re.compile(re.escape(pair.patient.first_names)))
    assert moved == []
    assert_accessible(page)
    # Nothing new: the next poll answers 204 and the badge stays as it is.
    with page.expect_response(_polled("/messages/unread?seen=1", 204)):
        page.clock.run_for(POLL_MS)
    expect(_badge_count(page)).to_have_text("1")
    assert moved == []

    # She opens it from her inbox; reading it clears the count.
    _inbox(page)
    row = _row(page, SUBJECT)
    expect(row.locator(".badge.unread")).to_have_text("1 non lu")
    expect(row).to_contain_text(pair.doctor_name)
    expect(row).to_contain_text("Cabinet Test")
    assert_accessible(page)
    row.get_by_role("link", name=SUBJECT, exact=True).click()
    heading(page, SUBJECT)
    expect(page).to_have_url(re.compile(rf"/messages/{conversation_id}$"))
    expect(page.locator(".message-body")).to_have_text(BODY)
    expect(_messages(page).first).to_contain_text(pair.doctor_name)
    expect(_badge_count(page)).to_have_count(0)
    assert_accessible(page)

    # She answers.
    page.locator("#body").fill(REPLY)
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(_flash(page)).to_contain_text("Votre message est envoyé.")
    expect(_messages(page)).to_have_count(2)
    expect(page.locator(".message.from-patient")).to_contain_text(REPLY)
    expect(page.locator(".message.from-patient .meta")).to_contain_text("Vous")
    assert_accessible(page)

    # She keeps the letter among her documents, as a report, and finds it there.
    letter = page.locator(".attachment").filter(has=page.get_by_role("link", name=FILE_NAME))
    letter.get_by_label("Ranger dans mes documents, catégorie").select_option("comptes_rendus")
    letter.get_by_role("button", name="Enregistrer dans mes documents").click()
    heading(page, SAVED_TITLE)
    expect(_flash(page)).to_contain_text("La pièce jointe est enregistrée dans vos documents.")
    expect(page.locator(".facts")).to_contain_text("Comptes rendus")
    expect(page.locator(".facts")).to_contain_text(pair.doctor_name)
    assert_accessible(page)
    _nav(page, "Mes documents")
    heading(page, "Mes documents")
    expect(
        page.locator("#document-results").get_by_role("link", name=SAVED_TITLE, exact=True)
    ).to_be_visible()
    assert_accessible(page)

    # A second tab keeps the thread open, reply box included.
    other_tab = page.context.new_page()
    other_tab.goto(f"/messages/{conversation_id}")
    heading(other_tab, SUBJECT)
    expect(other_tab.get_by_role("link", name="Enregistrée dans vos documents")).to_be_visible()
    expect(other_tab.locator("#body")).to_be_visible()

    # The cardiologist reads her answer, then closes the conversation.
    _inbox(desk)
    expect(_row(desk, SUBJECT).locator(".badge.unread")).to_have_text("1 non lu")
    _row(desk, SUBJECT).get_by_role("link", name=SUBJECT, exact=True).click()
    heading(desk, SUBJECT)
    expect(_messages(desk)).to_have_count(2)
    expect(desk.locator(".message.from-patient")).to_contain_text(REPLY)
    desk.get_by_role("button", name="Clore la conversation").click()
    expect(_flash(desk)).to_contain_text(
        "La conversation est close : le patient ne peut plus y répondre."
    )
    expect(desk.locator("#reply .notice")).to_contain_text("Vous avez clos cette conversation")
    expect(desk.get_by_role("button", name="Clore la conversation")).to_have_count(0)
    assert_accessible(desk)

    # She can no longer answer: no reply box, and the page says so.
    page.goto(f"/messages/{conversation_id}")
    _closed_for_her(page)
    assert_accessible(page)
    _inbox(page)
    expect(_row(page, SUBJECT).locator(".badge")).to_contain_text(["close"])

    # The form left open in the other tab is refused, and says why.
    other_tab.locator("#body").fill("Une dernière question : puis-je reprendre le sport ?")
    other_tab.get_by_role("button", name="Envoyer", exact=True).click()
    _closed_for_her(other_tab)
    expect(other_tab.locator("#reply .notice[role=alert]")).to_be_visible()
    expect(_messages(other_tab)).to_have_count(2)
    assert_accessible(other_tab)


# --- 2. a professional she blocks --------------------------------------------------------------


def test_a_professional_keeps_his_conversations_when_revoked_and_loses_them_when_blocked(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    pair = _pair(app, specialty="medecine_generale", first_names="Luc")
    first = "Résultats de votre prise de sang"
    second = "Votre vaccin contre la grippe"
    start_conversation(
        app, pair.doctor, pair.patient, subject=first, body="Vos résultats sont normaux."
    )
    second_id = start_conversation(
        app, pair.doctor, pair.patient, subject=second, body="Le vaccin est disponible."
    )

    office = new_context().new_page()
    sign_in_professional(app, office, pair.doctor)
    _inbox(office)
    expect(office.locator(".conversation-row")).to_have_count(2)
    assert_accessible(office)

    # She withdraws his access.
    sign_in_patient(app, page, pair.patient)
    _nav(page, "Qui peut voir mon dossier")
    heading(page, "Qui peut voir mon dossier")
    page.get_by_role("link", name=f"Retirer l'accès — {pair.doctor_name}").click()
    heading(page, f"Retirer l'accès de {pair.doctor_name} ?")
    page.get_by_role("button", name="Confirmer").click()
    expect(_flash(page)).to_contain_text(f"{pair.doctor_name} n'a plus accès à votre dossier.")

    # He still reads the conversation he took part in, but cannot start a new one (SPEC §6).
    _row(office, first).get_by_role("link", name=first, exact=True).click()
    heading(office, first)
    expect(office.locator(".message-body")).to_have_text("Vos résultats sont normaux.")
    office.goto("/messages/new")
    heading(office, "Écrire à un patient")
    expect(office.locator("#patient")).to_have_count(0)
    expect(office.locator(".empty")).to_contain_text("Aucun patient ne vous a encore donné accès")
    assert_accessible(office)
    office.goto(f"/messages/new?patient={pair.patient_id}")
    _not_found(office)
    _inbox(office)
    expect(office.locator(".conversation-row")).to_have_count(2)

    # Then she blocks him.
    page.goto(f"/access/{pair.doctor_id}/block")
    heading(page, f"Bloquer {pair.doctor_name} ?")
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer").click()
    expect(_flash(page)).to_contain_text(f"{pair.doctor_name} est bloqué")

    # His next click, on the other conversation of the list he still has open, is refused
    # (the server answers 404; htmx reloads the page he was on, which no longer lists it).
    with office.expect_response(lambda r: r.url.endswith(f"/messages/{second_id}")) as refused:
        _row(office, second).get_by_role("link", name=second, exact=True).click()
    assert refused.value.status == 404
    expect(office.get_by_role("heading", level=1, name=second)).to_have_count(0)
    expect(office.locator("#main")).not_to_contain_text("Le vaccin est disponible.")
    _inbox(office)
    expect(office.locator(".conversation-row")).to_have_count(0)
    assert_accessible(office)
    # The conversation's address, from a bookmark, is the "not found" page.
    office.goto(f"/messages/{second_id}")
    _not_found(office)
    expect(office.locator("#main")).not_to_contain_text(second)


# --- 3. without JavaScript ---------------------------------------------------------------------


def test_without_javascript_writing_reading_answering_and_closing_are_plain_forms(
    app: Flask, new_context: CreateContextCallback
) -> None:
    pair = _pair(app)
    desk = new_context(java_script_enabled=False).new_page()
    sign_in_without_script(app, desk, pair.doctor, professional=True)
    desk.goto("/messages/new")
    heading(desk, "Écrire à un patient")
    desk.locator("#patient").select_option(str(pair.patient_id))
    desk.locator("#subject").fill(SUBJECT)
    desk.locator("#body").fill(BODY)
    desk.set_input_files("#attachment", files=[_letter()])
    desk.get_by_role("button", name="Envoyer le message").click()
    heading(desk, SUBJECT)
    expect(_flash(desk)).to_contain_text("Votre message est envoyé.")
    conversation_id = _thread_id(desk)

    home = new_context(java_script_enabled=False).new_page()
    sign_in_without_script(app, home, pair.patient, professional=False)
    expect(_badge_count(home)).to_have_text("1")  # counted when the page was made
    _inbox(home)
    _row(home, SUBJECT).get_by_role("link", name=SUBJECT, exact=True).click()
    heading(home, SUBJECT)
    expect(home.locator(".message-body")).to_have_text(BODY)
    expect(home.get_by_role("link", name=FILE_NAME)).to_be_visible()
    expect(_badge_count(home)).to_have_count(0)
    home.locator("#body").fill(REPLY)
    home.get_by_role("button", name="Envoyer", exact=True).click()
    expect(_flash(home)).to_contain_text("Votre message est envoyé.")
    expect(_messages(home)).to_have_count(2)

    desk.goto(f"/messages/{conversation_id}")
    expect(desk.locator(".message.from-patient")).to_contain_text(REPLY)
    desk.get_by_role("button", name="Clore la conversation").click()
    expect(_flash(desk)).to_contain_text("La conversation est close")

    home.reload()
    _closed_for_her(home)
    # She files it away, and finds it again among the archives.
    home.get_by_role("button", name="Archiver").click()
    heading(home, "Messagerie")
    expect(_flash(home)).to_contain_text("La conversation est rangée dans les archives.")
    expect(_row(home, SUBJECT)).to_have_count(0)
    home.get_by_role("link", name="Voir les messages archivés").click()
    heading(home, "Messages archivés")
    expect(_row(home, SUBJECT)).to_have_count(1)
