"""Friendly error pages in the visitor's language, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.core.extensions import db
from webapp.web import htmx

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
CSRF_MESSAGE = (
    _l("Cette page a expiré"),
    _l("Par sécurité, les formulaires expirent. Rechargez la page et recommencez."),
)


def install(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _render(
    code: int, title: object, advice: object, headers: dict[str, str] | None = None
) -> ResponseReturnValue:
    page = render_template("errors/error.html", code=code, title=title, advice=advice)
    return page, code, headers or {}


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return _render(400, *CSRF_MESSAGE)


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if code not in MESSAGES:
        return error
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


def _unexpected(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception("unexpected error", exc_info=error)
    db.session.rollback()
    return _render(500, *MESSAGES[InternalServerError.code])
