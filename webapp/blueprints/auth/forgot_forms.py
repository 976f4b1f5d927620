"""The forms of a forgotten password: the identifier, then the code with a second proof."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]
    DateField,
    Field,
    RadioField,
    SelectChoice,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from webapp.core import clock
from webapp.services import codes
from webapp.services.recovery import Evidence, Proof
from webapp.web.identity_fields import serial_problem


class ForgotForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant"),
        validators=[DataRequired(_l("Saisissez votre identifiant.")), Length(max=64)],
        description=_l("Celui que vous avez choisi en activant votre dossier."),
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )


def _six_digits(form: object, field: StringField) -> None:
    """Catch a mistyped code before it costs one of the five tries."""
    typed = codes.normalise(field.data or "")
    if len(typed) != 6 or not typed.isdigit():
        raise ValidationError(_l("Le code compte 6 chiffres."))


def _ten_characters(form: object, field: StringField) -> None:
    if len(codes.normalise(field.data or "")) != 10:
        raise ValidationError(
            _l("Un code de secours compte 10 lettres et chiffres, comme AB12C-D34EF.")
        )


def _serial_shape(form: object, field: StringField) -> None:
    problem = serial_problem(field.data or "")
    if problem:
        raise ValidationError(problem)
    field.data = "".join(ch for ch in field.data or "" if not ch.isspace())


def _birth_bounds(form: object, field: DateField) -> None:
    value = field.data
    if value is not None and (value > clock.to_paris(clock.now()).date() or value.year < 1900):
        raise ValidationError(_l("Vérifiez la date de naissance (jour, mois, année)."))


_CODE_KW = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "spellcheck": "false",
}


class ProofForm(FlaskForm):
    """The code sent, and one second proof of the person's choosing.

    Only the fields of the chosen proof are required; the others are ignored, so that a page
    sent back with a slip keeps what was typed without asking for what the person lacks.
    """

    code = StringField(
        _l("Code reçu par e-mail ou SMS"),
        validators=[
            DataRequired(_l("Saisissez le code à 6 chiffres reçu.")),
            Length(max=32, message=_l("Ce code est trop long.")),
            _six_digits,
        ],
        render_kw=_CODE_KW,
    )
    proof = RadioField(
        _l("Votre seconde preuve"),
        choices=[
            SelectChoice(Proof.VITALE, _l("Ma carte Vitale et ma date de naissance")),
            SelectChoice(Proof.RECOVERY_CODE, _l("Un de mes codes de secours")),
            SelectChoice(Proof.APP, _l("Mon application d'authentification")),
        ],
        default=Proof.VITALE,
        validators=[DataRequired(_l("Choisissez votre seconde preuve."))],
    )
    vitale_serial = StringField(
        _l("Numéro de série de la carte Vitale"),
        validators=[Optional(), _serial_shape],
        description=_l(
            "Carte avec photo : le numéro imprimé à la verticale, à droite de la photo. "
            "Carte sans photo : au dos de la carte."
        ),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )
    birth_date = DateField(
        _l("Date de naissance"),
        validators=[Optional(), _birth_bounds],
        description=_l("Jour, mois et année, par exemple 17/05/1950."),
        render_kw={"autocomplete": "bday"},
    )
    recovery_code = StringField(
        _l("Code de secours"),
        validators=[
            Optional(),
            Length(max=32, message=_l("Ce code est trop long.")),
            _ten_characters,
        ],
        description=_l("L'un des 10 codes notés quand vous avez relié votre application."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    app_code = StringField(
        _l("Code affiché par l'application"),
        validators=[Optional(), Length(max=32, message=_l("Ce code est trop long.")), _six_digits],
        description=_l("Les 6 chiffres affichés maintenant pour Carnet."),
        render_kw=_CODE_KW,
    )

    REQUIRED: ClassVar[dict[str, dict[str, object]]] = {
        Proof.VITALE: {
            "vitale_serial": _l("Saisissez le numéro de série de la carte."),
            "birth_date": _l("Saisissez votre date de naissance : jour, mois et année."),
        },
        Proof.RECOVERY_CODE: {"recovery_code": _l("Saisissez l'un de vos codes de secours.")},
        Proof.APP: {"app_code": _l("Saisissez le code affiché par votre application.")},
    }

    def validate(self, extra_validators: Mapping[str, Sequence[object]] | None = None) -> bool:
        super().validate(extra_validators)
        wanted = self.REQUIRED.get(str(self.proof.data or ""), {})
        for fields in self.REQUIRED.values():
            for name in set(fields) - set(wanted):
                self._fields[name].errors = []
        for name, message in wanted.items():
            field: Field = self._fields[name]
            if not field.errors and not (field.raw_data and str(field.raw_data[0]).strip()):
                field.errors = [str(message)]
        self._errors = None  # read again from the fields
        return not any(field.errors for field in self._fields.values())

    def evidence(self) -> Evidence:
        kind = Proof(self.proof.data)
        if kind == Proof.VITALE:
            birth: date | None = self.birth_date.data
            return Evidence(kind, vitale_serial=self.vitale_serial.data or "", birth_date=birth)
        typed = self.recovery_code.data if kind == Proof.RECOVERY_CODE else self.app_code.data
        return Evidence(kind, code=typed or "")
