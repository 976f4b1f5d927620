from __future__ import annotations

from datetime import timedelta

from flask import jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text

from webapp.blueprints.main import bp
from webapp.core.extensions import db
from webapp.core.security import current_account_or_none, public, safe_next
from webapp.models import AccessEvent, Document, Section
from webapp.models.account import Role
from webapp.services import access, clock, profile
from webapp.services.audit import ActorKind


@bp.get("/")
@public
def home() -> ResponseReturnValue:
    account = current_account_or_none()
    if account is None:
        return render_template("main/landing.html")
    if account.role == Role.PROFESSIONAL:
        return redirect(url_for("pro.home"))
    if account.role == Role.AGENT:
        return redirect(url_for("counter.home"))
    access.require(account, access.Permission.DASHBOARD_PATIENT)
    patient = access.own_patient(account)
    recent = db.session.scalars(access.history_query(account, patient).limit(5)).all()
    last_by_other = db.session.scalar(
        access.history_query(account, patient)
        .where(AccessEvent.actor_kind.in_([ActorKind.PROFESSIONAL, ActorKind.AGENT]))
        .limit(1)
    )
    # Emergency accesses of the last 90 days stay on the dashboard (SPEC §5).
    emergencies = db.session.scalars(
        access.history_query(
            account, patient, action="emergency_opened", since=clock.now() - timedelta(days=90)
        ).limit(3)
    ).all()
    view = profile.view(account, patient)
    latest = db.session.scalars(
        access.documents_query(account, patient)
        .order_by(Document.deposited_at.desc(), Document.id.desc())
        .limit(5)
    ).all()
    return render_template(
        "main/dashboard.html",
        patient=patient,
        recent=recent,
        last_by_other=last_by_other,
        latest=latest,
        emergencies=emergencies,
        allergies=view.of(Section.ALLERGIES),
        treatments=[entry for entry in view.of(Section.TREATMENTS) if entry.current],
    )


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    try:
        db.session.execute(select(text("1")))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        db.session.rollback()
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
