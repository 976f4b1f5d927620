"""The access history as its holder reads it: words, not codes; a refusal said once; who
acted, with their profession; her own sign-ins told apart; the same few queries always."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.builders import csrf_from, login_as, make_agent, make_patient, make_professional
from tests.test_query_counts import counting
from webapp.core.extensions import db
from webapp.models import Account, Patient
from webapp.services import audit
from webapp.services.audit import Action
from webapp.web.labels import ACTION_LABELS


def _patient(account: Account) -> Patient:
    assert account.patient is not None
    return account.patient


def _results(response: TestResponse) -> str:
    """The words of the results (the filters' list of every action left out)."""
    page = html.unescape(response.get_data(as_text=True))
    results = page.split('id="history-results"', 1)[-1]
    return " ".join(re.sub(r"<[^>]+>", " ", results).split())


@pytest.fixture
def holder(client: FlaskClient) -> Account:
    account = make_patient()
    login_as(client, account)
    return account


def test_every_action_has_words() -> None:
    """A new action without a label would show its code in the history."""
    assert set(Action) - set(ACTION_LABELS) == set()


class TestNoCode:
    @pytest.mark.parametrize(
        ("action", "detail", "allowed", "said", "code"),
        [
            (Action.PROFILE_ENTRY_ADDED, "allergies/allergy", True, "Allergies", "allergy"),
            (
                Action.PROFILE_ENTRY_CHANGED,
                "measurements/blood_pressure",
                True,
                "Mesures : tension artérielle",
                "blood_pressure",
            ),
            (Action.PROFILE_VIEWED, "treatments", True, "Traitements", "treatments"),
            (
                Action.DOCUMENT_REFUSED,
                "document:read",
                False,
                "Pour lire un document.",
                "document:read",
            ),
            (
                Action.RECORD_CONSULTED,
                "emergency summary",
                False,
                "Pour lire le résumé d'urgence.",
                "emergency summary",
            ),
            (
                Action.CODE_ISSUED,
                "email:agent",
                True,
                "Envoyé par e-mail, au guichet.",
                "email:agent",
            ),
            (
                Action.EMERGENCY_SETTINGS_CHANGED,
                "emergency:opposed;regulation:allowed",
                True,
                "Accès en urgence : refusé. Médecin régulateur du SAMU : accepté.",
                "emergency:opposed",
            ),
            (
                Action.DOCUMENT_DEPOSITED,
                "held from the patient until an announcement consultation",
                True,
                "Vous le verrez après en avoir parlé avec un professionnel de santé.",
                "held from the patient",
            ),
            (Action.CONVERSATION_READ, "2 new", True, "2 nouveaux messages lus.", "2 new"),
            (Action.DOCUMENT_DELETED, "3 version(s)", True, "3 versions supprimées.", "(s)"),
            (Action.DOCUMENT_RELEASED, "30 days after the deposit", True, "30 jours", "days"),
            (Action.ATTACHMENT_SAVED, "conversation 12", True, "", "conversation 12"),
            (Action.REMINDER_UPDATED, "postponed", True, "Reporté.", "postponed"),
            (
                Action.REIMBURSEMENTS_RECEIVED,
                "56 lines",
                True,
                "56 soins remboursés ajoutés.",
                "lines",
            ),
        ],
    )
    def test_a_detail_is_said_in_words(
        self,
        client: FlaskClient,
        holder: Account,
        action: Action,
        detail: str,
        allowed: bool,
        said: str,
        code: str,
    ) -> None:
        pro = make_professional()
        audit.record_access(_patient(holder), pro, action, allowed=allowed, detail=detail)
        db.session.commit()
        words = _results(client.get("/access/history"))
        assert code not in words
        assert said in words

    def test_a_name_in_the_detail_is_shown_as_it_is(
        self, client: FlaskClient, holder: Account
    ) -> None:
        audit.record_access(
            _patient(holder), holder, Action.AUTHORISATION_GRANTED, detail="Dr Claire Martin"
        )
        db.session.commit()
        assert "Dr Claire Martin" in _results(client.get("/access/history"))


class TestRefusals:
    def test_a_refusal_is_said_once(self, client: FlaskClient, holder: Account) -> None:
        pro = make_professional()
        audit.record_access(
            _patient(holder),
            pro,
            Action.DOCUMENT_REFUSED,
            allowed=False,
            reason="matrix",
            detail="document:read",
        )
        db.session.commit()
        words = _results(client.get("/access/history"))
        assert "Accès à un document refusé" in words
        assert "refusé refusé" not in words
        assert "Motif du refus : sa profession n'a pas accès à ces informations." in words

    def test_a_refused_consultation_reads_as_one_phrase(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional()
        audit.record_access(
            _patient(holder),
            pro,
            Action.RECORD_CONSULTED,
            allowed=False,
            reason="no_authorisation",
        )
        db.session.commit()
        words = _results(client.get("/access/history"))
        assert "Tentative de consultation du dossier, refusée" in words
        assert "Dossier consulté" not in words
        assert "Motif du refus : pas d'autorisation de votre part." in words


class TestWho:
    def test_the_professional_comes_with_profession_and_structure(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pharmacist = make_professional(profession="pharmacien", specialty=None)
        assert pharmacist.professional is not None
        audit.record_access(_patient(holder), pharmacist, Action.RECORD_CONSULTED)
        db.session.commit()
        name = pharmacist.professional.display_name
        words = _results(client.get("/access/history"))
        assert f"Un professionnel de santé : {name} (Pharmacien), Cabinet Test" in words

    def test_an_agent_is_not_given_a_profession(self, client: FlaskClient, holder: Account) -> None:
        audit.record_access(_patient(holder), make_agent(), Action.COUNTER_IDENTIFIED)
        db.session.commit()
        words = _results(client.get("/access/history"))
        assert "Un agent d'accueil" in words and "(agent)" not in words


class TestOwnConnections:
    def _sign_ins(self, holder: Account, count: int) -> None:
        for _n in range(count):
            audit.record_access(
                _patient(holder), holder, Action.SIGN_IN, detail="Firefox sur Linux (ordinateur)"
            )
            audit.record_access(_patient(holder), holder, Action.SIGN_OUT)
        db.session.commit()

    def test_her_sign_ins_are_told_apart_in_one_line(
        self, client: FlaskClient, holder: Account
    ) -> None:
        self._sign_ins(holder, 12)
        audit.record_access(
            _patient(holder), None, Action.SIGN_IN_REFUSED, allowed=False, reason="wrong_password"
        )
        db.session.commit()
        words = _results(client.get("/access/history"))
        assert "Vos connexions" in words
        assert "Voir vos 13 connexions" in words  # 12 here and the test's own
        assert "Firefox sur Linux (ordinateur)" in words  # the latest, in the line
        assert "1 évènement" in words  # the refused sign-in stays in the list: not her
        assert "Connexion refusée (mauvais mot de passe)" in words
        assert " Déconnexion " not in words

    def test_each_sign_in_is_listed_when_asked_for(
        self, client: FlaskClient, holder: Account
    ) -> None:
        self._sign_ins(holder, 3)
        words = _results(client.get("/access/history?actor=patient&action=sign_in"))
        assert "4 évènements" in words
        assert "Vos connexions" not in words

    def test_the_csv_export_keeps_them(self, client: FlaskClient, holder: Account) -> None:
        self._sign_ins(holder, 2)
        text = client.get("/access/history.csv").get_data(as_text=True)
        assert text.count(",sign_in,") == 3 and text.count(",sign_out,") == 2

    def test_the_page_costs_the_same_few_queries_whatever_their_number(
        self, app: Flask, client: FlaskClient, holder: Account
    ) -> None:
        with counting(app) as few:
            assert client.get("/access/history").status_code == 200
        self._sign_ins(holder, 150)
        with counting(app) as many:
            assert client.get("/access/history").status_code == 200
        assert len(many) == len(few) <= 8


class TestEnglish:
    def test_a_device_written_in_french_is_read_in_english(
        self, client: FlaskClient, holder: Account
    ) -> None:
        audit.record_access(
            _patient(holder), holder, Action.SIGN_IN, detail="Firefox sur Linux (téléphone)"
        )
        db.session.commit()
        token = csrf_from(client.get("/access/history"))
        client.post("/preferences", data={"lang": "en", "next": "/", "csrf_token": token})
        words = _results(client.get("/access/history?action=sign_in"))
        assert "Firefox on Linux (phone)" in words
        assert " sur " not in words
