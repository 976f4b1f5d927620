"""The records the insurer's data goes to, found by NIR, and the refusal every feed shares."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select

from webapp.core.extensions import db
from webapp.models import Patient
from webapp.models.account import RecordState
from webapp.services.insurer.schemas import Problem

# A pending record (code sent, not yet activated) and an active one take the insurer's data;
# an opposed, closed, deleted or suspended one takes nothing.
OPEN_STATES = frozenset({RecordState.PENDING, RecordState.ACTIVE})
# Bounds `IN (...)` lists: a handful of queries for 10,000 lines, well under the databases'
# parameter limits.
LOOKUP_CHUNK = 1000

UNKNOWN_NIR = "unknown_nir"
RECORD_NOT_OPEN = "record_not_open"
LINE_CONFLICT = "line_conflict"


class Refused(Exception):
    """The batch is refused as a whole; `problems` says every reason, by index."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(problems, key=lambda p: -1 if p.index is None else p.index)

    @property
    def conflict(self) -> bool:
        """Only conflicts with lines already stored (HTTP 409); anything else is a 400."""
        return all(problem.code == LINE_CONFLICT for problem in self.problems)


def chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def patients_by_nir(nirs: Iterable[str]) -> dict[str, Patient]:
    """The records of these NIRs (compact form), in as few queries as chunks."""
    found: dict[str, Patient] = {}
    for chunk in chunks(sorted(set(nirs))):
        for patient in db.session.scalars(select(Patient).where(Patient.nir.in_(chunk))):
            found[patient.nir] = patient
    return found


def record_problem(index: int | None, patient: Patient | None) -> Problem | None:
    """Why this NIR's record takes nothing, or None when it is open."""
    if patient is None:
        return Problem(index, "nir", UNKNOWN_NIR, "no record has this NIR")
    if patient.record_state not in OPEN_STATES:
        return Problem(
            index,
            "nir",
            RECORD_NOT_OPEN,
            "this record is opposed, closed, deleted or suspended: it takes nothing",
        )
    return None
