"""One WTForms form per kind of profile entry: the same form checks the plain POST, the htmx
save and the inline check of a field. Plausibility bounds live here, with their messages."""

from __future__ import annotations

from datetime import date
from typing import Any

import phonenumbers
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]
    BooleanField,
    DateField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from webapp.models import EntryKind, MeasureKind
from webapp.services import clock

MMOL_PER_G = 5.551  # glucose: 1 g/L = 5.551 mmol/L


class NumberField(StringField):
    """A number as people type it in France: "72,5" or "72.5"; never a browser spinner."""

    number: float | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        raw = (self.data or "").strip().replace(" ", "").replace(",", ".")
        self.number = None
        if raw:
            try:
                self.number = float(raw)
            except ValueError:
                self.number = None

    def pre_validate(self, form: Any) -> None:
        if (self.data or "").strip() and self.number is None:
            raise ValidationError(_l("Écrivez un nombre, par exemple 72,5."))

    def show(self, value: float | None) -> None:
        """Fill the field from a stored number, written the French way."""
        if value is None:
            self.data = ""
            return
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        self.data = text.replace(".", ",")


def _text(label: Any, *, required: Any = None, limit: int = 200) -> StringField:
    checks: list[Any] = [Length(max=limit, message=_l("%(max)d caractères au plus."))]
    checks.insert(0, DataRequired(required) if required else Optional())
    return StringField(label, validators=checks)


def _day(label: Any, *, required: Any = None, hint: Any = None) -> DateField:
    return DateField(
        label,
        validators=[InputRequired(required) if required else Optional()],
        description=hint or _l("Par exemple 14/03/2024. Laissez vide si vous ne savez pas."),
    )


class EntryForm(FlaskForm):
    """What every entry form shares: the version it was opened at, for the conflict check."""

    version = HiddenField()
    birth_date: date | None = None  # set by the view: no date of care before birth

    def check_day(self, field: Field, *, what: object) -> None:
        value = field.data
        if value is None:
            return
        if value > clock.to_paris(clock.now()).date():
            raise ValidationError(_l("%(what)s ne peut pas être dans le futur.", what=what))
        if self.birth_date is not None and value < self.birth_date:
            raise ValidationError(
                _l("%(what)s ne peut pas être avant la naissance du patient.", what=what)
            )
        if value.year < 1900:
            raise ValidationError(_l("Choisissez une date après 1900."))


class ConditionForm(EntryForm):
    label = _text(
        _l("Maladie ou intervention"), required=_l("Écrivez la maladie ou l'intervention.")
    )
    start_date = _day(_l("Depuis le, ou date de l'intervention"))
    text = TextAreaField(_l("Précisions"), validators=[Optional(), Length(max=1000)])

    def validate_start_date(self, field: DateField) -> None:
        self.check_day(field, what=_l("Cette date"))


class AllergyForm(EntryForm):
    label = _text(
        _l("Substance, médicament ou aliment"),
        required=_l("Écrivez ce qui provoque l'allergie, par exemple : pénicilline."),
    )
    reaction = _text(_l("Réaction"))
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
    label = _text(_l("Médicament"), required=_l("Écrivez le nom du médicament."))
    dose = _text(_l("Dose"), limit=100)
    frequency = _text(_l("Fréquence"), limit=100)
    start_date = _day(_l("Début"))
    end_date = _day(_l("Fin"), hint=_l("Laissez vide si le traitement continue."))
    prescriber = _text(_l("Prescrit par"))
    acknowledge = BooleanField(_l("J'ai lu ces alertes et je confirme ce traitement"))

    def validate_start_date(self, field: DateField) -> None:
        self.check_day(field, what=_l("Le début du traitement"))

    def validate_end_date(self, field: DateField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("La fin du traitement doit suivre son début."))
        if field.data and self.birth_date is not None and field.data < self.birth_date:
            raise ValidationError(_l("Cette date ne peut pas être avant la naissance du patient."))


class VaccinationForm(EntryForm):
    label = _text(_l("Vaccin"), required=_l("Écrivez le nom du vaccin."))
    start_date = _day(
        _l("Date de l'injection"),
        required=_l("Indiquez la date de l'injection, par exemple 20/10/2025."),
        hint=_l("Par exemple 20/10/2025."),
    )
    dose = _text(_l("Dose ou rappel"), limit=100)
    batch = _text(_l("Numéro de lot"), limit=60)

    def validate_start_date(self, field: DateField) -> None:
        self.check_day(field, what=_l("La date de vaccination"))


class FamilyForm(EntryForm):
    relation = _text(
        _l("Lien de parenté"), required=_l("Indiquez le lien, par exemple : mère."), limit=100
    )
    label = _text(_l("Maladie"), required=_l("Écrivez la maladie."))


class DirectivesForm(EntryForm):
    text = TextAreaField(
        _l("Mes directives anticipées"),
        validators=[Length(max=4000)],  # not Optional(): it would skip validate_text
        description=_l("Ce que vous souhaitez si vous ne pouvez plus vous exprimer."),
    )
    document_id = SelectField(_l("Ou un document de mon dossier"), validators=[Optional()])

    def validate_text(self, field: TextAreaField) -> None:
        if not (field.data or "").strip() and not self.document_id.data:
            raise ValidationError(
                _l("Écrivez vos directives, ou choisissez le document qui les contient.")
            )


ORGAN_CHOICES = [
    SelectChoice("favorable", _l("Favorable au don de mes organes et tissus")),
    SelectChoice("partial", _l("Favorable, avec des restrictions")),
    SelectChoice("refusal", _l("Opposé(e) au don (inscrit(e) au registre national des refus)")),
    SelectChoice("undecided", _l("Je n'ai pas encore décidé")),
]


class OrganDonationForm(EntryForm):
    label = RadioField(
        _l("Ma position sur le don d'organes"),
        choices=ORGAN_CHOICES,
        validators=[InputRequired(_l("Choisissez une réponse."))],
    )
    text = TextAreaField(_l("Précisions"), validators=[Optional(), Length(max=1000)])


class PersonForm(EntryForm):
    label = _text(_l("Nom et prénom"), required=_l("Écrivez le nom et le prénom."))
    relation = _text(_l("Lien avec le patient"), limit=100)
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


# --- measurements -----------------------------------------------------------------------------


class MeasureForm(EntryForm):
    measured_on = _day(
        _l("Date de la mesure"),
        required=_l("Indiquez la date de la mesure, par exemple 03/11/2026."),
        hint=_l("Par exemple 03/11/2026."),
    )

    def validate_measured_on(self, field: DateField) -> None:
        self.check_day(field, what=_l("La date de la mesure"))

    # A single number in one unit (height, weight); blood pressure and glucose add to it.
    unit_name = ""

    def values(self) -> dict[str, object]:
        value: NumberField = getattr(self, "value")  # noqa: B009 - declared by each subclass
        return {"measured_on": self.measured_on.data, "value": value.number, "unit": self.unit_name}

    def fill(self, value: float, value2: float | None, unit: str, fasting: bool | None) -> None:
        field: NumberField = getattr(self, "value")  # noqa: B009
        field.show(value)


def _bounded(field: NumberField, low: float, high: float, message: object) -> None:
    if field.number is not None and not low <= field.number <= high:
        raise ValidationError(str(message))


class HeightForm(MeasureForm):
    unit_name = "cm"
    value = NumberField(
        _l("Taille (cm)"),
        validators=[DataRequired(_l("Indiquez la taille en centimètres, par exemple 168."))],
        render_kw={"inputmode": "decimal"},
    )

    def validate_value(self, field: NumberField) -> None:
        _bounded(
            field,
            30,
            250,
            _l("Une taille s'écrit en centimètres, entre 30 et 250 : par exemple 168."),
        )


class WeightForm(MeasureForm):
    unit_name = "kg"
    value = NumberField(
        _l("Poids (kg)"),
        validators=[DataRequired(_l("Indiquez le poids en kilos, par exemple 64,5."))],
        render_kw={"inputmode": "decimal"},
    )

    def validate_value(self, field: NumberField) -> None:
        _bounded(
            field, 0.5, 350, _l("Un poids s'écrit en kilos, entre 0,5 et 350 : par exemple 64,5.")
        )


class BloodPressureForm(MeasureForm):
    value = NumberField(
        _l("Systolique (le plus grand chiffre, mmHg)"),
        validators=[DataRequired(_l("Indiquez la pression systolique, par exemple 125."))],
        render_kw={"inputmode": "numeric"},
    )
    value2 = NumberField(
        _l("Diastolique (le plus petit chiffre, mmHg)"),
        validators=[DataRequired(_l("Indiquez la pression diastolique, par exemple 80."))],
        render_kw={"inputmode": "numeric"},
    )

    def validate_value(self, field: NumberField) -> None:
        _bounded(
            field,
            60,
            260,
            _l(
                "La systolique est le grand chiffre, entre 60 et 260 mmHg (par exemple 125). "
                "Si votre appareil affiche 12,5, écrivez 125."
            ),
        )

    def validate_value2(self, field: NumberField) -> None:
        _bounded(
            field,
            30,
            160,
            _l("La diastolique est le petit chiffre, entre 30 et 160 mmHg (par exemple 80)."),
        )
        high = self.value.number
        if field.number is not None and high is not None and field.number >= high:
            raise ValidationError(
                _l("La diastolique (petit chiffre) doit être plus basse que la systolique.")
            )

    def values(self) -> dict[str, object]:
        return {
            "measured_on": self.measured_on.data,
            "value": float(round(self.value.number or 0)),
            "value2": float(round(self.value2.number or 0)),
            "unit": "mmHg",
        }

    def fill(self, value: float, value2: float | None, unit: str, fasting: bool | None) -> None:
        self.value.show(round(value))
        self.value2.show(round(value2) if value2 is not None else None)


class GlucoseForm(MeasureForm):
    value = NumberField(
        _l("Glycémie"),
        validators=[DataRequired(_l("Indiquez la glycémie, par exemple 0,95 g/L ou 5,3 mmol/L."))],
        render_kw={"inputmode": "decimal"},
    )
    unit = RadioField(
        _l("Unité"),
        choices=[SelectChoice("g/L", _l("g/L")), SelectChoice("mmol/L", _l("mmol/L"))],
        default="g/L",
        validators=[InputRequired(_l("Choisissez l'unité."))],
    )
    fasting = RadioField(
        _l("À jeun ?"),
        choices=[
            SelectChoice("yes", _l("Oui, à jeun")),
            SelectChoice("no", _l("Non, après un repas")),
        ],
        validators=[InputRequired(_l("Dites si la mesure a été faite à jeun."))],
    )

    def validate_value(self, field: NumberField) -> None:
        if field.number is None:
            return
        if self.unit.data == "mmol/L":
            _bounded(
                field, 1.0, 40.0, _l("En mmol/L, une glycémie est entre 1 et 40 (par exemple 5,3).")
            )
        else:
            _bounded(
                field,
                0.2,
                7.0,
                _l(
                    "En g/L, une glycémie est entre 0,2 et 7 (par exemple 0,95). Si vous lisez "
                    "95 mg/dL, écrivez 0,95."
                ),
            )

    def values(self) -> dict[str, object]:
        number = self.value.number or 0.0
        mmol = number if self.unit.data == "mmol/L" else number * MMOL_PER_G
        return {
            "measured_on": self.measured_on.data,
            "value": round(mmol, 2),
            "unit": self.unit.data,
            "fasting": self.fasting.data == "yes",
        }

    def fill(self, value: float, value2: float | None, unit: str, fasting: bool | None) -> None:
        self.unit.data = unit
        self.value.show(value if unit == "mmol/L" else value / MMOL_PER_G)
        self.fasting.data = "yes" if fasting else "no"


MEASURE_FORMS: dict[MeasureKind, type[MeasureForm]] = {
    MeasureKind.BLOOD_PRESSURE: BloodPressureForm,
    MeasureKind.WEIGHT: WeightForm,
    MeasureKind.HEIGHT: HeightForm,
    MeasureKind.GLUCOSE: GlucoseForm,
}
