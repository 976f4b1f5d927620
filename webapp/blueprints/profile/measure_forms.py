"""The measurement forms: one per kind, each with its plausibility bounds and messages, and
the conversion of what was typed into the stored value and unit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, InputRequired, ValidationError

from webapp.blueprints.profile.form_parts import EntryForm, NumberField, day_field
from webapp.models import MeasureKind

MMOL_PER_G = 5.551  # glucose: 1 g/L = 5.551 mmol/L


class MeasureForm(EntryForm):
    measured_on = day_field(
        _l("Date de la mesure"),
        required=_l("Indiquez la date de la mesure : jour, mois et année."),
        hint=_l("Jour, mois et année, par exemple le 3 novembre 2026."),
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
