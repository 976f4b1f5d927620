"""The beneficiary register over the API: the checks and the upsert of `flask beneficiaries
import`, with errors by index instead of line numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from webapp.models.account import RecordState
from webapp.services import beneficiaries
from webapp.services.audit import Action, ActorKind, record_access
from webapp.services.beneficiaries import BeneficiaryRecord
from webapp.services.insurer.records import Refused, patients_by_nir
from webapp.services.insurer.schemas import BeneficiaryEntry, Problem


@dataclass(frozen=True)
class Outcome:
    created: int
    updated: int
    unchanged: int


def receive(entries: Mapping[int, BeneficiaryEntry], problems: Sequence[Problem] = ()) -> Outcome:
    """Upsert the register on the NIR, or change nothing: raises Refused with `problems` and
    every problem found here. A record whose register row changed gets a history event.
    Flushes, never commits."""
    found = list(problems)
    records: list[BeneficiaryRecord] = []
    seen: dict[str, int] = {}
    for index in sorted(entries):
        checked = beneficiaries.check_line(entries[index].cells())
        if isinstance(checked, list):
            found += [_problem(index, reason) for reason in checked]
        elif checked.nir in seen:
            found.append(
                Problem(index, "nir", "duplicate_nir", f"same NIR as index {seen[checked.nir]}")
            )
        else:
            seen[checked.nir] = index
            records.append(checked)
    if found:
        raise Refused(found)
    report = beneficiaries.REGISTER.upsert(records)
    _record_changes(report.written)
    return Outcome(report.created, report.updated, report.unchanged)


def _problem(index: int, reason: str) -> Problem:
    field = getattr(reason, "column", None)
    code = "invalid_nir" if field == "nir" else "invalid_value"
    return Problem(index, field, code, str(reason))


def _record_changes(nirs: list[str]) -> None:
    patients = patients_by_nir(nirs)
    for patient in sorted(patients.values(), key=lambda found: found.id):
        if patient.record_state == RecordState.DELETED:
            continue
        record_access(patient, None, Action.BENEFICIARY_UPDATED, actor_kind=ActorKind.INSURER)
