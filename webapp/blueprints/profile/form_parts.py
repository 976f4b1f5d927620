"""What every profile form is built from: a number field typed the French way, text and date
fields with their checks, and the base form with the version and the date-of-care check."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.core import clock


class NumberField(StringField):
    """A number as people type it in France: "72,5" or "72.5"; never a browser spinner."""

    number: float | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        raw = (self.data or "").strip().replace(" ", "").replace(",", ".")
        self.number = None
        if raw:
            try:
                self.number = float(raw)
            except ValueError:
                self.number = None

    def pre_validate(self, form: Any) -> None:
        if (self.data or "").strip() and self.number is None:
            raise ValidationError(_l("Écrivez un nombre, par exemple 72,5."))

    def show(self, value: float | None) -> None:
        """Fill the field from a stored number, written the French way."""
        if value is None:
            self.data = ""
            return
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        self.data = text.replace(".", ",")


def text_field(label: Any, *, required: Any = None, limit: int = 200) -> StringField:
    checks: list[Any] = [Length(max=limit, message=_l("%(max)d caractères au plus."))]
    checks.insert(0, DataRequired(required) if required else Optional())
    return StringField(label, validators=checks)


# The example in words: a date input shows its digits in the order of the browser's language.
DAY_HINT = _l(
    "Jour, mois et année, par exemple le 14 mars 2024. Laissez vide si vous ne savez pas."
)


def day_field(label: Any, *, required: Any = None, hint: Any = None) -> DateField:
    return DateField(
        label,
        validators=[InputRequired(required) if required else Optional()],
        description=hint or DAY_HINT,
    )


class EntryForm(FlaskForm):
    """What every entry form shares: the version it was opened at, for the conflict check."""

    version = HiddenField()
    birth_date: date | None = None  # set by the view: no date of care before birth

    def check_day(self, field: Field, *, what: object) -> None:
        value = field.data
        if value is None:
            return
        if value > clock.to_paris(clock.now()).date():
            raise ValidationError(_l("%(what)s ne peut pas être dans le futur.", what=what))
        if self.birth_date is not None and value < self.birth_date:
            raise ValidationError(
                _l("%(what)s ne peut pas être avant la naissance du patient.", what=what)
            )
        if value.year < 1900:
            raise ValidationError(_l("Choisissez une date après 1900."))
