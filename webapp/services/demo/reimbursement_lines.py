"""The demo patients' reimbursements (`reimbursements.csv`): two years of the demo patient's
care as the Assurance Maladie would send it, and a few lines of her father's; checked when
read, dated from the day of loading, each sent once under its own insurer line id through
the same service as the insurer's API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from sqlalchemy import select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Patient, Reimbursement
from webapp.services.demo import people
from webapp.services.demo.data import DemoDataError, Entry, parse_csv, read_text
from webapp.services.insurer import reimbursements
from webapp.services.insurer.schemas import ReimbursementLine

FILE = "reimbursements.csv"
COLUMNS = [
    "patient",
    "n",
    "days_ago",
    "act_code",
    "act_label",
    "professional",
    "profession",
    "paid",
    "reimbursed",
]
# Within the 24 months the page shows, with a few days to spare before they leave it.
MAX_DAYS_AGO = 720


@dataclass(frozen=True)
class DemoLine:
    patient: str  # a demo patient's identifier
    number: int
    days_ago: int
    act_code: str
    act_label: str
    professional: str
    profession: str
    paid: Decimal
    reimbursed: Decimal

    @property
    def line_id(self) -> str:
        """The insurer's id of the line: the same at every load, so a line is never doubled."""
        return f"DEMO-{self.patient}-{self.number}"

    def sent(self, nir: str, today: date) -> ReimbursementLine:
        """The line as the insurer's systems send it, dated from `today`."""
        return ReimbursementLine.model_validate(
            {
                "line_id": self.line_id,
                "nir": nir,
                "date": (today - timedelta(days=self.days_ago)).isoformat(),
                "act_code": self.act_code,
                "act_label": self.act_label,
                "professional": self.professional,
                "profession": self.profession,
                "amount_paid": f"{self.paid:.2f}",
                "amount_reimbursed": f"{self.reimbursed:.2f}",
            }
        )


def _euros(raw: str) -> Decimal:
    """An amount in euros with its cents: "30.00"."""
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueError(raw) from exc
    if value != value.quantize(Decimal("0.01")) or not Decimal(0) <= value < Decimal(10**7):
        raise ValueError(raw)
    return value.quantize(Decimal("0.01"))


def _line(entry: Entry, patients: set[str]) -> DemoLine:
    patient = entry.text("patient")
    if patient not in patients:
        entry.fail(f'"patient" must be a demo patient of {people.FILE}, got {patient!r}')
    days_ago = entry.cell("days_ago", int, "a whole number of days")
    if not 0 <= days_ago <= MAX_DAYS_AGO:
        entry.fail(f'"days_ago" must be 0 to {MAX_DAYS_AGO}, got {days_ago}')
    paid = entry.cell("paid", _euros, "an amount in euros such as 30.00")
    reimbursed = entry.cell("reimbursed", _euros, "an amount in euros such as 19.00")
    if reimbursed > paid:
        entry.fail(f"reimbursed {reimbursed} is more than the {paid} paid")
    texts = {name: entry.text(name).strip() for name in COLUMNS[3:7]}
    for name, text in texts.items():
        if not text:
            entry.fail(f'"{name}" is empty')
    line = DemoLine(
        patient=patient,
        number=entry.cell("n", int, "a whole number"),
        days_ago=days_ago,
        act_code=texts["act_code"][:20],
        act_label=texts["act_label"][:200],
        professional=texts["professional"][:200],
        profession=texts["profession"][:100],
        paid=paid,
        reimbursed=reimbursed,
    )
    entry.done()
    return line


def parse(text: str, accounts: people.DemoAccounts) -> tuple[DemoLine, ...]:
    patients = {demo.identifier for demo in accounts.patients}
    found = tuple(_line(entry, patients) for entry in parse_csv(FILE, text, COLUMNS))
    ids = [line.line_id for line in found]
    duplicated = sorted({line_id for line_id in ids if ids.count(line_id) > 1})
    if duplicated:
        raise DemoDataError(f"{FILE}: two lines share the id {duplicated[0]}")
    return found


@lru_cache(maxsize=1)
def current() -> tuple[DemoLine, ...]:
    return parse(read_text(FILE), people.current())


def add(patient: Patient) -> int:
    """The patient's lines not loaded yet; returns how many were added. A line already there
    (or purged, then sent again by a later load) is found by its insurer line id."""
    holder = db.session.get(Account, patient.account_id)
    assert holder is not None
    mine = [line for line in current() if line.patient == holder.identifier]
    if not mine:
        return 0
    present = set(
        db.session.scalars(
            select(Reimbursement.line_id).where(
                Reimbursement.line_id.in_([line.line_id for line in mine])
            )
        )
    )
    today = clock.to_paris(clock.now()).date()
    missing = [line for line in mine if line.line_id not in present]
    if missing:  # through the feed itself: checked, stored, and told in her history
        reimbursements.receive(
            {n: line.sent(patient.nir, today) for n, line in enumerate(missing)}, token=None
        )
    return len(missing)
