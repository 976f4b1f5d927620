"""What the pages say and hold so that they work on a phone, with or without script: the
folded menu, the activation's contacts step, the counter console, the profile's long forms.

How they look is checked in a browser (e2e/test_layout.py); these check what the server sends.
"""

from __future__ import annotations

import html
import re
from datetime import date
from http import HTTPStatus
from pathlib import Path

from flask.testing import FlaskClient

from tests.builders import (
    login_as,
    make_agent,
    make_beneficiary,
    make_patient,
    make_professional,
    outbox_code,
)
from tests.test_counter import choose_access, identify, inform_and_consent
from tests.test_enrolment import identity, issue_for, post_form
from webapp.core.extensions import db
from webapp.models import Beneficiary, Measurement


def _text(page: str) -> str:
    return html.unescape(page)


def _words(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", _text(page)).split())


class TestMenu:
    def test_signed_in_the_menu_folds_behind_one_button(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        page = client.get("/documents/").get_data(as_text=True)
        assert '<details class="menu-toggle">' in page
        toggle = page.index('class="menu-toggle"')
        navigation = page.index('aria-label="Navigation principale"')
        assert toggle < navigation  # the button comes first; the links stay a plain list

    def test_a_visitor_has_no_menu_to_open(self, client: FlaskClient) -> None:
        page = client.get("/auth/login").get_data(as_text=True)
        assert "menu-toggle" not in page and "Agrandir le texte" in page


class TestActivationContacts:
    def _start(self, client: FlaskClient, person: Beneficiary) -> None:
        _, code = issue_for(person, "email" if person.email else "sms")
        post_form(client, "/enrolment/activate", identity(person, code))

    def test_the_new_address_is_asked_only_after_another_one_is_chosen(
        self, client: FlaskClient
    ) -> None:
        """The field sits in a block app.css hides while "still right" is ticked (no script)."""
        self._start(client, make_beneficiary())
        page = client.get("/enrolment/contacts").get_data(as_text=True)
        blocks = re.findall(r'<div class="reveal reveal-change">.*?</fieldset>\s*<div', page, re.S)
        assert len(blocks) == 2
        keep = r'<input(?=[^>]*\bchecked\b)(?=[^>]*name="keep_email")(?=[^>]*value="keep")'
        assert re.search(keep, page)
        email = page.index('id="email"')
        assert page.rfind('class="reveal-target"', 0, email) > page.rfind("reveal-change", 0, email)

    def test_what_a_hidden_field_holds_is_not_checked_nor_used(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        self._start(client, person)
        response = post_form(
            client,
            "/enrolment/contacts",
            {"keep_email": "keep", "email": "not an address", "keep_mobile": "keep", "mobile": "1"},
        )
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"].endswith("/enrolment/account")

    def test_with_nothing_on_file_the_field_is_the_answer(self, client: FlaskClient) -> None:
        """No address known: no question, the field shows, and what is typed there counts."""
        person = make_beneficiary(email=None)
        self._start(client, person)
        page = client.get("/enrolment/contacts").get_data(as_text=True)
        assert page.count("reveal-change") == 1  # the mobile's question only
        response = post_form(
            client,
            "/enrolment/contacts",
            {"email": "Jeanne@Exemple.fr", "keep_mobile": "keep"},
        )
        assert response.headers["Location"].endswith("/enrolment/contacts/check")
        assert outbox_code("jeanne@exemple.fr", r"\b\d{6}\b")


class TestCounterConsole:
    def test_the_agent_reads_the_whole_address_to_check_it(self, client: FlaskClient) -> None:
        person = make_beneficiary(email="jeanne.assuree.longue@exemple.fr")
        login_as(client, make_agent())
        page = _words(client.get(identify(client, "/counter", person)).get_data(as_text=True))
        assert "E-mail connu jeanne.assuree.longue@exemple.fr" in page

    def test_a_professional_helping_sees_it_masked(self, client: FlaskClient) -> None:
        person = make_beneficiary(email="jeanne.assuree@exemple.fr")
        login_as(client, make_professional())
        page = client.get(identify(client, "/pro", person)).get_data(as_text=True)
        assert "jeanne.assuree@exemple.fr" not in page and "j****@e****.fr" in page

    def test_online_access_says_a_code_is_on_its_way(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        login_as(client, make_agent())
        visit = identify(client, "/counter", person)
        assert "Accès en ligne Non" in _words(client.get(visit).get_data(as_text=True))
        inform_and_consent(client, visit)
        choose_access(client, visit, "yes", "email")
        page = _words(client.get(visit).get_data(as_text=True))
        assert "Accès en ligne Pas encore : code provisoire envoyé le" in page
        assert "(par e-mail), valable jusqu'au" in page
        assert "Accès en ligne Non" not in page

    def test_the_tick_boxes_are_the_size_of_the_text(self) -> None:
        """A form control's own font is 13 px: the boxes take the text's (app.css)."""
        css = (Path(__file__).parent.parent / "webapp/static/app.css").read_text(encoding="utf-8")
        rule = re.search(r'input\[type="checkbox"\], input\[type="radio"\] \{([^}]*)\}', css)
        assert rule is not None
        assert "font: inherit" in rule.group(1) and "width: 1.35em" in rule.group(1)


class TestProfileForm:
    def test_a_link_leads_past_the_long_lists_to_the_form(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        page = client.get("/profile/measurements").get_data(as_text=True)
        link = page.index('href="#add-title"')
        assert link < page.index('id="entries-title"')
        assert 'id="add-title" tabindex="-1"' in page

    def test_the_values_table_scrolls_in_its_own_box(self, client: FlaskClient) -> None:
        holder = make_patient()
        assert holder.patient is not None
        db.session.add(
            Measurement(
                patient_id=holder.patient.id,
                kind="weight",
                value=70.0,
                unit="kg",
                measured_on=date(2026, 3, 1),
                author_kind="patient",
                author_account_id=holder.id,
                author_label="Alice",
                created_at=holder.created_at,
                updated_at=holder.created_at,
            )
        )
        db.session.commit()
        login_as(client, holder)
        page = client.get("/profile/measurements").get_data(as_text=True)
        assert re.search(r'<div class="table-scroll" role="region" tabindex="0"', page)
