"""Carnet: a patient-controlled shared health record."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, g, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import cli
from webapp.blueprints.access import bp as access_bp
from webapp.blueprints.agenda import bp as agenda_bp
from webapp.blueprints.api import BODY_LIMIT as API_BODY_LIMIT
from webapp.blueprints.api import bp as api_bp
from webapp.blueprints.auth import bp as auth_bp
from webapp.blueprints.counter import bp as counter_bp
from webapp.blueprints.dev import bp as dev_bp
from webapp.blueprints.documents import bp as documents_bp
from webapp.blueprints.enrolment import bp as enrolment_bp
from webapp.blueprints.main import bp as main_bp
from webapp.blueprints.messages import bp as messages_bp
from webapp.blueprints.pro import bp as pro_bp
from webapp.blueprints.profile import bp as profile_bp
from webapp.blueprints.reimbursements import bp as reimbursements_bp
from webapp.blueprints.settings import bp as settings_bp
from webapp.blueprints.visit import bp as visit_bp
from webapp.core.extensions import babel, csrf, db, limiter, login_manager, migrate
from webapp.core.settings import PROJECT_ROOT, Settings
from webapp.services import catalogue, prevention
from webapp.services.crypto import settings
from webapp.web import auth_hooks, errors, filters, htmx
from webapp.web.security import current_account_or_none
from webapp.web.uploads import CarnetRequest

LANGUAGES = ("fr", "en")
HTMX_CONFIG = json.dumps(
    {
        "historyCacheSize": 0,
        "allowEval": False,
        "allowScriptTags": False,
        "includeIndicatorStyles": False,
        "selfRequestsOnly": True,
        "refreshOnHistoryMiss": True,
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "422", "swap": True},
            {"code": "[45]..", "swap": False, "error": True},
        ],
    }
)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)

    catalogue.current()  # the matrix and value sets are checked at start, not on first use
    prevention.load_rules()  # so are the prevention reminder rules
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.request_class = CarnetRequest
    app.extensions["carnet.settings"] = settings
    app.config.update(_config(settings))
    if settings.proxy_hops:
        # Behind TLS terminators: take the client's address from X-Forwarded-For, as many
        # hops deep as configured, so that rate limits and session lists see real clients.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _private_file(db.engine.url.database)
            _configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    login_manager.session_protection = None
    limiter.init_app(app)

    app.before_request(_refuse_oversized_bodies)
    app.before_request(_refuse_control_characters)
    app.before_request(_refuse_foreign_bodies)
    auth_hooks.install(app)  # before CSRF: an anonymous visitor is sent to sign in first
    csrf.init_app(app)
    _register_blueprints(app, settings)
    errors.install(app)
    app.after_request(_security_headers)
    app.after_request(htmx.add_vary)
    app.context_processor(_template_globals)

    filters.install(app)
    cli.install(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("werkzeug").addFilter(RedactSecrets())
    return app


def _config(settings: Settings) -> dict[str, object]:
    """Flask's and the extensions' settings, from Carnet's."""
    return dict(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 64 * 1024,
        SESSION_COOKIE_NAME="__Host-carnet_state" if settings.secure_cookies else "carnet_state",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        BABEL_DEFAULT_LOCALE="fr",
        BABEL_DEFAULT_TIMEZONE="Europe/Paris",
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "webapp" / "translations"),
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_ENABLED=settings.rate_limits_enabled,
        RATELIMIT_HEADERS_ENABLED=False,
        DEBUG=False,
        TESTING=settings.environment == "testing",
    )


class RedactSecrets(logging.Filter):
    """Access logs must not keep the one-time token of an activation link."""

    PATTERN = re.compile(r"/auth/activate/[^\s?\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/auth/activate/" in message:
            record.msg = self.PATTERN.sub("/auth/activate/[redacted]", message)
            record.args = ()
        return True


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    return {"pool_pre_ping": True}


def _private_file(database: str | None) -> None:
    """The SQLite file holds medical records: readable by its owner only (0600), from its
    creation; SQLite gives its -wal and -shm files the same mode."""
    if not database or database == ":memory:":
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if path.stat().st_mode & 0o777 != 0o600:
        path.chmod(0o600)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, full fsync, foreign keys, and BEGIN IMMEDIATE so that writers queue, not fail."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _register_blueprints(app: Flask, settings: Settings) -> None:

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(settings_bp, url_prefix="/settings")
    app.register_blueprint(access_bp, url_prefix="/access")
    app.register_blueprint(documents_bp, url_prefix="/documents")
    app.register_blueprint(profile_bp, url_prefix="/profile")
    app.register_blueprint(messages_bp, url_prefix="/messages")
    app.register_blueprint(agenda_bp, url_prefix="/agenda")
    app.register_blueprint(reimbursements_bp, url_prefix="/reimbursements")
    app.register_blueprint(api_bp, url_prefix="/api/insurer")
    app.register_blueprint(enrolment_bp, url_prefix="/enrolment")
    app.register_blueprint(pro_bp, url_prefix="/pro")
    app.register_blueprint(counter_bp, url_prefix="/counter")
    # The in-person enrolment visit, on both sides: counter agents and professionals.
    app.register_blueprint(visit_bp, url_prefix="/counter", name="counter_visit")
    app.register_blueprint(visit_bp, url_prefix="/pro", name="pro_visit")
    if settings.is_development or settings.environment == "testing":
        app.register_blueprint(dev_bp, url_prefix="/dev")


def _refuse_oversized_bodies() -> None:
    """Answer 413 from the declared length, before a byte of the body is read."""
    declared = request.content_length
    if auth_hooks.is_api_view():
        # The API's own limit, whoever calls; a body of undeclared length stops there too.
        request.max_content_length = API_BODY_LIMIT
        if declared and declared > API_BODY_LIMIT:
            raise errors.BodyTooLarge(declared, API_BODY_LIMIT)
        return
    if not declared:
        return

    limit = errors.request_limit()
    if declared > limit + 64 * 1024:
        raise errors.BodyTooLarge(declared, limit)


def _refuse_control_characters() -> None:
    """NUL bytes are never typed by a person, and PostgreSQL refuses them in text. The API
    checks its own fields, after the token: its body is not read for an unknown caller."""
    if auth_hooks.is_api_view():
        return
    for values in (request.args, request.form):
        for value in values.values():
            if "\x00" in value:
                abort(400)


FORM_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data"})


def _refuse_foreign_bodies() -> None:
    """Pages take what a browser's forms send: a JSON or XML body, where lists and numbers
    stand for text, is refused with 415 before any form reads it. The API takes JSON, and
    checks its own media types."""
    if auth_hooks.is_api_view():
        return
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype not in FORM_TYPES:
        abort(415)


def _select_locale() -> str:
    if not has_request_context():
        return "fr"
    chosen = request.cookies.get("lang")
    return chosen if chosen in LANGUAGES else "fr"


def _security_headers(response: Response) -> Response:
    settings: Settings = g.get("settings") or _settings()
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
    )
    if settings.environment == "production":
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.endpoint == "static":
        response.headers["Cache-Control"] = "public, max-age=86400"
    elif "ETag" in response.headers:
        # A validator (the calendar feed): kept by the one client, asked again every time.
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _settings() -> Settings:

    return settings()


def _template_globals() -> dict[str, Any]:

    if not has_request_context():  # e-mails rendered by the outbox worker
        return {"is_development": _settings().is_development}
    return {
        "htmx_config": HTMX_CONFIG,
        "current_account": current_account_or_none(),
        "signed_in": bool(current_user.is_authenticated),
        "current_language": str(get_locale() or "fr"),
        "large_text": request.cookies.get("text") == "large",
        "is_development": _settings().is_development,
    }
