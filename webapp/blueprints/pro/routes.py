from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from webapp.blueprints.counter import visit
from webapp.blueprints.pro import bp
from webapp.security import current_account
from webapp.services import access


@bp.before_request
def _professionals_only() -> None:
    access.require(current_account(), access.Permission.PRO_WORKSPACE)


@bp.get("/")
def home() -> ResponseReturnValue:
    account = current_account()
    return render_template(
        "pro/home.html", identify_form=visit.IdentifyForm(), **visit.home_context(account)
    )


# A patient present in the consulting room can have their record created here (SPEC §2).
visit.install(bp, "pro")
