"""A forgotten password: online with a code and a second proof, and at a counter."""

from __future__ import annotations

import re
from http import HTTPStatus

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.builders import (
    csrf_from,
    last_code,
    login_as,
    make_agent,
    make_beneficiary,
    make_document,
    make_patient,
    make_professional,
    outbox_code,
    submit_code,
    submit_password,
)
from tests.test_counter import identify
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    Beneficiary,
    Document,
    OneTimeCode,
    OutboxMessage,
    Patient,
)
from webapp.models.account import AccountState, RecordState
from webapp.services import codes, lifecycle
from webapp.services.audit import Action

NEW_PASSWORD = "Le tilleul de la place fleurit en juin"
REFUSED = "Le code ou la seconde preuve ne correspond pas"


# --- people and steps ------------------------------------------------------------------------


def patient_on_register(**overrides: object) -> tuple[Account, Beneficiary]:
    """A patient with online access, and her line in the insurer's register (its own contacts)."""
    account = make_patient(mobile="+33611111111", **overrides)
    holder = account.patient
    assert holder is not None
    entry = make_beneficiary(
        nir=holder.nir,
        first_names=holder.first_names,
        last_name=holder.last_name,
        birth_date=holder.birth_date,
        email="chez.assureur@example.test",
        mobile="+33622222222",
    )
    return account, entry


def ask_code(client: FlaskClient, identifier: str) -> TestResponse:
    page = client.get("/auth/forgot")
    return client.post(
        "/auth/forgot", data={"identifier": identifier, "csrf_token": csrf_from(page)}
    )


def send_proofs(client: FlaskClient, code: str, **proof: str) -> TestResponse:
    page = client.get("/auth/forgot/code")
    return client.post(
        "/auth/forgot/code", data={"code": code, **proof, "csrf_token": csrf_from(page)}
    )


def vitale(entry: Beneficiary, **changes: str) -> dict[str, str]:
    return {
        "proof": "vitale",
        "vitale_serial": entry.vitale_serial,
        "birth_date": entry.birth_date.isoformat(),
        **changes,
    }


def choose_password(client: FlaskClient, password: str = NEW_PASSWORD) -> TestResponse:
    page = client.get("/auth/forgot/password")
    return client.post(
        "/auth/forgot/password",
        data={"password": password, "confirm": password, "csrf_token": csrf_from(page)},
    )


def reset_code(account: Account) -> str:
    return last_code(account, "password_reset_code")


def history(account: Account) -> list[AccessEvent]:
    assert account.patient is not None
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AccessEvent)
            .where(AccessEvent.patient_id == account.patient.id)
            .order_by(AccessEvent.seq)
        )
    )


def sent(kind: str) -> list[tuple[str, str]]:
    """(channel, recipient) of every message of this kind, in order."""
    rows = db.session.execute(
        select(OutboxMessage.channel, OutboxMessage.recipient)
        .where(OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id)
    ).all()
    return [(channel, recipient) for channel, recipient in rows]


def signed_in(client: FlaskClient) -> bool:
    return client.get("/access/history").status_code == HTTPStatus.OK


def without_token(body: str, *also: str) -> str:
    """A page as text, less what differs by design: the CSRF token and the identifier typed."""
    body = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", body)
    body = re.sub(r'(data-token|"X-CSRFToken")[^>]*?"[^"]{20,}"', "", body)
    for word in also:
        body = body.replace(word, "IDENTIFIER")
    return body


def recover(client: FlaskClient, account: Account, entry: Beneficiary) -> TestResponse:
    """The whole online path with the e-mailed code and the carte Vitale."""
    assert ask_code(client, account.identifier).status_code == HTTPStatus.SEE_OTHER
    proved = send_proofs(client, reset_code(account), **vitale(entry))
    assert proved.headers["Location"] == "/auth/forgot/password", proved.get_data(as_text=True)
    return choose_password(client)


# --- the online path -------------------------------------------------------------------------


def test_the_sign_in_page_links_to_the_forgotten_password(client: FlaskClient) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/forgot"' in page and "Mot de passe oublié ?" in page


class TestHappyPaths:
    def test_by_emailed_code_and_carte_vitale(self, app: Flask, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        phone, desktop = app.test_client(), app.test_client()
        login_as(phone, account)
        login_as(desktop, account)

        asked = ask_code(client, account.identifier)
        assert asked.status_code == HTTPStatus.SEE_OTHER
        assert asked.headers["Location"] == "/auth/forgot/code"
        (message,) = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "password_reset_code")
        ).all()
        assert (message.channel, message.recipient, message.sensitive) == (
            "email",
            account.email,
            True,
        )
        page = client.get("/auth/forgot/code").get_data(as_text=True)
        assert account.identifier in page and "10 minutes" in page

        proved = send_proofs(client, reset_code(account), **vitale(entry))
        assert proved.headers["Location"] == "/auth/forgot/password"
        done = choose_password(client)
        assert done.status_code == HTTPStatus.SEE_OTHER
        assert done.headers["Location"] == "/auth/login"
        assert "toutes vos sessions sont fermées" in client.get("/auth/login").get_data(
            as_text=True
        )

        # Every session ended; the old password is refused, the new one opens a sign-in.
        assert not signed_in(phone) and not signed_in(desktop)
        assert submit_password(client, account.identifier).status_code == 422
        response = submit_password(client, account.identifier, NEW_PASSWORD)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert submit_code(client, last_code(account)).status_code == HTTPStatus.SEE_OTHER
        assert signed_in(client)

        # The history says so, and every contact on file is told, once each.
        (event,) = [e for e in history(account) if e.action == Action.PASSWORD_RESET]
        assert (event.detail, event.actor_kind, event.allowed) == ("online", "patient", True)
        assert sorted(sent("password_changed")) == sorted(
            [
                ("email", account.email or ""),
                ("sms", account.mobile or ""),
                ("email", "chez.assureur@example.test"),
                ("sms", "+33622222222"),
            ]
        )
        db.session.expire_all()
        fresh = db.session.get(Account, account.id)
        assert fresh is not None and fresh.password_changed_at is not None

    def test_by_a_recovery_code_which_is_then_used_up(self, client: FlaskClient) -> None:
        account, _entry = patient_on_register()
        codes.link_authenticator(account)
        shown = codes.issue_recovery_codes(account)
        db.session.commit()
        ask_code(client, account.identifier)
        proved = send_proofs(
            client,
            reset_code(account),
            proof="recovery_code",
            recovery_code=shown[3].lower(),
        )
        assert proved.headers["Location"] == "/auth/forgot/password"
        assert choose_password(client).status_code == HTTPStatus.SEE_OTHER
        db.session.expire_all()
        assert codes.remaining_recovery_codes(account) == 9
        assert sent("recovery_code_used") == [("email", account.email or "")]
        # Used once: the same recovery code proves nothing any more.
        ask_code(client, account.identifier)
        again = send_proofs(
            client, reset_code(account), proof="recovery_code", recovery_code=shown[3]
        )
        assert again.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert REFUSED in again.get_data(as_text=True)

    def test_by_the_authenticator_app(self, client: FlaskClient) -> None:
        account, _entry = patient_on_register()
        codes.link_authenticator(account)
        db.session.commit()
        ask_code(client, account.identifier)
        clock.advance(30)
        db.session.refresh(account)
        proved = send_proofs(
            client, reset_code(account), proof="app", app_code=codes.current_totp(account)
        )
        assert proved.headers["Location"] == "/auth/forgot/password"
        assert choose_password(client).status_code == HTTPStatus.SEE_OTHER
        db.session.expire_all()
        fresh = db.session.get(Account, account.id)
        assert fresh is not None and fresh.uses_totp  # the app stays: she still has it
        assert submit_password(client, account.identifier, NEW_PASSWORD).status_code == 303

    def test_the_code_goes_by_sms_to_who_signs_in_by_sms(self, client: FlaskClient) -> None:
        account, _entry = patient_on_register(second_factor="sms")
        ask_code(client, account.identifier)
        assert sent("password_reset_code") == [("sms", "+33611111111")]


class TestRefusals:
    def test_a_wrong_code_says_what_to_do_keeps_the_identifier_and_costs_a_try(
        self, client: FlaskClient
    ) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        right = reset_code(account)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        response = send_proofs(client, wrong, **vitale(entry))
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        body = response.get_data(as_text=True)
        assert REFUSED in body and "demandez-en un nouveau" in body
        assert account.identifier in body
        assert f'value="{entry.vitale_serial}"' in body  # what was typed stays
        assert db.session.scalars(select(OneTimeCode.attempts)).one() == 1
        refusals = [e for e in history(account) if e.action == Action.PASSWORD_RESET_REFUSED]
        assert [(e.reason, e.allowed) for e in refusals] == [("wrong_code", False)]
        # The slip cost a try, not the code: the right one still works.
        assert send_proofs(client, right, **vitale(entry)).status_code == HTTPStatus.SEE_OTHER

    def test_a_wrong_proof_refuses_without_using_the_code_up(self, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        code = reset_code(account)
        for proof in (
            vitale(entry, vitale_serial="99999999"),
            vitale(entry, birth_date="1975-06-30"),
            {"proof": "recovery_code", "recovery_code": "ABCDE-12345"},
            {"proof": "app", "app_code": "123456"},  # no app is linked
        ):
            response = send_proofs(client, code, **proof)
            assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, proof
            assert REFUSED in response.get_data(as_text=True)
        reasons = {e.reason for e in history(account) if e.action == Action.PASSWORD_RESET_REFUSED}
        assert reasons == {"wrong_proof"}
        assert send_proofs(client, code, **vitale(entry)).status_code == HTTPStatus.SEE_OTHER

    def test_five_wrong_tries_kill_the_code(self, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        code = reset_code(account)
        for _ in range(5):
            send_proofs(client, code, **vitale(entry, vitale_serial="99999999"))
        response = send_proofs(client, code, **vitale(entry))
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        # A new code works again.
        ask_code(client, account.identifier)
        assert send_proofs(client, reset_code(account), **vitale(entry)).status_code == 303

    def test_a_code_is_dead_after_ten_minutes(self, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        code = reset_code(account)
        clock.advance(10 * 60 + 1)
        response = send_proofs(client, code, **vitale(entry))
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert REFUSED in response.get_data(as_text=True)

    def test_a_code_serves_once(self, app: Flask, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        code = reset_code(account)
        assert send_proofs(client, code, **vitale(entry)).status_code == HTTPStatus.SEE_OTHER
        other = app.test_client()
        ask_code(other, account.identifier)  # a newer code replaces it anyway; try the old one
        response = send_proofs(other, code, **vitale(entry))
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY

    def test_a_newer_code_replaces_the_older(self, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        first = reset_code(account)
        ask_code(client, account.identifier)
        assert send_proofs(client, first, **vitale(entry)).status_code == 422
        assert send_proofs(client, reset_code(account), **vitale(entry)).status_code == 303

    def test_the_new_password_is_chosen_once_even_with_a_replayed_cookie(
        self, client: FlaskClient
    ) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        send_proofs(client, reset_code(account), **vitale(entry))
        cookie = client.get_cookie("carnet_state")
        assert cookie is not None
        assert choose_password(client).status_code == HTTPStatus.SEE_OTHER
        client.set_cookie("carnet_state", cookie.value)
        replayed = choose_password(client, "Une toute autre phrase de passe ici")
        assert replayed.status_code == HTTPStatus.SEE_OTHER
        assert replayed.headers["Location"] == "/auth/forgot"
        assert submit_password(client, account.identifier, NEW_PASSWORD).status_code == 303

    def test_the_new_password_follows_the_same_rules(self, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        send_proofs(client, reset_code(account), **vitale(entry))
        for weak, message in (
            ("court", "au moins 12 caractères"),
            (f"{account.identifier}-mon-secret", "votre identifiant ou votre nom"),
        ):
            response = choose_password(client, weak)
            assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
            assert message in response.get_data(as_text=True)
        assert choose_password(client).status_code == HTTPStatus.SEE_OTHER  # ticket kept

    def test_a_missing_proof_field_is_explained_and_costs_no_try(self, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        code = reset_code(account)
        response = send_proofs(client, code, proof="vitale", vitale_serial=entry.vitale_serial)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Saisissez votre date de naissance" in response.get_data(as_text=True)
        response = send_proofs(client, "12", proof="recovery_code", recovery_code="AB")
        body = response.get_data(as_text=True)
        assert "Le code compte 6 chiffres." in body and "Un code de secours compte 10" in body
        assert db.session.scalars(select(OneTimeCode.attempts)).one() == 0

    def test_steps_cannot_be_skipped(self, client: FlaskClient) -> None:
        for url in ("/auth/forgot/code", "/auth/forgot/password"):
            response = client.get(url)
            assert response.status_code == HTTPStatus.SEE_OTHER
            assert response.headers["Location"] == "/auth/forgot"
        account, _entry = patient_on_register()
        ask_code(client, account.identifier)
        # The code was sent, but no proof given: no new password yet.
        assert client.get("/auth/forgot/password").headers["Location"] == "/auth/forgot"

    def test_a_sign_in_half_done_with_the_old_password_dies(
        self, app: Flask, client: FlaskClient
    ) -> None:
        account, entry = patient_on_register()
        intruder = app.test_client()
        assert submit_password(intruder, account.identifier).status_code == 303
        signin = last_code(account)
        assert recover(client, account, entry).status_code == HTTPStatus.SEE_OTHER
        # The pending state is refused, and the code it waited for no longer works.
        assert intruder.get("/auth/verify").headers["Location"] == "/auth/login"
        assert not codes.consume_code(account, "sign_in", signin)
        assert not signed_in(intruder)


class TestSameAnswerForEveryone:
    def test_unknown_professional_agent_and_patient_see_the_same_pages(self, app: Flask) -> None:
        patient, _entry = patient_on_register()
        pro, agent = make_professional(), make_agent()
        closed = make_patient()
        assert closed.patient is not None
        closed.state = AccountState.DISABLED
        db.session.commit()
        identifiers = [
            "personne.inconnue",
            pro.identifier,
            agent.identifier,
            patient.identifier,
            closed.identifier,
        ]
        pages, refusals = [], []
        for identifier in identifiers:
            client = app.test_client()
            asked = ask_code(client, identifier)
            assert (asked.status_code, asked.headers["Location"]) == (303, "/auth/forgot/code")
            body = client.get("/auth/forgot/code").get_data(as_text=True)
            pages.append(without_token(body, identifier))
            refused = send_proofs(
                client, "000000", proof="vitale", vitale_serial="1234567", birth_date="1960-01-01"
            )
            assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
            refusals.append(without_token(refused.get_data(as_text=True), identifier))
        assert all(page == pages[0] for page in pages)
        assert all(page == refusals[0] for page in refusals)
        # Only the patient got a code; a real professional or agent is told whom to ask.
        assert sent("password_reset_code") == [("email", patient.email or "")]
        assert sent("password_help_staff") == [
            ("email", pro.email or ""),
            ("email", agent.email or ""),
        ]
        help_text = db.session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.kind == "password_help_staff")
        ).first()
        assert help_text is not None and "nouveau lien d'activation" in help_text

    def test_no_online_recovery_for_a_professional(self, client: FlaskClient) -> None:
        pro = make_professional()
        ask_code(client, pro.identifier)
        response = send_proofs(client, "123456", proof="app", app_code=codes.current_totp(pro))
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert client.get("/auth/forgot/password").headers["Location"] == "/auth/forgot"


class TestRateLimits:
    def test_per_identifier(self, client: FlaskClient) -> None:
        account, _entry = patient_on_register()
        statuses = [ask_code(client, account.identifier).status_code for _ in range(6)]
        assert statuses == [303] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]
        assert len(sent("password_reset_code")) == 5

    def test_per_address(self, client: FlaskClient) -> None:
        statuses = [ask_code(client, f"quelqu.un.{n}").status_code for n in range(11)]
        assert statuses == [303] * 10 + [HTTPStatus.TOO_MANY_REQUESTS]

    def test_proofs_per_identifier(self, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        ask_code(client, account.identifier)
        statuses = [
            send_proofs(client, "000000", **vitale(entry, vitale_serial="99999999")).status_code
            for _ in range(11)
        ]
        assert statuses == [422] * 10 + [HTTPStatus.TOO_MANY_REQUESTS]


# --- at the counter --------------------------------------------------------------------------


def post_form(client: FlaskClient, url: str, data: dict[str, str]) -> TestResponse:
    page = client.get(url)
    return client.post(url, data={**data, "csrf_token": csrf_from(page)})


def reissue(client: FlaskClient, entry: Beneficiary, channel: str = "email") -> TestResponse:
    visit = identify(client, "/counter", entry)
    page = client.get(visit)
    assert "Accès perdu : un code pour un nouveau mot de passe" in page.get_data(as_text=True)
    return client.post(f"{visit}/code", data={"channel": channel, "csrf_token": csrf_from(page)})


def use_counter_code(client: FlaskClient, account: Account, entry: Beneficiary) -> TestResponse:
    """At home, with the code the counter sent: the activation steps, keeping everything."""
    code = outbox_code(entry.email or "")
    started = post_form(
        client,
        "/enrolment/activate",
        {
            "code": code,
            "nir": entry.nir,
            "vitale_serial": entry.vitale_serial,
            "birth_date": entry.birth_date.isoformat(),
        },
    )
    assert started.headers["Location"] == "/enrolment/choice"
    choice = client.get("/enrolment/choice").get_data(as_text=True)
    assert "Choisir un nouveau mot de passe" in choice and "Je m'oppose" not in choice
    post_form(client, "/enrolment/contacts", {"keep_email": "keep", "keep_mobile": "keep"})
    account_page = client.get("/enrolment/account").get_data(as_text=True)
    assert f'value="{account.identifier}"' in account_page  # she keeps her identifier
    post_form(
        client,
        "/enrolment/account",
        {
            "identifier": account.identifier,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "second_factor": "email",
        },
    )
    emergency = client.get("/enrolment/emergency").get_data(as_text=True)
    earlier_choice = '<input checked id="emergency-1" name="emergency" required'
    assert earlier_choice in emergency  # what she chose before, not the default
    return post_form(client, "/enrolment/emergency", {"emergency": "oppose", "regulation": "allow"})


class TestAtTheCounter:
    def test_a_reissued_code_leads_to_a_new_password_and_keeps_the_record(
        self, app: Flask, client: FlaskClient
    ) -> None:
        account, entry = patient_on_register()
        assert account.patient is not None
        first_email = account.email
        account.patient.oppose_emergency_access = True
        codes.link_authenticator(account)  # lost with her phone
        codes.issue_recovery_codes(account)
        document = make_document(account)
        session_elsewhere = app.test_client()
        login_as(session_elsewhere, account)

        login_as(client, make_agent())
        sent_code = reissue(client, entry)
        assert sent_code.status_code == HTTPStatus.SEE_OTHER
        page = client.get(sent_code.headers["Location"]).get_data(as_text=True)
        assert re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", page) is None
        assert document.title not in page  # the agent sees no medical content

        home = app.test_client()
        done = use_counter_code(home, account, entry)
        assert done.headers["Location"] == "/enrolment/done"
        finished = home.get("/enrolment/done").get_data(as_text=True)
        assert "Votre nouveau mot de passe est enregistré" in finished

        db.session.expire_all()
        fresh = db.session.get(Account, account.id)
        assert fresh is not None and fresh.patient is not None
        assert fresh.state == AccountState.ACTIVE and not fresh.uses_totp
        assert codes.remaining_recovery_codes(fresh) == 0
        assert fresh.patient.record_state == RecordState.ACTIVE
        assert fresh.patient.oppose_emergency_access
        assert db.session.get(Document, document.id) is not None
        assert not signed_in(session_elsewhere)
        assert submit_password(home, fresh.identifier).status_code == 422
        assert submit_password(home, fresh.identifier, NEW_PASSWORD).status_code == 303
        assert submit_code(home, last_code(fresh)).status_code == HTTPStatus.SEE_OTHER

        actions = [e.action for e in history(fresh)]
        assert Action.PASSWORD_RESET in actions and Action.CODE_ISSUED in actions
        assert Action.AUTHENTICATOR_REMOVED in actions
        assert Action.ONLINE_ACCESS_OPENED not in actions
        assert Action.EMERGENCY_SETTINGS_CHANGED not in actions  # unchanged
        (reset,) = [e for e in history(fresh) if e.action == Action.PASSWORD_RESET]
        assert reset.detail == "counter"
        assert {recipient for _channel, recipient in sent("password_changed")} == {
            first_email,
            "+33611111111",
            "chez.assureur@example.test",
            "+33622222222",
        }

    def test_a_printed_letter_serves_too(self, client: FlaskClient) -> None:
        _account, entry = patient_on_register()
        login_as(client, make_agent())
        response = reissue(client, entry, "print")
        assert response.status_code == HTTPStatus.SEE_OTHER
        visit = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Ouvrir la lettre à imprimer (PDF)" in visit

    def test_a_professional_cannot_replace_a_password(self, client: FlaskClient) -> None:
        account, entry = patient_on_register()
        login_as(client, make_professional(profession="pharmacien", specialty=None))
        visit = identify(client, "/pro", entry)
        page = client.get(visit)
        assert "Accès perdu" not in page.get_data(as_text=True)
        response = client.post(
            f"{visit}/code", data={"channel": "email", "csrf_token": csrf_from(page)}
        )
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert sent("provisional_code") == []

    def test_the_lost_code_form_still_gives_nothing_for_an_account_in_use(
        self, client: FlaskClient
    ) -> None:
        account, entry = patient_on_register()
        post_form(
            client,
            "/enrolment/code",
            {
                "nir": entry.nir,
                "vitale_serial": entry.vitale_serial,
                "birth_date": entry.birth_date.isoformat(),
                "channel": "email",
            },
        )
        assert sent("provisional_code") == []
        patient = lifecycle.record_for(entry)
        assert patient is not None and patient.account_id == account.id


def test_nothing_is_left_behind_by_a_refused_attempt(client: FlaskClient) -> None:
    """A stranger's attempts leave no code, no message and no state in the database."""
    ask_code(client, "personne.inconnue")
    send_proofs(client, "123456", proof="vitale", vitale_serial="1234567", birth_date="1960-01-01")
    assert db.session.scalar(select(func.count(OneTimeCode.id))) == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(select(func.count(Patient.id))) == 0
