from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField  # type: ignore[attr-defined]
from wtforms.validators import Optional, ValidationError

from webapp.labels import ACTION_LABELS, ACTOR_LABELS


def _plausible(field: DateField) -> None:
    if field.data and not 1900 <= field.data.year <= 2100:
        raise ValidationError(_l("Choisissez une date entre 1900 et 2100."))


class HistoryFilterForm(FlaskForm):
    class Meta:
        csrf = False

    actor = SelectField(
        _l("Qui"),
        choices=[SelectChoice("", _l("Tout le monde"))]
        + [SelectChoice(k.value, v) for k, v in ACTOR_LABELS.items()],
        validators=[Optional()],
    )
    action = SelectField(
        _l("Quelle action"),
        choices=[SelectChoice("", _l("Toutes les actions"))]
        + [SelectChoice(k.value, v) for k, v in ACTION_LABELS.items()],
        validators=[Optional()],
    )
    since = DateField(
        _l("Du"), validators=[Optional()], description=_l("Date de début, par exemple 01/03/2026")
    )
    until = DateField(_l("Au"), validators=[Optional()], description=_l("Date de fin, incluse"))

    def validate_since(self, field: DateField) -> None:
        _plausible(field)

    def validate_until(self, field: DateField) -> None:
        _plausible(field)
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("La date de fin doit suivre la date de début."))
