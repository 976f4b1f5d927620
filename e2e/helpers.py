"""What the journeys share: accounts, database reads, axe checks and the sign-in steps.

The database is touched only in short application contexts that end their transaction
before the browser acts again: SQLite runs with BEGIN IMMEDIATE, and the live server
works in its own threads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from tests.builders import PASSWORD, last_code, make_patient, make_professional
from webapp.core.extensions import db
from webapp.models import Account

_axe = Axe()


@dataclass(frozen=True)
class Person:
    """What a test needs to know about an account, readable outside any app context."""

    id: int
    identifier: str
    first_names: str


@contextmanager
def database(app: Flask) -> Iterator[None]:
    """A short application context whose transaction always ends before it closes."""
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def new_patient(app: Flask) -> Person:
    with database(app):
        account = make_patient()
        assert account.patient is not None
        return Person(account.id, account.identifier, account.patient.first_names)


def new_professional(app: Flask, *, enrolled: bool = True) -> Person:
    with database(app):
        account = make_professional(enrolled=enrolled)
        assert account.professional is not None
        return Person(account.id, account.identifier, account.professional.first_names)


def emailed_code(app: Flask, person: Person) -> str:
    """The sign-in code most recently queued in the outbox for this person."""
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None
        return last_code(account)


def assert_accessible(page: Page) -> None:
    """axe-core finds no violation on the page as it is now."""
    results = _axe.run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def heading(page: Page, name: str | re.Pattern[str]) -> None:
    """Wait for the page's main heading: the sign that a navigation or swap has finished."""
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def open_menu(page: Page) -> None:
    """On a phone the navigation and the preferences wait behind the "Menu" button."""
    toggle = page.locator("header .menu-toggle")
    if toggle.is_visible() and not toggle.evaluate("details => details.open"):
        toggle.locator("summary").click()


def main_nav(page: Page) -> Locator:
    """The main navigation, in view on any screen."""
    open_menu(page)
    return page.get_by_role("navigation", name="Navigation principale")


def unfold(page: Page) -> None:
    """On a phone, open the search or the filters a list keeps folded behind one line."""
    toggle = page.locator("#main .fold-toggle")
    if toggle.is_visible() and not toggle.evaluate("details => details.open"):
        toggle.locator("summary").click()


def submit(page: Page) -> None:
    page.locator("#main form button[type=submit]").first.click()


def submit_password(page: Page, person: Person) -> None:
    """From the sign-in page, send identifier and password."""
    page.goto("/auth/login")
    expect(page.locator("#identifier")).to_be_visible()
    assert_accessible(page)
    page.locator("#identifier").fill(person.identifier)
    page.locator("#password").fill(PASSWORD)
    submit(page)


def submit_code(page: Page, code: str) -> None:
    page.locator("#code").fill(code)
    submit(page)


def sign_in_patient(app: Flask, page: Page, person: Person) -> None:
    """Password, then the code read from the outbox; ends on the dashboard, in any language."""
    submit_password(page, person)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    expect(page.locator("#code")).to_be_visible()
    assert_accessible(page)
    submit_code(page, emailed_code(app, person))
    expect(page).to_have_url(re.compile(r"/$"))
    heading(page, re.compile(re.escape(person.first_names)))
    assert_accessible(page)


def sign_in_professional(app: Flask, page: Page, person: Person) -> None:
    """Password, then the authenticator's current code; ends on the professional workspace."""
    from webapp.services import codes

    submit_password(page, person)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    expect(page.locator("#code")).to_be_visible()
    assert_accessible(page)
    with database(app):
        account = db.session.get(Account, person.id)
        assert account is not None
        code = codes.current_totp(account)
    submit_code(page, code)
    expect(page).to_have_url(re.compile(r"/pro/$"))
    heading(page, "Espace professionnel")
    assert_accessible(page)


def outbox_kinds(app: Flask, person: Person) -> list[str]:
    """The kinds of the messages queued for this person, oldest first."""
    from sqlalchemy import select

    from webapp.models import OutboxMessage

    with database(app):
        return list(
            db.session.scalars(
                select(OutboxMessage.kind)
                .where(OutboxMessage.account_id == person.id)
                .order_by(OutboxMessage.id)
            )
        )


def sign_in_without_script(app: Flask, page: Page, person: Person, *, professional: bool) -> None:
    """The sign-in steps in a browser that runs no script (axe needs one: no check here);
    ends on the dashboard or the professional workspace."""
    from webapp.services import codes

    page.goto("/auth/login")
    page.locator("#identifier").fill(person.identifier)
    page.locator("#password").fill(PASSWORD)
    submit(page)
    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    if professional:
        with database(app):
            account = db.session.get(Account, person.id)
            assert account is not None
            code = codes.current_totp(account)
    else:
        code = emailed_code(app, person)
    submit_code(page, code)
    expect(page).to_have_url(re.compile(r"/pro/$" if professional else r"/$"))


def start_conversation(
    app: Flask, professional: Person, patient: Person, *, subject: str, body: str
) -> int:
    """A conversation the professional opened, written through the messaging service."""
    from webapp.services import messages

    with database(app):
        writer = db.session.get(Account, professional.id)
        holder = db.session.get(Account, patient.id)
        assert writer is not None and holder is not None and holder.patient is not None
        conversation = messages.start(writer, holder.patient, subject=subject, body=body)
        db.session.commit()
        return conversation.id
