"""The filters of the reimbursement history: a plain GET form, no CSRF (it changes nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField  # type: ignore[attr-defined]


class FilterForm(FlaskForm):
    """The choices are the values of the patient's own lines; a value that is not one of them
    is no error: it simply matches no line (`services.reimbursements.filters_from`)."""

    class Meta:
        csrf = False

    professional = SelectField(_l("Professionnel de santé"), validate_choice=False)
    kind = SelectField(_l("Type de soin"), validate_choice=False)

    def offer(self, professionals: Sequence[str], kinds: Sequence[str]) -> None:
        self.professional.choices = [SelectChoice("", _l("Tous les professionnels"))] + [
            SelectChoice(name, name) for name in professionals
        ]
        self.kind.choices = [SelectChoice("", _l("Tous les types de soin"))] + [
            SelectChoice(kind, kind) for kind in kinds
        ]
