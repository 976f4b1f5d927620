"""The agenda's forms: an appointment (the patient chooses the professional, a professional
chooses the patient), a postponed reminder, a reminder marked done, the calendar feed."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]
    BooleanField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from webapp.services.agenda import DURATION_MAX, DURATION_MIN, NOTE_MAX, PLACE_MAX, TITLE_MAX
from webapp.web.text_checks import PlainText, SingleLine

FIRST_DAY = date(1900, 1, 1)  # an appointment's date, as far as it can go either way
LAST_DAY = date(2100, 12, 31)


class DayField(StringField):
    """A day as `<input type="date">` sends it (YYYY-MM-DD); `day` is None when it is not one."""

    day: date | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        self.day = None
        raw = (self.data or "").strip()
        if len(raw) == 10:
            try:
                self.day = date.fromisoformat(raw)
            except ValueError:
                self.day = None

    def pre_validate(self, form: Any) -> None:
        if (self.data or "").strip() and self.day is None:
            raise ValidationError(
                _l(
                    "Cette date n'existe pas. Choisissez un jour du calendrier, "
                    "par exemple 2026-03-14."
                )
            )

    def show(self, value: date) -> None:
        self.data = value.isoformat()
        self.day = value


class TimeOfDayField(StringField):
    """An hour as `<input type="time">` sends it (HH:MM, 00:00 to 23:59)."""

    at: time | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        self.at = None
        raw = (self.data or "").strip()
        if len(raw) in (4, 5) and ":" in raw:
            try:
                self.at = datetime.strptime(raw, "%H:%M").time()
            except ValueError:
                self.at = None

    def pre_validate(self, form: Any) -> None:
        if (self.data or "").strip() and self.at is None:
            raise ValidationError(
                _l(
                    "Cette heure n'existe pas. Écrivez une heure entre 00:00 et 23:59, "
                    "par exemple 14:30."
                )
            )

    def show(self, value: time) -> None:
        self.data = value.strftime("%H:%M")
        self.at = value


class ListField(SelectField):
    """A choice from the list the page offered; anything else says so in plain words."""

    def pre_validate(self, form: Any) -> None:
        offered = {str(value) for value, *_rest in self.iter_choices()}
        if (self.data or "") not in offered:
            raise ValidationError(_l("Choisissez dans la liste proposée."))


def _offer(field: SelectField, choices: list[tuple[str, str]], blank: str) -> None:
    field.choices = [SelectChoice("", blank)] + [SelectChoice(v, label) for v, label in choices]


class AppointmentForm(FlaskForm):
    submission = HiddenField(default=lambda: uuid.uuid4().hex)
    version = HiddenField()
    title = StringField(
        _l("Motif du rendez-vous"),
        validators=[
            DataRequired(_l("Écrivez le motif, par exemple : consultation de suivi.")),
            Length(max=TITLE_MAX, message=_l("%(max)d caractères au plus.", max=TITLE_MAX)),
            SingleLine(),
        ],
        description=_l(
            "Par exemple : consultation de suivi. Ce texte n'est jamais envoyé par courriel."
        ),
    )
    date = DayField(_l("Date"), validators=[InputRequired(_l("Choisissez la date."))])
    time = TimeOfDayField(
        _l("Heure"),
        validators=[InputRequired(_l("Choisissez l'heure."))],
        description=_l("Heure de Paris, par exemple 14:30."),
    )
    duration = IntegerField(
        _l("Durée en minutes"),
        default=30,
        validators=[
            InputRequired(_l("Indiquez la durée en minutes, par exemple 30.")),
            NumberRange(
                min=DURATION_MIN,
                max=DURATION_MAX,
                message=_l(
                    "La durée va de %(min)d minutes à %(max)d minutes (12 heures).",
                    min=DURATION_MIN,
                    max=DURATION_MAX,
                ),
            ),
        ],
    )
    place = StringField(
        _l("Lieu"),
        validators=[
            Length(max=PLACE_MAX, message=_l("%(max)d caractères au plus.", max=PLACE_MAX)),
            SingleLine(),
        ],
        description=_l("Facultatif. Par exemple : cabinet, 12 rue des Lilas, Lyon."),
    )
    professional = ListField(_l("Professionnel de santé"), default="")
    professional_search = StringField(
        _l("Chercher un autre professionnel dans l'annuaire"),
        validators=[Length(max=100, message=_l("%(max)d caractères au plus.", max=100))],
        description=_l("Son nom ou sa ville, puis « Chercher »."),
    )
    patient = ListField(_l("Patient"), default="")
    note = TextAreaField(
        _l("Note"),
        validators=[
            Length(max=NOTE_MAX, message=_l("%(max)d caractères au plus.", max=NOTE_MAX)),
            PlainText(),
        ],
        description=_l(
            "Facultatif. Visible par vous et par le professionnel concerné, jamais envoyée "
            "par courriel."
        ),
    )

    def validate_date(self, field: DayField) -> None:
        """Far-off years overflow the conversion to UTC: a typing slip, said as such."""
        if field.day is not None and not FIRST_DAY <= field.day <= LAST_DAY:
            raise ValidationError(_l("Choisissez une date entre 1900 et 2100."))

    def offer_professionals(self, choices: list[tuple[str, str]]) -> None:
        _offer(self.professional, choices, str(_l("Aucun (rendez-vous personnel)")))

    def offer_patients(self, choices: list[tuple[str, str]]) -> None:
        _offer(self.patient, choices, str(_l("Choisissez le patient")))

    def submission_key(self) -> str | None:
        value = self.submission.data or ""
        return value if value.isalnum() and len(value) <= 64 else None

    def expected_version(self) -> int | None:
        raw = (self.version.data or "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


class PostponeForm(FlaskForm):
    date = DayField(_l("Nouvelle date"), validators=[InputRequired(_l("Choisissez la date."))])


class DoneForm(FlaskForm):
    date = DayField(
        _l("Fait le"),
        validators=[InputRequired(_l("Choisissez la date."))],
        description=_l("Le jour où c'était fait, aujourd'hui ou avant."),
    )


class FeedForm(FlaskForm):
    include_notes = BooleanField(_l("Inclure mes notes dans le calendrier"))


class PlainForm(FlaskForm):
    """A button and its CSRF token (cancel, dismiss, restore, revoke)."""
