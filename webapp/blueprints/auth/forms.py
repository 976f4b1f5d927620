from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from webapp.services import codes, passwords


class LoginForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant"),
        validators=[DataRequired(_l("Saisissez votre identifiant.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Saisissez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )


def _code_shape(form: FlaskForm, field: StringField) -> None:
    """Catch a mistyped code before it costs one of the five tries."""
    typed = codes.normalise(field.data or "")
    if not (len(typed) == 6 and typed.isdigit()) and len(typed) != 10:
        raise ValidationError(
            _l("Le code compte 6 chiffres (ou 10 caractères pour un code de secours).")
        )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Saisissez le code reçu ou affiché par votre application.")),
            Length(max=32, message=_l("Ce code est trop long.")),
            _code_shape,
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "text",
            "autocapitalize": "characters",
            "spellcheck": "false",
        },
    )


class ReauthForm(FlaskForm):
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Saisissez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nouveau mot de passe"),
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

    def check_policy(self, personal: tuple[str, ...]) -> bool:
        found = passwords.problems(self.password.data or "", personal=personal)
        if found:
            self.password.errors = [*self.password.errors, *found]
        return not found
