"""Friendly error pages in the visitor's language, never a stack trace."""

from __future__ import annotations

import logging

from babel.numbers import format_decimal
from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from webapp.core.extensions import db
from webapp.services.documents import upload_limit
from webapp.services.message_files import ATTACHMENT_LIMIT
from webapp.web import htmx
from webapp.web.security import current_account_or_none

log = logging.getLogger(__name__)

MESSAGES = {
    400: (
        _l("La demande n'a pas pu être comprise"),
        _l("Revenez à la page précédente, vérifiez ce que vous avez saisi et réessayez."),
    ),
    403: (
        _l("Vous n'avez pas accès à cette page"),
        _l("Si vous pensez que c'est une erreur, revenez à l'accueil et reconnectez-vous."),
    ),
    404: (
        _l("Cette page est introuvable"),
        _l("L'adresse est peut-être mal écrite, ou la page n'existe plus. Revenez à l'accueil."),
    ),
    405: (
        _l("Cette action n'est pas possible ici"),
        _l("Revenez à la page précédente et utilisez les boutons proposés."),
    ),
    # The page says the size sent and the person's own limit instead (_too_large_advice).
    413: (
        _l("Le fichier est trop volumineux"),
        _l("Choisissez un fichier plus petit (5 Mo au plus pour un patient) et réessayez."),
    ),
    415: (
        _l("Cette demande n'a pas la forme d'un formulaire"),
        _l("Revenez à la page et envoyez le formulaire depuis votre navigateur."),
    ),
    429: (
        _l("Trop d'essais en peu de temps"),
        _l("Par sécurité, patientez quelques minutes avant de réessayer."),
    ),
    500: (
        _l("Un problème technique nous empêche d'afficher cette page"),
        _l("Rien de ce que vous aviez enregistré n'est perdu. Réessayez dans quelques minutes."),
    ),
}
# What an anonymous visitor may send: forms only, never a file.
ANONYMOUS_LIMIT = 1024 * 1024


class BodyTooLarge(RequestEntityTooLarge):
    """A body refused for its declared length: its page says that length and the limit."""

    def __init__(self, size: int | None, limit: int) -> None:
        super().__init__()
        self.size = size
        self.limit = limit


def request_limit() -> int:
    """The largest file the visitor may send: their own upload limit, 1 Mo when anonymous."""
    account = current_account_or_none()
    return upload_limit(account) if account is not None else ANONYMOUS_LIMIT


def file_limit(kind: str = "document") -> int:
    """The largest file the visitor may choose in a form: a document, or a message's attachment."""
    return ATTACHMENT_LIMIT if kind == "attachment" else request_limit()


def megabytes(size: int) -> str:
    """A size in Mo the way people read it in their language: 6,2 in French, 6.2 in English."""
    return str(format_decimal(round(size / (1024 * 1024), 1), locale=str(get_locale() or "fr")))


# The insurer's API answers every error in JSON: a machine reads it, never a person.
API_PREFIX = "/api/"
API_ERRORS = {
    400: ("bad_request", "the request could not be understood"),
    401: ("unauthorised", "send the token as Authorization: Bearer <token>"),
    403: ("forbidden", "this token may not do that"),
    404: ("not_found", "no such endpoint: see /api/insurer/openapi.json"),
    405: ("method_not_allowed", "this endpoint does not take this method"),
    409: ("conflict", "the request conflicts with what is stored"),
    413: ("too_large", "the body is too large"),
    415: ("unsupported_media_type", "the body is not of the media type this endpoint takes"),
    429: ("rate_limited", "too many requests with this token: wait a minute"),
    500: ("internal_error", "nothing was saved; try again in a few minutes"),
}


CSRF_MESSAGE = (
    _l("Cette page a expiré"),
    _l("Par sécurité, les formulaires expirent. Rechargez la page et recommencez."),
)


def install(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    # A file field says its limit before sending (macros/forms.html file_field, app.js).
    app.add_template_global(file_limit, "file_limit")
    app.add_template_filter(megabytes, "megabytes")


def _render(
    code: int, title: object, advice: object, headers: dict[str, str] | None = None
) -> ResponseReturnValue:
    page = render_template("errors/error.html", code=code, title=title, advice=advice)
    return page, code, headers or {}


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    if _for_api():
        return _api_error(400)
    return _render(400, *CSRF_MESSAGE)


def _for_api() -> bool:
    return request.path.startswith(API_PREFIX)


def _api_error(code: int, error: HTTPException | None = None) -> ResponseReturnValue:
    """The JSON answer of the API to an error it did not answer itself (an unknown path, a
    body too large, the rate limit, a fault)."""
    slug, message = API_ERRORS.get(code, ("error", "the request failed"))
    body: dict[str, object] = {"error": slug, "message": message, "errors": []}
    headers: dict[str, str] = {}
    if code == RequestEntityTooLarge.code:
        limit = error.limit if isinstance(error, BodyTooLarge) else request.max_content_length
        body["message"] = f"the body is limited to {limit} bytes"
    if code == 429:
        headers["Retry-After"] = "60"
    allowed = getattr(error, "valid_methods", None)
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    if code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="carnet-insurer"'
    response = jsonify(body)
    return response, code, headers


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if _for_api():
        # A refusal the API wrote itself (flask.abort with its JSON response) goes as it is.
        return error.response if error.response is not None else _api_error(code, error)
    if code not in MESSAGES:
        return error
    if code == RequestEntityTooLarge.code:
        return _render(code, MESSAGES[code][0], _too_large_advice(error))
    allowed = getattr(error, "valid_methods", None)
    headers = {"Allow": ", ".join(allowed)} if allowed else {}
    if code in (403, 404) and htmx.is_request():
        # htmx does not swap an error into the page. A followed link loads the address asked
        # for, whose refusal page then shows; anything else reloads the page, so that a page
        # left open after an access was withdrawn is refused at its next click (SPEC §4.2).
        if htmx.is_boosted_get():
            headers["HX-Redirect"] = request.full_path.rstrip("?")
        else:
            headers["HX-Refresh"] = "true"
    return _render(code, *MESSAGES[code], headers=headers or None)


def _too_large_advice(error: HTTPException) -> str:
    """The limit, and the size sent when its length was declared (werkzeug's own refusal of
    an undeclared body past MAX_CONTENT_LENGTH knows no size)."""
    size = error.size if isinstance(error, BodyTooLarge) else None
    limit = error.limit if isinstance(error, BodyTooLarge) else request_limit()
    if size is None:
        return _(
            "La limite est de %(limit)s Mo par envoi. Choisissez un fichier plus petit, ou une "
            "photo moins lourde, et réessayez.",
            limit=megabytes(limit),
        )
    return _(
        "Votre fichier pèse environ %(size)s Mo ; la limite est de %(limit)s Mo. Choisissez un "
        "fichier plus petit, ou une photo moins lourde, et réessayez.",
        size=megabytes(size),
        limit=megabytes(limit),
    )


def _unexpected(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception("unexpected error", exc_info=error)
    db.session.rollback()
    if _for_api():
        return _api_error(InternalServerError.code)
    return _render(500, *MESSAGES[InternalServerError.code])
