"""The messaging forms: a professional's first message, a reply, keeping an attachment."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (  # type: ignore[attr-defined]
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from webapp.services.messages import BODY_MAX, SUBJECT_MAX
from webapp.web.labels import CATEGORY_LABELS
from webapp.web.text_checks import PlainText, SingleLine

ATTACHMENT_HINT = _l("Facultatif. PDF, photo (JPEG, PNG, TIFF), RTF ou texte ; 5 Mo au plus.")


def _body() -> TextAreaField:
    return TextAreaField(
        _l("Message"),
        validators=[
            DataRequired(_l("Écrivez votre message.")),
            Length(
                max=BODY_MAX,
                message=_l(
                    "Un message ne peut dépasser %(max)d caractères. Raccourcissez-le, ou "
                    "joignez un document.",
                    max=BODY_MAX,
                ),
            ),
            PlainText(),
        ],
        description=_l("%(max)d caractères au plus.", max=BODY_MAX),
    )


class _Submitted(FlaskForm):
    submission = HiddenField(default=lambda: uuid.uuid4().hex)

    def submission_key(self) -> str | None:
        value = self.submission.data or ""
        return value if value.isalnum() and len(value) <= 64 else None


class ReplyForm(_Submitted):
    body = _body()
    attachment = FileField(_l("Pièce jointe"), description=ATTACHMENT_HINT)


class NewConversationForm(_Submitted):
    patient = SelectField(
        _l("Patient"),
        validators=[DataRequired(_l("Choisissez le patient."))],
        validate_choice=True,
    )
    subject = StringField(
        _l("Objet"),
        validators=[
            DataRequired(_l("Donnez un objet au message.")),
            Length(
                max=SUBJECT_MAX,
                message=_l("L'objet ne peut dépasser %(max)d caractères.", max=SUBJECT_MAX),
            ),
            SingleLine(),
        ],
    )
    body = _body()
    attachment = FileField(_l("Pièce jointe"), description=ATTACHMENT_HINT)
    hidden_from_legal_reps = BooleanField(
        _l("Ne pas montrer aux représentants légaux (patient mineur)"),
    )

    def offer(self, patients: list[tuple[int, str]]) -> None:
        self.patient.choices = [SelectChoice("", _l("Choisissez le patient"))] + [
            SelectChoice(str(patient_id), name) for patient_id, name in patients
        ]


class SaveAttachmentForm(FlaskForm):
    category = SelectField(
        _l("Catégorie"),
        choices=[SelectChoice("", _l("Choisissez une catégorie"))]
        + [SelectChoice(code.value, label) for code, label in CATEGORY_LABELS.items()],
        validators=[DataRequired(_l("Choisissez une catégorie."))],
        validate_choice=True,
    )
