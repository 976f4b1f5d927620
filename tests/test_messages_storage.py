"""Messages are medical content kept like documents: their texts and attachments survive the
operator's storage commands (sweep, key rotation) and open afterwards."""

from __future__ import annotations

import io
import secrets
from dataclasses import replace

import pytest
from flask import Flask

from tests.builders import authorise, make_patient, make_professional, pdf_file
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Message, MessageAttachment, Patient
from webapp.services import message_files, messages, storage

PDF = pdf_file("Bilan", padding=b"m" * 300)


def _conversation_with_attachment() -> tuple[Account, MessageAttachment]:
    holder = make_patient()
    pro = make_professional()
    authorise(pro, holder)
    patient = db.session.get(Patient, holder.patient.id if holder.patient else 0)
    assert patient is not None
    conversation = messages.start(
        pro,
        patient,
        subject="Votre bilan",
        body="Le bilan est normal, à revoir dans un an.",
        attachment=messages.Upload(io.BytesIO(PDF), "bilan.pdf"),
    )
    db.session.commit()
    attachment = db.session.scalars(
        db.select(MessageAttachment).where(MessageAttachment.conversation_id == conversation.id)
    ).one()
    return pro, attachment


def test_sweep_keeps_the_files_attached_to_messages(app: Flask) -> None:
    _pro, attachment = _conversation_with_attachment()
    orphan = storage.store(io.BytesIO(PDF), max_bytes=10_000)
    clock.advance(7200)
    result = app.test_cli_runner().invoke(args=["storage", "sweep"])
    assert result.exit_code == 0 and "1 orphan" in result.output
    assert not storage.exists(orphan.blob_id)
    assert storage.exists(attachment.blob_id)
    assert b"".join(message_files.read_attachment(attachment)) == PDF


def test_rotation_rewraps_message_texts_and_attachments(app: Flask) -> None:
    _pro, attachment = _conversation_with_attachment()
    old = app.extensions["carnet.settings"]
    app.extensions["carnet.settings"] = replace(
        old, master_key=secrets.token_bytes(32), retired_master_keys=(old.master_key,)
    )
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 message key(s) re-wrapped" in result.output
    assert "1 attachment key(s) re-wrapped" in result.output
    again = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert "0 message key(s)" in again.output and "0 attachment key(s)" in again.output
    # Without the old key at all, both still open: they are under the new one.
    app.extensions["carnet.settings"] = replace(
        app.extensions["carnet.settings"], retired_master_keys=()
    )
    message = db.session.scalars(db.select(Message)).one()
    db.session.refresh(message)
    db.session.refresh(attachment)
    assert message.key_id == storage.current_key_id() == attachment.key_id
    text = storage.open_text(
        messages.label_of(message.id), message.key_id, message.wrapped_key, message.sealed_body
    )
    assert text == "Le bilan est normal, à revoir dans un an."
    assert b"".join(message_files.read_attachment(attachment)) == PDF


def test_a_text_does_not_open_under_another_label(app: Flask) -> None:
    sealed = storage.seal_text("message-1", "secret médical")
    assert storage.open_text("message-1", sealed.key_id, sealed.wrapped_key, sealed.sealed) == (
        "secret médical"
    )
    assert b"secret" not in sealed.sealed
    with pytest.raises(storage.BlobCorrupted):
        storage.open_text("message-2", sealed.key_id, sealed.wrapped_key, sealed.sealed)
