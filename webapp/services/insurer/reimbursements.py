"""Receiving reimbursement lines (SPEC §8b): the API's batches and the CLI's files alike.

All or nothing: every line is checked (against the records and the lines already stored)
before one is written, and every problem is reported by index. The number of queries does
not grow with the batch: NIRs and line ids are looked up in chunks, the lines inserted in
bulk, and each record gets one history event per batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import InsurerToken, Patient, Reimbursement
from webapp.policy.queries import reimbursements_shown_from
from webapp.services.audit import Action, ActorKind, record_system_events
from webapp.services.insurer.records import (
    LINE_CONFLICT,
    Refused,
    chunks,
    patients_by_nir,
    record_problem,
)
from webapp.services.insurer.schemas import Problem, ReimbursementLine
from webapp.services.prevention import age_on

ADULT = 18


@dataclass(frozen=True)
class Outcome:
    created: int
    unchanged: int
    expired: int


@dataclass(frozen=True)
class _Line:
    index: int
    line: ReimbursementLine
    content_hash: str


def receive(
    lines: Mapping[int, ReimbursementLine],
    *,
    token: InsurerToken | None,
    problems: Sequence[Problem] = (),
) -> Outcome:
    """Store the new lines of a batch, or none: raises Refused with `problems` (the ones the
    caller found in the lines it could not read) and every problem found here.

    A line older than the 24 months the record shows is not stored and counts as expired:
    the patient would never see it. It is checked for its own fields only, not against the
    records, since nothing of it is kept. Flushes, never commits.
    """
    found = list(problems)
    unique = _first_of_each(lines, found)
    shown_from = reimbursements_shown_from()
    current = [item for item in unique if item.line.care_date >= shown_from]
    patients = patients_by_nir(item.line.nir for item in current)
    for item in current:
        problem = _record_refuses(item, patients.get(item.line.nir))
        if problem is not None:
            found.append(problem)
    stored = _stored_hashes([item.line.line_id for item in current])
    new = [item for item in current if item.line.line_id not in stored]
    found += [
        Problem(
            item.index,
            "line_id",
            LINE_CONFLICT,
            "a line with this line_id is stored with other content",
        )
        for item in current
        if stored.get(item.line.line_id, item.content_hash) != item.content_hash
    ]
    if found:
        raise Refused(found)
    _insert(new, patients, token)
    _record_history(new, patients)
    return Outcome(
        created=len(new), unchanged=len(current) - len(new), expired=len(unique) - len(current)
    )


def _first_of_each(lines: Mapping[int, ReimbursementLine], found: list[Problem]) -> list[_Line]:
    """One line per line_id: a repeat with the same content counts once, a repeat with other
    content is refused (duplicate_line_id)."""
    first: dict[str, _Line] = {}
    for index in sorted(lines):
        line = lines[index]
        item = _Line(index, line, line.content_hash())
        seen = first.setdefault(line.line_id, item)
        if seen.content_hash != item.content_hash:
            found.append(
                Problem(
                    index,
                    "line_id",
                    "duplicate_line_id",
                    f"the same line_id is at index {seen.index} with other content",
                )
            )
    return list(first.values())


def _record_refuses(item: _Line, patient: Patient | None) -> Problem | None:
    problem = record_problem(item.index, patient)
    if problem is not None or patient is None:
        return problem
    if item.line.confidential and _minor_on(patient.birth_date, item.line.care_date):
        return Problem(
            item.index,
            "confidential",
            "minor_confidential",
            "a minor's confidential care is never fed to the record (R1111-50 of the Code de "
            "la santé publique)",
        )
    return None


def _minor_on(birth: date, day: date) -> bool:
    return age_on(birth, day) < ADULT


def _stored_hashes(line_ids: Sequence[str]) -> dict[str, str]:
    """The content hash of each of these line ids already stored."""
    stored: dict[str, str] = {}
    for chunk in chunks(sorted(line_ids)):
        query = select(Reimbursement.line_id, Reimbursement.content_hash).where(
            Reimbursement.line_id.in_(chunk)
        )
        stored.update({line_id: content for line_id, content in db.session.execute(query)})
    return stored


def _insert(new: list[_Line], patients: Mapping[str, Patient], token: InsurerToken | None) -> None:
    if not new:
        return
    now = clock.now()
    rows = [
        {
            "line_id": item.line.line_id,
            "patient_id": patients[item.line.nir].id,
            "care_date": item.line.care_date,
            "act_code": item.line.act_code,
            "act_label": item.line.act_label,
            "professional": item.line.professional,
            "profession": item.line.profession,
            "amount_paid": item.line.amount_paid,
            "amount_reimbursed": item.line.amount_reimbursed,
            "content_hash": item.content_hash,
            "received_at": now,
            "token_id": token.id if token is not None else None,
        }
        for item in new
    ]
    try:
        with db.session.begin_nested():
            db.session.execute(insert(Reimbursement), rows)
    except IntegrityError:
        # Another batch stored one of these line ids between the check and the insert.
        raise Refused(
            [
                Problem(
                    None,
                    "lines",
                    LINE_CONFLICT,
                    "another batch stored some of these lines at the same time: send it again",
                )
            ]
        ) from None


def _record_history(new: list[_Line], patients: Mapping[str, Patient]) -> None:
    """One event per record and batch, appended to every chain in a few statements."""
    counts: dict[int, int] = {}
    for item in new:
        patient_id = patients[item.line.nir].id
        counts[patient_id] = counts.get(patient_id, 0) + 1
    record_system_events(
        {patient_id: f"{count} lines" for patient_id, count in counts.items()},
        Action.REIMBURSEMENTS_RECEIVED,
        actor_kind=ActorKind.INSURER,
    )
