"""Secure messaging (SPEC §6): a professional writes, the patient reads, answers, keeps an
attachment, archives and finds it again; the professional closes. Who may reach a conversation,
what bad input does, what is never stored or sent in clear, and what a page costs in SQL."""

from __future__ import annotations

import gc
import io
import re
from dataclasses import dataclass
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from werkzeug.test import TestResponse

from tests.builders import (
    authorise,
    fresh_csrf,
    make_agent,
    make_patient,
    make_professional,
    page_text,
    pdf_file,
    signed_in,
)
from tests.test_policy import WINDOW, _open_window
from tests.test_query_counts import counting
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    Authorisation,
    Conversation,
    Document,
    Message,
    MessageAttachment,
    OutboxMessage,
    Patient,
)
from webapp.models.digest import DigestEntry
from webapp.services import messages, notify, storage
from webapp.services.audit import Action

PDF = pdf_file("Bilan", padding=bytes(range(256)) * 4)
EXE = b"MZ\x90\x00" + b"\x00" * 400  # a Windows program: refused by content, whatever its name
TOO_BIG = PDF[:20] + b"0" * (5 * 1024 * 1024)  # a PDF one byte over 5 MB and more
SUBJECT = "Vos résultats de prise de sang"
BODY = "Bonjour Madame, votre bilan est normal. Le taux de ferritine est remonté à 80."


# --- helpers ---------------------------------------------------------------------------------


@dataclass
class People:
    holder: Account
    pro: Account

    @property
    def patient(self) -> Patient:
        assert self.holder.patient is not None
        return self.holder.patient


@pytest.fixture
def people(app: Flask) -> People:
    """A patient who authorised her general practitioner."""
    holder = make_patient()
    pro = make_professional(first_names="Hélène")
    authorise(pro, holder)
    return People(holder, pro)


def _words(response: TestResponse) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def write(
    client: FlaskClient,
    patient_id: int | str,
    *,
    subject: str = SUBJECT,
    body: str = BODY,
    attachment: tuple[bytes, str] | None = None,
    submission: str | None = None,
) -> TestResponse:
    """A professional's first message, through /messages/new."""
    data: dict[str, object] = {
        "csrf_token": fresh_csrf(client),
        "patient": str(patient_id),
        "subject": subject,
        "body": body,
    }
    if attachment is not None:
        data["attachment"] = (io.BytesIO(attachment[0]), attachment[1])
    if submission is not None:
        data["submission"] = submission
    return client.post("/messages/new", data=data, content_type="multipart/form-data")


def answer(
    client: FlaskClient,
    conversation_id: int,
    body: str = "Merci docteur.",
    *,
    attachment: tuple[bytes, str] | None = None,
    submission: str | None = None,
) -> TestResponse:
    data: dict[str, object] = {"csrf_token": fresh_csrf(client), "body": body}
    if attachment is not None:
        data["attachment"] = (io.BytesIO(attachment[0]), attachment[1])
    if submission is not None:
        data["submission"] = submission
    return client.post(
        f"/messages/{conversation_id}", data=data, content_type="multipart/form-data"
    )


def post(client: FlaskClient, path: str, **data: str) -> TestResponse:
    return client.post(path, data={"csrf_token": fresh_csrf(client), **data})


def start(
    people: People,
    *,
    subject: str = SUBJECT,
    body: str = BODY,
    attachment: bytes | None = None,
) -> Conversation:
    """A conversation started through the service, as the route would."""
    upload = messages.Upload(io.BytesIO(attachment), "bilan.pdf") if attachment else None
    conversation = messages.start(
        people.pro, people.patient, subject=subject, body=body, attachment=upload
    )
    db.session.commit()
    return conversation


def _conversations(holder: Account) -> list[Conversation]:
    db.session.expire_all()
    assert holder.patient is not None
    return list(
        db.session.scalars(
            select(Conversation)
            .where(Conversation.patient_id == holder.patient.id)
            .order_by(Conversation.id)
        )
    )


def _message_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Message.id))) or 0


def _attachment_count() -> int:
    return db.session.scalar(select(func.count(MessageAttachment.id))) or 0


def _events(holder: Account, action: str) -> list[AccessEvent]:
    db.session.expire_all()
    assert holder.patient is not None
    return list(
        db.session.scalars(
            select(AccessEvent)
            .where(AccessEvent.patient_id == holder.patient.id, AccessEvent.action == action)
            .order_by(AccessEvent.seq)
        )
    )


def _conversation_id(response: TestResponse) -> int:
    assert response.status_code == HTTPStatus.SEE_OTHER, _words(response)[:600]
    found = re.search(r"/messages/(\d+)", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


# --- 1. the journey --------------------------------------------------------------------------


class TestJourney:
    def test_the_form_offers_the_patients_and_is_prefilled_from_the_record(
        self, app: Flask, people: People
    ) -> None:
        pro = signed_in(app, people.pro)
        stranger = make_patient()
        page = pro.get("/messages/new")
        assert page.status_code == HTTPStatus.OK
        options = dict(re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)<', page_text(page)))
        assert set(options) == {str(people.patient.id)}, "only the patients who authorised"
        assert people.patient.last_name in options[str(people.patient.id)]
        assert stranger.patient is not None and str(stranger.patient.id) not in options

        prefilled = page_text(pro.get(f"/messages/new?patient={people.patient.id}"))
        assert re.search(rf'<option[^>]*selected[^>]*value="{people.patient.id}"', prefilled) or (
            re.search(rf'<option[^>]*value="{people.patient.id}"[^>]*selected', prefilled)
        )

    def test_a_professional_writes_with_an_attachment(self, app: Flask, people: People) -> None:
        pro = signed_in(app, people.pro)
        response = write(pro, people.patient.id, attachment=(PDF, "bilan-mars.pdf"))
        conversation_id = _conversation_id(response)
        (conversation,) = _conversations(people.holder)
        assert conversation.id == conversation_id
        assert (conversation.subject, conversation.message_count) == (SUBJECT, 1)
        assert (conversation.patient_unread, conversation.professional_unread) == (1, 0)
        (attachment,) = db.session.scalars(select(MessageAttachment)).all()
        assert (attachment.original_name, attachment.size) == ("bilan-mars.pdf", len(PDF))
        assert attachment.media_type == "application/pdf"
        page = _words(pro.get(response.headers["Location"]))
        assert BODY in page and "bilan-mars.pdf" in page and "Clore la conversation" in page

    def test_the_inbox_lists_newest_first_with_the_unread_count_in_bold(
        self, app: Flask, people: People
    ) -> None:
        start(people, subject="Premier message")
        clock.advance(3600)
        start(people, subject="Second message")
        patient = signed_in(app, people.holder)
        page = page_text(patient.get("/messages/"))
        assert page.index("Second message") < page.index("Premier message")
        assert "<strong>Second message</strong>" in page
        assert "<strong>Premier message</strong>" in page
        assert "1 non lu" in page
        pro = people.pro.professional
        assert pro is not None
        words = _words(patient.get("/messages/"))
        assert f"{pro.display_name} · Médecin · Cabinet Test" in words
        assert people.pro.email and people.pro.email not in page, "never an address"

    def test_opening_the_thread_marks_it_read_and_the_badge_follows(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        assert patient.get("/messages/unread?seen=1").status_code == HTTPStatus.NO_CONTENT
        stale = patient.get("/messages/unread?seen=0")
        assert stale.status_code == HTTPStatus.OK
        assert re.search(r'class="count-badge unread"[^>]*>1<', stale.get_data(as_text=True))

        thread = patient.get(f"/messages/{conversation.id}")
        assert thread.status_code == HTTPStatus.OK
        assert BODY in _words(thread)
        (conversation,) = _conversations(people.holder)
        assert conversation.patient_unread == 0
        message = db.session.scalars(select(Message)).one()
        assert message.read_at is not None
        assert "<strong>" + SUBJECT not in page_text(patient.get("/messages/"))
        assert patient.get("/messages/unread?seen=0").status_code == HTTPStatus.NO_CONTENT
        changed = patient.get("/messages/unread?seen=1")
        assert changed.status_code == HTTPStatus.OK
        assert "count-badge" not in changed.get_data(as_text=True)
        assert 'seen=0"' in changed.get_data(as_text=True)

    def test_the_patient_replies_and_the_professional_sees_it_unread(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        response = answer(patient, conversation.id, "Merci, je prendrai rendez-vous.")
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"].endswith(f"/messages/{conversation.id}#reply")
        (conversation,) = _conversations(people.holder)
        assert (conversation.message_count, conversation.professional_unread) == (2, 1)
        pro = signed_in(app, people.pro)
        assert pro.get("/messages/unread?seen=1").status_code == HTTPStatus.NO_CONTENT
        assert "1 non lu" in page_text(pro.get("/messages/"))
        thread = _words(pro.get(f"/messages/{conversation.id}"))
        assert thread.index(BODY) < thread.index("Merci, je prendrai rendez-vous.")
        assert _conversations(people.holder)[0].professional_unread == 0

    def test_she_keeps_the_attachment_among_her_documents(self, app: Flask, people: People) -> None:
        conversation = start(people, attachment=PDF)
        attachment = db.session.scalars(select(MessageAttachment)).one()
        patient = signed_in(app, people.holder)
        assert "Enregistrer dans mes documents" in page_text(
            patient.get(f"/messages/{conversation.id}")
        )
        path = f"/messages/{conversation.id}/attachments/{attachment.id}/save"
        response = post(patient, path, category="biologie")
        assert response.status_code == HTTPStatus.SEE_OTHER
        (doc,) = db.session.scalars(select(Document)).all()
        assert response.headers["Location"].endswith(f"/documents/{doc.id}")
        assert (doc.category, doc.author_kind, doc.author_account_id) == (
            "biologie",
            "professional",
            people.pro.id,
        )
        assert doc.author_label == people.pro.display_name
        assert doc.blob_id != attachment.blob_id
        assert doc.sha256 == attachment.sha256
        download = patient.get(f"/documents/{doc.id}/download")
        assert download.status_code == HTTPStatus.OK
        assert download.get_data() == PDF
        again = post(patient, path, category="imagerie")  # kept once, the link says where
        assert again.headers["Location"].endswith(f"/documents/{doc.id}")
        assert db.session.scalar(select(func.count(Document.id))) == 1
        db.session.refresh(attachment)
        assert attachment.saved_document_id == doc.id
        assert "Enregistrée dans vos documents" in page_text(
            patient.get(f"/messages/{conversation.id}")
        )

    def test_saving_needs_a_category(self, app: Flask, people: People) -> None:
        conversation = start(people, attachment=PDF)
        attachment = db.session.scalars(select(MessageAttachment)).one()
        patient = signed_in(app, people.holder)
        path = f"/messages/{conversation.id}/attachments/{attachment.id}/save"
        for category in ("", "nope"):
            assert post(patient, path, category=category).status_code == HTTPStatus.SEE_OTHER
        assert db.session.scalar(select(func.count(Document.id))) == 0

    def test_both_download_the_attachment_as_sent(self, app: Flask, people: People) -> None:
        conversation = start(people, attachment=PDF)
        attachment = db.session.scalars(select(MessageAttachment)).one()
        path = f"/messages/{conversation.id}/attachments/{attachment.id}"
        for account in (people.holder, people.pro):
            response = signed_in(app, account).get(path)
            assert response.status_code == HTTPStatus.OK
            assert response.get_data() == PDF
            assert response.headers["Content-Disposition"].startswith("attachment")
        other = start(people, subject="Autre")
        stray = signed_in(app, people.holder).get(
            f"/messages/{other.id}/attachments/{attachment.id}"
        )
        assert stray.status_code == HTTPStatus.NOT_FOUND, "an attachment of another conversation"

    def test_archive_and_unarchive(self, app: Flask, people: People) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        response = post(patient, f"/messages/{conversation.id}/archive")
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"].endswith("/messages/")
        assert _conversations(people.holder)[0].archived_at is not None
        assert SUBJECT not in page_text(patient.get("/messages/"))
        assert SUBJECT in page_text(patient.get("/messages/?archived=1"))
        assert "Sortir des archives" in page_text(patient.get(f"/messages/{conversation.id}"))
        back = post(patient, f"/messages/{conversation.id}/unarchive")
        assert back.headers["Location"].endswith(f"/messages/{conversation.id}")
        assert _conversations(people.holder)[0].archived_at is None
        assert SUBJECT in page_text(patient.get("/messages/"))
        assert SUBJECT not in page_text(patient.get("/messages/?archived=1"))
        # The professional's list does not depend on the patient's filing.
        post(patient, f"/messages/{conversation.id}/archive")
        assert SUBJECT in page_text(signed_in(app, people.pro).get("/messages/"))

    def test_search_over_subjects_and_professionals(self, app: Flask, people: People) -> None:
        start(people, subject="Échographie cardiaque")
        cardiologist = make_professional(first_names="Bertrand", specialty="cardiologie")
        authorise(cardiologist, people.holder)
        messages.start(cardiologist, people.patient, subject="Holter", body="Le holter est prêt.")
        db.session.commit()
        patient = signed_in(app, people.holder)

        def subjects(query: str) -> set[str]:
            page = page_text(patient.get(f"/messages/?q={query}"))
            return {s for s in ("Échographie cardiaque", "Holter") if s in page}

        assert subjects("holter") == {"Holter"}
        assert subjects("cardiaque") == {"Échographie cardiaque"}
        assert subjects("Bertrand") == {"Holter"}
        assert subjects("") == {"Échographie cardiaque", "Holter"}
        assert subjects("radiographie") == set()
        assert "Aucune conversation ne correspond" in page_text(patient.get("/messages/?q=zzz"))
        fragment = patient.get(
            "/messages/?q=holter", headers={"HX-Request": "true", "HX-Target": "conversation-list"}
        )
        assert "Holter" in page_text(fragment) and "<html" not in page_text(fragment)

    def test_the_professional_closes_and_she_can_no_longer_write(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people)
        pro = signed_in(app, people.pro)
        response = post(pro, f"/messages/{conversation.id}/close")
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert _conversations(people.holder)[0].closed_at is not None
        assert "Vous avez clos cette conversation" in _words(
            pro.get(f"/messages/{conversation.id}")
        )
        assert "Clore la conversation" not in page_text(pro.get(f"/messages/{conversation.id}"))

        patient = signed_in(app, people.holder)
        page = page_text(patient.get(f"/messages/{conversation.id}"))
        assert "Le professionnel a clos cette conversation" in page
        assert 'name="body"' not in page and "Répondre" not in page
        assert '<span class="badge">close</span>' in page_text(patient.get("/messages/"))
        before = _message_count()
        refused = answer(patient, conversation.id, "Encore une question ?")
        assert refused.status_code == HTTPStatus.CONFLICT
        assert "Le professionnel a clos cette conversation" in _words(refused)
        assert 'role="alert"' in refused.get_data(as_text=True)
        assert _message_count() == before
        assert _conversations(people.holder)[0].professional_unread == 0

    def test_after_closing_she_still_keeps_attachments_and_archives(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people, attachment=PDF)
        attachment = db.session.scalars(select(MessageAttachment)).one()
        messages.close(people.pro, conversation)
        db.session.commit()
        patient = signed_in(app, people.holder)
        base = f"/messages/{conversation.id}"
        saved = post(patient, f"{base}/attachments/{attachment.id}/save", category="autres")
        assert saved.status_code == HTTPStatus.SEE_OTHER
        assert db.session.scalar(select(func.count(Document.id))) == 1
        assert post(patient, f"{base}/archive").status_code == HTTPStatus.SEE_OTHER
        assert _conversations(people.holder)[0].archived_at is not None

    def test_closing_twice_records_one_closing(self, app: Flask, people: People) -> None:
        conversation = start(people)
        pro = signed_in(app, people.pro)
        for _ in range(2):
            response = post(pro, f"/messages/{conversation.id}/close")
            assert response.status_code == HTTPStatus.SEE_OTHER
        assert len(_events(people.holder, Action.CONVERSATION_CLOSED)) == 1

    def test_the_banner_says_messaging_is_not_for_emergencies(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        for path in ("/messages/", f"/messages/{conversation.id}"):
            assert "appelez le 15" in _words(patient.get(path)), path
        assert "appelez le 15" in _words(signed_in(app, people.pro).get("/messages/new"))


# --- 2. policy through the pages -------------------------------------------------------------


class TestWhoReachesAConversation:
    @pytest.mark.parametrize("intruder", ["other_patient", "other_professional", "agent"])
    def test_someone_elses_conversation_is_404_and_recorded(
        self, app: Flask, people: People, intruder: str
    ) -> None:
        conversation = start(people, attachment=PDF)
        attachment = db.session.scalars(select(MessageAttachment)).one()
        account = {
            "other_patient": make_patient,
            "other_professional": make_professional,
            "agent": make_agent,
        }[intruder]()
        if intruder == "other_professional":
            authorise(account, people.holder)  # authorised on the record, not a participant
        client = signed_in(app, account)
        base = f"/messages/{conversation.id}"
        assert client.get(base).status_code == HTTPStatus.NOT_FOUND
        assert client.get(f"{base}/attachments/{attachment.id}").status_code == 404
        refused = _events(people.holder, Action.CONVERSATION_REFUSED)
        assert [(e.actor_account_id, e.allowed, e.resource_id) for e in refused] == [
            (account.id, False, str(conversation.id)),
            (account.id, False, str(conversation.id)),
        ]
        assert (
            refused[0].reason
            == {
                "other_patient": "not_own_record",
                "other_professional": "not_participant",
                "agent": "agent_no_medical_content",
            }[intruder]
        )
        inbox = client.get("/messages/")
        assert SUBJECT not in page_text(inbox)
        if intruder == "agent":
            assert inbox.status_code == HTTPStatus.NOT_FOUND

    def test_a_professional_who_lost_the_authorisation_keeps_the_conversation(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people)
        grant = db.session.scalars(select(Authorisation)).one()
        grant.revoked_at = clock.now()
        db.session.commit()
        pro = signed_in(app, people.pro)
        assert SUBJECT in page_text(pro.get("/messages/"))
        assert BODY in _words(pro.get(f"/messages/{conversation.id}"))
        assert answer(pro, conversation.id, "Je reste joignable.").status_code == 303
        assert _message_count() == 2

        assert pro.get(f"/messages/new?patient={people.patient.id}").status_code == 404
        (refusal,) = _events(people.holder, Action.CONVERSATION_REFUSED)
        assert (refusal.actor_account_id, refusal.reason) == (people.pro.id, "no_authorisation")
        assert write(pro, people.patient.id).status_code == HTTPStatus.NOT_FOUND  # and recorded
        assert len(_conversations(people.holder)) == 1

    def test_a_blocked_professional_neither_reads_nor_writes(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people)
        authorise(people.pro, people.holder, kind="blocked")
        pro = signed_in(app, people.pro)
        assert pro.get(f"/messages/{conversation.id}").status_code == HTTPStatus.NOT_FOUND
        assert answer(pro, conversation.id).status_code == HTTPStatus.NOT_FOUND
        assert post(pro, f"/messages/{conversation.id}/close").status_code == 404
        assert SUBJECT not in page_text(pro.get("/messages/"))
        assert pro.get(f"/messages/new?patient={people.patient.id}").status_code == 404
        assert write(pro, people.patient.id).status_code == HTTPStatus.NOT_FOUND  # and recorded
        assert _message_count() == 1 and len(_conversations(people.holder)) == 1
        assert _conversations(people.holder)[0].closed_at is None
        reasons = {e.reason for e in _events(people.holder, Action.CONVERSATION_REFUSED)}
        assert reasons == {"blocked_by_patient"}

    def test_an_emergency_window_starts_no_conversation(self, app: Flask) -> None:
        holder = make_patient()
        assert holder.patient is not None
        pro = make_professional()
        _open_window(WINDOW, holder.patient, pro)
        client = signed_in(app, pro)
        record = client.get(f"/pro/patients/{holder.patient.id}")
        assert record.status_code == HTTPStatus.OK, "the window reads the record"
        assert "Écrire au patient" not in page_text(record)
        assert client.get(f"/messages/new?patient={holder.patient.id}").status_code == 404
        assert write(client, holder.patient.id).status_code == HTTPStatus.NOT_FOUND
        assert _conversations(holder) == []
        refusals = _events(holder, Action.CONVERSATION_REFUSED)  # the link, then the form sent
        assert [refusal.reason for refusal in refusals] == ["no_authorisation"] * 2

    def test_a_patient_cannot_start_a_conversation(self, app: Flask, people: People) -> None:
        patient = signed_in(app, people.holder)
        assert patient.get("/messages/new").status_code == HTTPStatus.NOT_FOUND
        assert write(patient, people.patient.id).status_code == HTTPStatus.NOT_FOUND
        assert _conversations(people.holder) == []

    def test_the_patient_cannot_close_and_the_professional_cannot_archive(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people, attachment=PDF)
        attachment = db.session.scalars(select(MessageAttachment)).one()
        patient = signed_in(app, people.holder)
        assert "Clore la conversation" not in page_text(patient.get(f"/messages/{conversation.id}"))
        assert post(patient, f"/messages/{conversation.id}/close").status_code == 404
        pro = signed_in(app, people.pro)
        page = page_text(pro.get(f"/messages/{conversation.id}"))
        assert "Archiver" not in page and "Enregistrer dans mes documents" not in page
        assert post(pro, f"/messages/{conversation.id}/archive").status_code == 404
        save = f"/messages/{conversation.id}/attachments/{attachment.id}/save"
        assert post(pro, save, category="biologie").status_code == 404
        db.session.expire_all()
        found = db.session.get(Conversation, conversation.id)
        assert found is not None and found.closed_at is None and found.archived_at is None
        assert db.session.scalar(select(func.count(Document.id))) == 0

    def test_the_record_page_offers_to_write(self, app: Flask, people: People) -> None:
        client = signed_in(app, people.pro)
        page = page_text(client.get(f"/pro/patients/{people.patient.id}"))
        link = re.search(r'<a[^>]*href="([^"]*)"[^>]*>Écrire au patient<', page)
        assert link is not None
        assert link.group(1) == f"/messages/new?patient={people.patient.id}"


# --- 3. bad input ----------------------------------------------------------------------------


class TestBadInput:
    def test_an_empty_body(self, app: Flask, people: People) -> None:
        pro = signed_in(app, people.pro)
        response = write(pro, people.patient.id, body="   ")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Écrivez votre message." in _words(response)
        assert _conversations(people.holder) == []

    def test_an_empty_reply(self, app: Flask, people: People) -> None:
        conversation = start(people)
        response = answer(signed_in(app, people.holder), conversation.id, "")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Écrivez votre message." in _words(response)
        assert _message_count() == 1

    def test_a_body_of_20000_characters(self, app: Flask, people: People) -> None:
        long = "Très long message. " * 1053  # 20,007 characters
        pro = signed_in(app, people.pro)
        response = write(pro, people.patient.id, body=long)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Un message ne peut dépasser 5000 caractères" in _words(response)
        assert long in page_text(response), "the text is kept in the form"
        assert _conversations(people.holder) == []

    def test_a_reply_of_20000_characters(self, app: Flask, people: People) -> None:
        conversation = start(people)
        long = "x" * 20_000
        response = answer(signed_in(app, people.holder), conversation.id, long)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Un message ne peut dépasser 5000 caractères" in _words(response)
        assert long in page_text(response)
        assert _message_count() == 1

    def test_a_subject_of_300_characters(self, app: Flask, people: People) -> None:
        pro = signed_in(app, people.pro)
        response = write(pro, people.patient.id, subject="Objet " * 50)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "L'objet ne peut dépasser 150 caractères" in _words(response)
        assert BODY in page_text(response)
        assert _conversations(people.holder) == []

    def test_an_empty_subject(self, app: Flask, people: People) -> None:
        response = write(signed_in(app, people.pro), people.patient.id, subject="")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Donnez un objet au message." in _words(response)
        assert _conversations(people.holder) == []

    def test_a_reply_to_a_closed_conversation(self, app: Flask, people: People) -> None:
        conversation = start(people)
        messages.close(people.pro, conversation)
        db.session.commit()
        for account in (people.holder, people.pro):
            response = answer(signed_in(app, account), conversation.id, "Et maintenant ?")
            assert response.status_code == HTTPStatus.CONFLICT
        assert _message_count() == 1

    def test_a_reply_to_someone_elses_conversation(self, app: Flask, people: People) -> None:
        conversation = start(people)
        for account in (make_patient(), make_professional()):
            response = answer(signed_in(app, account), conversation.id, "Intrusion")
            assert response.status_code == HTTPStatus.NOT_FOUND
        assert _message_count() == 1

    def test_a_patient_posting_a_new_conversation(self, app: Flask, people: People) -> None:
        other = make_patient()
        assert other.patient is not None
        response = write(signed_in(app, people.holder), other.patient.id)
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert db.session.scalar(select(func.count(Conversation.id))) == 0

    # Werkzeug's test EnvironBuilder spools a large body to a temporary file it never closes;
    # the warning comes from the test client, not from Carnet.
    @pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    @pytest.mark.parametrize(
        "content, problem",
        [
            (EXE, "Ce type de fichier n'est pas accepté"),
            (TOO_BIG, "Ce fichier dépasse 5 Mo"),
        ],
        ids=["wrong type", "over 5 MB"],
    )
    def test_a_bad_attachment_on_a_new_conversation(
        self, app: Flask, people: People, content: bytes, problem: str
    ) -> None:
        pro = signed_in(app, people.pro)
        response = write(pro, people.patient.id, attachment=(content, "resultat.pdf"))
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert problem in _words(response)
        page = page_text(response)
        assert BODY in page and f'value="{SUBJECT}"' in page, "the typed text is kept"
        assert re.search(rf'<option[^>]*value="{people.patient.id}"[^>]*selected', page) or (
            re.search(rf'<option[^>]*selected[^>]*value="{people.patient.id}"', page)
        )
        assert _conversations(people.holder) == []
        assert _message_count() == 0 and _attachment_count() == 0
        assert storage.all_blob_ids() == set()
        assert _events(people.holder, Action.MESSAGE_SENT) == []
        del response
        gc.collect()

    @pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    @pytest.mark.parametrize(
        "content, problem",
        [
            (EXE, "Ce type de fichier n'est pas accepté"),
            (TOO_BIG, "Ce fichier dépasse 5 Mo"),
        ],
        ids=["wrong type", "over 5 MB"],
    )
    def test_a_bad_attachment_on_a_reply(
        self, app: Flask, people: People, content: bytes, problem: str
    ) -> None:
        conversation = start(people)
        response = answer(
            signed_in(app, people.holder),
            conversation.id,
            "Voici ma radio.",
            attachment=(content, "radio.pdf"),
        )
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert problem in _words(response)
        assert "Voici ma radio." in page_text(response)
        assert _message_count() == 1 and _attachment_count() == 0
        assert _conversations(people.holder)[0].message_count == 1
        assert len(_events(people.holder, Action.MESSAGE_SENT)) == 1
        assert storage.all_blob_ids() == set()
        del response
        gc.collect()

    def test_an_empty_attachment(self, app: Flask, people: People) -> None:
        response = write(
            signed_in(app, people.pro), people.patient.id, attachment=(b"", "vide.pdf")
        )
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Ce fichier est vide" in _words(response)
        assert _conversations(people.holder) == []

    def test_a_new_conversation_sent_twice_makes_one(self, app: Flask, people: People) -> None:
        pro = signed_in(app, people.pro)
        first = write(pro, people.patient.id, submission="a1b2c3d4e5")
        second = write(pro, people.patient.id, submission="a1b2c3d4e5")
        assert _conversation_id(first) == _conversation_id(second)
        (conversation,) = _conversations(people.holder)
        assert conversation.message_count == 1 and _message_count() == 1
        assert len(_events(people.holder, Action.MESSAGE_SENT)) == 1
        third = write(pro, people.patient.id, submission="f6e5d4c3b2")  # a new form
        assert _conversation_id(third) != _conversation_id(first)

    def test_a_reply_sent_twice_makes_one(self, app: Flask, people: People) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        for _ in range(2):
            response = answer(patient, conversation.id, "Bien reçu.", submission="feedc0de42")
            assert response.status_code == HTTPStatus.SEE_OTHER
        assert _message_count() == 2
        assert _conversations(people.holder)[0].message_count == 2
        assert _conversations(people.holder)[0].professional_unread == 1

    def test_html_and_htmx_attributes_are_shown_as_text(self, app: Flask, people: People) -> None:
        hostile = '<img src=x onerror=alert(1)> <div hx-get="/x">'
        conversation = start(people, subject='<b hx-post="/y">Objet</b>', body=hostile)
        patient = signed_in(app, people.holder)
        answer(patient, conversation.id, '<script>alert("réponse")</script>')
        for account in (people.holder, people.pro):
            client = signed_in(app, account)
            for path in (f"/messages/{conversation.id}", "/messages/"):
                raw = client.get(path).get_data(as_text=True)
                assert "<img src=x" not in raw and 'hx-get="/x"' not in raw
                assert '<b hx-post="/y">' not in raw and "<script>alert" not in raw
            raw = client.get(f"/messages/{conversation.id}").get_data(as_text=True)
            assert "&lt;img src=x onerror=alert(1)&gt;" in raw
            assert "&lt;div hx-get=&#34;/x&#34;&gt;" in raw

    @pytest.mark.parametrize(
        "path",
        [
            "/messages/abc",
            "/messages/99999999999",
            "/messages/0",
            "/messages/123456",
            "/messages/-1",
            "/messages/1e3",
            "/messages/new?patient=abc",
            "/messages/new?patient=99999999999",
            "/messages/new?patient=123456",
            "/messages/new?patient=-4",
            "/messages/1/attachments/abc",
        ],
    )
    def test_a_bad_id_is_404(self, app: Flask, people: People, path: str) -> None:
        start(people)
        assert signed_in(app, people.pro).get(path).status_code == HTTPStatus.NOT_FOUND

    @pytest.mark.parametrize("path", ["/messages/99999999999", "/messages/abc/close"])
    def test_a_bad_id_is_404_on_post(self, app: Flask, people: People, path: str) -> None:
        client = signed_in(app, people.holder)
        assert post(client, path, body="x").status_code == HTTPStatus.NOT_FOUND

    def test_a_bad_page_number_shows_the_first_page(self, app: Flask, people: People) -> None:
        conversation = start(people)
        client = signed_in(app, people.holder)
        for page in ("abc", "-3", "99999999999"):
            response = client.get(f"/messages/{conversation.id}?page={page}")
            assert response.status_code == HTTPStatus.OK, page
        assert BODY in _words(client.get(f"/messages/{conversation.id}?page=abc"))


# --- 4. secrecy ------------------------------------------------------------------------------


class TestSecrecy:
    def test_the_text_is_not_stored_in_clear(self, app: Flask, people: People) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        answer(patient, conversation.id, "Ma réponse confidentielle sur la ferritine.")
        rows = db.session.execute(text("SELECT * FROM messages")).mappings().all()
        assert len(rows) == 2
        for row in rows:
            sealed = bytes(row["sealed_body"])
            assert len(sealed) > 20
            for secret in (BODY, "Ma réponse confidentielle", "ferritine"):
                assert secret.encode() not in sealed
                assert secret not in repr(dict(row))
        assert BODY in _words(patient.get(f"/messages/{conversation.id}")), "yet it opens"

    def test_the_notice_holds_neither_text_nor_subject(self, app: Flask, people: People) -> None:
        start(people)
        (notice,) = db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.account_id == people.holder.id, OutboxMessage.kind == "new_message"
            )
        ).all()
        said = notice.subject + "\n" + notify.message_text(notice)
        assert "messages" in said
        for secret in (BODY, SUBJECT, "ferritine", "prise de sang"):
            assert secret not in said

    def test_the_digest_holds_neither_text_nor_subject(self, app: Flask, people: People) -> None:
        people.holder.routine_notices = "digest"
        db.session.commit()
        start(people)
        (entry,) = db.session.scalars(
            select(DigestEntry).where(DigestEntry.account_id == people.holder.id)
        ).all()
        assert entry.kind == "new_message" and entry.summary
        for secret in (BODY, SUBJECT, "ferritine", "prise de sang"):
            assert secret not in entry.summary
        assert not db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "new_message")
        ).all()

    def test_each_message_from_the_professional_is_one_notice_to_her(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        assert answer(patient, conversation.id, "Une réponse").status_code == 303
        messages.reply(people.pro, conversation, body="Une seconde précision.")
        db.session.commit()
        notices = db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.account_id == people.holder.id, OutboxMessage.kind == "new_message"
            )
        ).all()
        assert len(notices) == 2, "her own reply is no notice to her"
        for notice in notices:
            assert "précision" not in notify.message_text(notice)

    def test_every_step_is_in_the_history(
        self, app: Flask, people: People, caplog: pytest.LogCaptureFixture
    ) -> None:
        pro = signed_in(app, people.pro)
        conversation_id = _conversation_id(
            write(pro, people.patient.id, attachment=(PDF, "bilan.pdf"))
        )
        attachment = db.session.scalars(select(MessageAttachment)).one()
        patient = signed_in(app, people.holder)
        patient.get(f"/messages/{conversation_id}")
        answer(patient, conversation_id, "Une question sur le fer.")
        post(
            patient,
            f"/messages/{conversation_id}/attachments/{attachment.id}/save",
            category="biologie",
        )
        post(patient, f"/messages/{conversation_id}/archive")
        post(patient, f"/messages/{conversation_id}/unarchive")
        pro.get(f"/messages/{conversation_id}")
        post(pro, f"/messages/{conversation_id}/close")

        def who(action: str) -> list[int | None]:
            return [e.actor_account_id for e in _events(people.holder, action)]

        assert who(Action.MESSAGE_SENT) == [people.pro.id, people.holder.id]
        assert who(Action.CONVERSATION_READ) == [people.holder.id, people.pro.id]
        assert who(Action.CONVERSATION_CLOSED) == [people.pro.id]
        assert who(Action.CONVERSATION_ARCHIVED) == [people.holder.id]
        assert who(Action.CONVERSATION_UNARCHIVED) == [people.holder.id]
        assert who(Action.ATTACHMENT_SAVED) == [people.holder.id]
        for action in (Action.MESSAGE_SENT, Action.CONVERSATION_CLOSED):
            assert {e.resource_id for e in _events(people.holder, action)} == {str(conversation_id)}
        every = _events(people.holder, Action.MESSAGE_SENT) + _events(
            people.holder, Action.CONVERSATION_READ
        )
        for event in every:
            assert BODY not in event.detail and SUBJECT not in event.detail
        logged = caplog.text
        assert BODY not in logged and "Une question sur le fer" not in logged

    def test_the_history_page_lists_the_messaging_steps(self, app: Flask, people: People) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        patient.get(f"/messages/{conversation.id}")
        page = patient.get("/access/history")
        assert page.status_code == HTTPStatus.OK
        assert people.pro.display_name in _words(page)
        assert SUBJECT not in page_text(page) and BODY not in page_text(page)


# --- 5. speed --------------------------------------------------------------------------------


def _bulk_conversations(people: People, count: int) -> None:
    """Conversations as the service leaves them, written in one go."""
    pro = people.pro.professional
    assert pro is not None
    now = clock.now()
    db.session.add_all(
        Conversation(
            patient_id=people.patient.id,
            professional_id=pro.id,
            subject=f"Conversation {n}",
            professional_label=pro.display_name,
            professional_profession=pro.profession,
            professional_structure=pro.structure or "",
            started_at=now,
            last_message_at=now,
            message_count=1,
            patient_unread=n % 2,
            professional_unread=(n + 1) % 2,
            closed_at=now if n % 5 == 0 else None,
        )
        for n in range(count)
    )
    db.session.commit()


def _statements(app: Flask, client: FlaskClient, path: str) -> int:
    with counting(app) as statements:
        response = client.get(path)
        assert response.status_code == HTTPStatus.OK, path
    return len(statements)


class TestSpeed:
    @pytest.mark.parametrize("who", ["holder", "pro"])
    def test_the_inbox_costs_the_same_with_1_or_200_conversations(
        self, app: Flask, people: People, who: str
    ) -> None:
        client = signed_in(app, getattr(people, who))
        _bulk_conversations(people, 1)
        paths = ["/messages/", "/messages/?q=conversation", "/messages/?archived=1"]
        small = {path: _statements(app, client, path) for path in paths}
        _bulk_conversations(people, 199)
        large = {path: _statements(app, client, path) for path in paths}
        assert large == small
        assert max(large.values()) <= 8, large  # every statement, the session's included
        page = page_text(client.get("/messages/"))
        assert "Conversation 198" in page and "Conversation 0" not in page, "newest first"
        assert "200 conversations" in page

    @pytest.mark.parametrize("who", ["holder", "pro"])
    def test_a_thread_costs_the_same_with_1_or_120_messages(
        self, app: Flask, people: People, who: str
    ) -> None:
        conversation = start(people, attachment=PDF)
        client = signed_in(app, getattr(people, who))
        writer = people.pro if who == "holder" else people.holder
        path = f"/messages/{conversation.id}"

        def measure() -> tuple[int, int]:
            """Read (nothing waiting), then with a new message waiting (marked read)."""
            client.get(path)
            steady = _statements(app, client, path)
            messages.reply(writer, conversation, body="Encore un mot.")
            db.session.commit()
            return steady, _statements(app, client, path)

        small = measure()  # 1 message, then 2
        for n in range(118):
            author = people.pro if n % 2 else people.holder
            upload = messages.Upload(io.BytesIO(PDF), f"f{n}.pdf") if n % 10 == 0 else None
            messages.reply(author, conversation, body=f"Message {n}", attachment=upload)
        db.session.commit()
        large = measure()  # 120 messages, then 121
        assert _conversations(people.holder)[0].message_count == 121
        assert large == small
        assert large[0] <= 8, large  # reading; marking read writes the history too
        assert "Message 117" in _words(client.get(path))
        assert "Message 0" in _words(client.get(f"{path}?page=5"))


# --- 6. what a second look found ---------------------------------------------------------------


class TestSecondLook:
    def test_a_blocked_professional_learns_nothing_of_new_replies(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        assert answer(patient, conversation.id).status_code == HTTPStatus.SEE_OTHER
        assert messages.unread_count(people.pro) == 1
        authorise(people.pro, people.holder, kind="blocked")
        assert messages.unread_count(people.pro) == 0  # not a phantom count on his badge
        assert answer(patient, conversation.id, "Encore une question.").status_code == 303
        assert messages.unread_count(people.pro) == 0
        pro = signed_in(app, people.pro)
        assert pro.get("/messages/unread?seen=0").status_code == HTTPStatus.NO_CONTENT

    def test_an_attachment_kept_then_deleted_may_be_kept_again(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people, attachment=PDF)
        patient = signed_in(app, people.holder)
        attachment = db.session.scalars(select(MessageAttachment)).one()
        path = f"/messages/{conversation.id}/attachments/{attachment.id}/save"
        first = post(patient, path, category="comptes_rendus")
        document_id = int(first.headers["Location"].rsplit("/", 1)[1])
        assert post(patient, f"/documents/{document_id}/delete").status_code == HTTPStatus.SEE_OTHER
        db.session.expire_all()
        assert db.session.get(MessageAttachment, attachment.id).saved_document_id is None  # type: ignore[union-attr]
        again = post(patient, path, category="comptes_rendus")
        assert again.status_code == HTTPStatus.SEE_OTHER
        assert again.headers["Location"] != first.headers["Location"]
        assert patient.get(again.headers["Location"]).status_code == HTTPStatus.OK

    def test_a_refused_link_followed_by_htmx_shows_its_own_refusal(
        self, app: Flask, people: People
    ) -> None:
        conversation = start(people)
        stranger = signed_in(app, make_patient())
        boosted = {"HX-Request": "true", "HX-Boosted": "true"}
        response = stranger.get(f"/messages/{conversation.id}", headers=boosted)
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.headers["HX-Redirect"] == f"/messages/{conversation.id}"
        fragment = stranger.get(f"/messages/{conversation.id}", headers={"HX-Request": "true"})
        assert fragment.headers.get("HX-Refresh") == "true"

    @pytest.mark.parametrize(
        "body", ["Bonjour\x1b[31m docteur", "Paiement \u202eelbuod\u202c reçu", "nul\x07"]
    )
    def test_invisible_characters_in_a_reply_are_refused_and_kept(
        self, app: Flask, people: People, body: str
    ) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        response = answer(patient, conversation.id, body)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "caractères invisibles" in page_text(response)
        assert _message_count() == 1  # the first one only

    def test_line_breaks_and_tabs_are_plain_text(self, app: Flask, people: People) -> None:
        conversation = start(people)
        patient = signed_in(app, people.holder)
        body = "Bonjour,\r\n\r\nMerci.\tMarie"
        assert answer(patient, conversation.id, body).status_code == HTTPStatus.SEE_OTHER
        assert _message_count() == 2
