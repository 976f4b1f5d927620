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
