"""The demo patient's conversations (`conversations`), written through the messaging service as
they happened: the clock is set to each step's time around the call, so that the messages, the
reads and the history of her record carry their own dates (and the history's chain, signed
over those dates, stays whole)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import NoReturn

from sqlalchemy import delete, func, select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Conversation, DigestEntry, OutboxMessage, Patient
from webapp.policy import Permission, decide
from webapp.services import messages
from webapp.services.demo import conversations, files, texts
from webapp.services.demo.conversations import FILE, DemoConversation, DemoMessage, Letter
from webapp.services.demo.data import DemoDataError
from webapp.services.demo.dates import age
from webapp.services.demo.record import Holder, named_dates
from webapp.services.demo.templates import render

# When nothing else says when, the last message is read this long after it was sent.
READ_AFTER = timedelta(minutes=40)

# --- when each thing happens ------------------------------------------------------------------


class Act(StrEnum):
    START = "start"
    REPLY = "reply"
    READ = "read"
    CLOSE = "close"
    ARCHIVE = "archive"


PERMISSIONS = {
    Act.START: Permission.MESSAGE_START,
    Act.REPLY: Permission.CONVERSATION_REPLY,
    Act.READ: Permission.CONVERSATION_READ,
    Act.CLOSE: Permission.CONVERSATION_CLOSE,
    Act.ARCHIVE: Permission.CONVERSATION_ARCHIVE,
}


@dataclass(frozen=True)
class Step:
    at: datetime
    act: Act
    actor: str  # a demo account's identifier
    message: DemoMessage | None = None


def timeline(
    conversation: DemoConversation,
    patient: str,
    today: date,
    named: Mapping[str, date],
    now: datetime,
) -> list[Step]:
    """What happens in the conversation, in order. A time still to come today becomes `now`;
    the messages must be written in the order they were sent. `named`: the record's dates."""
    steps: list[Step] = []
    sent: datetime | None = None
    for number, message in enumerate(conversation.messages):
        wanted = message.moment.resolve(today, named)
        if sent is not None and wanted < sent:
            _fail(conversation, f"message {number + 1} is dated before the one above it")
        sent = min(wanted, now) if sent is None else max(min(wanted, now), sent)
        steps.append(Step(sent, Act.REPLY if number else Act.START, message.author, message))
    assert sent is not None
    last = conversation.messages[-1]
    if not last.unread:
        reader = patient if last.author == conversation.professional else conversation.professional
        steps.append(Step(min(sent + READ_AFTER, now), Act.READ, reader))
    for act, moment, actor in (
        (Act.CLOSE, conversation.closed, conversation.professional),
        (Act.ARCHIVE, conversation.archived, patient),
    ):
        if moment is not None:
            at = min(moment.resolve(today, named), now)
            if at < steps[0].at:
                _fail(conversation, f"it is {act}d before its first message")
            steps.append(Step(at, act, actor))
    return sorted(steps, key=lambda step: step.at)  # stable: a message before its reading


def _fail(conversation: DemoConversation, message: str) -> NoReturn:
    raise DemoDataError(f"{FILE}, conversation {conversation.key!r}: {message}")


# --- writing them ------------------------------------------------------------------------------


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """The application's clock reads `moment` (and runs on) until the block ends."""
    shift = (moment - clock.now()).total_seconds()
    clock.advance(shift)
    try:
        yield
    finally:
        clock.advance(-shift)


def add(patient: Patient) -> int:
    """Her conversations not loaded yet, each once; returns how many were added."""
    holder = patient.account
    assert holder is not None
    now = clock.now()
    today = clock.to_paris(now).date()
    named = named_dates(today)
    last_notice = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    last_entry = db.session.scalar(select(func.max(DigestEntry.id))) or 0
    added = 0
    for demo in conversations.current():
        accounts = {holder.identifier: holder, demo.professional: _account(demo.professional)}
        if _loaded(accounts[demo.professional], demo):
            continue
        steps = timeline(demo, holder.identifier, today, named, now)
        _play(demo, patient, accounts, steps, named)
        added += 1
    # Her past conversations are not news: no "new message" notice for each of them.
    for model, last in ((OutboxMessage, last_notice), (DigestEntry, last_entry)):
        db.session.execute(
            delete(model).where(
                model.id > last, model.account_id == holder.id, model.kind == "new_message"
            )
        )
    db.session.flush()
    return added


def _account(identifier: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.identifier == identifier))
    assert account is not None, identifier
    return account


def _loaded(professional: Account, demo: DemoConversation) -> bool:
    assert professional.professional is not None
    return bool(
        db.session.scalar(
            select(func.count()).where(
                Conversation.professional_id == professional.professional.id,
                Conversation.submission_key == demo.submission_key,
            )
        )
    )


def _play(
    demo: DemoConversation,
    patient: Patient,
    accounts: dict[str, Account],
    steps: list[Step],
    named: Mapping[str, date],
) -> None:
    conversation: Conversation | None = None
    for number, step in enumerate(steps):
        actor = accounts[step.actor]
        with clock_at(step.at):
            resource = patient if conversation is None else conversation
            decision = decide(actor, PERMISSIONS[step.act], resource)
            if not decision:
                _fail(demo, f"{step.actor} may not {step.act} ({decision.reason})")
            if conversation is None:
                assert step.message is not None
                conversation = messages.start(
                    actor,
                    patient,
                    subject=demo.subject,
                    body=step.message.body,
                    attachment=_upload(demo, step.message, patient, named),
                    submission_key=demo.submission_key,
                )
                continue
            messages.thread(actor, conversation, 1)  # what waited for them is read first
            if step.act == Act.REPLY:
                assert step.message is not None
                messages.reply(
                    actor,
                    conversation,
                    body=step.message.body,
                    attachment=_upload(demo, step.message, patient, named),
                    submission_key=f"{demo.submission_key}{number}",
                )
            elif step.act == Act.CLOSE:
                messages.close(actor, conversation)
            elif step.act == Act.ARCHIVE:
                messages.set_archived(actor, conversation, archived=True)


def _upload(
    demo: DemoConversation, message: DemoMessage, patient: Patient, named: Mapping[str, date]
) -> messages.Upload | None:
    letter = message.attachment
    if letter is None:
        return None
    holder = Holder(patient.first_names, patient.last_name, patient.birth_date, patient.nir)
    day = clock.to_paris(clock.now()).date()
    try:
        content = letter_pdf(letter, holder, day, named)
    except (AttributeError, ValueError) as exc:  # a missing attribute, PageFull
        raise DemoDataError(f"{FILE}, conversation {demo.key!r}: {exc}") from exc
    return messages.Upload(io.BytesIO(content), letter.file_name)


def letter_pdf(letter: Letter, holder: Holder, day: date, named: Mapping[str, date]) -> bytes:
    """The letter as a PDF, its fields filled as a demo document's: `day` is the message's,
    `named` the record's dates."""
    phrases = texts.current().phrases
    values: dict[str, object] = {**named, "holder": holder, "day": day}
    values["age"] = age(holder.birth_date, day)
    for name in ("name", "born", "patient_line"):
        values[name] = render(getattr(phrases, name), values)
    lines = [render(line, values) for line in letter.lines]
    if letter.signed is not None:
        lines += [render(line, {**values, "signed": letter.signed}) for line in phrases.signature]
    return files.pdf(render(letter.heading, values), lines, issuer=letter.issuer)
