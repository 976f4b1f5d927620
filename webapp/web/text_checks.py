"""Checks on typed text that forms share."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.form import BaseForm
from wtforms.validators import ValidationError


class SingleLine:
    """A title or a subject: one line of visible characters. Line breaks, tabs and invisible
    control characters would break the headers a file is sent with, and mean nothing here."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: BaseForm, field: Field) -> None:
        value = field.data if isinstance(field.data, str) else ""
        if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in value):
            raise ValidationError(
                self.message
                or _l("Écrivez-le sur une seule ligne, sans retour à la ligne ni tabulation.")
            )


# Direction overrides make text read otherwise than it is stored (a "Trojan source").
_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class PlainText:
    """A text of several lines (a message): line breaks and tabs, but no other control
    character and no direction override."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        value = field.data if isinstance(field.data, str) else ""
        if any(
            char in _OVERRIDES or (unicodedata.category(char) == "Cc" and char not in "\t\r\n")
            for char in value
        ):
            raise ValidationError(
                _l("Ce texte contient des caractères invisibles : retapez-le sans mise en forme.")
            )
