"""Emergency access (bris de glace) and SAMU regulation: opening a read-only window, what it
shows, its end, the notices, the history and the after-the-fact review."""

from __future__ import annotations

import re
from datetime import date, timedelta
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.builders import (
    authorise,
    csrf_from,
    login_as,
    make_document,
    make_patient,
    make_professional,
    page_text,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    EmergencyAccess,
    EntryKind,
    OutboxMessage,
    Patient,
    ProfileEntry,
    Section,
)
from webapp.services import authorisations, emergency
from webapp.services.audit import Action

JUSTIFICATION = "Patient inconscient aux urgences, aucun proche joignable."


def _patient(account: Account) -> Patient:
    assert account.patient is not None
    return account.patient


def _words(response: TestResponse) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def _events(holder: Account, action: str | None = None) -> list[AccessEvent]:
    db.session.expire_all()
    query = select(AccessEvent).where(AccessEvent.patient_id == _patient(holder).id)
    if action is not None:
        query = query.where(AccessEvent.action == action)
    return list(db.session.scalars(query.order_by(AccessEvent.seq)))


def _windows() -> list[EmergencyAccess]:
    db.session.expire_all()
    return list(db.session.scalars(select(EmergencyAccess).order_by(EmergencyAccess.id)))


def _outbox(account: Account, kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.account_id == account.id, OutboxMessage.kind == kind
            )
        )
    )


def _entry(holder: Account, section: Section, kind: EntryKind, label: str, **extra: object) -> None:
    now = clock.now()
    values: dict[str, object] = {
        "patient_id": _patient(holder).id,
        "section": section.value,
        "kind": kind.value,
        "label": label,
        "author_kind": "patient",
        "author_account_id": holder.id,
        "author_label": "Alice",
        "created_at": now,
        "updated_at": now,
    }
    values.update(extra)
    db.session.add(ProfileEntry(**values))
    db.session.commit()


def identify(client: FlaskClient, holder: Account) -> str:
    record = _patient(holder)
    token = csrf_from(client.get("/pro/"))
    response = client.post(
        "/pro/find",
        data={
            "find-csrf_token": token,
            "find-nir": record.nir,
            "find-last_name": record.last_name,
            "find-birth_date": "",
        },
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    return response.headers["Location"]


def open_emergency(
    client: FlaskClient,
    holder: Account,
    *,
    mode: str = "emergency",
    reason: str = "unconscious",
    justification: str = JUSTIFICATION,
    attest: bool = True,
) -> TestResponse:
    url = f"/pro/patients/{_patient(holder).id}/emergency"
    page = client.get(url)
    assert page.status_code == HTTPStatus.OK, page.headers.get("Location")
    data = {
        "csrf_token": csrf_from(page),
        "mode": mode,
        "reason": reason,
        "justification": justification,
    }
    if attest:
        data["attest"] = "y"
    return client.post(url, data=data)


@pytest.fixture
def holder() -> Account:
    return make_patient()


@pytest.fixture
def pro(client: FlaskClient, holder: Account) -> Account:
    """An emergency physician, signed in, who identified the patient."""
    account = make_professional(specialty="medecine_urgence")
    login_as(client, account)
    identify(client, holder)
    return account


def _record(holder: Account) -> str:
    return f"/pro/patients/{_patient(holder).id}"


class TestOpening:
    def test_an_open_window_shows_the_emergency_summary(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        _entry(
            holder,
            Section.ALLERGIES,
            EntryKind.ALLERGY,
            "Pénicilline",
            reaction="Œdème de Quincke",
            severity="severe",
        )
        _entry(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Lévothyrox", dose="75 µg")
        _entry(
            holder,
            Section.TREATMENTS,
            EntryKind.TREATMENT,
            "Amoxicilline ancienne",
            end_date=date(2020, 1, 1),
        )
        _entry(holder, Section.CONDITIONS, EntryKind.CONDITION, "Diabète de type 1")
        _entry(holder, Section.MEASUREMENTS, EntryKind.BLOOD_GROUP, "O négatif")
        _entry(
            holder,
            Section.WISHES,
            EntryKind.ADVANCE_DIRECTIVES,
            "",
            text="Pas d'acharnement thérapeutique",
        )
        _entry(
            holder,
            Section.PEOPLE,
            EntryKind.TRUSTED_PERSON,
            "Bernard Martin",
            relation="frère",
            phone="+33611223344",
        )
        response = open_emergency(client, holder)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == f"{_record(holder)}/emergency/summary"
        summary = _words(client.get(response.headers["Location"]))
        assert "Résumé d'urgence" in summary
        assert "Pénicilline — Œdème de Quincke sévère" in summary
        assert "Lévothyrox 75 µg" in summary
        assert "Amoxicilline ancienne" not in summary  # not a current treatment
        assert "Diabète de type 1" in summary
        assert "Groupe sanguin : O négatif" in summary
        assert "Directives anticipées : Pas d'acharnement thérapeutique" in summary
        assert "Bernard Martin (frère)" in summary
        (window,) = _windows()
        assert (window.mode, window.reason_code, window.justification) == (
            "emergency",
            "unconscious",
            JUSTIFICATION,
        )
        assert window.expires_at - window.opened_at == timedelta(hours=2)

    def test_an_empty_profile_says_nothing_recorded(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        open_emergency(client, holder)
        summary = page_text(client.get(f"{_record(holder)}/emergency/summary"))
        assert summary.count("Rien d'enregistré.") == 8
        assert "Non accessible à votre profession." not in summary

    def test_the_history_says_emergency(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        doc = make_document(holder, title="Bilan sanguin")
        open_emergency(client, holder)
        client.get(f"{_record(holder)}/emergency/summary")
        client.get(_record(holder))
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.OK
        (opened,) = _events(holder, Action.EMERGENCY_OPENED)
        assert opened.mode == "emergency" and opened.reason == "unconscious"
        assert opened.actor_account_id == pro.id and opened.allowed
        assert opened.resource_type == "emergency"
        assert opened.resource_id == str(_windows()[0].id)
        (summary,) = _events(holder, Action.EMERGENCY_SUMMARY_VIEWED)
        assert summary.mode == "emergency"
        consulted = [e for e in _events(holder, Action.RECORD_CONSULTED) if e.allowed]
        assert [e.mode for e in consulted] == ["emergency"]
        (viewed,) = _events(holder, Action.DOCUMENT_VIEWED)
        assert viewed.mode == "emergency"

    def test_the_patient_and_the_traitant_are_told_at_once(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient(routine_notices="digest")
        traitant = make_professional()
        authorise(traitant, holder, traitant=True)
        identify(client, holder)
        open_emergency(client, holder)
        (to_patient,) = _outbox(holder, "emergency_access")
        assert to_patient.recipient == holder.email
        assert pro.professional is not None
        assert pro.professional.display_name in to_patient.body
        assert "Cabinet Test" in to_patient.body
        assert "Pénicilline" not in to_patient.body
        (to_traitant,) = _outbox(traitant, "emergency_access_traitant")
        assert to_traitant.recipient == traitant.email
        record = _patient(holder)
        assert f"{record.first_names} {record.last_name}" in to_traitant.body
        assert _outbox(pro, "emergency_access_traitant") == []

    def test_without_a_traitant_only_the_patient_is_told(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        open_emergency(client, holder)
        assert len(_outbox(holder, "emergency_access")) == 1
        db.session.expire_all()
        assert (
            db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "emergency_access_traitant")
            ).all()
            == []
        )


class TestRefusals:
    def test_refused_after_opposition_and_allowed_once_lifted(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        _patient(holder).oppose_emergency_access = True
        db.session.commit()
        response = open_emergency(client, holder)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Ce patient s'est opposé à cet accès en urgence." in page_text(response)
        assert _windows() == []
        (refused,) = _events(holder, Action.EMERGENCY_REFUSED)
        assert not refused.allowed and refused.reason == "opposed_emergency"
        assert refused.mode == "emergency"
        assert _outbox(holder, "emergency_access") == []
        authorisations.set_emergency_settings(
            _patient(holder), actor=holder, oppose_emergency=False, oppose_regulation=False
        )
        db.session.commit()
        response = open_emergency(client, holder)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert len(_windows()) == 1

    def test_an_opposition_set_during_the_window_takes_effect_at_once(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        doc = make_document(holder)
        open_emergency(client, holder)
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.OK
        _patient(holder).oppose_emergency_access = True
        db.session.commit()
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.NOT_FOUND
        page = client.get(_record(holder))
        assert "Bilan" not in page_text(page) and "Profil médical" not in page_text(page)

    def test_a_blocked_professional_is_refused(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        authorise(pro, holder, kind="blocked")
        response = open_emergency(client, holder)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        # Refused, and never told why: "blocked" is the patient's secret (SPEC §4.1).
        assert "ne vous est pas ouvert" in page_text(response)
        assert "bloqué" not in page_text(response)
        assert _windows() == []
        (refused,) = _events(holder, Action.EMERGENCY_REFUSED)
        assert refused.reason == "blocked_by_patient"

    def test_an_occupational_physician_is_refused(
        self, client: FlaskClient, holder: Account
    ) -> None:
        login_as(client, make_professional(specialty="medecine_du_travail"))
        identify(client, holder)
        response = open_emergency(client, holder)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert _windows() == []
        (refused,) = _events(holder, Action.EMERGENCY_REFUSED)
        assert refused.reason == "express_grant_only"

    def test_a_professional_who_did_not_identify_the_patient_gets_404(
        self, client: FlaskClient, holder: Account
    ) -> None:
        login_as(client, make_professional())
        response = client.get(f"{_record(holder)}/emergency")
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert _windows() == []

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"justification": "Trop court"}, "20 caractères au moins"),
            ({"justification": "   "}, "Décrivez la situation"),
            ({"attest": False}, "Cochez l'attestation pour ouvrir l'accès en urgence."),
            ({"reason": ""}, "Choisissez le motif dans la liste."),
            ({"reason": "curiosite"}, "choix valide"),
        ],
    )
    def test_form_errors_open_nothing(
        self,
        client: FlaskClient,
        holder: Account,
        pro: Account,
        change: dict[str, object],
        message: str,
    ) -> None:
        response = open_emergency(client, holder, **change)  # type: ignore[arg-type]
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert message in page_text(response).replace(
            "Not a valid choice", "N'est pas un choix valide"
        )
        assert _windows() == []
        assert _events(holder, Action.EMERGENCY_OPENED) == []
        assert _outbox(holder, "emergency_access") == []

    def test_a_stale_sign_in_is_sent_to_confirm_first(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        url = f"{_record(holder)}/emergency"
        token = csrf_from(client.get(url))
        clock.advance(6 * 60)
        stale_get = client.get(url)
        stale_post = client.post(
            url,
            data={
                "csrf_token": token,
                "mode": "emergency",
                "reason": "unconscious",
                "justification": JUSTIFICATION,
                "attest": "y",
            },
        )
        for response in (stale_get, stale_post):
            assert response.status_code == HTTPStatus.SEE_OTHER
            assert response.headers["Location"].startswith("/auth/reauth")
        assert _windows() == []


class TestRegulation:
    def test_a_regulator_opens_in_regulation_mode(
        self, client: FlaskClient, holder: Account
    ) -> None:
        regulator = make_professional()
        assert regulator.professional is not None
        regulator.professional.samu_regulator = True
        db.session.commit()
        login_as(client, regulator)
        identify(client, holder)
        form = page_text(client.get(f"{_record(holder)}/emergency"))
        assert 'value="regulation"' in form
        response = open_emergency(client, holder, mode="regulation", reason="regulation_call")
        assert response.status_code == HTTPStatus.SEE_OTHER
        (window,) = _windows()
        assert window.mode == "regulation"
        (opened,) = _events(holder, Action.EMERGENCY_OPENED)
        assert opened.mode == "regulation"
        assert "Accès en régulation SAMU" in page_text(client.get("/pro/"))
        assert "médecin régulateur du SAMU" in _outbox(holder, "emergency_access")[0].body

    def test_a_regulator_is_refused_when_the_patient_opposed_regulation(
        self, client: FlaskClient, holder: Account
    ) -> None:
        regulator = make_professional()
        assert regulator.professional is not None
        regulator.professional.samu_regulator = True
        _patient(holder).oppose_regulation_access = True
        db.session.commit()
        login_as(client, regulator)
        identify(client, holder)
        response = open_emergency(client, holder, mode="regulation", reason="regulation_call")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        (refused,) = _events(holder, Action.EMERGENCY_REFUSED)
        assert (refused.reason, refused.mode) == ("opposed_regulation", "regulation")

    def test_regulation_mode_is_only_for_samu_regulators(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        form = page_text(client.get(f"{_record(holder)}/emergency"))
        assert 'value="regulation"' not in form
        response = open_emergency(client, holder, mode="regulation", reason="regulation_call")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert _windows() == []
        assert _events(holder, Action.EMERGENCY_OPENED) == []


class TestWindow:
    def test_the_banner_is_shown_on_pro_pages_while_open(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        assert "emergency-banner" not in page_text(client.get("/pro/"))
        open_emergency(client, holder)
        record = _patient(holder)
        for path in ("/pro/", _record(holder), f"{_record(holder)}/emergency/summary"):
            page = _words(client.get(path))
            assert "Accès en urgence —" in page, path
            assert f"dossier de {record.first_names} {record.last_name}, en lecture seule." in page
            assert "Terminer l'accès en urgence" in page
        assert "Il reste 1 h 59 min." in _words(client.get("/pro/"))

    def test_the_window_expires_after_two_hours(
        self, app: Flask, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        doc = make_document(holder, title="Bilan sanguin")
        open_emergency(client, holder)
        for _ in range(11):  # 110 minutes, signed in all along (staff idle limit: 15 minutes)
            clock.advance(10 * 60)
            assert client.get("/pro/").status_code == HTTPStatus.OK
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.OK
        assert "Il reste 9 minutes." in _words(client.get("/pro/"))
        clock.advance(11 * 60)
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.NOT_FOUND
        page = page_text(client.get(_record(holder)))
        assert "Bilan sanguin" not in page and "emergency-banner" not in page
        assert "Vous n'avez pas encore accès à ce dossier." in page  # only the ways in
        fresh = app.test_client()
        login_as(fresh, pro)  # a new session has identified nobody
        assert fresh.get(_record(holder)).status_code == HTTPStatus.NOT_FOUND
        assert emergency.open_for(pro) is None

    def test_ending_the_window(self, client: FlaskClient, holder: Account, pro: Account) -> None:
        doc = make_document(holder)
        open_emergency(client, holder)
        token = csrf_from(client.get("/pro/"))
        response = client.post(f"{_record(holder)}/emergency/end", data={"csrf_token": token})
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == "/pro/"
        (window,) = _windows()
        assert window.ended_at is not None
        (ended,) = _events(holder, Action.EMERGENCY_ENDED)
        assert ended.mode == "emergency" and ended.resource_id == str(window.id)
        home = _words(client.get("/pro/"))
        assert "L'accès en urgence est terminé." in home and "Terminer l'accès" not in home
        assert client.get(f"/documents/{doc.id}").status_code == HTTPStatus.NOT_FOUND
        again = client.post(f"{_record(holder)}/emergency/end", data={"csrf_token": token})
        assert again.status_code == HTTPStatus.NOT_FOUND

    def test_a_window_on_another_record_cannot_be_ended_from_this_one(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        other = make_patient()
        open_emergency(client, holder)
        token = csrf_from(client.get("/pro/"))
        response = client.post(f"{_record(other)}/emergency/end", data={"csrf_token": token})
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert _windows()[0].ended_at is None

    def test_masked_documents_are_never_listed(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        shown = make_document(holder, title="Bilan visible")
        masked = make_document(holder, title="Bilan masqué", masked_from_pros=True)
        open_emergency(client, holder)
        page = _words(client.get(_record(holder)))
        assert "Bilan visible" in page and "Bilan masqué" not in page
        assert "1 document visible pour vous" in page
        assert client.get(f"/documents/{shown.id}").status_code == HTTPStatus.OK
        assert client.get(f"/documents/{masked.id}").status_code == HTTPStatus.NOT_FOUND

    def test_a_dentist_does_not_see_the_advance_directives(
        self, client: FlaskClient, holder: Account
    ) -> None:
        login_as(client, make_professional(profession="chirurgien_dentiste", specialty=None))
        identify(client, holder)
        _entry(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Latex")
        _entry(
            holder,
            Section.WISHES,
            EntryKind.ADVANCE_DIRECTIVES,
            "",
            text="Pas de réanimation prolongée",
        )
        _entry(holder, Section.WISHES, EntryKind.ORGAN_DONATION, "Donneur")
        assert open_emergency(client, holder).status_code == HTTPStatus.SEE_OTHER
        summary = page_text(client.get(f"{_record(holder)}/emergency/summary"))
        assert "Latex" in summary
        assert "Pas de réanimation prolongée" not in summary and "Donneur" not in summary
        part = re.search(r"summary-part advance_directives.*?</section>", summary, re.S)
        assert part is not None and "Non accessible à votre profession." in part.group(0)
        record = page_text(client.get(_record(holder)))
        assert "Pas de réanimation prolongée" not in record

    def test_an_emergency_window_is_read_only(
        self, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        open_emergency(client, holder)
        page = page_text(client.get(_record(holder)))
        assert f"{_record(holder)}/deposit" not in page


class TestReview:
    def test_flask_audit_emergencies_lists_and_marks_reviewed(
        self, app: Flask, client: FlaskClient, holder: Account, pro: Account
    ) -> None:
        open_emergency(client, holder)
        (window,) = _windows()
        assert pro.professional is not None
        runner = app.test_cli_runner()
        listed = runner.invoke(args=["audit", "emergencies"])
        assert listed.exit_code == 0, listed.output
        line = next(row for row in listed.output.splitlines() if row.startswith(f"{window.id}\t"))
        assert "\temergency\t" in line
        assert f"RPPS {pro.professional.rpps}" in line and pro.professional.display_name in line
        assert f"patient {_patient(holder).id}" in line
        assert JUSTIFICATION in line and line.endswith("to review")
        assert "1 emergency access(es) in the last 30 day(s)." in listed.output
        reviewed = runner.invoke(
            args=["audit", "emergencies", "--review", str(window.id), "--note", "Justifié."]
        )
        assert reviewed.exit_code == 0, reviewed.output
        assert f"Emergency access {window.id} marked reviewed." in reviewed.output
        (window,) = _windows()
        assert window.reviewed_at is not None and window.review_note == "Justifié."
        after = runner.invoke(args=["audit", "emergencies"])
        assert after.output.splitlines()[0].endswith("\treviewed")
        pending = runner.invoke(args=["audit", "emergencies", "--unreviewed"])
        assert "0 emergency access(es)" in pending.output
        assert f"{window.id}\t" not in pending.output

    def test_reviewing_an_unknown_access_fails(self, app: Flask) -> None:
        result = app.test_cli_runner().invoke(
            args=["audit", "emergencies", "--review", "4242", "--note", "x"]
        )
        assert result.exit_code == 1
        assert "No emergency access 4242." in result.output
