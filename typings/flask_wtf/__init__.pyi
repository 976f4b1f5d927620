# Only the names Carnet uses.
from typing import Any

from wtforms import Form

class FlaskForm(Form):
    class Meta:
        csrf: bool
    def __init__(self, formdata: Any = ..., **kwargs: Any) -> None: ...
    def validate_on_submit(self, extra_validators: Any = ...) -> bool: ...
    def is_submitted(self) -> bool: ...
