"""The forms of a visit. The visit page writes its own checklist and radio groups; these forms
read them back, with the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]
    BooleanField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
)
from wtforms.validators import DataRequired

from webapp.web.identity_fields import nir_field, serial_field

CODE_CHANNELS = [SelectChoice("sms", ""), SelectChoice("email", ""), SelectChoice("print", "")]


class IdentifyForm(FlaskForm):
    """The person's carte Vitale, read by the helper."""

    nir = nir_field()
    vitale_serial = serial_field()


class InformForm(FlaskForm):
    # Any item is read back: the service checks that every one was explained.
    items = SelectMultipleField(validate_choice=False)
    consent = BooleanField()


class AccessForm(FlaskForm):
    online = RadioField(
        "",
        choices=[SelectChoice("yes", ""), SelectChoice("no", "")],
        validators=[DataRequired()],
    )
    # Checked by the view against the contacts on file, and only when online access is wanted.
    channel = RadioField("", choices=CODE_CHANNELS, validate_choice=False)


class ChannelForm(FlaskForm):
    """Where a new code goes."""

    channel = RadioField("", choices=CODE_CHANNELS, validators=[DataRequired()])


class OpposeForm(FlaskForm):
    confirm = BooleanField(validators=[DataRequired()])
