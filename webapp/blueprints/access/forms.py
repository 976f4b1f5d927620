from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from webapp.web.labels import ACTION_LABELS, ACTOR_LABELS


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
    since = DateField(_l("Du"), validators=[Optional()], description=_l("Premier jour montré"))
    until = DateField(_l("Au"), validators=[Optional()], description=_l("Dernier jour montré"))

    def validate_since(self, field: DateField) -> None:
        _plausible(field)

    def validate_until(self, field: DateField) -> None:
        _plausible(field)
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("La date de fin doit suivre la date de début."))


class DirectorySearchForm(FlaskForm):
    """Find a professional in the directory (active search, and a plain GET form)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Nom du professionnel"),
        validators=[Optional(), Length(max=100)],
        description=_l("Par exemple : Martin, ou Claire Martin"),
    )
    profession = SelectField(_l("Profession"), validators=[Optional()])
    city = StringField(_l("Ville"), validators=[Optional(), Length(max=100)])


DURATIONS = ("default", "permanent", "until")
# A profession with a usual duration (a pharmacist) is offered "default" before these.
OTHER_DURATIONS = [
    SelectChoice("permanent", _l("Jusqu'à ce que je retire l'accès")),
    SelectChoice("until", _l("Jusqu'à une date que je choisis")),
]


class GrantForm(FlaskForm):
    duration = RadioField(
        _l("Pour combien de temps ?"),
        choices=OTHER_DURATIONS,
        validators=[InputRequired(_l("Choisissez une durée."))],
    )
    until = DateField(
        _l("Date de fin de l'accès"),
        validators=[Optional()],
        description=_l("L'accès prend fin au début de ce jour-là."),
    )
    express = BooleanField(
        _l("J'ai lu ce que ce professionnel verra et j'accepte expressément qu'il y accède")
    )

    def validate_until(self, field: DateField) -> None:
        if self.duration.data != "until":
            return
        if field.data is None:
            raise ValidationError(_l("Indiquez la date de fin de l'accès."))
        if field.data.year > 2100:
            raise ValidationError(_l("Choisissez une date avant 2100."))

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        # Optional() stops the chain on an empty date before validate_until runs: without
        # this, "until a date" with no date would grant a permanent access.
        valid = super().validate(extra_validators)
        if self.duration.data == "until" and self.until.data is None and not self.until.errors:
            self.until.errors = [str(_l("Indiquez la date de fin de l'accès."))]
            return False
        return valid


class ConfirmForm(FlaskForm):
    """A confirmation: only the CSRF token."""


class EmergencySettingsForm(FlaskForm):
    emergency = RadioField(
        _l("En cas d'urgence, si je ne peux pas m'exprimer"),
        choices=[
            SelectChoice("allow", _l("Un professionnel peut consulter mon dossier")),
            SelectChoice("oppose", _l("Je m'oppose à tout accès en urgence")),
        ],
        validators=[InputRequired(_l("Choisissez une réponse."))],
    )
    regulation = RadioField(
        _l("Si quelqu'un appelle le SAMU (le 15) pour moi"),
        choices=[
            SelectChoice("allow", _l("Le médecin régulateur du SAMU peut consulter mon dossier")),
            SelectChoice("oppose", _l("Je m'oppose à l'accès du médecin régulateur")),
        ],
        validators=[InputRequired(_l("Choisissez une réponse."))],
    )
