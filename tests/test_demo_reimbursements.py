"""The demo patients' reimbursements (`reimbursements.csv`): two believable years of the demo
patient's care and a few lines of her father's, inside the 24 months shown, loaded once."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Patient, Reimbursement
from webapp.policy.queries import reimbursements_shown_from
from webapp.services import demo, reimbursements
from webapp.services.demo import people, reimbursement_lines
from webapp.services.demo.data import DemoDataError, read_text


def _patient(identifier: str) -> Patient:
    account = db.session.scalar(select(Account).where(Account.identifier == identifier))
    assert account is not None and account.patient is not None
    return account.patient


def _lines(patient: Patient) -> list[Reimbursement]:
    return list(
        db.session.scalars(
            select(Reimbursement)
            .where(Reimbursement.patient_id == patient.id)
            .order_by(Reimbursement.line_id)
        )
    )


def test_loading_twice_changes_nothing(app: Flask) -> None:
    demo.load()
    db.session.commit()
    her, father = _patient("patient.demo"), _patient("patient.senior")
    first = {line.line_id: line.content_hash for line in _lines(her) + _lines(father)}
    assert 50 <= len(_lines(her)) <= 70
    assert 3 <= len(_lines(father)) < len(_lines(her))
    assert all(re.fullmatch(r"DEMO-patient\.(demo|senior)-\d+", line_id) for line_id in first)

    assert demo.load() == []
    db.session.commit()
    db.session.expire_all()
    again = {line.line_id: line.content_hash for line in _lines(her) + _lines(father)}
    assert again == first
    assert reimbursement_lines.add(her) == 0


def test_her_two_years_are_all_shown_and_follow_the_rules(app: Flask) -> None:
    demo.load()
    db.session.commit()
    her = _patient("patient.demo")
    lines = _lines(her)
    today = clock.to_paris(clock.now()).date()
    assert all(reimbursements_shown_from() <= line.care_date <= today for line in lines)
    assert (today - min(line.care_date for line in lines)).days > 600  # about two years
    kinds = {line.profession for line in lines}
    assert {
        "Médecin généraliste",
        "Pharmacie",
        "Laboratoire",
        "Chirurgien-dentiste",
        "Masseur-kinésithérapeute",
        "Cardiologue",
        "Opticien",
    } <= kinds
    for line in lines:
        assert Decimal(0) <= line.amount_reimbursed <= line.amount_paid
        if line.act_code in ("G", "TCG"):  # 30.00 at 70 %, less the 2.00 participation
            assert (line.amount_paid, line.amount_reimbursed) == (
                Decimal("30.00"),
                Decimal("19.00"),
            )
        if line.act_code == "PH7":  # 65 %, less 0.50 a box
            boxes = int(re.search(r"\((\d+) boîtes?\)", line.act_label).group(1))  # type: ignore[union-attr]
            expected = (line.amount_paid * Decimal("0.65")).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            ) - Decimal("0.50") * boxes
            assert line.amount_reimbursed == expected, line.act_label
    optician = [line for line in lines if line.profession == "Opticien"]
    assert len(optician) == 1 and optician[0].amount_reimbursed < Decimal("1")
    account = her.account
    assert account is not None
    listing = reimbursements.page_of(account, her, reimbursements.Filters(), 1)
    assert listing.totals.count == len(lines)
    assert "Dr Claire Martin" in listing.professionals


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((",30.00,19.00", ",19.00,30.00"), "is more than the 19.00 paid"),
        (("patient.demo,3,21,", "patient.nobody,3,21,"), '"patient" must be a demo patient'),
        (("patient.demo,3,21,", "patient.demo,3,900,"), '"days_ago" must be 0 to 720'),
        ((",30.00,19.00", ",3O.00,19.00"), '"paid" must be an amount in euros'),
        (
            ("patient.demo,3,21,", "patient.demo,1,21,"),
            "two lines share the id DEMO-patient.demo-1",
        ),
    ],
)
def test_a_bad_line_is_named(change: tuple[str, str], message: str) -> None:
    text = read_text(reimbursement_lines.FILE)
    assert change[0] in text
    with pytest.raises(DemoDataError, match=re.escape(message)) as caught:
        reimbursement_lines.parse(text.replace(change[0], change[1], 1), people.current())
    assert "reimbursements.csv" in str(caught.value)
