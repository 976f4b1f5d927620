"""One WTForms form per kind of profile entry: the same form checks the plain POST, the htmx
save and the inline check of a field. Plausibility bounds live here, with their messages; the
measurement forms are in `measure_forms`, the parts all forms share in `form_parts`."""

from __future__ import annotations

import phonenumbers
from flask_babel import lazy_gettext as _l
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

from webapp.blueprints.profile.form_parts import EntryForm as EntryForm
from webapp.blueprints.profile.form_parts import day_field, text_field
from webapp.blueprints.profile.measure_forms import MEASURE_FORMS as MEASURE_FORMS
from webapp.blueprints.profile.measure_forms import MMOL_PER_G as MMOL_PER_G
from webapp.blueprints.profile.measure_forms import MeasureForm as MeasureForm
from webapp.models import EntryKind
from webapp.web.labels import ORGAN_CHOICES


class ConditionForm(EntryForm):
    label = text_field(
        _l("Maladie ou intervention"), required=_l("Écrivez la maladie ou l'intervention.")
    )
    start_date = day_field(_l("Depuis le, ou date de l'intervention"))
    text = TextAreaField(_l("Précisions"), validators=[Optional(), Length(max=1000)])

    def validate_start_date(self, field: DateField) -> None:
        self.check_day(field, what=_l("Cette date"))


class AllergyForm(EntryForm):
    label = text_field(
        _l("Substance, médicament ou aliment"),
        required=_l("Écrivez ce qui provoque l'allergie, par exemple : pénicilline."),
    )
    reaction = text_field(_l("Réaction"))
    severity = SelectField(
        _l("Gravité"),
        choices=[
            SelectChoice("", _l("Je ne sais pas")),
            SelectChoice("mild", _l("Légère")),
            SelectChoice("moderate", _l("Modérée")),
            SelectChoice("severe", _l("Sévère (œdème, choc, hospitalisation)")),
        ],
        validators=[Optional()],
    )


class TreatmentForm(EntryForm):
    label = text_field(_l("Médicament"), required=_l("Écrivez le nom du médicament."))
    dose = text_field(_l("Dose"), limit=100)
    frequency = text_field(_l("Fréquence"), limit=100)
    start_date = day_field(_l("Début"))
    end_date = day_field(_l("Fin"), hint=_l("Laissez vide si le traitement continue."))
    prescriber = text_field(_l("Prescrit par"))
    acknowledge = BooleanField(_l("J'ai lu ces alertes et je confirme ce traitement"))

    def validate_start_date(self, field: DateField) -> None:
        self.check_day(field, what=_l("Le début du traitement"))

    def validate_end_date(self, field: DateField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("La fin du traitement doit suivre son début."))
        if field.data and self.birth_date is not None and field.data < self.birth_date:
            raise ValidationError(_l("Cette date ne peut pas être avant la naissance du patient."))


class VaccinationForm(EntryForm):
    label = text_field(_l("Vaccin"), required=_l("Écrivez le nom du vaccin."))
    start_date = day_field(
        _l("Date de l'injection"),
        required=_l("Indiquez la date de l'injection : jour, mois et année."),
        hint=_l("Jour, mois et année, par exemple le 20 octobre 2025."),
    )
    dose = text_field(_l("Dose ou rappel"), limit=100)
    batch = text_field(_l("Numéro de lot"), limit=60)

    def validate_start_date(self, field: DateField) -> None:
        self.check_day(field, what=_l("La date de vaccination"))


class FamilyForm(EntryForm):
    relation = text_field(
        _l("Lien de parenté"), required=_l("Indiquez le lien, par exemple : mère."), limit=100
    )
    label = text_field(_l("Maladie"), required=_l("Écrivez la maladie."))


class DirectivesForm(EntryForm):
    text = TextAreaField(
        _l("Mes directives anticipées"),
        validators=[Length(max=4000)],  # not Optional(): it would skip validate_text
        description=_l("Ce que vous souhaitez si vous ne pouvez plus vous exprimer."),
    )
    document_id = SelectField(_l("Ou un document de mon dossier"), validators=[Optional()])

    def validate_text(self, field: TextAreaField) -> None:
        if not (field.data or "").strip() and not (self.document_id.data or "").strip():
            raise ValidationError(
                _l("Écrivez vos directives, ou choisissez le document qui les contient.")
            )


class OrganDonationForm(EntryForm):
    label = RadioField(
        _l("Ma position sur le don d'organes"),
        choices=ORGAN_CHOICES,
        validators=[InputRequired(_l("Choisissez une réponse."))],
    )
    text = TextAreaField(_l("Précisions"), validators=[Optional(), Length(max=1000)])


class PersonForm(EntryForm):
    label = text_field(_l("Nom et prénom"), required=_l("Écrivez le nom et le prénom."))
    relation = text_field(_l("Lien avec le patient"), limit=100)
    phone = StringField(
        _l("Téléphone"),
        validators=[DataRequired(_l("Indiquez un numéro de téléphone."))],
        description=_l("Par exemple 06 12 34 56 78, ou +44 20 7946 0958 à l'étranger."),
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )

    def validate_phone(self, field: StringField) -> None:
        try:
            number = phonenumbers.parse(field.data or "", "FR")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(
                _l("Ce numéro n'est pas valide. Vérifiez-le : 10 chiffres en France.")
            )
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


BLOOD_GROUPS = ["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"]


class BloodGroupForm(EntryForm):
    label = SelectField(
        _l("Groupe sanguin"),
        choices=[SelectChoice("", _l("Choisissez"))] + [SelectChoice(g, g) for g in BLOOD_GROUPS],
        validators=[DataRequired(_l("Choisissez le groupe sanguin."))],
    )


ENTRY_FORMS: dict[EntryKind, type[EntryForm]] = {
    EntryKind.CONDITION: ConditionForm,
    EntryKind.SURGERY: ConditionForm,
    EntryKind.ALLERGY: AllergyForm,
    EntryKind.TREATMENT: TreatmentForm,
    EntryKind.VACCINATION: VaccinationForm,
    EntryKind.FAMILY: FamilyForm,
    EntryKind.ADVANCE_DIRECTIVES: DirectivesForm,
    EntryKind.ORGAN_DONATION: OrganDonationForm,
    EntryKind.TRUSTED_PERSON: PersonForm,
    EntryKind.EMERGENCY_CONTACT: PersonForm,
    EntryKind.BLOOD_GROUP: BloodGroupForm,
}
