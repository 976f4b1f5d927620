"""The demo patient's vaccination certificate, deposited by the insurer through the same
service as the API (SPEC §8b): a COVID-19 booster given with her autumn flu shot."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select

from webapp.core.extensions import db
from webapp.models import OutboxMessage, Patient
from webapp.services.demo import files
from webapp.services.demo.record import Holder, record
from webapp.services.insurer import certificates
from webapp.services.insurer.schemas import CertificateFields

CERTIFICATE_ID = "DEMO-VACCIN-COVID-1"
FLU_SHOT = "vaccination-grippe.pdf"  # the flu shot's document, whose day this one shares


def add(patient: Patient, holder: Holder, today: date) -> None:
    """Deposit it once: a second load finds the same id and the same file, and adds nothing."""
    flu = next(demo for demo in record(today, holder) if demo.file_name == FLU_SHOT)
    fields = CertificateFields.model_validate(
        {
            "nir": patient.nir,
            "date": flu.care_date.isoformat(),
            "vaccine": "COVID-19 (rappel)",
            "certificate_id": CERTIFICATE_ID,
        }
    )
    content = files.pdf(
        "Certificat de vaccination COVID-19",
        [
            f"Nom : {holder.last_name.upper()}   Prénoms : {holder.first_names}",
            f"Date de naissance : {holder.birth_date:%d/%m/%Y}",
            "",
            "## Dernière injection",
            f"Date : {flu.care_date:%d/%m/%Y}",
            "Vaccin : Comirnaty (ARNm), dose de rappel",
            "Lieu : pharmacie",
            "",
            "Ce certificat est établi par l'Assurance Maladie à partir du système "
            "d'information Vaccin Covid.",
        ],
        issuer=["Assurance Maladie", "Certificat de vaccination"],
    )
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    deposit = certificates.deposit(fields, content, "certificat-vaccination-covid.pdf")
    if deposit.created:  # part of her history, not news: no "new document" e-mail
        db.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.id > last_message,
                OutboxMessage.account_id == patient.account_id,
                OutboxMessage.kind == "new_document",
            )
        )
