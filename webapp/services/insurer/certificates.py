"""Vaccination certificates the insurer deposits: a PDF in the record's Prévention documents,
authored by "Assurance Maladie", idempotent on the insurer's certificate id."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from webapp.models import Document
from webapp.models.document import Category
from webapp.services import documents, file_safety, filetypes, storage
from webapp.services.insurer.records import Refused, patients_by_nir, record_problem
from webapp.services.insurer.schemas import CertificateFields, Problem

TYPE_CODE = "11369-6"  # LOINC "Historique des vaccinations" (data/document_types.csv)
KEY_PREFIX = "insurer:"


@dataclass(frozen=True)
class Deposit:
    document: Document
    created: bool


class CertificateConflict(Exception):
    """This certificate id was deposited already, with another file."""


def deposit(fields: CertificateFields, content: bytes, file_name: str) -> Deposit:
    """Deposit the certificate, or find the one deposited before with the same id and file.
    Raises Refused (unknown NIR, record not open, a file that is not a safe PDF) or
    CertificateConflict. Flushes, never commits."""
    patient = patients_by_nir([fields.nir]).get(fields.nir)
    problem = record_problem(None, patient)
    if problem is not None or patient is None:
        raise Refused([problem] if problem else [])
    if filetypes.detect(content[: filetypes.SNIFF_BYTES]) != filetypes.PDF:
        raise Refused([Problem(None, "file", "not_pdf", "the file must be a PDF")])
    try:
        document = documents.add(
            None,
            patient,
            stream=io.BytesIO(content),
            file_name=file_name or "certificat-vaccination.pdf",
            title=f"Certificat de vaccination : {fields.vaccine}",
            category=Category.PREVENTION,
            care_date=fields.care_date,
            type_code=TYPE_CODE,
            submission_key=KEY_PREFIX + fields.certificate_id,
            insurer=True,
        )
    except documents.DuplicateSubmission as duplicate:
        if duplicate.existing.sha256 != hashlib.sha256(content).hexdigest():
            raise CertificateConflict(fields.certificate_id) from None
        return Deposit(duplicate.existing, created=False)
    except storage.StorageError as refused:
        raise Refused([Problem(None, "file", *_file_problem(refused))]) from None
    return Deposit(document, created=True)


def _file_problem(problem: storage.StorageError) -> tuple[str, str]:
    """The code and message of a file the content checks refused."""
    if isinstance(problem, storage.EmptyFile):
        return "empty_file", "the file is empty"
    if isinstance(problem, storage.TooLarge):
        return "too_large", f"the file is larger than {problem.limit} bytes"
    if isinstance(problem, file_safety.ActiveContent):
        return "active_content", "the PDF carries active content (script, launch, embedded file)"
    if isinstance(problem, file_safety.PasswordProtected):
        return "password_protected", "the PDF needs a password"
    if isinstance(problem, file_safety.TooComplex):
        return "too_complex", "the PDF could not be checked in time"
    if isinstance(problem, file_safety.Refused | storage.UnsupportedType):
        return "damaged_file", "the PDF does not parse"
    return "file_not_stored", "the file could not be stored: send it again"
