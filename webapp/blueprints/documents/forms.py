from __future__ import annotations

import uuid
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length, ValidationError

from webapp.core import clock
from webapp.web.labels import CATEGORY_LABELS
from webapp.web.text_checks import SingleLine


def _category_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("Choisissez une catégorie"))] + [
        SelectChoice(code.value, label) for code, label in CATEGORY_LABELS.items()
    ]


class DocumentForm(FlaskForm):
    file = FileField(
        _l("Fichier"),
        validators=[FileRequired(_l("Choisissez le fichier à ajouter."))],
        description=_l("PDF, photo (JPEG, PNG, TIFF), RTF ou texte ; 5 Mo au plus."),
    )
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(_l("Donnez un titre au document.")),
            Length(max=200, message=_l("Le titre ne peut dépasser 200 caractères.")),
            SingleLine(),
        ],
        description=_l("Par exemple : Prise de sang du 3 mars"),
    )
    category = SelectField(
        _l("Catégorie"),
        choices=_category_choices(),
        validators=[DataRequired(_l("Choisissez une catégorie."))],
        validate_choice=True,
    )
    date = DateField(
        _l("Date des soins"),
        validators=[DataRequired(_l("Indiquez la date des soins : jour, mois et année."))],
    )
    submission = HiddenField(default=lambda: uuid.uuid4().hex)

    def validate_date(self, field: DateField) -> None:
        value = field.data
        if value is None:
            return
        if value > clock.to_paris(clock.now()).date():
            raise ValidationError(_l("La date des soins ne peut pas être dans le futur."))
        if value < date(1900, 1, 1):
            raise ValidationError(_l("Choisissez une date après 1900."))

    def validate_submission(self, field: HiddenField) -> None:
        if field.data and (len(field.data) > 64 or not field.data.isalnum()):
            field.data = None


class ReplaceForm(FlaskForm):
    file = FileField(
        _l("Nouveau fichier"),
        validators=[FileRequired(_l("Choisissez le fichier de la nouvelle version."))],
    )
