"""The fields that identify a person by their carte Vitale, shared by every form that asks."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as nir_number
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, ValidationError

from webapp.core import clock


def compact_nir(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def nir_problem(value: str) -> str | None:
    """A message for a NIR that cannot be right, or None."""
    compact = compact_nir(value)
    if len(compact) != 15:
        return str(
            _l("Le numéro de sécurité sociale compte 15 chiffres : 13 chiffres puis une clé de 2.")
        )
    try:
        nir_number.validate(compact)
    except InvalidChecksum:
        return str(
            _l(
                "Les 2 derniers chiffres (la clé) ne correspondent pas au reste du numéro : "
                "vérifiez-le sur votre carte Vitale."
            )
        )
    except StdnumError:
        return str(_l("Ce numéro de sécurité sociale n'est pas valable : vérifiez chaque chiffre."))
    return None


def serial_problem(value: str) -> str | None:
    compact = "".join(ch for ch in value if not ch.isspace())
    if not compact.isdigit() or not 6 <= len(compact) <= 12:
        return str(
            _l(
                "Le numéro de série de la carte Vitale compte de 6 à 12 chiffres, "
                "sans lettre (voir le dessin)."
            )
        )
    return None


def _check_nir(form: object, field: StringField) -> None:
    found = nir_problem(field.data or "")
    if found:
        raise ValidationError(found)
    field.data = compact_nir(field.data or "")


def _check_serial(form: object, field: StringField) -> None:
    found = serial_problem(field.data or "")
    if found:
        raise ValidationError(found)
    field.data = "".join(ch for ch in field.data or "" if not ch.isspace())


def _check_birth(form: object, field: DateField) -> None:
    value = field.data
    if value is None:
        return
    if value > clock.to_paris(clock.now()).date() or value < date(1900, 1, 1):
        raise ValidationError(_l("Vérifiez la date de naissance (jour, mois, année)."))


def nir_field() -> StringField:
    return StringField(
        _l("Numéro de sécurité sociale"),
        validators=[DataRequired(_l("Saisissez votre numéro de sécurité sociale.")), _check_nir],
        description=_l(
            "Les 15 chiffres inscrits sur votre carte Vitale, clé comprise ; espaces facultatifs."
        ),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )


def serial_field() -> StringField:
    return StringField(
        _l("Numéro de série de la carte Vitale"),
        validators=[DataRequired(_l("Saisissez le numéro de série de la carte.")), _check_serial],
        description=_l(
            "Carte avec photo : le numéro imprimé à la verticale, à droite de la photo. "
            "Carte sans photo : au dos de la carte."
        ),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )


def birth_field() -> DateField:
    return DateField(
        _l("Date de naissance"),
        validators=[
            DataRequired(_l("Saisissez votre date de naissance : jour, mois et année.")),
            _check_birth,
        ],
        description=_l("Jour, mois et année, par exemple le 17 mai 1950."),
        render_kw={"autocomplete": "bday"},
    )
