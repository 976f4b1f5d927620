from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]
    BooleanField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from webapp.services import contacts, provisional
from webapp.web.identity_fields import birth_field, nir_field, serial_field


def _code_shape(form: object, field: StringField) -> None:
    if not provisional.well_formed(field.data or ""):
        raise ValidationError(
            _l(
                "Le code provisoire compte 12 caractères, lettres et chiffres, "
                "comme ABCD-1234-EFGH."
            )
        )


class ActivationForm(FlaskForm):
    code = StringField(
        _l("Code provisoire"),
        validators=[DataRequired(_l("Saisissez le code provisoire reçu.")), _code_shape],
        description=_l(
            "12 caractères, reçus par courrier, e-mail ou SMS. Tirets et espaces facultatifs."
        ),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    nir = nir_field()
    vitale_serial = serial_field()
    birth_date = birth_field()


class LostCodeForm(FlaskForm):
    nir = nir_field()
    vitale_serial = serial_field()
    birth_date = birth_field()
    channel = RadioField(
        _l("Recevoir le code par"),
        choices=[SelectChoice("email", _l("E-mail")), SelectChoice("sms", _l("SMS"))],
        default="email",
        validators=[DataRequired(_l("Choisissez comment recevoir le code."))],
    )


class ChoiceForm(FlaskForm):
    """Activate or oppose: one button each, of equal weight."""


def _email(form: object, field: StringField) -> None:
    if field.data:
        found = contacts.normalise_email(field.data)
        if found is None:
            raise ValidationError(
                _l("Cette adresse e-mail n'est pas valable, par exemple prenom.nom@exemple.fr.")
            )
        field.data = found


def _mobile(form: object, field: StringField) -> None:
    if field.data:
        found = contacts.normalise_mobile(field.data)
        if found is None:
            raise ValidationError(
                _l("Saisissez un numéro de portable français, par exemple 06 12 34 56 78.")
            )
        field.data = found


class ContactsForm(FlaskForm):
    keep_email = RadioField(
        _l("Adresse e-mail"),
        choices=[
            SelectChoice("keep", _l("Elle est toujours la bonne")),
            SelectChoice("change", _l("Je veux en indiquer une autre")),
        ],
        default="keep",
    )
    email = StringField(
        _l("Nouvelle adresse e-mail"),
        validators=[Optional(), _email],
        render_kw={"autocomplete": "email", "inputmode": "email", "spellcheck": "false"},
    )
    keep_mobile = RadioField(
        _l("Téléphone portable"),
        choices=[
            SelectChoice("keep", _l("Il est toujours le bon")),
            SelectChoice("change", _l("Je veux en indiquer un autre")),
        ],
        default="keep",
    )
    mobile = StringField(
        _l("Nouveau numéro de portable"),
        validators=[Optional(), _mobile],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        """An address typed, then "still right" chosen: the field is hidden and not the
        person's answer, so what it holds is neither checked nor used. With nothing on file
        the question is not asked: the field is the answer."""
        super().validate(extra_validators)
        for keep, new in ((self.keep_email, self.email), (self.keep_mobile, self.mobile)):
            if not keep.raw_data:
                keep.data = "change"
            elif keep.data == "keep":
                new.errors = []
        return not self.errors


class ContactCheckForm(FlaskForm):
    email_code = StringField(
        _l("Code reçu par e-mail"),
        validators=[Optional(), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    mobile_code = StringField(
        _l("Code reçu par SMS"),
        validators=[Optional(), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class AccountForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant"),
        validators=[
            DataRequired(_l("Choisissez un identifiant.")),
            Length(min=3, max=64, message=_l("L'identifiant compte de 3 à 64 caractères.")),
        ],
        description=_l("Lettres, chiffres, point, tiret ; par exemple camille.martin"),
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Choisissez un mot de passe."))],
        description=_l("Au moins 12 caractères. Une phrase facile à retenir convient très bien."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Le même mot de passe, une seconde fois"),
        validators=[
            DataRequired(_l("Saisissez à nouveau le mot de passe.")),
            EqualTo("password", _l("Les deux mots de passe ne sont pas identiques.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    second_factor = RadioField(
        _l("À chaque connexion, recevoir le code de confirmation par"),
        choices=[SelectChoice("email", _l("E-mail")), SelectChoice("sms", _l("SMS"))],
        default="email",
    )


class EmergencyForm(FlaskForm):
    emergency = RadioField(
        _l("En cas d'urgence, un professionnel de santé peut consulter mon dossier"),
        choices=[
            SelectChoice("allow", _l("Oui, je l'accepte (recommandé)")),
            SelectChoice("oppose", _l("Non, je m'y oppose")),
        ],
        default="allow",
        validators=[DataRequired(_l("Faites un choix."))],
    )
    regulation = RadioField(
        _l("Le médecin régulateur du SAMU (le 15) peut consulter mon dossier quand j'appelle"),
        choices=[
            SelectChoice("allow", _l("Oui, je l'accepte (recommandé)")),
            SelectChoice("oppose", _l("Non, je m'y oppose")),
        ],
        default="allow",
        validators=[DataRequired(_l("Faites un choix."))],
    )


class OppositionForm(FlaskForm):
    confirm = BooleanField(
        _l("J'ai compris : aucun dossier ne sera créé pour moi."),
        validators=[DataRequired(_l("Cochez la case pour confirmer votre opposition."))],
    )
