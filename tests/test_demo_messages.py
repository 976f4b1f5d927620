"""The demo patient's conversations (`messages.toml`): the file is checked, the loader writes
them through the messaging service at their own dates, once, and what it writes reads back
as a person would find it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.builders import csrf_from, last_code, submit_code, submit_password
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    Conversation,
    DigestEntry,
    Message,
    MessageAttachment,
    OutboxMessage,
)
from webapp.services import audit, demo, filetypes, message_files, messages
from webapp.services.audit import Action
from webapp.services.demo import conversations, people, replay, texts
from webapp.services.demo.data import DemoDataError, read_text
from webapp.services.demo.record import named_dates


def _account(identifier: str) -> Account:
    found = db.session.scalar(select(Account).where(Account.identifier == identifier))
    assert found is not None
    return found


def _conversation(professional: str) -> Conversation:
    pro = _account(professional).professional
    assert pro is not None
    return db.session.scalars(
        select(Conversation).where(Conversation.professional_id == pro.id)
    ).one()


def _messages(conversation: Conversation) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        )
    )


def _counts() -> tuple[int | None, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Conversation, Message, MessageAttachment, AccessEvent)
    )


def _loaded(app: Flask) -> None:
    demo.load()
    db.session.commit()


class TestLoaded:
    """What `flask demo load` gives her, read back through the messaging service."""

    def test_her_conversations_states_and_unread_counts(self, app: Flask) -> None:
        _loaded(app)
        patient = _account("patient.demo")
        inbox = messages.inbox(patient, archived=False, search="", page=1)
        assert [c.subject for c in inbox.items] == [
            "Rendez-vous pour commenter votre échographie",
            "Courrier pour le Dr Benali",
            "Suivi de votre couronne sur la dent 36",
        ]
        archived = messages.inbox(patient, archived=True, search="", page=1)
        assert [c.subject for c in archived.items] == ["Votre plan de prise et la lévothyroxine"]

        traitant = _conversation("medecin.demo")
        assert traitant.is_open and traitant.archived_at is None
        assert (traitant.message_count, traitant.patient_unread) == (4, 0)
        assert traitant.professional_unread == 1  # her last message waits for the doctor
        cardio = _conversation("cardio.demo")
        assert cardio.is_open and (cardio.message_count, cardio.patient_unread) == (1, 1)
        dentist = _conversation("dentiste.demo")
        assert not dentist.is_open and dentist.archived_at is None
        assert (dentist.patient_unread, dentist.professional_unread) == (0, 0)
        pharmacist = _conversation("pharma.demo")
        assert pharmacist.is_open and pharmacist.archived_at is not None
        assert (pharmacist.patient_unread, pharmacist.professional_unread) == (0, 0)

        assert messages.unread_count(patient) == 1
        assert messages.unread_count(_account("medecin.demo")) == 1
        assert messages.unread_count(_account("cardio.demo")) == 0
        # Only the cardiologist's message and her last one to the doctor are still unread.
        unread = db.session.scalars(select(Message).where(Message.read_at.is_(None))).all()
        assert {(m.conversation_id, m.author_kind) for m in unread} == {
            (cardio.id, "professional"),
            (traitant.id, "patient"),
        }

    def test_messages_carry_their_own_dates_in_order(self, app: Flask) -> None:
        _loaded(app)
        now = clock.now()
        today = clock.to_paris(now).date()
        named = named_dates(today)
        for conversation in db.session.scalars(select(Conversation)):
            sent = [m.sent_at for m in _messages(conversation)]
            assert sent == sorted(sent) and sent[-1] <= now
            assert abs(conversation.started_at - sent[0]) < timedelta(seconds=5)
            assert conversation.last_message_at == sent[-1]
        traitant = _messages(_conversation("medecin.demo"))
        assert clock.to_paris(traitant[0].sent_at).date() == today - timedelta(days=19)
        assert clock.to_paris(traitant[0].sent_at).time().replace(microsecond=0) == time(18, 35)
        dentist = _conversation("dentiste.demo")
        assert clock.to_paris(dentist.started_at).date() == named["crown_fitting"] + timedelta(6)
        assert dentist.closed_at is not None
        assert clock.to_paris(dentist.closed_at).date() == named["crown_fitting"] + timedelta(8)
        # The cardiologist wrote today, after the echocardiography: never in the future.
        cardio = _conversation("cardio.demo")
        assert clock.to_paris(cardio.started_at).date() == today

    def test_the_history_has_each_step_at_its_time_and_its_chain_holds(self, app: Flask) -> None:
        _loaded(app)
        dentist = _conversation("dentiste.demo")
        events = db.session.scalars(
            select(AccessEvent)
            .where(
                AccessEvent.resource_type == "conversation",
                AccessEvent.resource_id == str(dentist.id),
            )
            .order_by(AccessEvent.seq)
        ).all()
        actions = [event.action for event in events]
        assert actions.count(Action.MESSAGE_SENT) == 3
        assert actions.count(Action.CONVERSATION_CLOSED) == 1
        assert Action.CONVERSATION_READ in actions
        sent = [m.sent_at for m in _messages(dentist)]
        stamped = [e.occurred_at for e in events if e.action == Action.MESSAGE_SENT]
        assert all(abs(a - b) < timedelta(seconds=5) for a, b in zip(sent, stamped, strict=True))
        assert audit.verify_all()[1] == []

    def test_the_letter_is_a_pdf_that_opens_and_texts_are_sealed(self, app: Flask) -> None:
        _loaded(app)
        traitant = _conversation("medecin.demo")
        attachment = db.session.scalars(select(MessageAttachment)).one()
        assert attachment.conversation_id == traitant.id
        assert attachment.original_name == "courrier-dr-benali.pdf"
        assert attachment.media_type == filetypes.PDF
        content = b"".join(message_files.read_attachment(attachment))
        assert len(content) == attachment.size and content.rstrip().endswith(b"%%EOF")
        assert filetypes.detect(content[: filetypes.SNIFF_BYTES]) == filetypes.PDF
        assert b"Bonjour" not in b"".join(m.sealed_body for m in _messages(traitant))
        # Reading the closed conversation as its dentist opens the texts (nothing is unread).
        shown = messages.thread(_account("dentiste.demo"), _conversation("dentiste.demo"), 1)
        assert shown.items[0].body.startswith("Bonjour Madame Dubois,")
        assert shown.items[-1].body.startswith("Parfait, merci de ces nouvelles.")

    def test_she_opens_the_letter_and_saves_it_as_a_document(
        self, app: Flask, client: FlaskClient
    ) -> None:
        _loaded(app)
        patient = _account("patient.demo")
        assert submit_password(client, patient.identifier, demo.password()).status_code == 303
        assert submit_code(client, last_code(patient)).status_code == 303
        traitant = _conversation("medecin.demo")
        attachment = db.session.scalars(select(MessageAttachment)).one()
        page = client.get(f"/messages/{traitant.id}")
        assert page.status_code == HTTPStatus.OK
        assert "courrier-dr-benali.pdf" in page.get_data(as_text=True)
        download = client.get(f"/messages/{traitant.id}/attachments/{attachment.id}")
        assert download.status_code == HTTPStatus.OK
        assert download.data.startswith(b"%PDF-1.4")
        saved = client.post(
            f"/messages/{traitant.id}/attachments/{attachment.id}/save",
            data={"csrf_token": csrf_from(page), "category": "comptes_rendus"},
        )
        assert saved.status_code == HTTPStatus.SEE_OTHER
        assert re.search(r"/documents/\d+$", saved.headers["Location"])

    def test_a_second_load_adds_nothing_and_no_notice_is_sent(self, app: Flask) -> None:
        _loaded(app)
        before = _counts()
        assert before[:3] == (4, 11, 1)
        for model in (OutboxMessage, DigestEntry):
            assert not db.session.scalar(
                select(func.count()).select_from(model).where(model.kind == "new_message")
            )
        assert demo.load() == []
        db.session.commit()
        assert _counts() == before
        patient = _account("patient.demo").patient
        assert patient is not None and replay.add(patient) == 0


def _parse(text: str) -> tuple[conversations.DemoConversation, ...]:
    return conversations.parse(
        text, people.current(), texts.current().dates, conversations.document_issuers()
    )


class TestMessagesFile:
    """A mistake in messages.toml names the file and the conversation."""

    def test_the_shipped_file_is_valid(self) -> None:
        found = conversations.current()
        assert {c.professional for c in found} == {
            "medecin.demo",
            "cardio.demo",
            "dentiste.demo",
            "pharma.demo",
        }
        assert sum(m.attachment is not None for c in found for m in c.messages) == 1

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (('time = "18:35"', 'time = "18h35"'), '"time" must be a time of day (HH:MM)'),
            (('author = "medecin.demo"', 'author = "pharma.demo"'), '"author" must be one of'),
            (('key = "echocardio"', 'key = "Écho"'), '"key" must be 1 to 40 lowercase'),
            (('issuer = "martin"', 'issuer = "nobody"'), '"issuer" must be one of'),
            (("courrier-dr-benali.pdf", "courrier.docx"), '"file_name" must end in .pdf'),
            (('"Cher confrère,",', '"{patient}",'), "unknown field {patient}"),
            (('{ from = "crown_fitting", days = 6 }\n', '{ from = "noel" }\n'), "not a date"),
            (("\nunread = true\n\n# Her cardio", "\nunread = 1\n\n# Her cardio"), "true or"),
            (('subject = "Courrier', 'topic = "Courrier'), '"subject" is missing'),
            (('key = "couronne36"', 'key = "echocardio"'), "two conversations have the same key"),
        ],
    )
    def test_mistakes_are_named(self, change: tuple[str, str], message: str) -> None:
        text = read_text(conversations.FILE).replace(*change, 1)
        assert text != read_text(conversations.FILE)
        with pytest.raises(DemoDataError, match=re.escape(message)) as caught:
            _parse(text)
        assert str(caught.value).startswith("messages.toml, ")

    def test_the_patient_cannot_start_a_conversation(self) -> None:
        text = read_text(conversations.FILE).replace(
            'author = "cardio.demo"', 'author = "patient.demo"', 1
        )
        with pytest.raises(DemoDataError) as caught:
            _parse(text)
        assert str(caught.value) == (
            "messages.toml, conversations[1] ('echocardio'): "
            "the first message must be the professional's: only they start a conversation"
        )

    def test_only_the_last_message_may_be_unread_and_only_if_its_reader_waits(self) -> None:
        first_reply = 'time = "08:12"\n'
        text = read_text(conversations.FILE).replace(first_reply, first_reply + "unread = true\n")
        with pytest.raises(DemoDataError, match="only the last message may be unread"):
            _parse(text)
        archived = read_text(conversations.FILE).replace(
            'professional = "cardio.demo"\n',
            'professional = "cardio.demo"\n'
            'archived = { when = { days_ago = 0 }, time = "23:59" }\n',
        )
        with pytest.raises(DemoDataError, match="its reader acts after it"):
            _parse(archived)


class TestTimeline:
    TODAY = date(2026, 3, 2)  # a Monday
    NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris

    def _steps(self, key: str, text: str | None = None) -> list[replay.Step]:
        found = {c.key: c for c in (_parse(text) if text else conversations.current())}
        return replay.timeline(
            found[key], "patient.demo", self.TODAY, named_dates(self.TODAY), self.NOW
        )

    def test_each_party_reads_then_acts_and_the_last_message_is_read_later(self) -> None:
        steps = self._steps("couronne36")
        assert [(s.act, s.actor) for s in steps] == [
            ("start", "dentiste.demo"),
            ("reply", "patient.demo"),
            ("reply", "dentiste.demo"),
            ("close", "dentiste.demo"),
            ("read", "patient.demo"),
        ]
        assert steps[-1].at - steps[2].at == replay.READ_AFTER

    def test_a_time_still_to_come_today_becomes_now(self) -> None:
        (step,) = self._steps("echocardio")  # 12:20 in Paris; unread, so no reading
        assert step.at == self.NOW
        assert self._steps("adressagecardio")[-1].at < self.NOW

    def test_messages_out_of_order_are_refused(self) -> None:
        text = read_text(conversations.FILE).replace(
            "when = { days_ago = 1 }", "when = { days_ago = 25 }", 1
        )
        with pytest.raises(DemoDataError) as caught:
            self._steps("adressagecardio", text)
        assert str(caught.value) == (
            "messages.toml, conversation 'adressagecardio': "
            "message 4 is dated before the one above it"
        )


def test_a_professional_the_policy_refuses_is_named(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo keeps the rules: a professional she never authorised cannot write to her."""
    text = read_text(conversations.FILE).replace(
        'professional = "cardio.demo"\n', 'professional = "samu.demo"\n', 1
    )
    text = text.replace('author = "cardio.demo"', 'author = "samu.demo"', 1)
    monkeypatch.setattr(conversations, "current", lambda: _parse(text))
    with pytest.raises(DemoDataError, match=r"'echocardio': samu.demo may not start \(no_"):
        demo.load()
