"""The OpenAPI 3.1 document of the insurer's API, generated from the pydantic models the API
validates with, and from the URL map: a route of the blueprint without its description here
makes the document fail (and its test), rather than go undocumented."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Response, current_app, jsonify
from pydantic import BaseModel

from webapp.blueprints.api import BODY_LIMIT
from webapp.blueprints.api.auth import PER_TOKEN
from webapp.blueprints.api.schemas import (
    BeneficiaryBatch,
    CertificateFields,
    CertificateOutcome,
    ErrorBody,
    RegisterOutcome,
    ReimbursementBatch,
    ReimbursementOutcome,
)

REF = "#/components/schemas/{model}"
JSON = "application/json"
MULTIPART = "multipart/form-data"
REQUESTS: tuple[type[BaseModel], ...] = (ReimbursementBatch, BeneficiaryBatch, CertificateFields)
RESPONSES: tuple[type[BaseModel], ...] = (
    ReimbursementOutcome,
    RegisterOutcome,
    CertificateOutcome,
    ErrorBody,
)
ERRORS = {
    400: "Refused, nothing saved: malformed JSON, or the errors of the batch, every one by "
    "index (`errors`).",
    401: "No bearer token, an unknown or revoked one, or a token in the URL (it goes in the "
    "Authorization header). Answered with `WWW-Authenticate: Bearer`.",
    409: "Refused, nothing saved: conflicts with what is stored (`errors` by index).",
    413: f"The body is larger than {BODY_LIMIT} bytes (5 Mo); refused before it is read.",
    415: "The body is not of the media type the endpoint takes.",
    429: f"Rate limited: {PER_TOKEN} per token.",
}

REIMBURSEMENTS = """Care reimbursed, in batches of at most 10,000 lines. Decisions:

- **All or nothing**: any error refuses the batch (400) with every error by index; nothing
  is saved.
- **Idempotent on `line_id`**: a line already stored with the same normalised content counts
  as `unchanged`; with other content the batch is refused with 409 (`line_conflict`, by index;
  409 only when conflicts are the only errors, else 400 listing them all). The same `line_id`
  twice in one batch counts once with the same content, and is refused (`duplicate_line_id`)
  with other content. Content is compared through the SHA-256 of a canonical JSON of the
  normalised fields (stripped strings, compact NIR, amounts with 2 decimals).
- **NIR**: a wrong key is `invalid_nir`; no record with this NIR is `unknown_nir`; a record
  opposed, closed, deleted or suspended is `record_not_open` (pending and active records take
  lines).
- **Dates**: a date after today (Paris) is `future_date`. A date older than the 24 months the
  record shows is **not an error**: the line is not stored and is counted in `expired` (the
  patient would never see it, and the purge would remove it); such a line is checked for its
  own fields only, not against the records.
- **Amounts** are decimal strings in euros such as `"23.00"`; a JSON number is refused
  (`invalid_amount`: never floats). Negative: `negative_amount`; more than 2 decimals, not a
  decimal string, or over 9999999.99: `invalid_amount`; `amount_reimbursed` over
  `amount_paid`: `reimbursed_exceeds_paid`.
- **Confidential care** (`confidential: true`, R1111-50): refused for a patient under 18 on the
  date of care (`minor_confidential`: a minor's confidential care is never fed); accepted
  normally for an adult.
- **Strings** are stripped; empty ones are refused (`required`), control characters too
  (`control_characters`), and each has its maximum length (`too_long`).
- Each record that received lines gets one event in its access history per batch."""

BENEFICIARIES = """The beneficiary register, the same fields and rules as the CSV of
`flask beneficiaries import`, upserted on the NIR; at most 10,000 entries. All or nothing,
errors by index (`invalid_nir`, `invalid_value`, `duplicate_nir`...). A record whose register
row changed gets an event in its access history."""

CERTIFICATES = """A vaccination certificate (a PDF) deposited in the record's *Prévention*
documents, authored by "Assurance Maladie"; the patient is told as for any new document.
Idempotent on `certificate_id`: the same id with the same file answers 200 with
`created: false`; with another file, 409. The file goes through the content checks of every
document: anything but a safe PDF is refused (400 on the field `file`). Unknown NIR or a record
not open: 400."""


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str
    request: type[BaseModel] | None
    media_type: str = JSON
    success: dict[int, tuple[str, type[BaseModel]]] = field(default_factory=dict)
    errors: tuple[int, ...] = (400, 401, 413, 415, 429)
    secured: bool = True


OPERATIONS = {
    "api.reimbursements_feed": Operation(
        "Send reimbursement lines",
        REIMBURSEMENTS,
        ReimbursementBatch,
        success={200: ("The batch is stored.", ReimbursementOutcome)},
        errors=(400, 401, 409, 413, 415, 429),
    ),
    "api.beneficiaries_feed": Operation(
        "Send the beneficiary register",
        BENEFICIARIES,
        BeneficiaryBatch,
        success={200: ("The register is updated.", RegisterOutcome)},
    ),
    "api.vaccination_certificates": Operation(
        "Deposit a vaccination certificate",
        CERTIFICATES,
        CertificateFields,
        media_type=MULTIPART,
        success={
            201: ("The certificate is deposited.", CertificateOutcome),
            200: ("Deposited before with this id and this file.", CertificateOutcome),
        },
        errors=(400, 401, 409, 413, 415, 429),
    ),
    "api.openapi": Operation(
        "This document",
        "The OpenAPI 3.1 description of the API; documentation only, it needs no token.",
        None,
        errors=(),
        secured=False,
    ),
}


def document() -> Response:
    return jsonify(build())


def build() -> dict[str, Any]:
    """The whole document, from the URL map's routes under the `api` blueprint."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        operation = OPERATIONS[rule.endpoint]  # a new route must be described here
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Carnet — insurer API",
            "version": "1",
            "description": "How the Assurance Maladie's systems feed the record (SPEC §8b). "
            "JSON in and out; authenticate with `Authorization: Bearer <token>` (tokens: "
            "`flask insurer token create NAME`).",
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `flask insurer token create NAME`.",
                }
            },
        },
        "security": [{"bearer": []}],
    }


def _operation(endpoint: str, operation: Operation) -> dict[str, Any]:
    found: dict[str, Any] = {
        "operationId": endpoint.removeprefix("api."),
        "summary": operation.summary,
        "description": operation.description,
        "responses": _responses(operation),
    }
    if not operation.secured:
        found["security"] = []
    if operation.request is not None:
        found["requestBody"] = {
            "required": True,
            "content": {operation.media_type: {"schema": _request_schema(operation)}},
        }
    return found


def _request_schema(operation: Operation) -> dict[str, Any]:
    assert operation.request is not None
    ref = {"$ref": REF.format(model=operation.request.__name__)}
    if operation.media_type != MULTIPART:
        return ref
    upload = {
        "type": "object",
        "properties": {
            "file": {
                "type": "string",
                "contentMediaType": "application/pdf",
                "description": "The certificate, a PDF.",
            }
        },
        "required": ["file"],
    }
    return {"allOf": [ref, upload]}


def _responses(operation: Operation) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for status, (description, model) in sorted(operation.success.items()):
        found[str(status)] = _json_response(description, model)
    if not operation.success:
        found["200"] = {"description": "The OpenAPI document.", "content": {JSON: {}}}
    for status in operation.errors:
        found[str(status)] = _json_response(ERRORS[status], ErrorBody)
    return found


def _json_response(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {JSON: {"schema": {"$ref": REF.format(model=model.__name__)}}},
    }


def _schemas() -> dict[str, Any]:
    """Each model's own JSON schema, its nested models lifted into the components."""
    schemas: dict[str, Any] = {}
    for model, mode in [(m, "validation") for m in REQUESTS] + [
        (m, "serialization") for m in RESPONSES
    ]:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas
