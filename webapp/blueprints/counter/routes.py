from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from webapp.blueprints.counter import bp, visit
from webapp.core.security import current_account
from webapp.services import access


@bp.before_request
def _agents_only() -> None:
    access.require(current_account(), access.Permission.COUNTER_WORKSPACE)


@bp.get("/")
def home() -> ResponseReturnValue:
    account = current_account()
    return render_template(
        "counter/home.html",
        identify_form=visit.IdentifyForm(),
        **visit.home_context(account),
    )


visit.install(bp, "counter")
