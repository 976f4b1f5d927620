"""Typed builders for test data, and sign-in through the real forms."""

from __future__ import annotations

import html
import io
import itertools
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from werkzeug.test import TestResponse

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    Account,
    Agent,
    Appointment,
    Authorisation,
    Beneficiary,
    Document,
    OutboxMessage,
    Patient,
    Professional,
    Reimbursement,
)
from webapp.models.account import AccountState, Role, SecondFactor
from webapp.services import codes, notify, passwords
from webapp.services.demo import with_key

PASSWORD = "Un-mot-de-passe-solide-42"
_counter = itertools.count(1)


def _account(role: Role, **overrides: object) -> Account:
    n = next(_counter)
    values: dict[str, object] = {
        "identifier": f"{role.value}.{n}",
        "role": role,
        "state": AccountState.ACTIVE,
        "email": f"{role.value}.{n}@example.test",
        "password_hash": passwords.hash_password(PASSWORD),
        "second_factor": SecondFactor.EMAIL if role == Role.PATIENT else SecondFactor.TOTP,
        "language": "fr",
        "created_at": clock.now(),
    }
    values.update(overrides)
    account = Account(**values)
    db.session.add(account)
    db.session.flush()
    return account


def make_patient(**overrides: object) -> Account:
    account = _account(Role.PATIENT, **overrides)
    n = next(_counter)
    db.session.add(
        Patient(
            account_id=account.id,
            nir=with_key(f"{1 + n % 2}850375{n:06d}"[:13]),
            last_name=f"Patient{n}",
            first_names="Alice",
            birth_date=date(1980, 1, 1),
            sex="F",
            audit_head_seq=0,
        )
    )
    db.session.commit()
    return account


def make_professional(
    *,
    enrolled: bool = True,
    profession: str = "medecin",
    specialty: str | None = "medecine_generale",
    first_names: str = "Paul",
    **overrides: object,
) -> Account:
    account = _account(Role.PROFESSIONAL, **overrides)
    n = next(_counter)
    db.session.add(
        Professional(
            account_id=account.id,
            rpps=f"{n:011d}",
            first_names=first_names,
            last_name=f"Docteur{n}",
            profession=profession,
            specialty=specialty,
            structure="Cabinet Test",
            city="Lyon",
            samu_regulator=False,
        )
    )
    if enrolled:
        codes.link_authenticator(account)
    db.session.commit()
    return account


def make_agent(**overrides: object) -> Account:
    account = _account(Role.AGENT, **overrides)
    db.session.add(
        Agent(
            account_id=account.id,
            first_names="Ana",
            last_name="Guichet",
            organisation="CPAM Test",
            counter="Accueil 1",
        )
    )
    codes.link_authenticator(account)
    db.session.commit()
    return account


def page_text(response: TestResponse) -> str:
    """A page's HTML with its entities read (what a person reads, tags included)."""
    return html.unescape(response.get_data(as_text=True))


def page_words(response: TestResponse) -> str:
    """A page's words without its tags, one space between them."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def csrf_from(response: TestResponse) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert found, "no CSRF token in the page"
    return found.group(1)


def secret_from(response: TestResponse) -> str:
    """The authenticator secret shown as text on an enrolment page."""
    found = re.search(
        r'class="secret"[^>]*><code>([A-Z2-7 ]+)</code>', response.get_data(as_text=True)
    )
    assert found, "no secret on the page"
    return found.group(1).replace(" ", "")


def last_code(account: Account, kind: str = "signin_code") -> str:
    """The 6-digit code most recently queued for this account (a sign-in code by default)."""
    db.session.expire_all()
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.account_id == account.id, OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no {kind} was queued"
    found = re.search(r"\b(\d{6})\b", notify.message_text(message))
    assert found
    return found.group(1)


def submit_password(client: FlaskClient, identifier: str, password: str = PASSWORD) -> TestResponse:
    page = client.get("/auth/login")
    return client.post(
        "/auth/login",
        data={"identifier": identifier, "password": password, "csrf_token": csrf_from(page)},
    )


def second_factor_code(account: Account) -> str:
    if account.uses_totp:
        clock.advance(30)  # a fresh time step: the previous code may already be spent
        db.session.refresh(account)
        return codes.current_totp(account)
    return last_code(account)


def submit_code(client: FlaskClient, code: str) -> TestResponse:
    page = client.get("/auth/verify")
    return client.post("/auth/verify", data={"code": code, "csrf_token": csrf_from(page)})


def login_as(client: FlaskClient, account: Account) -> TestResponse:
    """Sign in through the real forms and second factor."""
    response = submit_password(client, account.identifier)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    done = submit_code(client, second_factor_code(account))
    assert done.status_code == 303
    return done


def signed_in(app: Flask, account: Account) -> FlaskClient:
    """A client of its own, signed in as the account."""
    client = app.test_client()
    login_as(client, account)
    return client


def fresh_csrf(client: FlaskClient) -> str:
    """A CSRF token valid for the client's session, read from a page any account has."""
    return csrf_from(client.get("/settings/"))


def make_document(patient: Account, **overrides: object) -> Document:
    """A document row (its file is not needed by the policy)."""
    assert patient.patient is not None
    n = next(_counter)
    values: dict[str, object] = {
        "patient_id": patient.patient.id,
        "title": f"Document {n}",
        "category": "biologie",
        "type_code": "11502-2",
        "care_date": date(2026, 1, 15),
        "author_kind": "patient",
        "author_account_id": patient.id,
        "author_label": "Alice",
        "deposited_at": clock.now(),
        "size": 10,
        "sha256": "0" * 64,
        "media_type": "application/pdf",
        "blob_id": f"{n:032x}",
        "key_id": "0" * 16,
        "wrapped_key": b"x",
        "state": "current",
        "version": 1,
    }
    values.update(overrides)
    document = Document(**values)
    db.session.add(document)
    db.session.flush()
    if document.series_id is None:
        document.series_id = document.id
    db.session.commit()
    return document


def authorise(
    professional: Account,
    patient: Account,
    *,
    kind: str = "authorised",
    traitant: bool = False,
    **overrides: object,
) -> Authorisation:
    assert professional.professional is not None and patient.patient is not None
    values: dict[str, object] = {
        "patient_id": patient.patient.id,
        "professional_id": professional.professional.id,
        "kind": kind,
        "traitant_rights": traitant,
        "is_medecin_traitant": traitant,
        "granted_by": "patient",
        "since": clock.now(),
    }
    values.update(overrides)
    row = Authorisation(**values)
    db.session.add(row)
    db.session.commit()
    return row


def make_appointment(
    patient: Patient,
    professional_id: int | None,
    starts_at: datetime,
    *,
    minutes: int = 30,
    cancelled: bool = False,
    title: str = "Consultation",
) -> Appointment:
    """An appointment row as services.agenda.create leaves it (added, not committed)."""
    now = clock.now()
    row = Appointment(
        patient_id=patient.id,
        professional_id=professional_id,
        title=title,
        place="",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        duration_minutes=minutes,
        created_by_kind="patient",
        created_at=now,
        updated_at=now,
        updated_by_kind="patient",
        cancelled_at=now if cancelled else None,
        hidden_from_legal_reps=False,
    )
    db.session.add(row)
    return row


def reimbursement_values(patient: Account, **overrides: object) -> dict[str, object]:
    """The columns of a reimbursement line as the insurer feeds it: a consultation with a
    general practitioner ten days ago, 30,00 € paid and 19,00 € reimbursed."""
    assert patient.patient is not None
    n = next(_counter)
    values: dict[str, object] = {
        "line_id": f"TEST-{n}",
        "patient_id": patient.patient.id,
        "care_date": clock.to_paris(clock.now()).date() - timedelta(days=10),
        "act_code": "GS",
        "act_label": "Consultation de médecine générale",
        "professional": "Dr Claire Martin",
        "profession": "Médecin généraliste",
        "amount_paid": Decimal("30.00"),
        "amount_reimbursed": Decimal("19.00"),
        "content_hash": f"{n:064x}",
        "received_at": clock.now(),
    }
    values.update(overrides)
    return values


def make_reimbursement(patient: Account, **fields: object) -> Reimbursement:
    """A reimbursement line of the patient's (added and flushed, not committed)."""
    row = Reimbursement(**reimbursement_values(patient, **fields))
    db.session.add(row)
    db.session.flush()
    return row


def make_beneficiary(**overrides: object) -> Beneficiary:
    """A person on the insurer's register, with no record yet."""
    n = next(_counter)
    values: dict[str, object] = {
        "nir": with_key(f"2{n % 90 + 10:02d}0375{n:06d}"[:13]),
        "vitale_serial": f"{n:010d}",
        "last_name": f"Assuree{n}",
        "first_names": "Jeanne",
        "sex": "F",
        "birth_date": date(1950, 5, 17),
        "email": f"assuree{n}@example.test",
        "mobile": "+33612345678",
        "address": "1 rue de la Paix",
        "postcode": "75002",
        "city": "Paris",
        "updated_at": clock.now(),
    }
    values.update(overrides)
    beneficiary = Beneficiary(**values)
    db.session.add(beneficiary)
    db.session.commit()
    return beneficiary


def outbox_code(recipient: str, pattern: str = r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}") -> str:
    """The last code sent to this address or number (read as the person would)."""
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"nothing sent to {recipient}"
    found = re.search(pattern, notify.message_text(message))
    assert found is not None
    return found.group(0)


# --- files that pass the content checks (webapp/services/file_safety.py) -----------------------


def build_pdf(objects: list[bytes], *, trailer: bytes = b"") -> bytes:
    """A PDF 1.7 of these objects (numbered from 1; the first is the catalog) with a correct
    cross-reference table; `trailer` adds entries to the trailer dictionary."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def pdf_file(text: str = "Bilan", *, padding: bytes = b"") -> bytes:
    """A valid one-page PDF that says `text` (ASCII, left uncompressed: it can be found in the
    bytes); `padding` goes in a stream of its own, to make the file larger or binary."""
    content = b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % text.encode("ascii")
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(padding), padding),
        ]
    )


def image_file(kind: str = "PNG", size: tuple[int, int] = (40, 30), **options: Any) -> bytes:
    """A small real picture (a gradient) in Pillow's format `kind`, saved with `options`."""
    width, height = size
    picture = Image.new("RGB", size)
    picture.putdata(
        [(x * 255 // width, y * 255 // height, 128) for y in range(height) for x in range(width)]
    )
    out = io.BytesIO()
    picture.save(out, format=kind, **options)
    return out.getvalue()
