"""Choosing the language, before and after signing in."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from e2e.helpers import assert_accessible, heading, new_patient, open_menu, sign_in_patient


def test_language_switch(app: Flask, page: Page) -> None:
    page.goto("/auth/login")
    heading(page, "Se connecter à Carnet")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert_accessible(page)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Français")).to_be_visible()
    expect(page.get_by_role("button", name="English")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    assert_accessible(page)

    # The choice is kept in a cookie: it holds on the next pages and through signing in.
    patient = new_patient(app)
    sign_in_patient(app, page, patient)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    open_menu(page)  # signed in, on a phone, the preferences fold into the menu
    expect(page.get_by_role("button", name="Français")).to_be_visible()

    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    open_menu(page)
    expect(page.get_by_role("button", name="English")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))
    heading(page, f"Bonjour {patient.first_names}")
    assert_accessible(page)


def test_text_size_switch(page: Page) -> None:
    page.goto("/auth/login")
    heading(page, "Se connecter à Carnet")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\blarge-text\b"))
    assert_accessible(page)

    page.get_by_role("button", name="Agrandir le texte").click()
    expect(page.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))
    expect(page.get_by_role("button", name="Texte normal")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    assert_accessible(page)

    page.get_by_role("button", name="Texte normal").click()
    expect(page.locator("body")).not_to_have_class(re.compile(r"\blarge-text\b"))
    expect(page.get_by_role("button", name="Agrandir le texte")).to_be_visible()


def test_htmx_requests_carry_a_fresh_csrf_token_after_sign_in(app: Flask, page: Page) -> None:
    """Signing in renews the CSRF secret; htmx must send the new token, not the first one."""
    person = new_patient(app)
    sign_in_patient(app, page, person)
    status = page.evaluate(
        """async () => {
            const done = new Promise((resolve) => {
                document.body.addEventListener("htmx:afterRequest",
                    (event) => resolve(event.detail.xhr.status), { once: true });
            });
            htmx.ajax("POST", "/preferences", { values: { text: "large", next: "/" },
                                                 target: "#main", swap: "none" });
            return await done;
        }"""
    )
    assert status == 200  # the 303 to the dashboard was followed; a stale token gives 400
    page.reload()
    expect(page.locator("body")).to_have_class(re.compile(r"\blarge-text\b"))
