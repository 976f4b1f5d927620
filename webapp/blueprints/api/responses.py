"""The API's answers: JSON bodies from the response models, and refusals raised as JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import NoReturn

from flask import Response, abort, g, jsonify, request
from pydantic import BaseModel

from webapp.blueprints.api.schemas import ErrorBody, ProblemOut
from webapp.services.insurer.schemas import Problem

JSON = "application/json"


def answer(model: BaseModel, status: int = 200) -> Response:
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    return response


def error(
    status: int,
    code: str,
    message: str,
    problems: list[Problem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = ErrorBody(
        error=code,
        message=message,
        errors=[
            ProblemOut(index=p.index, field=p.field, code=p.code, message=p.message)
            for p in problems or []
        ],
    )
    response = answer(body, status)
    response.headers.update(headers or {})
    if problems is not None:
        g.api_counts = {"errors": len(problems)}
    return response


def refuse(status: int, code: str, message: str, problems: list[Problem] | None = None) -> NoReturn:
    abort(error(status, code, message, problems))


def json_body() -> object:
    """The request's JSON, or a refusal: 415 for another media type, 400 for malformed JSON.
    Numbers with a fraction are read as Decimal, never float, and NaN is not JSON."""
    if request.mimetype != JSON:
        refuse(415, "unsupported_media_type", "send the body as application/json")
    raw = request.get_data(cache=False)
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        refuse(400, "malformed_json", f"the body is not valid JSON: {exc}")


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")
