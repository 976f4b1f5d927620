"""What the demo patient's conversations say (`messages.toml`), checked when read; `replay`
writes them through the messaging service."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache

from webapp.core import clock
from webapp.services import messages
from webapp.services.demo import people, texts
from webapp.services.demo.data import Entry, parse_toml, read_text
from webapp.services.demo.dates import DateRule, parse_rule
from webapp.services.demo.templates import check

FILE = "messages.toml"
# A conversation's `key` becomes its submission key: loading it again finds it.
KEY_PREFIX = "demo"
KEY_MAX = 40
LETTER_FIELDS = texts.BASE_FIELDS | texts.NAME_FIELDS


@dataclass(frozen=True)
class Moment:
    """A day (a rule of `dates`) and a time of that day in Paris."""

    day: DateRule
    time: time

    def resolve(self, today: date, named: Mapping[str, date]) -> datetime:
        local = datetime.combine(self.day.resolve(today, named), self.time, clock.PARIS)
        return local.astimezone(UTC)


@dataclass(frozen=True)
class Letter:
    """A one-page PDF attachment, written like a demo document (`files.pdf`)."""

    file_name: str
    heading: str
    issuer: tuple[str, ...]
    lines: tuple[str, ...]
    signed: str | None


@dataclass(frozen=True)
class DemoMessage:
    author: str  # a demo account's identifier
    moment: Moment
    body: str
    attachment: Letter | None
    unread: bool  # its reader has not opened it yet


@dataclass(frozen=True)
class DemoConversation:
    key: str
    professional: str
    subject: str
    messages: tuple[DemoMessage, ...]
    closed: Moment | None  # by the professional
    archived: Moment | None  # by the patient

    @property
    def submission_key(self) -> str:
        return KEY_PREFIX + self.key


# --- reading messages.toml -------------------------------------------------------------------


def _time(entry: Entry, key: str) -> time:
    raw = entry.text(key)
    try:
        hours, minutes = raw.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(raw)
        return time(int(hours), int(minutes))
    except ValueError:
        entry.fail(f'"{key}" must be a time of day (HH:MM), got {raw!r}')


def _moment(entry: Entry, names: Collection[str]) -> Moment:
    moment = Moment(parse_rule(entry, "when", names), _time(entry, "time"))
    entry.done()
    return moment


def _text(entry: Entry, key: str, limit: int) -> str:
    value = entry.text(key).strip()
    if not value or len(value) > limit:
        entry.fail(f'"{key}" must hold 1 to {limit} characters, got {len(value)}')
    return value


def _letter(entry: Entry, fields: frozenset[str], issuers: Mapping[str, tuple[str, ...]]) -> Letter:
    file_name = entry.text("file_name")
    if not file_name.endswith(".pdf"):
        entry.fail(f'"file_name" must end in .pdf, got {file_name!r}')
    issuer = entry.optional_text("issuer")
    if issuer is not None and issuer not in issuers:
        entry.fail(f'"issuer" must be one of documents.toml\'s [issuers], got {issuer!r}')
    letter = Letter(
        file_name=file_name,
        heading=check(entry, "heading", entry.text("heading"), fields),
        issuer=issuers[issuer] if issuer is not None else (),
        lines=tuple(check(entry, "lines", line, fields) for line in entry.texts("lines")),
        signed=entry.optional_text("signed"),
    )
    entry.done()
    return letter


def _message(
    entry: Entry,
    authors: set[str],
    names: frozenset[str],
    issuers: Mapping[str, tuple[str, ...]],
) -> DemoMessage:
    author = entry.text("author")
    if author not in authors:
        entry.fail(f'"author" must be one of {", ".join(sorted(authors))}, got {author!r}')
    message = DemoMessage(
        author=author,
        moment=Moment(parse_rule(entry, "when", names), _time(entry, "time")),
        body=_text(entry, "body", messages.BODY_MAX),
        attachment=_letter(entry.table("attachment"), LETTER_FIELDS | names, issuers)
        if entry.has("attachment")
        else None,
        unread=entry.flag("unread"),
    )
    entry.done()
    return message


def _conversation(
    entry: Entry,
    accounts: people.DemoAccounts,
    names: frozenset[str],
    issuers: Mapping[str, tuple[str, ...]],
) -> DemoConversation:
    key = entry.text("key")
    if not (key.isascii() and key.isalnum() and key.islower()) or len(key) > KEY_MAX:
        entry.fail(f'"key" must be 1 to {KEY_MAX} lowercase letters and digits, got {key!r}')
    professionals = {pro.identifier for pro in accounts.professionals}
    professional = entry.text("professional")
    if professional not in professionals:
        entry.fail(f'"professional" must be a demo professional of {people.FILE}')
    authors = {professional, accounts.patient.identifier}
    rows = entry.tables("messages", "author")
    if not rows:
        entry.fail('"messages" must hold at least one message')
    found = [_message(row, authors, names, issuers) for row in rows]
    conversation = DemoConversation(
        key=key,
        professional=professional,
        subject=_text(entry, "subject", messages.SUBJECT_MAX),
        messages=tuple(found),
        closed=_moment(entry.table("closed"), names) if entry.has("closed") else None,
        archived=_moment(entry.table("archived"), names) if entry.has("archived") else None,
    )
    entry.done()
    _check_turns(entry, conversation)
    return conversation


def _check_turns(entry: Entry, conversation: DemoConversation) -> None:
    """Only professionals start; only the last message may wait unread, and only while its
    reader does nothing more in the conversation."""
    first, last = conversation.messages[0], conversation.messages[-1]
    if first.author != conversation.professional:
        entry.fail("the first message must be the professional's: only they start a conversation")
    if any(message.unread for message in conversation.messages[:-1]):
        entry.fail("only the last message may be unread: whoever answers has read it")
    from_professional = last.author == conversation.professional
    if last.unread and (conversation.archived if from_professional else conversation.closed):
        entry.fail("the last message is unread, but its reader acts after it")


def parse(
    text: str,
    accounts: people.DemoAccounts,
    dates: Collection[str],
    issuers: Mapping[str, tuple[str, ...]],
) -> tuple[DemoConversation, ...]:
    """`dates`: the named dates of documents.toml a date may refer to; `issuers`: its
    letterheads."""
    top = parse_toml(FILE, text)
    names = frozenset(dates)
    found = tuple(
        _conversation(row, accounts, names, issuers) for row in top.tables("conversations", "key")
    )
    top.done()
    keys = [conversation.key for conversation in found]
    if len(set(keys)) != len(keys):
        top.fail("two conversations have the same key")
    return found


def document_issuers() -> dict[str, tuple[str, ...]]:
    """The letterheads of documents.toml, by name."""
    table = parse_toml(texts.FILE, read_text(texts.FILE)).table("issuers", "[issuers]")
    return {name: table.texts(name) for name in table.values}


@lru_cache(maxsize=1)
def current() -> tuple[DemoConversation, ...]:
    return parse(read_text(FILE), people.current(), texts.current().dates, document_issuers())
