"""The counter console's home page. The visit itself is the `visit` blueprint, registered at
/counter as `counter_visit`."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from webapp.blueprints.counter import bp
from webapp.blueprints.visit.forms import IdentifyForm
from webapp.blueprints.visit.routes import home_context, register_home_page
from webapp.models import Account
from webapp.policy import Permission, loaders
from webapp.web.security import current_account


@bp.before_request
def _agents_only() -> None:
    loaders.require(current_account(), Permission.COUNTER_WORKSPACE)


def render_home(account: Account, *, identify_form: IdentifyForm | None = None) -> str:
    return render_template(
        "counter/home.html",
        identify_form=identify_form or IdentifyForm(),
        **home_context(account),
    )


@bp.get("/")
def home() -> ResponseReturnValue:
    return render_home(current_account())


# Shown again, with the form's errors, when the visit blueprint cannot identify the person.
register_home_page("counter", render_home)
