"""The API's answers as pydantic models; its requests are the services' (services.insurer.
schemas). Both feed the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field

from webapp.services.insurer.schemas import (
    BeneficiaryBatch,
    CertificateFields,
    ReimbursementBatch,
)

__all__ = [
    "BeneficiaryBatch",
    "CertificateFields",
    "ReimbursementBatch",
    "ReimbursementOutcome",
    "RegisterOutcome",
    "CertificateOutcome",
    "ProblemOut",
    "ErrorBody",
]


class ReimbursementOutcome(BaseModel):
    created: int = Field(description="Lines stored by this batch.")
    unchanged: int = Field(description="Lines already stored with the same content.")
    expired: int = Field(
        description="Lines older than the 24 months the record shows: not stored, since the "
        "patient would never see them and the purge would remove them."
    )


class RegisterOutcome(BaseModel):
    created: int
    updated: int
    unchanged: int


class CertificateOutcome(BaseModel):
    created: bool = Field(description="False when this certificate id was deposited before.")
    document_id: int


class ProblemOut(BaseModel):
    index: int | None = Field(description="The item's index in the batch; null for the body.")
    field: str | None = Field(description="The field refused; null for the whole item.")
    code: str = Field(
        description="Stable: unknown_nir, invalid_nir, record_not_open, future_date, "
        "invalid_date, negative_amount, invalid_amount, reimbursed_exceeds_paid, "
        "minor_confidential, line_conflict, duplicate_line_id, duplicate_nir, "
        "control_characters, required, too_long, invalid_type, invalid_value, not_pdf, ... "
        "or pydantic's error type for the shape of the body (missing, extra_forbidden, "
        "list_type, model_type, too_short, too_long...)."
    )
    message: str


class ErrorBody(BaseModel):
    error: str = Field(
        description="invalid_batch, conflict, malformed_json, unauthorised, not_found, "
        "method_not_allowed, too_large, unsupported_media_type, rate_limited, internal_error."
    )
    message: str
    errors: list[ProblemOut] = Field(
        default_factory=list, description="Every problem of the batch, by index."
    )
