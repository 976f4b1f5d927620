"""The paper copy of the record (SPEC §8): a PDF in large, plain type that the holder prints at
home, or that the print room posts to her when she asks at a counter.

What it holds is read through the policy's queries as the holder: the copy never shows more
than she sees on screen (a document held for an announcement is absent, her masked ones are
there). At the counter the agent only asks for it: the PDF goes to the print spool, read as
the holder by this module, and never reaches the agent's screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from stdnum.fr import nir as nir_number

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    Beneficiary,
    Document,
    EntryKind,
    Measurement,
    Patient,
    Section,
)
from webapp.models.account import RecordState
from webapp.policy import Permission, decide, queries
from webapp.services import authorisations, crypto, letters, lifecycle, profile
from webapp.services.audit import Action, record_access
from webapp.web.labels import SECTION_TITLES

HISTORY_LINES = 50
LANGUAGES = ("fr", "en")


SUMMARY_TITLES = {
    "allergies": _l("Allergies"),
    "treatments": _l("Traitements en cours"),
    "conditions": _l("Maladies et interventions"),
    "advance_directives": _l("Directives anticipées"),
    "organ_donation": _l("Don d'organes"),
    "trusted_person": _l("Personne de confiance"),
    "emergency_contacts": _l("Personnes à prévenir"),
    "blood_group": _l("Groupe sanguin"),
}


class PaperRefused(Exception):
    """The counter cannot take the request; `reason` says why, for the agent's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PaperCopy:
    """Everything the copy prints, read once, as the reader may see it."""

    patient: Patient
    summary: list[profile.SummaryPart]
    found: profile.ProfileView
    measurements: list[Measurement]
    documents: list[Document]
    access: authorisations.AccessList | None
    history: list[AccessEvent]


def gather(reader: Account, patient: Patient) -> PaperCopy:
    """The record as `reader` may read it: every list comes from a policy query."""
    found = profile.view(reader, patient)
    measurements = db.session.scalars(
        queries.measurements_query(reader, patient).order_by(
            Measurement.kind, Measurement.measured_on.desc(), Measurement.id.desc()
        )
    )
    documents = db.session.scalars(
        queries.documents_query(reader, patient).order_by(
            Document.care_date.desc(), Document.id.desc()
        )
    )
    history = db.session.scalars(queries.history_query(reader, patient).limit(HISTORY_LINES))
    managed = decide(reader, Permission.ACCESS_MANAGE, patient)
    return PaperCopy(
        patient=patient,
        summary=profile.emergency_summary(reader, patient),
        found=found,
        measurements=list(measurements),
        documents=list(documents),
        access=authorisations.access_list(patient) if managed else None,
        history=list(history),
    )


def spaced_nir(nir: str) -> str:
    """The NIR as the carte Vitale prints it: 2 85 03 75 000 001 42."""
    try:
        return str(nir_number.format(nir))
    except ValueError:
        return nir


def css_string(value: str) -> Markup:
    """`value` as a quoted CSS string for the page footer: every character that is not a
    letter, a digit or a space is hex-escaped, so a name can never close the string or the
    style element."""
    # The space after each escape ends it, and CSS drops it: "a b" stays "a b".
    escaped = re.sub(r"[^\w ]", lambda found: f"\\{ord(found[0]):x} ", value)
    return Markup(f'"{escaped}"')  # noqa: S704 - built from escaped characters only


def render_html(copy: PaperCopy, language: str, postal_address: str | None = None) -> str:
    """The copy as self-contained HTML (inline CSS, no link, no image, no script). With a postal
    address, a letter's first page comes first, placed for a window envelope."""
    if language not in LANGUAGES:
        language = "fr"
    patient = copy.patient
    with force_locale(language):
        return render_template(
            "letters/paper_copy.html",
            copy=copy,
            patient=patient,
            nir=spaced_nir(patient.nir),
            language=language,
            letter_date=clock.to_paris(clock.now()).date(),
            postal_address=postal_address,
            section_titles=SECTION_TITLES,
            summary_titles=SUMMARY_TITLES,
            Section=Section,
            EntryKind=EntryKind,
            css_string=css_string,
        )


def download(account: Account, patient: Patient) -> bytes:
    """The holder's own copy, in her language; the download goes into her history."""
    pdf = letters.to_pdf(render_html(gather(account, patient), account.language))
    record_access(patient, account, Action.PAPER_COPY_DOWNLOADED)
    return pdf


def file_name(day: datetime) -> str:
    return f"carnet-copie-papier-{clock.to_paris(day).date().isoformat()}.pdf"


# --- at the counter --------------------------------------------------------------------------


def check_postal_request(beneficiary: Beneficiary) -> Patient:
    """The record a postal copy can be made of, or PaperRefused with the reason."""
    patient = lifecycle.record_for(beneficiary)
    if patient is None:
        raise PaperRefused("no_record")
    if patient.record_state != RecordState.ACTIVE:
        raise PaperRefused("not_open")
    if not (beneficiary.address or "").strip():
        raise PaperRefused("no_address")
    holder = patient.account
    if holder is None:
        raise PaperRefused("no_holder_account")
    return patient


def request_by_post(beneficiary: Beneficiary, agent: Account) -> Path:
    """Write the copy, in French, to the print spool as a letter to the address on file, and
    note the agent's request in the holder's history.

    The copy is read as the holder (her account, through the policy's queries): the agent's
    own rights stay those of an agent, who reads no medical content. Only the file's path is
    returned, never its bytes. The caller commits, and removes the file if it cannot.
    """
    patient = check_postal_request(beneficiary)
    holder = patient.account
    assert holder is not None  # checked above
    html = render_html(gather(holder, patient), "fr", postal_address=beneficiary.postal_address)
    pdf = letters.to_pdf(html)
    record_access(
        patient,
        agent,
        Action.PAPER_COPY_REQUESTED,
        resource_type="record",
        resource_id=patient.id,
    )
    db.session.flush()
    stamp = clock.now().strftime("%Y%m%d%H%M%S")
    name = f"paper-copy-{patient.id}-{stamp}.pdf"
    return letters.write_to_spool(crypto.settings().letters_dir, name, pdf)
