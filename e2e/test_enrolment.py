"""Getting a record, on a phone and on a desktop.

Self-service activation with the code e-mailed by the insurer, opposition, a lost code, a
record opened at a counter with a printed letter, and a record closed then reopened.
Codes are read from the outbox as the person would read their e-mail or letter.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from pytest_playwright.pytest_playwright import CreateContextCallback
from sqlalchemy import func, select

from e2e.helpers import (
    Person,
    assert_accessible,
    database,
    emailed_code,
    heading,
    sign_in_patient,
    submit,
    submit_code,
)
from tests.builders import PASSWORD, make_agent, make_beneficiary, make_document, make_patient
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, OutboxMessage
from webapp.services import codes, enrolment, notify
from webapp.services.auth import find_account

# Long, easy to remember, and free of the person's names or identifier.
NEW_PASSWORD = "Le tilleul fleurit en juin 1957"
CODE = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")
ACTIVATION_LINK = re.compile(r"https?://\S+?(/enrolment/activate)\b")
DOCUMENT_TITLE = "Compte rendu de cardiologie"

Shoot = Callable[[Page, str], None]


@dataclass(frozen=True)
class Insured:
    """A person on the insurer's register, as written on their carte Vitale."""

    nir: str
    vitale_serial: str
    birth_date: date
    first_names: str
    email: str


# --- data, created the way the insurer's feed and mailing would ----------------------------


def new_insured(app: Flask, **overrides: object) -> Insured:
    with database(app):
        person = make_beneficiary(**overrides)
        assert person.email is not None
        return Insured(
            person.nir, person.vitale_serial, person.birth_date, person.first_names, person.email
        )


def mail_code(app: Flask, insured: Insured) -> None:
    """The insurer's campaign: a provisional code e-mailed to the address on file."""
    with database(app):
        beneficiary = enrolment.find_beneficiary(insured.nir, insured.vitale_serial)
        assert beneficiary is not None
        enrolment.send_code(beneficiary, "email", issued_by="campaign", actor=None)
        db.session.commit()


def _mails(app: Flask, address: str, kind: str) -> list[str]:
    """The bodies of the e-mails of this kind sent to this address, newest first."""
    with database(app):
        messages = db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.recipient == address,
                OutboxMessage.kind == kind,
                OutboxMessage.channel == "email",
            )
            .order_by(OutboxMessage.id.desc())
        ).all()
        return [notify.message_text(message) for message in messages]


def read_code_email(app: Flask, address: str) -> tuple[str, str]:
    """The code and the page named in the newest provisional-code e-mail to this address."""
    mails = _mails(app, address, "provisional_code")
    assert mails, f"no provisional code was e-mailed to {address}"
    code = CODE.search(mails[0])
    link = ACTIVATION_LINK.search(mails[0])
    assert code is not None and link is not None, mails[0]
    return code.group(0), link.group(1)


def account_named(app: Flask, identifier: str, first_names: str) -> Person:
    with database(app):
        account = find_account(identifier)
        assert account is not None, identifier
        return Person(account.id, account.identifier, first_names)


def message_count(app: Flask) -> int:
    with database(app):
        return db.session.scalar(select(func.count(OutboxMessage.id))) or 0


# --- the browser steps ---------------------------------------------------------------------


@pytest.fixture
def shoot(pytestconfig: pytest.Config) -> Shoot:
    """Save a full-page screenshot as test-results/enrolment/<name>-<phone|desktop>.png."""
    folder = Path(str(pytestconfig.getoption("--output"))) / "enrolment"

    def take(page: Page, name: str) -> None:
        size = page.viewport_size
        kind = "phone" if size is not None and size["width"] < 600 else "desktop"
        page.screenshot(path=folder / f"{name}-{kind}.png", full_page=True)

    return take


@pytest.fixture
def movable_clock() -> Iterator[None]:
    """A test that moves the clock puts it back, whatever happens."""
    yield
    clock.reset()


def fill_identity(page: Page, insured: Insured, *, birth_date: date | None = None) -> None:
    """The carte Vitale details, as on /enrolment/activate and /enrolment/code."""
    page.get_by_label("Numéro de sécurité sociale").fill(insured.nir)
    page.get_by_label("Numéro de série de la carte Vitale").fill(insured.vitale_serial)
    page.get_by_label("Date de naissance").fill((birth_date or insured.birth_date).isoformat())


def enter_code(page: Page, insured: Insured, code: str, *, birth_date: date | None = None) -> None:
    heading(page, "Activer mon dossier Carnet")
    page.get_by_label("Code provisoire").fill(code)
    fill_identity(page, insured, birth_date=birth_date)
    page.get_by_role("button", name="Continuer").click()


def activate_from_choice(
    page: Page, insured: Insured, identifier: str, shoot: Shoot, shots: str
) -> None:
    """From the choice page to "Votre dossier est activé", keeping the contacts on file.

    Screenshots of each step are named after `shots`.
    """
    page.get_by_role("link", name="Activer mon dossier").click()
    expect(page).to_have_url(re.compile(r"/enrolment/contacts$"))
    heading(page, "Vos coordonnées")
    expect(page.locator(".progress")).to_have_text("Étape 1 sur 4")
    page.get_by_role("radio", name="Elle est toujours la bonne").check()
    page.get_by_role("radio", name="Il est toujours le bon").check()
    assert_accessible(page)
    shoot(page, f"{shots}-3-contacts")
    page.get_by_role("button", name="Continuer").click()

    expect(page).to_have_url(re.compile(r"/enrolment/account$"))
    heading(page, "Choisissez votre identifiant et votre mot de passe")
    assert_accessible(page)
    page.get_by_label("Identifiant", exact=True).fill(identifier)
    page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Le même mot de passe, une seconde fois").fill(NEW_PASSWORD)
    page.get_by_role(
        "group", name="À chaque connexion, recevoir le code de confirmation par"
    ).get_by_role("radio", name="E-mail").check()
    shoot(page, f"{shots}-4-account")
    page.get_by_role("button", name="Continuer").click()

    expect(page).to_have_url(re.compile(r"/enrolment/emergency$"))
    heading(page, "L'accès à votre dossier en cas d'urgence")
    emergency = page.get_by_role("group", name=re.compile(r"^En cas d'urgence"))
    regulation = page.get_by_role("group", name=re.compile(r"^Le médecin régulateur du SAMU"))
    expect(emergency.get_by_role("radio", name="Oui, je l'accepte (recommandé)")).to_be_checked()
    expect(regulation.get_by_role("radio", name="Oui, je l'accepte (recommandé)")).to_be_checked()
    regulation.get_by_role("radio", name="Non, je m'y oppose").check()
    assert_accessible(page)
    shoot(page, f"{shots}-5-emergency")
    page.get_by_role("button", name="Activer mon dossier").click()

    expect(page).to_have_url(re.compile(r"/enrolment/done$"))
    heading(page, "Votre dossier est activé")
    expect(page.locator(".lead")).to_contain_text(f"Votre identifiant est {identifier}.")
    assert_accessible(page)
    shoot(page, f"{shots}-6-done")


def first_sign_in(app: Flask, page: Page, insured: Insured, identifier: str) -> None:
    """From "Me connecter" on the last step to the dashboard, with the e-mailed code."""
    page.get_by_role("link", name="Me connecter").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    heading(page, "Se connecter à Carnet")
    assert_accessible(page)
    page.locator("#identifier").fill(identifier)
    page.locator("#password").fill(NEW_PASSWORD)
    submit(page)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    heading(page, "Confirmez que c'est bien vous")
    assert_accessible(page)
    submit_code(page, emailed_code(app, account_named(app, identifier, insured.first_names)))
    expect(page).to_have_url(re.compile(r"/$"))
    heading(page, f"Bonjour {insured.first_names}")
    assert_accessible(page)


def new_identifier() -> str:
    return f"mamie.{uuid.uuid4().hex[:6]}"


# --- the journeys --------------------------------------------------------------------------


def test_insured_activates_her_record_with_the_emailed_code(
    app: Flask, page: Page, shoot: Shoot
) -> None:
    insured = new_insured(app)
    mail_code(app, insured)
    code, link = read_code_email(app, insured.email)

    page.goto(link)
    heading(page, "Activer mon dossier Carnet")
    assert_accessible(page)
    shoot(page, "self-1-activate")

    # The number is checked as she types it (when she leaves the field).
    page.get_by_label("Numéro de sécurité sociale").fill(insured.nir)
    page.get_by_label("Numéro de série de la carte Vitale").focus()
    expect(page.locator("#nir-check")).to_have_text("Format correct.")
    assert_accessible(page)

    # A wrong birth date: the same refusal as any other mismatch, on the same page.
    enter_code(page, insured, code.lower().replace("-", " "), birth_date=date(1950, 7, 15))
    expect(page).to_have_url(re.compile(r"/enrolment/activate$"))
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Ces informations ne permettent pas d'ouvrir un dossier")
    assert_accessible(page)
    shoot(page, "self-1-activate-refused")

    # Right this time; the code is accepted lower-case and with spaces, as typed from a mail.
    enter_code(page, insured, code.lower().replace("-", " "))
    expect(page).to_have_url(re.compile(r"/enrolment/choice$"))
    heading(page, f"Bonjour {insured.first_names}")
    expect(page.get_by_role("link", name="Activer mon dossier")).to_be_visible()
    expect(page.get_by_role("link", name="Je m'oppose à la création")).to_be_visible()
    expect(page.locator("#main")).to_contain_text("06 ** ** ** 78")
    assert_accessible(page)
    shoot(page, "self-2-choice")

    identifier = new_identifier()
    activate_from_choice(page, insured, identifier, shoot, "self")
    first_sign_in(app, page, insured, identifier)
    shoot(page, "self-7-dashboard")
    assert _mails(app, insured.email, "welcome"), "no welcome e-mail"

    # The code served once: it opens nothing any more.
    page.context.clear_cookies()
    page.goto("/enrolment/activate")
    enter_code(page, insured, code)
    expect(page.get_by_role("alert")).to_contain_text(
        "Ces informations ne permettent pas d'ouvrir un dossier"
    )
    assert_accessible(page)


def test_insured_opposes_the_creation_of_her_record(app: Flask, page: Page, shoot: Shoot) -> None:
    insured = new_insured(app)
    mail_code(app, insured)
    code, link = read_code_email(app, insured.email)

    page.goto(link)
    enter_code(page, insured, code)
    expect(page).to_have_url(re.compile(r"/enrolment/choice$"))
    heading(page, f"Bonjour {insured.first_names}")
    assert_accessible(page)
    page.get_by_role("link", name="Je m'oppose à la création").click()

    expect(page).to_have_url(re.compile(r"/enrolment/oppose$"))
    heading(page, "Vous ne souhaitez pas de dossier Carnet")
    assert_accessible(page)
    # Without the box ticked, she is told what to do, next to the box.
    page.get_by_role("button", name="Confirmer mon opposition").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Cochez la case pour confirmer votre opposition."
    )
    expect(page.get_by_role("checkbox", name=re.compile(r"^J'ai compris"))).to_have_attribute(
        "aria-invalid", "true"
    )
    assert_accessible(page)
    shoot(page, "oppose-error")

    page.get_by_role("checkbox", name=re.compile(r"^J'ai compris")).check()
    page.get_by_role("button", name="Confirmer mon opposition").click()
    expect(page).to_have_url(re.compile(r"/enrolment/opposed$"))
    heading(page, "Votre opposition est enregistrée")
    expect(page.locator("#main")).to_contain_text("Une confirmation vous est envoyée par e-mail.")
    assert_accessible(page)
    shoot(page, "opposed")
    assert _mails(app, insured.email, "opposition_confirmed"), "no confirmation e-mail"

    # The code is spent: it cannot be used to activate afterwards.
    page.goto("/enrolment/activate")
    enter_code(page, insured, code)
    expect(page.get_by_role("alert")).to_contain_text(
        "Ces informations ne permettent pas d'ouvrir un dossier"
    )
    assert_accessible(page)


def test_lost_code_is_sent_to_the_address_on_file_and_the_answer_reveals_nothing(
    app: Flask, page: Page, shoot: Shoot
) -> None:
    insured = new_insured(app)
    assert not _mails(app, insured.email, "provisional_code")

    page.goto("/enrolment/activate")
    heading(page, "Activer mon dossier Carnet")
    page.get_by_role("link", name="Je n'ai pas de code, ou je l'ai perdu").click()
    expect(page).to_have_url(re.compile(r"/enrolment/code$"))
    heading(page, "Recevoir un nouveau code provisoire")
    assert_accessible(page)
    fill_identity(page, insured)
    page.get_by_role("radio", name="E-mail").check()
    shoot(page, "lost-code")
    page.get_by_role("button", name="Envoyer le code").click()

    heading(page, "Demande reçue")
    answer = page.locator("#main .lead").inner_text()
    assert "adresse e-mail que l'Assurance Maladie connaît" in answer
    assert_accessible(page)
    shoot(page, "lost-code-sent")
    code, _link = read_code_email(app, insured.email)

    # Wrong details (another birth date): the very same answer, and nothing is sent.
    before = message_count(app)
    page.goto("/enrolment/code")
    heading(page, "Recevoir un nouveau code provisoire")
    fill_identity(page, insured, birth_date=date(1951, 5, 17))
    page.get_by_role("radio", name="E-mail").check()
    page.get_by_role("button", name="Envoyer le code").click()
    heading(page, "Demande reçue")
    expect(page.locator("#main .lead")).to_have_text(answer)
    assert_accessible(page)
    assert message_count(app) == before

    # The code that arrived works.
    page.get_by_role("link", name="J'ai reçu mon code : activer mon dossier").click()
    enter_code(page, insured, code)
    expect(page).to_have_url(re.compile(r"/enrolment/choice$"))
    heading(page, f"Bonjour {insured.first_names}")
    assert_accessible(page)


def _sign_in_agent(app: Flask, page: Page) -> None:
    with database(app):
        agent = make_agent()
        agent_id, identifier = agent.id, agent.identifier
    page.goto("/auth/login")
    page.locator("#identifier").fill(identifier)
    page.locator("#password").fill(PASSWORD)
    submit(page)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    assert_accessible(page)
    with database(app):
        account = db.session.get(Account, agent_id)
        assert account is not None
        totp = codes.current_totp(account)
    submit_code(page, totp)
    expect(page).to_have_url(re.compile(r"/counter/$"))
    heading(page, "Accueil guichet")
    assert_accessible(page)


def _pdf_text(data: bytes) -> str:
    return "\n".join(sheet.extract_text() for sheet in PdfReader(io.BytesIO(data)).pages)


def test_agent_opens_a_record_at_the_counter_and_the_person_activates_it_at_home(
    app: Flask, page: Page, new_context: CreateContextCallback, shoot: Shoot
) -> None:
    insured = new_insured(app, first_names="Marcelle", birth_date=date(1948, 2, 29))
    _sign_in_agent(app, page)
    shoot(page, "counter-home")

    page.get_by_label("Numéro de sécurité sociale").fill(insured.nir)
    page.get_by_label("Numéro de série de la carte Vitale").fill(insured.vitale_serial)
    page.get_by_role("button", name="Identifier").click()
    expect(page).to_have_url(re.compile(r"/counter/visits/\d+$"))
    heading(page, re.compile(rf"^{insured.first_names} "))
    assert_accessible(page)
    shoot(page, "counter-visit")

    inform = page.locator("#inform")
    items = inform.get_by_role("group", name="Cochez chaque point une fois expliqué :")
    boxes = items.get_by_role("checkbox")
    expect(boxes).to_have_count(6)
    for box in boxes.all():
        box.check()
    inform.get_by_role("checkbox", name=re.compile(r"^La personne a compris et accepte")).check()
    page.get_by_role("button", name="Enregistrer le consentement").click()

    access = page.locator("#access")
    expect(access.get_by_role("heading", name="2. Voulez-vous un accès en ligne ?")).to_be_visible()
    expect(access.get_by_role("radio", name="Oui : lui envoyer un code provisoire")).to_be_checked()
    access.get_by_role("radio", name="Dans une lettre imprimée ici").check()
    assert_accessible(page)
    shoot(page, "counter-access")
    access.get_by_role("button", name="Ouvrir le dossier").click()

    expect(page.get_by_text("La lettre d'activation est prête")).to_be_visible()
    letter_link = page.get_by_role("link", name="Ouvrir la lettre à imprimer (PDF)")
    expect(letter_link).to_be_visible()
    assert_accessible(page)
    shoot(page, "counter-letter")
    href = letter_link.get_attribute("href")
    assert href is not None
    letter = page.request.get(href)
    assert letter.ok and letter.headers["content-type"] == "application/pdf"
    text = _pdf_text(letter.body())
    found = CODE.search(text)
    assert found is not None, text
    assert "/enrolment/activate" in text

    # The visit ends: the letter is no longer available.
    page.get_by_role("button", name="Terminer la visite").click()
    heading(page, "Accueil guichet")
    expect(page.get_by_text("Visite terminée. La lettre n'est plus disponible.")).to_be_visible()
    assert_accessible(page)
    assert page.request.get(href).status == 404

    # At home, with the letter: a browser of her own.
    home = new_context().new_page()
    home.goto("/enrolment/activate")
    assert_accessible(home)
    enter_code(home, insured, found.group(0))
    expect(home).to_have_url(re.compile(r"/enrolment/choice$"))
    heading(home, f"Bonjour {insured.first_names}")
    expect(home.locator(".lead")).to_contain_text("Votre dossier existe déjà")
    expect(home.get_by_role("link", name="Je m'oppose à la création")).to_have_count(0)
    assert_accessible(home)
    identifier = new_identifier()
    activate_from_choice(home, insured, identifier, shoot, "home")
    first_sign_in(app, home, insured, identifier)


def test_patient_closes_her_record_and_reopens_it_with_a_new_code(
    app: Flask, page: Page, shoot: Shoot, movable_clock: None
) -> None:
    with database(app):
        account = make_patient()
        holder = account.patient
        assert holder is not None and account.email is not None
        make_document(account, title=DOCUMENT_TITLE)
        patient = Person(account.id, account.identifier, holder.first_names)
        # The insurer knows her under the same number: that is how a new code finds her record.
        beneficiary = make_beneficiary(
            nir=holder.nir,
            first_names=holder.first_names,
            last_name=holder.last_name,
            birth_date=holder.birth_date,
            email=account.email,
        )
        insured = Insured(
            beneficiary.nir,
            beneficiary.vitale_serial,
            beneficiary.birth_date,
            beneficiary.first_names,
            account.email,
        )

    sign_in_patient(app, page, patient)
    expect(page.get_by_role("link", name=DOCUMENT_TITLE)).to_be_visible()

    page.goto("/settings/")
    heading(page, "Sécurité et réglages")
    assert_accessible(page)
    # Some minutes later: closing asks her to prove it is still her.
    clock.advance(6 * 60)
    page.get_by_role("link", name="Fermer mon dossier…").click()
    expect(page).to_have_url(re.compile(r"/auth/reauth\?next=(/|%2F)settings(/|%2F)close$"))
    heading(page, "Confirmez votre identité")
    assert_accessible(page)
    page.locator("#password").fill(PASSWORD)
    submit(page)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    assert_accessible(page)
    submit_code(page, emailed_code(app, patient))

    expect(page).to_have_url(re.compile(r"/settings/close$"))
    heading(page, "Fermer mon dossier")
    assert_accessible(page)
    page.get_by_role(
        "radio", name="Fermer mon dossier et le garder archivé (je pourrai le rouvrir)"
    ).check()
    page.get_by_role("checkbox", name="J'ai lu et compris ce que la fermeture change.").check()
    shoot(page, "close")
    page.get_by_role("button", name="Fermer mon dossier").click()

    expect(page).to_have_url(re.compile(r"/enrolment/closed$"))
    heading(page, "Votre dossier est fermé")
    expect(page.locator("#main")).to_contain_text("Il est archivé pendant dix ans.")
    assert_accessible(page)
    shoot(page, "closed")
    assert _mails(app, insured.email, "record_closed"), "no confirmation of the closing"

    # Her account no longer opens; the right password tells her why and how to reopen.
    page.goto("/auth/login")
    page.locator("#identifier").fill(patient.identifier)
    page.locator("#password").fill(PASSWORD)
    submit(page)
    heading(page, "Votre dossier est fermé")
    assert_accessible(page)
    shoot(page, "closed-sign-in")

    # She changes her mind: a new code, from the page that told her how.
    page.get_by_role("link", name="Demander un code pour rouvrir mon dossier").click()
    heading(page, "Recevoir un nouveau code provisoire")
    fill_identity(page, insured)
    page.get_by_role("radio", name="E-mail").check()
    page.get_by_role("button", name="Envoyer le code").click()
    heading(page, "Demande reçue")
    assert_accessible(page)
    code, link = read_code_email(app, insured.email)

    page.goto(link)
    enter_code(page, insured, code)
    expect(page).to_have_url(re.compile(r"/enrolment/choice$"))
    expect(page.locator(".lead")).to_contain_text("Votre dossier est fermé")
    expect(page.get_by_role("link", name="Je m'oppose à la création")).to_have_count(0)
    assert_accessible(page)
    shoot(page, "reopen-choice")
    activate_from_choice(page, insured, patient.identifier, shoot, "reopen")
    first_sign_in(app, page, insured, patient.identifier)
    expect(page.get_by_role("link", name=DOCUMENT_TITLE)).to_be_visible()
    shoot(page, "reopened-dashboard")
