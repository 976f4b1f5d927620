"""Ending sessions from the security page."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect
from pytest_playwright.pytest_playwright import CreateContextCallback

from e2e.helpers import assert_accessible, heading, new_patient, sign_in_patient

SIGN_IN_AGAIN = re.compile(r"/auth/login\?next=(/|%2F)settings(/|%2F)$")


def test_sign_out_everywhere(app: Flask, page: Page, new_context: CreateContextCallback) -> None:
    patient = new_patient(app)
    sign_in_patient(app, page, patient)
    other_device = new_context().new_page()
    sign_in_patient(app, other_device, patient)

    page.goto("/settings/")
    heading(page, "Sécurité et réglages")
    expect(page.locator(".session-list .session")).to_have_count(2)
    expect(page.locator(".session-list .badge", has_text="cet appareil")).to_have_count(1)
    assert_accessible(page)

    page.get_by_role("button", name="Se déconnecter de tous les appareils").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    heading(page, "Se connecter à Carnet")
    expect(page.locator(".flashes")).to_contain_text("Vous êtes déconnecté de tous vos appareils")
    assert_accessible(page)

    page.goto("/settings/")
    expect(page).to_have_url(SIGN_IN_AGAIN)
    heading(page, "Se connecter à Carnet")
    assert_accessible(page)

    other_device.goto("/settings/")
    expect(other_device).to_have_url(SIGN_IN_AGAIN)
    heading(other_device, "Se connecter à Carnet")
    assert_accessible(other_device)
