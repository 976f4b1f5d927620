"""Template filters: dates in Europe/Paris, in the visitor's language."""

from __future__ import annotations

from datetime import date, datetime

import phonenumbers
from babel.numbers import format_decimal
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale, ngettext

from webapp.core import clock
from webapp.models import Document
from webapp.policy import relations
from webapp.services import emergency, messages
from webapp.services.emergency import REASONS
from webapp.web import history_labels, labels
from webapp.web.labels import ORGAN_CHOICES
from webapp.web.security import current_account_or_none


def install(app: Flask) -> None:
    app.add_template_filter(_when, "when")
    app.add_template_filter(_day, "day")
    app.add_template_global(labels.action_label, "action_label")
    app.add_template_global(labels.actor_label, "actor_label")
    app.add_template_global(history_labels.event_label, "event_label")
    app.add_template_global(history_labels.event_detail, "event_detail")
    app.add_template_global(history_labels.refusal_reason, "refusal_reason")
    app.add_template_global(labels.profession_label, "profession_label")
    app.add_template_global(labels.specialty_label, "specialty_label")
    app.add_template_global(labels.category_label, "category_label")
    app.add_template_global(labels.type_label, "type_label")
    app.add_template_global(labels.severity_label, "severity_label")
    app.add_template_global(labels.file_kind, "file_kind")
    app.add_template_global(labels.record_state_label, "record_state_label")
    app.add_template_filter(_size, "size")
    app.add_template_filter(_time_left, "time_left")
    app.add_template_global(_open_emergency, "open_emergency")
    app.add_template_global(_unread_messages, "unread_messages")
    app.add_template_global(_is_held, "is_held")
    app.add_template_global(_emergency_reason, "emergency_reason")
    app.add_template_global(_number, "number")
    app.add_template_global(_organ_label, "organ_label")
    app.add_template_filter(_phone, "phone")


def _phone(value: str) -> str:
    """A stored phone number (E.164) written as people read it: 06 12 34 56 78 in France."""

    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def _organ_label(code: str) -> str:

    for choice in ORGAN_CHOICES:
        if choice.value == code:
            return str(choice.label)
    return code


def _number(value: float) -> str:
    """A measured value the way people read it in their language: 64,5 in French."""

    return str(format_decimal(round(value, 2), locale=str(get_locale() or "fr")))


def _emergency_reason(code: str) -> str:

    label = REASONS.get(code)
    return str(label) if label is not None else code


def _is_held(doc: object) -> bool:

    return isinstance(doc, Document) and relations.is_held(doc)


def _unread_messages() -> int:
    """Messages waiting for the signed-in person, for the badge in the menu (one query)."""
    account = current_account_or_none()
    return messages.unread_count(account) if account is not None else 0


def _open_emergency() -> object:
    """The signed-in professional's emergency window open now, for the red banner."""

    account = current_account_or_none()
    return emergency.open_for(account) if account is not None else None


def _time_left(until: datetime) -> str:

    minutes = max(int((until - clock.now()).total_seconds() // 60), 0)
    hours, rest = divmod(minutes, 60)
    if hours:
        return ngettext("%(num)d h", "%(num)d h", hours) + " " + f"{rest:02d} min"
    return ngettext("%(num)d minute", "%(num)d minutes", rest)


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, "d MMMM y 'à' HH:mm" if _is_french() else "d MMMM y, HH:mm")


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return format_date(value, "long")


def _size(value: int) -> str:
    if value < 1024:
        return f"{value} o" if _is_french() else f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} Ko" if _is_french() else f"{value / 1024:.0f} KB"
    return f"{value / 1024 / 1024:.1f} Mo" if _is_french() else f"{value / 1024 / 1024:.1f} MB"


def _is_french() -> bool:

    locale = get_locale()
    return locale is None or locale.language == "fr"
