from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.blueprints.main import bp
from webapp.policy import Permission, loaders
from webapp.services import agenda, dashboard, health
from webapp.web.security import current_account_or_none, public, safe_next


@bp.get("/")
@public
def home() -> ResponseReturnValue:
    account = current_account_or_none()
    if account is None:
        return render_template("main/landing.html")
    if loaders.can(account, Permission.PRO_WORKSPACE):
        return redirect(url_for("pro.home"))
    if loaders.can(account, Permission.COUNTER_WORKSPACE):
        return redirect(url_for("counter.home"))
    loaders.require(account, Permission.DASHBOARD_PATIENT)
    patient = loaders.own_patient(account)
    board = dashboard.for_patient(account, patient)
    return render_template(
        "main/dashboard.html",
        patient=patient,
        recent=board.recent,
        last_by_other=board.last_by_other,
        latest=board.latest,
        emergencies=board.emergencies,
        allergies=board.allergies,
        treatments=board.treatments,
        reimbursements=board.reimbursements,
        appointments=agenda.next_ones(account),
    )


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    if not health.database_reachable():
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.post("/preferences")
@public
def preferences() -> ResponseReturnValue:
    """Language and text size; kept in cookies so that they work before signing in."""
    response = redirect(safe_next(request.form.get("next")), 303)
    language = request.form.get("lang")
    if language in ("fr", "en"):
        response.set_cookie("lang", language, max_age=365 * 86400, samesite="Lax", httponly=True)
    size = request.form.get("text")
    if size in ("large", "normal"):
        response.set_cookie("text", size, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response
