"""Provisional codes, self-service activation and opposition, and the lost-code form."""

from __future__ import annotations

import threading
from datetime import date
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.builders import csrf_from, last_code, make_beneficiary, outbox_code, submit_code
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Beneficiary, OutboxMessage, Patient, ProvisionalCode
from webapp.models.account import RecordState
from webapp.services import enrolment, lifecycle, provisional
from webapp.services.audit import Action

PASSWORD = "Une phrase assez longue pour Carnet"


def issue_for(beneficiary: Beneficiary, channel: str = "email") -> tuple[Patient, str]:
    patient, code = enrolment.send_code(beneficiary, channel, issued_by="campaign", actor=None)
    db.session.commit()
    return patient, code


def identity(beneficiary: Beneficiary, code: str) -> dict[str, str]:
    return {
        "code": code,
        "nir": beneficiary.nir,
        "vitale_serial": beneficiary.vitale_serial,
        "birth_date": beneficiary.birth_date.isoformat(),
    }


def post_form(client: FlaskClient, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    page = client.get(url)
    return client.post(url, data={**data, "csrf_token": csrf_from(page)})


def history(patient: Patient) -> list[str]:
    return list(
        db.session.scalars(
            select(AccessEvent.action)
            .where(AccessEvent.patient_id == patient.id)
            .order_by(AccessEvent.seq)
        )
    )


class TestCodes:
    def test_shape_and_normalisation(self, app: Flask) -> None:
        code = provisional.new_code()
        assert len(code) == 12 and set(code) <= set(provisional.ALPHABET)
        shown = provisional.display(code)
        assert len(shown) == 14 and shown[4] == shown[9] == "-"
        assert provisional.normalise(" abcd-efgh ijkm ") == "ABCDEFGH1JKM"
        assert provisional.normalise("O0Il") == "0011"
        assert provisional.well_formed("abcd efgh jkmn")
        assert not provisional.well_formed("ABCD-EFGH-JKM")  # 11
        assert not provisional.well_formed("ABCD-EFGH-JKMU")  # U is not Crockford

    def test_only_a_keyed_digest_is_stored(self, app: Flask) -> None:
        _, code = issue_for(make_beneficiary())
        stored = db.session.scalars(select(ProvisionalCode.code_hmac)).one()
        assert code not in stored and len(stored) == 64

    def test_right_details_match_in_any_typing(self, app: Flask) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        typed = provisional.display(code).lower().replace("0", "o").replace("-", " ")
        found = provisional.check(typed, person.nir, person.vitale_serial, person.birth_date)
        assert found is not None and found.beneficiary.id == person.id

    @pytest.mark.parametrize("wrong", ["nir", "vitale_serial", "birth_date", "code"])
    def test_any_wrong_detail_refuses(self, app: Flask, wrong: str) -> None:
        person = make_beneficiary()
        other = make_beneficiary()
        _, code = issue_for(person)
        details = {
            "code": code,
            "nir": person.nir,
            "vitale_serial": person.vitale_serial,
            "birth_date": person.birth_date,
        }
        details[wrong] = {
            "nir": other.nir,
            "vitale_serial": "999999",
            "birth_date": date(1951, 1, 1),
            "code": provisional.new_code(),
        }[wrong]
        assert provisional.check(**details) is None  # type: ignore[arg-type]

    def test_five_wrong_tries_kill_the_code(self, app: Flask) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        for _ in range(provisional.MAX_TRIES):
            assert provisional.check(code, person.nir, "000000", person.birth_date) is None
        assert provisional.check(code, person.nir, person.vitale_serial, person.birth_date) is None

    def test_wrong_codes_for_a_known_person_count_against_their_code(self, app: Flask) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        for _ in range(provisional.MAX_TRIES):
            provisional.check(
                provisional.new_code(), person.nir, person.vitale_serial, person.birth_date
            )
        assert provisional.check(code, person.nir, person.vitale_serial, person.birth_date) is None

    def test_a_newer_code_supersedes_the_older(self, app: Flask) -> None:
        person = make_beneficiary()
        _, first = issue_for(person)
        _, second = issue_for(person)
        assert provisional.check(first, person.nir, person.vitale_serial, person.birth_date) is None
        assert provisional.check(second, person.nir, person.vitale_serial, person.birth_date)

    def test_six_weeks_later_the_code_is_dead(self, app: Flask) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        clock.advance(provisional.LIFETIME.total_seconds() + 1)
        assert provisional.check(code, person.nir, person.vitale_serial, person.birth_date) is None

    def test_two_threads_consume_the_same_code_one_wins(self, app: Flask) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        found = provisional.check(code, person.nir, person.vitale_serial, person.birth_date)
        assert found is not None
        db.session.commit()
        barrier = threading.Barrier(2)
        results: list[bool] = []

        def consume() -> None:
            with app.app_context():
                barrier.wait()
                won = provisional.consume(found.code_id)
                db.session.commit()
                results.append(won)
                db.session.remove()

        threads = [threading.Thread(target=consume) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == [False, True]


class TestActivation:
    def start(self, client: FlaskClient, person: Beneficiary, code: str):  # type: ignore[no-untyped-def]
        return post_form(client, "/enrolment/activate", identity(person, code))

    def test_the_whole_path_then_first_sign_in(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        patient, code = issue_for(person)
        response = self.start(client, person, code)
        assert response.status_code == HTTPStatus.SEE_OTHER
        choice = client.get("/enrolment/choice")
        page = choice.get_data(as_text=True)
        assert "Activer mon dossier" in page and "Je m'oppose à la création" in page
        assert enrolment.mask_email(person.email) in page
        response = post_form(
            client, "/enrolment/contacts", {"keep_email": "keep", "keep_mobile": "keep"}
        )
        assert response.headers["Location"].endswith("/enrolment/account")
        response = post_form(
            client,
            "/enrolment/account",
            {
                "identifier": "jeanne.a",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "second_factor": "email",
            },
        )
        assert response.headers["Location"].endswith("/enrolment/emergency"), response.get_data(
            as_text=True
        )
        response = post_form(
            client, "/enrolment/emergency", {"emergency": "allow", "regulation": "oppose"}
        )
        assert response.headers["Location"].endswith("/enrolment/done")
        db.session.expire_all()
        fresh = db.session.get(Patient, patient.id)
        assert fresh is not None and fresh.record_state == RecordState.ACTIVE
        patient = fresh
        assert patient.oppose_regulation_access and not patient.oppose_emergency_access
        assert patient.account is not None and patient.account.email == person.email
        for action in (Action.RECORD_OPENED, Action.ONLINE_ACCESS_OPENED):
            assert action in history(patient)
        # First sign-in with the chosen password, then the e-mailed code.
        login_page = client.get("/auth/login")
        client.post(
            "/auth/login",
            data={
                "identifier": "jeanne.a",
                "password": PASSWORD,
                "csrf_token": csrf_from(login_page),
            },
        )
        response = submit_code(client, last_code(patient.account))
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert client.get("/").status_code == HTTPStatus.OK
        # The code is used: it opens nothing any more.
        again = self.start(client, person, code)
        assert again.status_code == HTTPStatus.UNPROCESSABLE_ENTITY

    def test_a_mismatch_gets_one_generic_message_and_keeps_what_was_typed(
        self, client: FlaskClient
    ) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        wrong_serial = {**identity(person, code), "vitale_serial": "1111111"}
        unknown_code = identity(person, provisional.new_code())
        nobody = {**identity(person, code), "nir": make_beneficiary().nir}
        bodies = []
        for data in (wrong_serial, unknown_code, nobody):
            response = post_form(client, "/enrolment/activate", data)
            assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
            body = response.get_data(as_text=True)
            assert "ne permettent pas d'ouvrir un dossier" in body
            assert f'value="{data["nir"]}"' in body
            bodies.append(body.count("error"))
        assert len(set(bodies)) == 1

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("nir", "28503751160421", "15 chiffres"),
            ("nir", "285037511604299", "la clé"),
            ("vitale_serial", "12AB45", "6 à 12 chiffres"),
            ("birth_date", "2099-01-01", "date de naissance"),
            ("code", "ABC", "12 caractères"),
        ],
    )
    def test_bad_shapes_are_explained_before_any_try_is_spent(
        self, client: FlaskClient, field: str, value: str, message: str
    ) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        response = post_form(
            client, "/enrolment/activate", {**identity(person, code), field: value}
        )
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert message in response.get_data(as_text=True)
        assert db.session.scalars(select(ProvisionalCode.attempts)).one() == 0

    def test_inline_check_of_the_nir_key(self, client: FlaskClient) -> None:
        page = client.get("/enrolment/activate")
        token = csrf_from(page)
        good = client.post(
            "/enrolment/check",
            data={"field": "nir", "nir": make_beneficiary().nir},
            headers={"X-CSRFToken": token, "HX-Request": "true"},
        )
        assert "Format correct" in good.get_data(as_text=True)
        bad = client.post(
            "/enrolment/check",
            data={"field": "nir", "nir": "285037511604299"},
            headers={"X-CSRFToken": token, "HX-Request": "true"},
        )
        assert "la clé" in bad.get_data(as_text=True)

    def test_a_new_email_must_be_proved_with_a_code(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        self.start(client, person, code)
        response = post_form(
            client,
            "/enrolment/contacts",
            {"keep_email": "change", "email": "Nouvelle@Exemple.fr", "keep_mobile": "keep"},
        )
        assert response.headers["Location"].endswith("/enrolment/contacts/check")
        assert client.get("/enrolment/account").status_code == HTTPStatus.SEE_OTHER
        wrong = post_form(client, "/enrolment/contacts/check", {"email_code": "000000"})
        assert wrong.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        sent = outbox_code("nouvelle@exemple.fr", r"\b\d{6}\b")
        right = post_form(client, "/enrolment/contacts/check", {"email_code": sent})
        assert right.headers["Location"].endswith("/enrolment/account")

    def test_opposition_creates_nothing_and_confirms(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        patient, code = issue_for(person)
        self.start(client, person, code)
        refused = post_form(client, "/enrolment/oppose", {})
        assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        response = post_form(client, "/enrolment/oppose", {"confirm": "y"})
        assert response.headers["Location"].endswith("/enrolment/opposed")
        db.session.expire_all()
        fresh = db.session.get(Patient, patient.id)
        assert fresh is not None and fresh.record_state == RecordState.OPPOSED
        patient = fresh
        assert patient.account_id is None and patient.opposed_at is not None
        kinds = db.session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.recipient == person.email)
        ).all()
        assert "opposition_confirmed" in kinds
        assert self.start(client, person, code).status_code == HTTPStatus.UNPROCESSABLE_ENTITY

    def test_without_email_the_opposition_is_confirmed_by_letter(self, client: FlaskClient) -> None:
        person = make_beneficiary(email=None)
        _, code = issue_for(person, "letter")
        self.start(client, person, code)
        post_form(client, "/enrolment/oppose", {"confirm": "y"})
        letters = db.session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.channel == "letter")
        ).all()
        assert letters == ["activation", "opposition_confirmed"]

    def test_a_closed_record_is_reopened_by_a_new_code(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        patient, code = issue_for(person)
        lifecycle.transition(patient, RecordState.ACTIVE, actor=None)
        lifecycle.transition(patient, RecordState.CLOSED, actor=None)
        db.session.commit()
        _, code = issue_for(person)
        self.start(client, person, code)
        assert "Je m'oppose" not in client.get("/enrolment/choice").get_data(as_text=True)
        post_form(client, "/enrolment/contacts", {"keep_email": "keep", "keep_mobile": "keep"})
        post_form(
            client,
            "/enrolment/account",
            {"identifier": "jeanne.b", "password": PASSWORD, "confirm": PASSWORD},
        )
        post_form(client, "/enrolment/emergency", {"emergency": "allow", "regulation": "allow"})
        db.session.expire_all()
        fresh = db.session.get(Patient, patient.id)
        assert fresh is not None and fresh.record_state == RecordState.ACTIVE
        patient = fresh
        assert Action.RECORD_REOPENED in history(patient)

    def test_steps_cannot_be_skipped(self, client: FlaskClient) -> None:
        for url in ("/enrolment/choice", "/enrolment/account", "/enrolment/emergency"):
            response = client.get(url)
            assert response.status_code == HTTPStatus.SEE_OTHER
            assert response.headers["Location"].endswith("/enrolment/activate")


class TestLostCode:
    def request(self, client: FlaskClient, person: Beneficiary, **changes: str):  # type: ignore[no-untyped-def]
        data = {
            "nir": person.nir,
            "vitale_serial": person.vitale_serial,
            "birth_date": person.birth_date.isoformat(),
            "channel": "email",
            **changes,
        }
        return post_form(client, "/enrolment/code", data)

    def test_a_code_goes_to_the_address_on_file_only(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        response = self.request(client, person, email="attaquant@example.test")
        assert response.status_code == HTTPStatus.OK
        recipients = db.session.scalars(select(OutboxMessage.recipient)).all()
        assert recipients == [person.email]
        code = outbox_code(person.email or "")
        assert provisional.check(code, person.nir, person.vitale_serial, person.birth_date)

    def test_the_same_answer_whether_or_not_anything_matched(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        right = self.request(client, person).get_data(as_text=True)
        wrong = self.request(client, person, vitale_serial="7777777").get_data(as_text=True)
        assert right.replace(csrf_from_text(right), "") == wrong.replace(csrf_from_text(wrong), "")
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1

    def test_sms_goes_to_the_mobile_on_file(self, client: FlaskClient) -> None:
        person = make_beneficiary(mobile="+33698765432")
        self.request(client, person, channel="sms")
        message = db.session.scalars(select(OutboxMessage)).one()
        assert (message.channel, message.recipient) == ("sms", "+33698765432")

    def test_limited_per_person_per_day(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        for _ in range(provisional.PER_RECORD_PER_DAY + 2):
            self.request(client, person)
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == (
            provisional.PER_RECORD_PER_DAY
        )

    def test_no_code_for_a_record_already_online(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        patient, _ = issue_for(person)
        lifecycle.transition(patient, RecordState.ACTIVE, actor=None)
        patient.account = Account(
            identifier="x.y", role="patient", language="fr", created_at=clock.now()
        )
        db.session.commit()
        before = db.session.scalar(select(func.count(OutboxMessage.id)))
        self.request(client, person)
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == before


def csrf_from_text(body: str) -> str:
    import re

    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
    return found.group(1) if found else ""


def test_masks() -> None:
    assert enrolment.mask_email("camille.martin@exemple.fr") == "c****@e****.fr"
    assert enrolment.mask_mobile("+33612345678") == "06 ** ** ** 78"
    assert enrolment.mask_email(None) == ""


class TestReviewFindings:
    """Regressions for the second engineer's review of enrolment."""

    def test_a_nir_alone_cannot_use_up_someones_tries(self, app: Flask) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        for _ in range(provisional.MAX_TRIES + 2):
            provisional.check(provisional.new_code(), person.nir, "000000", date(1990, 1, 1))
        assert provisional.check(code, person.nir, person.vitale_serial, person.birth_date)

    def test_the_lost_code_form_does_not_undo_an_opposition(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        patient = lifecycle.create(person, RecordState.OPPOSED, actor=None)
        db.session.commit()
        TestLostCode().request(client, person)
        # The person who holds the code may still choose to activate.
        code = outbox_code(person.email or "")
        assert provisional.check(code, person.nir, person.vitale_serial, person.birth_date)
        db.session.commit()
        clock.advance(lifecycle.AUTO_OPEN_AFTER.total_seconds() * 2)
        lifecycle.run()
        db.session.refresh(patient)
        assert patient.record_state == RecordState.OPPOSED

    def test_a_reissued_code_restarts_the_six_weeks(self, app: Flask) -> None:
        person = make_beneficiary()
        issue_for(person)
        clock.advance(lifecycle.AUTO_OPEN_AFTER.total_seconds() - 86400)
        patient, _ = issue_for(person)
        clock.advance(2 * 86400)
        assert lifecycle.run().opened == 0
        db.session.refresh(patient)
        assert patient.record_state == RecordState.PENDING

    def test_a_suspension_kills_live_codes(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        patient, code = issue_for(person)
        lifecycle.transition(patient, RecordState.ACTIVE, actor=None)
        lifecycle.transition(patient, RecordState.SUSPENDED, actor=None)
        db.session.commit()
        response = post_form(client, "/enrolment/activate", identity(person, code))
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY

    def test_replaying_the_cookie_gains_no_contact_check_tries(self, client: FlaskClient) -> None:
        person = make_beneficiary()
        _, code = issue_for(person)
        post_form(client, "/enrolment/activate", identity(person, code))
        post_form(
            client,
            "/enrolment/contacts",
            {"keep_email": "change", "email": "new@exemple.fr", "keep_mobile": "keep"},
        )
        for _ in range(provisional.MAX_TRIES):
            post_form(client, "/enrolment/contacts/check", {"email_code": "000000"})
        # Five wrong checks used the code up, whatever the cookie says.
        response = client.get("/enrolment/account")
        assert response.headers["Location"].endswith("/enrolment/activate")

    def test_earlier_contacts_hear_of_an_activation_with_new_ones(
        self, client: FlaskClient
    ) -> None:
        person = make_beneficiary(mobile=None)
        _, code = issue_for(person)
        post_form(client, "/enrolment/activate", identity(person, code))
        post_form(
            client,
            "/enrolment/contacts",
            {
                "keep_email": "change",
                "email": "autre@exemple.fr",
                "keep_mobile": "change",
                "mobile": "",
            },
        )
        sent = outbox_code("autre@exemple.fr", r"\b\d{6}\b")
        post_form(client, "/enrolment/contacts/check", {"email_code": sent})
        post_form(
            client,
            "/enrolment/account",
            {"identifier": "jeanne.c", "password": PASSWORD, "confirm": PASSWORD},
        )
        post_form(client, "/enrolment/emergency", {"emergency": "allow", "regulation": "allow"})
        notices = db.session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.kind == "online_access_notice")
        ).all()
        assert notices == [person.email]
