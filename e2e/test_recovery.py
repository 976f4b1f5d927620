"""A forgotten password, on a phone and on a desktop: online with the e-mailed code and the
carte Vitale, and at a counter for someone who has lost everything.

Codes are read from the outbox as the person would read their e-mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask import Flask
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from e2e.helpers import Person, assert_accessible, database, emailed_code, heading, submit
from tests.builders import (
    PASSWORD,
    last_code,
    make_agent,
    make_beneficiary,
    make_patient,
    outbox_code,
)
from webapp.core.extensions import db
from webapp.models import Account
from webapp.services import codes

NEW_PASSWORD = "Le tilleul de la place fleurit en juin"


@dataclass(frozen=True)
class Holder:
    """A patient with online access, and what her carte Vitale and the register say."""

    person: Person
    vitale_serial: str
    birth_date: date
    nir: str
    register_email: str


def new_holder(app: Flask) -> Holder:
    with database(app):
        account = make_patient()
        patient = account.patient
        assert patient is not None
        entry = make_beneficiary(
            nir=patient.nir,
            first_names=patient.first_names,
            last_name=patient.last_name,
            birth_date=patient.birth_date,
        )
        assert entry.email is not None
        return Holder(
            Person(account.id, account.identifier, patient.first_names),
            entry.vitale_serial,
            entry.birth_date,
            entry.nir,
            entry.email,
        )


def reset_code(app: Flask, person: Person) -> str:
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None
        return last_code(account, "password_reset_code")


def sign_in_with(app: Flask, page: Page, person: Person, password: str) -> None:
    """From the sign-in page to the dashboard, with this password and the e-mailed code."""
    heading(page, "Se connecter à Carnet")
    page.locator("#identifier").fill(person.identifier)
    page.locator("#password").fill(password)
    submit(page)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    page.locator("#code").fill(emailed_code(app, person))
    submit(page)
    expect(page).to_have_url(re.compile(r"/$"))
    heading(page, f"Bonjour {person.first_names}")
    assert_accessible(page)


def test_patient_chooses_a_new_password_with_the_emailed_code_and_her_carte_vitale(
    app: Flask, page: Page
) -> None:
    holder = new_holder(app)
    person = holder.person

    page.goto("/auth/login")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page).to_have_url(re.compile(r"/auth/forgot$"))
    heading(page, "Mot de passe oublié")
    assert_accessible(page)
    page.get_by_label("Identifiant").fill(person.identifier)
    page.get_by_role("button", name="Recevoir un code").click()

    expect(page).to_have_url(re.compile(r"/auth/forgot/code$"))
    heading(page, "Prouvez que c'est bien vous")
    expect(page.locator("#main .lead")).to_contain_text(person.identifier)
    proofs = page.get_by_role("group", name="Votre seconde preuve")
    expect(
        proofs.get_by_role("radio", name="Ma carte Vitale et ma date de naissance")
    ).to_be_checked()
    # Only the fields of the proof chosen show; the others appear when it is chosen.
    expect(page.get_by_label("Numéro de série de la carte Vitale", exact=True)).to_be_visible()
    expect(page.get_by_label("Code de secours", exact=True)).to_be_hidden()
    proofs.get_by_role("radio", name="Un de mes codes de secours").check()
    expect(page.get_by_label("Code de secours", exact=True)).to_be_visible()
    expect(page.get_by_label("Numéro de série de la carte Vitale", exact=True)).to_be_hidden()
    assert_accessible(page)
    proofs.get_by_role("radio", name="Ma carte Vitale et ma date de naissance").check()

    # A slip in the serial: told what to check, the identifier and the code kept.
    code = reset_code(app, person)
    page.get_by_label("Code reçu par e-mail ou SMS").fill(code)
    page.get_by_label("Numéro de série de la carte Vitale", exact=True).fill("99999999")
    page.get_by_label("Date de naissance", exact=True).fill(holder.birth_date.isoformat())
    page.get_by_role("button", name="Continuer").click()
    summary = page.locator(".error-summary[role=alert]")
    expect(summary).to_contain_text("Le code ou la seconde preuve ne correspond pas")
    expect(summary).to_be_focused()
    expect(page.locator("#main .lead")).to_contain_text(person.identifier)
    expect(page.get_by_label("Code reçu par e-mail ou SMS")).to_have_value(code)
    assert_accessible(page)

    page.get_by_label("Numéro de série de la carte Vitale", exact=True).fill(holder.vitale_serial)
    page.get_by_role("button", name="Continuer").click()
    expect(page).to_have_url(re.compile(r"/auth/forgot/password$"))
    heading(page, "Choisissez un nouveau mot de passe")
    assert_accessible(page)
    page.get_by_label("Nouveau mot de passe").fill("trop court")
    page.get_by_label("Le même mot de passe, une seconde fois").fill("trop court")
    page.get_by_role("button", name="Enregistrer mon nouveau mot de passe").click()
    expect(page.locator(".error-summary")).to_contain_text("au moins 12 caractères")
    assert_accessible(page)
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Le même mot de passe, une seconde fois").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer mon nouveau mot de passe").click()

    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.locator(".flash-success")).to_contain_text("toutes vos sessions sont fermées")
    assert_accessible(page)

    # The old password no longer opens anything; the new one does.
    page.locator("#identifier").fill(person.identifier)
    page.locator("#password").fill(PASSWORD)
    submit(page)
    expect(page.locator(".error-summary[role=alert]")).to_contain_text(
        "Identifiant ou mot de passe incorrect"
    )
    sign_in_with(app, page, person, NEW_PASSWORD)

    page.goto("/access/history")
    heading(page, "Historique des accès à mon dossier")
    expect(
        page.locator(".history .event").filter(
            has_text="Nouveau mot de passe choisi (mot de passe oublié)"
        )
    ).to_have_count(1)
    assert_accessible(page)


def test_an_unknown_identifier_gets_the_same_page_and_no_way_further(
    app: Flask, page: Page
) -> None:
    page.goto("/auth/forgot")
    page.get_by_label("Identifiant").fill("personne.de.connu")
    page.get_by_role("button", name="Recevoir un code").click()
    heading(page, "Prouvez que c'est bien vous")
    expect(page.locator("#main .lead")).to_contain_text("Si un compte Carnet existe")
    page.get_by_label("Code reçu par e-mail ou SMS").fill("123456")
    page.get_by_label("Numéro de série de la carte Vitale", exact=True).fill("1234567")
    page.get_by_label("Date de naissance", exact=True).fill("1950-05-17")
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator(".error-summary[role=alert]")).to_contain_text(
        "Le code ou la seconde preuve ne correspond pas"
    )
    assert_accessible(page)
    page.goto("/auth/forgot/password")
    expect(page).to_have_url(re.compile(r"/auth/forgot$"))
    expect(page.locator(".flash")).to_contain_text("Votre demande a expiré")
    assert_accessible(page)


def sign_in_agent(app: Flask, page: Page) -> None:
    with database(app):
        agent = make_agent()
        agent_id, identifier = agent.id, agent.identifier
    page.goto("/auth/login")
    page.locator("#identifier").fill(identifier)
    page.locator("#password").fill(PASSWORD)
    submit(page)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    with database(app):
        account = db.session.get(Account, agent_id)
        assert account is not None
        totp = codes.current_totp(account)
    page.locator("#code").fill(totp)
    submit(page)
    heading(page, "Accueil guichet")


def test_at_the_counter_a_new_code_leads_to_a_new_password(
    app: Flask, page: Page, new_context: CreateContextCallback
) -> None:
    holder = new_holder(app)
    person = holder.person

    sign_in_agent(app, page)
    page.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
    page.get_by_label("Numéro de série de la carte Vitale", exact=True).fill(holder.vitale_serial)
    page.get_by_role("button", name="Identifier").click()
    expect(page).to_have_url(re.compile(r"/counter/visits/\d+$"))
    lost = page.locator("section", has=page.get_by_role("heading", name=re.compile("Accès perdu")))
    expect(lost).to_be_visible()
    assert_accessible(page)
    lost.get_by_role("radio", name=re.compile(r"^Par e-mail")).check()
    lost.get_by_role("button", name="Envoyer le code").click()
    expect(page.get_by_text("Le code provisoire part par e-mail")).to_be_visible()
    assert_accessible(page)

    # At home, with the e-mail: the activation page, then a new password.
    with database(app):
        code = outbox_code(holder.register_email)
    home = new_context().new_page()
    home.goto("/enrolment/activate")
    heading(home, "Activer mon dossier Carnet")
    home.get_by_label("Code provisoire").fill(code)
    home.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
    home.get_by_label("Numéro de série de la carte Vitale").fill(holder.vitale_serial)
    home.get_by_label("Date de naissance").fill(holder.birth_date.isoformat())
    home.get_by_role("button", name="Continuer").click()

    expect(home).to_have_url(re.compile(r"/enrolment/choice$"))
    expect(home.locator(".lead")).to_contain_text("choisir un nouveau mot de passe")
    assert_accessible(home)
    home.get_by_role("link", name="Choisir un nouveau mot de passe").click()
    heading(home, "Vos coordonnées")
    home.get_by_role("radio", name="Elle est toujours la bonne").check()
    home.get_by_role("radio", name="Il est toujours le bon").check()
    home.get_by_role("button", name="Continuer").click()
    heading(home, "Choisissez votre identifiant et votre mot de passe")
    expect(home.get_by_label("Identifiant", exact=True)).to_have_value(person.identifier)
    home.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
    home.get_by_label("Le même mot de passe, une seconde fois").fill(NEW_PASSWORD)
    assert_accessible(home)
    home.get_by_role("button", name="Continuer").click()
    heading(home, "L'accès à votre dossier en cas d'urgence")
    assert_accessible(home)
    home.get_by_role("button", name="Enregistrer").click()

    expect(home).to_have_url(re.compile(r"/enrolment/done$"))
    heading(home, "Votre nouveau mot de passe est enregistré")
    assert_accessible(home)
    home.get_by_role("link", name="Me connecter").click()
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None
        person = Person(account.id, account.identifier, person.first_names)
    sign_in_with(app, home, person, NEW_PASSWORD)
