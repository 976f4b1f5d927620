"""The insurer's endpoints: parse with the pydantic models, call the service, commit, answer
JSON. A refused batch changes nothing (rolled back) and lists every problem by index."""

from __future__ import annotations

from flask import Response, g, request
from flask.typing import ResponseReturnValue
from pydantic import ValidationError

from webapp.blueprints.api import bp
from webapp.blueprints.api.auth import PER_TOKEN, api_view, current_token, insurer_api, per_token
from webapp.blueprints.api.openapi import document
from webapp.blueprints.api.responses import answer, error, json_body, refuse
from webapp.blueprints.api.schemas import CertificateOutcome, RegisterOutcome, ReimbursementOutcome
from webapp.core.extensions import db, limiter
from webapp.services.insurer import Refused, certificates, register, reimbursements
from webapp.services.insurer.schemas import (
    BeneficiaryBatch,
    BeneficiaryEntry,
    CertificateFields,
    Problem,
    ReimbursementBatch,
    ReimbursementLine,
    problems_from,
    validated_items,
)

MULTIPART = "multipart/form-data"


@bp.post("/reimbursements")
@insurer_api
@limiter.limit(PER_TOKEN, key_func=per_token)
def reimbursements_feed() -> ResponseReturnValue:
    lines, problems = validated_items(ReimbursementBatch, ReimbursementLine, "lines", json_body())
    try:
        outcome = reimbursements.receive(lines, token=current_token(), problems=problems)
    except Refused as refused:
        return _refused(refused)
    db.session.commit()
    g.api_counts = vars(outcome)
    return answer(ReimbursementOutcome(**vars(outcome)))


@bp.post("/beneficiaries")
@insurer_api
@limiter.limit(PER_TOKEN, key_func=per_token)
def beneficiaries_feed() -> ResponseReturnValue:
    entries, problems = validated_items(
        BeneficiaryBatch, BeneficiaryEntry, "beneficiaries", json_body()
    )
    try:
        outcome = register.receive(entries, problems)
    except Refused as refused:
        return _refused(refused)
    db.session.commit()
    g.api_counts = vars(outcome)
    return answer(RegisterOutcome(**vars(outcome)))


@bp.post("/vaccination-certificates")
@insurer_api
@limiter.limit(PER_TOKEN, key_func=per_token)
def vaccination_certificates() -> ResponseReturnValue:
    if request.mimetype != MULTIPART:
        refuse(415, "unsupported_media_type", "send the certificate as multipart/form-data")
    problems: list[Problem] = []
    fields = _certificate_fields(problems)
    upload = request.files.get("file")
    if upload is None:
        problems.append(Problem(None, "file", "missing", "the PDF goes in the field file"))
    if fields is None or upload is None:
        refuse(400, "invalid_request", "nothing was deposited", problems)
    try:
        deposit = certificates.deposit(fields, upload.stream.read(), upload.filename or "")
    except Refused as refused:
        return _refused(refused)
    except certificates.CertificateConflict:
        db.session.rollback()
        problem = Problem(
            None, "certificate_id", "certificate_conflict", "deposited before with another file"
        )
        return error(409, "conflict", "this certificate id holds another file", [problem])
    db.session.commit()
    g.api_counts = {"created": int(deposit.created)}
    outcome = CertificateOutcome(created=deposit.created, document_id=deposit.document.id)
    return answer(outcome, 201 if deposit.created else 200)


@bp.get("/openapi.json")
@api_view
def openapi() -> ResponseReturnValue:
    """The API's description; documentation only, so it needs no token."""
    return document()


def _certificate_fields(problems: list[Problem]) -> CertificateFields | None:
    """The form's fields, or None with their problems added to `problems`."""
    form = {name: request.form.getlist(name) for name in request.form}
    # A field sent twice is not one value: the model refuses the list (invalid_type).
    values = {name: given[0] if len(given) == 1 else given for name, given in form.items()}
    try:
        return CertificateFields.model_validate(values)
    except ValidationError as exc:
        problems += problems_from(exc)
        return None


def _refused(refused: Refused) -> Response:
    db.session.rollback()
    if refused.conflict:
        message = "nothing was saved: some lines conflict with the ones stored"
        return error(409, "conflict", message, refused.problems)
    return error(400, "invalid_batch", "nothing was saved", refused.problems)
