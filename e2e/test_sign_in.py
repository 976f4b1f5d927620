"""Signing in, on a phone and on a desktop."""

from __future__ import annotations

import re
import uuid

import pyotp
from flask import Flask
from playwright.sync_api import Page, expect

from e2e.helpers import (
    assert_accessible,
    emailed_code,
    heading,
    new_patient,
    sign_in_patient,
    submit,
    submit_code,
    submit_password,
)


def test_patient_signs_in_on_a_phone_with_the_emailed_code(app: Flask, page: Page) -> None:
    patient = new_patient(app)

    submit_password(page, patient)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    heading(page, "Confirmez que c'est bien vous")
    expect(page.locator("#main .lead")).to_contain_text("par e-mail")
    assert_accessible(page)

    submit_code(page, emailed_code(app, patient))
    expect(page).to_have_url(re.compile(r"/$"))
    heading(page, f"Bonjour {patient.first_names}")
    assert_accessible(page)

    # Her own sign-ins are told apart, in one line above what others did...
    page.goto("/access/history")
    heading(page, "Historique des accès à mon dossier")
    connections = page.locator("#history-results .connections")
    expect(connections).to_contain_text("La dernière :")
    own = page.locator(".history .event .what strong", has_text=re.compile(r"^Connexion$"))
    expect(own).to_have_count(0)
    assert_accessible(page)
    # ... and each one is a link away.
    connections.get_by_role("link", name="Voir votre connexion").click()
    sign_in = page.locator(".history .event").filter(
        has=page.locator(".what strong", has_text=re.compile(r"^Connexion$"))
    )
    expect(sign_in).to_have_count(1)
    expect(sign_in.locator(".who")).to_have_text("Vous")
    assert_accessible(page)

    page.goto("/settings/")
    heading(page, "Sécurité et réglages")
    sessions = page.locator(".session-list .session")
    expect(sessions).to_have_count(1)
    expect(sessions.first.locator(".badge")).to_have_text("cet appareil")
    assert_accessible(page)


def test_professional_first_sign_in_enrols_totp(app: Flask, page: Page) -> None:
    """From the activation link printed by `flask accounts create-professional` to the workspace."""
    suffix = uuid.uuid4().hex[:8]
    result = app.test_cli_runner().invoke(
        args=[
            "accounts",
            "create-professional",
            "--identifier",
            f"dr.{suffix}",
            "--rpps",
            f"{int(suffix, 16) % 10**11:011d}",
            "--first-names",
            "Paul",
            "--last-name",
            "Docteur",
            "--profession",
            "medecin",
        ]
    )
    assert result.exit_code == 0, result.output
    link = re.search(r"(/auth/activate/\S+)", result.output)
    assert link

    page.goto(link.group(1))
    expect(page).to_have_url(re.compile(r"/auth/activate$"))  # the token left the address bar
    heading(page, "Activer votre compte")
    assert_accessible(page)
    page.locator("#password").fill("une phrase de passe bien longue")
    page.locator("#confirm").fill("une phrase de passe bien longue")
    submit(page)
    expect(page).to_have_url(re.compile(r"/auth/enrol$"))
    heading(page, "Relier votre application d'authentification")
    expect(page.locator(".qr [role=img] svg")).to_be_visible()
    assert_accessible(page)

    secret = page.locator(".secret code").inner_text().replace(" ", "")
    submit_code(page, pyotp.TOTP(secret).now())
    heading(page, "Vos 10 codes de secours")
    recovery = page.locator(".recovery-codes li")
    expect(recovery).to_have_count(10)
    shown = recovery.all_inner_texts()
    assert all(re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code.strip()) for code in shown), shown
    assert len(set(shown)) == 10
    assert_accessible(page)

    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(page).to_have_url(re.compile(r"/pro/$"))
    heading(page, "Espace professionnel")
    expect(page.get_by_role("heading", level=2, name="Dr Paul Docteur")).to_be_visible()
    assert_accessible(page)


def test_wrong_code_shows_a_clear_error_and_the_page_stays_usable(app: Flask, page: Page) -> None:
    patient = new_patient(app)
    submit_password(page, patient)
    heading(page, "Confirmez que c'est bien vous")
    assert_accessible(page)

    right = emailed_code(app, patient)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    submit_code(page, wrong)
    summary = page.locator(".error-summary[role=alert]")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Ce code n'est pas le bon")
    expect(summary).to_be_focused()
    expect(page.locator(".field .error")).to_contain_text("Ce code n'est pas le bon")
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    assert_accessible(page)

    submit_code(page, right)
    expect(page).to_have_url(re.compile(r"/$"))
    heading(page, f"Bonjour {patient.first_names}")
    assert_accessible(page)


def test_sign_in_is_refused_with_a_wrong_password(app: Flask, page: Page) -> None:
    """A mistyped password keeps the visitor on the form, told what to check."""
    patient = new_patient(app)
    page.goto("/auth/login")
    page.locator("#identifier").fill(patient.identifier)
    page.locator("#password").fill("pas-le-bon-mot-de-passe")
    submit(page)
    expect(page.locator(".error-summary[role=alert]")).to_contain_text(
        "Identifiant ou mot de passe incorrect"
    )
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    assert_accessible(page)
    sign_in_patient(app, page, patient)
