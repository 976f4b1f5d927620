"""Postal letters: PDF with WeasyPrint, queued on the outbox's `letter` channel."""

from __future__ import annotations

import io
import stat
from dataclasses import replace
from datetime import date
from http import HTTPStatus
from pathlib import Path

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.builders import make_patient
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import OutboxMessage
from webapp.models.outbox import OutboxStatus
from webapp.services import letters, notify

ADDRESS = "Alice MARTIN\n12 rue des Lilas\n75011 Paris"
NAMES: dict[str, object] = {"first_names": "Alice", "last_name": "Martin"}
CODE = "7KQ4-M9XD-2HWP"
ACTIVATION: dict[str, object] = {**NAMES, "code": CODE, "expires_on": date(2027, 1, 3)}


def pdf_text(data: bytes) -> str:
    """All the text of a PDF, with runs of spaces (and line breaks) made single spaces."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("\xa0", " ").split())


def render(kind: str, context: dict[str, object], language: str = "fr") -> bytes:
    context = {"postal_address": ADDRESS, **context}
    return letters.to_pdf(letters.render_html(kind, language, **context))


def queue_code_letter() -> OutboxMessage:
    return notify.enqueue_letter(
        ADDRESS,
        "activation",
        sensitive=True,
        first_names="Alice",
        last_name="Martin",
        code=CODE,
        expires_on=date(2027, 1, 3),
    )


def _message(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message_id)
    assert message is not None
    return message


class TestLetters:
    @pytest.mark.parametrize(
        ("kind", "context", "sentences"),
        [
            (
                "activation",
                ACTIVATION,
                [
                    CODE,
                    "Valable jusqu'au 3 janvier 2027",
                    "Il ne fonctionne qu'une seule fois",
                    "http://127.0.0.1:5000/enrolment/activate",
                    "numéro de série de votre carte Vitale",
                    "« Activer mon dossier » ou « Je m'oppose à la création »",
                    "six semaines après la date de ce courrier",
                    "Ne communiquez jamais ce code par téléphone",
                ],
            ),
            (
                "opposition_confirmed",
                {**NAMES, "opposed_on": date(2026, 11, 20)},
                [
                    "le 20 novembre 2026 votre opposition",
                    "Aucun dossier n'a été créé",
                    "avec un nouveau code provisoire",
                ],
            ),
            (
                "record_opened",
                {**NAMES, "opened_on": date(2026, 11, 20)},
                ["est ouvert depuis le 20 novembre 2026", "Fermer votre dossier"],
            ),
            (
                "record_closed",
                {**NAMES, "closed_on": date(2026, 11, 20), "deletion_requested": False},
                ["a été fermé le 20 novembre 2026", "archivé pendant dix ans"],
            ),
            (
                "record_closed",
                {**NAMES, "closed_on": date(2026, 11, 20), "deletion_requested": True},
                ["dans un délai de trois mois", "rouvrir votre dossier"],
            ),
        ],
    )
    def test_each_letter_holds_its_content(
        self, app: Flask, kind: str, context: dict[str, object], sentences: list[str]
    ) -> None:
        text = pdf_text(render(kind, {**context, "letter_date": date(2026, 11, 22)}))
        for expected in [
            "Carnet — Assurance Maladie",
            "Paris, le 22 novembre 2026",
            "Bonjour Alice Martin",
            "Alice MARTIN 12 rue des Lilas 75011 Paris",
            "Appelez le 36 46",
            "France Services",
            *sentences,
        ]:
            assert expected in text, (kind, expected)

    def test_the_code_warning_is_only_on_the_code_letter(self, app: Flask) -> None:
        text = pdf_text(render("record_opened", {**NAMES, "opened_on": date(2026, 11, 20)}))
        assert "Ne communiquez jamais ce code" not in text

    def test_the_activation_letter_is_one_a4_page(self, app: Flask) -> None:
        long_address = "\n".join(
            [
                "Marie-Thérèse DE LA FONTAINE",
                "Chez M. et Mme Dupont",
                "Appartement 14, escalier B",
                "Résidence des Lilas",
                "12 rue des Lilas",
                "75011 Paris",
            ]
        )
        for address in (ADDRESS, long_address):
            data = render("activation", {**ACTIVATION, "postal_address": address})
            reader = pypdf.PdfReader(io.BytesIO(data))
            assert len(reader.pages) == 1
            box = reader.pages[0].mediabox
            assert float(box.width) == pytest.approx(595.28, abs=1)
            assert float(box.height) == pytest.approx(841.89, abs=1)

    def test_the_letter_follows_the_language(self, app: Flask) -> None:
        text = pdf_text(render("activation", ACTIVATION, "en"))
        assert "January 3, 2027" in text and CODE in text

    def test_names_and_address_are_escaped(self, app: Flask) -> None:
        context = {**ACTIVATION, "last_name": "<b>X</b>", "postal_address": "<i>Y</i>"}
        html = letters.render_html("activation", "fr", **context)
        assert "<b>" not in html and "&lt;b&gt;X&lt;/b&gt;" in html
        assert "<i>" not in html and "&lt;i&gt;Y&lt;/i&gt;" in html

    def test_nothing_is_fetched(self, app: Flask) -> None:
        with pytest.raises(ValueError, match="fetches nothing"):
            letters.to_pdf('<p>x</p><img src="http://127.0.0.1:9/logo.png">')

    def test_an_unknown_kind_is_refused(self, app: Flask) -> None:
        with pytest.raises(ValueError, match="unknown letter"):
            letters.render_html("../email/signin_code/body", "fr")


class TestLetterChannel:
    def test_a_code_letter_is_sealed_then_printed_then_wiped(
        self, app: Flask, settings: Settings
    ) -> None:
        message = queue_code_letter()
        db.session.commit()
        assert message.channel == "letter" and message.kind == "activation"
        assert message.recipient == ADDRESS and message.account_id is None
        assert message.subject == "Lettre : code provisoire"
        assert CODE not in message.body and message.body.startswith(notify.SEALED_PREFIX)
        assert CODE in notify.message_text(message)

        assert notify.deliver_due("test") == 1

        spool = settings.letters_dir
        path = spool / f"letter-{message.id}-activation.pdf"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(spool.stat().st_mode) == 0o700
        assert [p.name for p in spool.iterdir()] == [path.name]  # no temporary file left
        assert CODE in pdf_text(path.read_bytes())
        sent = _message(message.id)
        assert sent.status == OutboxStatus.SENT and sent.body == notify.WIPED

    def test_a_letter_to_an_account_keeps_an_ordinary_body(
        self, app: Flask, settings: Settings
    ) -> None:
        patient = make_patient()
        message = notify.enqueue_letter(
            ADDRESS,
            "record_opened",
            account=patient,
            first_names="Alice",
            last_name="Martin",
            opened_on=date.today(),
        )
        db.session.commit()
        assert message.account_id == patient.id and "Alice" in message.body
        notify.deliver_due("test")
        assert _message(message.id).body == message.body
        assert (settings.letters_dir / f"letter-{message.id}-record_opened.pdf").exists()

    def test_a_long_address_is_cut_to_the_column(self, app: Flask) -> None:
        address = "Alice MARTIN\n" + "x" * 300
        message = notify.enqueue_letter(
            address, "record_opened", first_names="Alice", last_name="M", opened_on=date.today()
        )
        assert len(message.recipient) == 254

    def test_the_letter_is_written_in_the_events_transaction(self, app: Flask) -> None:
        queue_code_letter()
        db.session.rollback()
        assert db.session.scalars(select(OutboxMessage)).all() == []

    def test_the_spool_folder_comes_from_letters_dir(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CARNET_ENV", "testing")
        instance = tmp_path / "instance"
        assert Settings.from_env(instance).letters_dir == instance / "letters"
        monkeypatch.setenv("LETTERS_DIR", str(tmp_path / "print"))
        assert Settings.from_env(instance).letters_dir == tmp_path / "print"


def test_a_contact_without_an_account_gets_an_email(app: Flask) -> None:
    message = notify.enqueue_contact(
        "alice@example.test", "email", "signin_code", sensitive=True, code="123456"
    )
    db.session.commit()
    assert message.account_id is None and message.channel == "email"
    assert message.recipient == "alice@example.test"
    assert message.subject == "Votre code de connexion Carnet"
    assert "123456" not in message.body and "123456" in notify.message_text(message)


class TestDevelopmentOutbox:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return replace(settings, environment="development")

    def test_a_letter_can_be_read_until_it_is_printed(
        self, app: Flask, client: FlaskClient
    ) -> None:
        message = queue_code_letter()
        url = f"/dev/outbox/{message.id}/letter.pdf"
        page = client.get("/dev/outbox").get_data(as_text=True)
        assert "Voir la lettre (PDF)" in page and url in page and "12 rue des Lilas" in page

        response = client.get(url)
        assert response.status_code == HTTPStatus.OK
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("inline")
        assert CODE in pdf_text(response.data)

        notify.deliver_due("dev")
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND
        assert url not in client.get("/dev/outbox").get_data(as_text=True)

    def test_only_letters_are_served(self, app: Flask, client: FlaskClient) -> None:
        message = notify.enqueue_contact("a@example.test", "email", "signin_code", code="1")
        assert client.get(f"/dev/outbox/{message.id}/letter.pdf").status_code == 404


def test_the_letter_page_is_404_outside_development(app: Flask, client: FlaskClient) -> None:
    message = queue_code_letter()
    response = client.get(f"/dev/outbox/{message.id}/letter.pdf")
    assert response.status_code == HTTPStatus.NOT_FOUND
