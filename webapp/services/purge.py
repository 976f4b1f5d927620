"""What deleting a record removes: its content and the holder's sign-in, not its history."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    Account,
    Authorisation,
    Document,
    EmergencyAccess,
    Patient,
    ProfileEntry,
    ProvisionalCode,
)
from webapp.models.account import AccountState
from webapp.services import reimbursements


def purge_record(patient: Patient) -> list[str]:
    """Remove the content of a deleted record; returns the files to destroy after commit.

    The access history stays (it cannot be altered, and it shows who saw what and when).
    """
    blobs = [
        blob
        for blob in db.session.scalars(
            select(Document.blob_id).where(Document.patient_id == patient.id)
        )
        if blob
    ]
    db.session.execute(delete(ProfileEntry).where(ProfileEntry.patient_id == patient.id))
    db.session.execute(delete(EmergencyAccess).where(EmergencyAccess.patient_id == patient.id))
    db.session.execute(delete(Document).where(Document.patient_id == patient.id))
    db.session.execute(delete(Authorisation).where(Authorisation.patient_id == patient.id))
    reimbursements.purge_patient(patient)
    db.session.execute(
        update(ProvisionalCode)
        .where(ProvisionalCode.patient_id == patient.id, ProvisionalCode.consumed_at.is_(None))
        .values(superseded_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if patient.account_id is not None:
        _forget_account(patient, patient.account_id)
    return blobs


def _forget_account(patient: Patient, account_id: int) -> None:
    """The account keeps its row (the history names it) but loses every way to sign in."""
    db.session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(
            identifier=f"supprime-{account_id}",
            password_hash=None,
            email=None,
            mobile=None,
            totp_secret_sealed=None,
            state=AccountState.DISABLED,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Patient)
        .where(Patient.id == patient.id)
        .values(account_id=None)
        .execution_options(synchronize_session=False)
    )
