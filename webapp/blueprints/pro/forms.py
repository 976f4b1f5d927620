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
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.blueprints.documents.forms import DocumentForm
from webapp.services import catalogue
from webapp.services.emergency import MIN_JUSTIFICATION, REASONS
from webapp.services.workspace import folded
from webapp.web.identity_fields import nir_field
from webapp.web.labels import type_label

# A box counts as ticked only when the browser sent it ticked ("y"), never for these.
UNTICKED = ("false", "", "0", "off", "no", "n")


class FindPatientForm(FlaskForm):
    nir = nir_field()
    last_name = StringField(
        _l("Nom de naissance ou d'usage"),
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "off"},
    )
    birth_date = DateField(
        _l("Date de naissance"),
        validators=[Optional()],
        description=_l("Le nom ou la date de naissance (jour, mois et année) suffit."),
    )

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        # Not an inline validate_birth_date: Optional() stops the chain on an empty date
        # before it runs, and the NIR alone would then find the patient.
        valid = super().validate(extra_validators)
        name = self.last_name.data or ""
        if name.strip() and not folded(name):
            self.last_name.errors = [
                *self.last_name.errors,
                str(_l("Écrivez le nom en lettres, tel qu'il figure sur la carte Vitale.")),
            ]
            return False
        if not folded(name) and self.birth_date.data is None:
            if not self.birth_date.errors:
                self.birth_date.errors = [
                    str(_l("Saisissez aussi le nom ou la date de naissance du patient."))
                ]
            return False
        return valid


class DeclareConsentForm(FlaskForm):
    attest = BooleanField(
        _l(
            "J'atteste que ce patient, informé, a accepté au cours de la consultation que je "
            "consulte son dossier."
        ),
        validators=[DataRequired(_l("Cochez l'attestation pour déclarer l'accord du patient."))],
        false_values=UNTICKED,
    )


class DepositForm(DocumentForm):
    """A professional's deposit: the patient's form, with the type, the attestation and the
    two restrictions of SPEC §4.4."""

    type_code = SelectField(_l("Type de document"), validators=[DataRequired()])
    informed = BooleanField(
        _l("J'atteste avoir informé le patient de ce dépôt."),
        validators=[DataRequired(_l("Cochez l'attestation : le patient doit être informé."))],
        false_values=UNTICKED,
    )
    hold = BooleanField(
        _l("Non visible par le patient jusqu'à une consultation d'annonce"),
        description=_l(
            "Le patient ne voit qu'un message neutre. Il est prévenu au bout de 14 jours ; le "
            "document devient visible au plus tard 30 jours après le dépôt, ou dès que vous le "
            "libérez."
        ),
    )
    hidden_from_legal_reps = BooleanField(
        _l("Non visible par les représentants légaux (soins confidentiels d'un mineur)")
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.file.description = _l("PDF, photo (JPEG, PNG, TIFF), RTF ou texte ; 20 Mo au plus.")
        known = catalogue.current()
        self.type_code.choices = [SelectChoice("", _l("Choisissez un type"))] + [
            SelectChoice(code, type_label(code)) for code in known.types
        ]

    def validate_type_code(self, field: SelectField) -> None:
        kind = catalogue.current().types.get(field.data or "")
        if kind is None:
            raise ValidationError(_l("Choisissez un type de document dans la liste."))
        if self.category.data and kind.category != self.category.data:
            raise ValidationError(
                _l("Ce type ne correspond pas à la catégorie choisie : changez l'un ou l'autre.")
            )


EMERGENCY_CHOICE = SelectChoice(
    "emergency", _l("Urgence : le patient ne peut pas exprimer sa volonté")
)
REGULATION_CHOICE = SelectChoice(
    "regulation", _l("Régulation : appel au centre 15 pour ce patient")
)


class EmergencyForm(FlaskForm):
    mode = RadioField(
        _l("Situation"),
        choices=[EMERGENCY_CHOICE, REGULATION_CHOICE],
        validators=[InputRequired(_l("Choisissez la situation."))],
    )
    reason = SelectField(
        _l("Motif"),
        choices=[SelectChoice("", _l("Choisissez le motif"))]
        + [SelectChoice(code, label) for code, label in REASONS.items()],
        validators=[DataRequired(_l("Choisissez le motif dans la liste."))],
    )
    justification = TextAreaField(
        _l("Justification"),
        validators=[
            DataRequired(_l("Décrivez la situation en quelques mots.")),
            Length(
                min=MIN_JUSTIFICATION,
                max=2000,
                message=_l("Décrivez la situation en 20 caractères au moins (2 000 au plus)."),
            ),
        ],
        description=_l(
            "20 caractères au moins. Ce texte est relu après coup ; le patient voit le motif."
        ),
    )
    attest = BooleanField(
        _l(
            "J'atteste que le patient est hors d'état d'exprimer sa volonté et que sa santé est "
            "en danger immédiat (ou qu'un appel au centre 15 le concerne)."
        ),
        validators=[DataRequired(_l("Cochez l'attestation pour ouvrir l'accès en urgence."))],
        false_values=UNTICKED,
    )
