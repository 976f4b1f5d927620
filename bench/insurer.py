"""Insurer feed benchmark: lines per second through the API, and the patient's page as it grows.

Run: .venv/bin/python -m bench.insurer   (SQLite in a temporary folder; PostgreSQL too when
TEST_DATABASE_URL names an empty database it may rebuild; a few minutes on 2 cores)

1. 100,000 reimbursement lines for 1,000 patients, POSTed to /api/insurer/reimbursements in
   batches of 1,000 (each batch touches every patient once: one history event per patient per
   batch, the costly case), then the same batches again (all unchanged).
2. /reimbursements/ for a patient with 2,000 lines against one with 20, alternating A,B,A,B;
   the goal is a median ratio of at most 1.2, with the same number of SQL statements.
Ratios taken in the same run matter, not absolute figures.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert

from tests.builders import login_as, make_patient, with_key
from tests.conftest import IsolatedClient, reset_schema
from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import Patient, Reimbursement
from webapp.services.insurer import tokens

PATIENTS = 1_000
BATCHES = 100
BATCH = 1_000
GOAL_RATIO = 1.2


def _seed_patients() -> list[str]:
    """1,000 records without accounts (the feed needs none): their NIRs."""
    nirs = [with_key(f"{1 + n % 2}7501750{n:05d}"[:13]) for n in range(PATIENTS)]
    db.session.execute(
        insert(Patient),
        [
            {
                "nir": nir,
                "last_name": f"Bench{n}",
                "first_names": "Alix",
                "birth_date": date(1970, 1, 1),
                "sex": "F",
                "audit_head_seq": 0,
            }
            for n, nir in enumerate(nirs)
        ],
    )
    db.session.commit()
    return nirs


def _batch(number: int, nirs: list[str], today: date) -> dict[str, Any]:
    return {
        "lines": [
            {
                "line_id": f"B{number:03d}-{n:04d}",
                "nir": nir,
                "date": (today - timedelta(days=(number * 7 + n) % 700)).isoformat(),
                "act_code": "G",
                "act_label": "Consultation de médecine générale",
                "professional": f"Dr Martin {n % 50}",
                "profession": "Médecin généraliste",
                "amount_paid": "30.00",
                "amount_reimbursed": "19.00",
            }
            for n, nir in enumerate(nirs)
        ]
    }


def feed(app: Flask) -> tuple[float, float]:
    """Lines per second, first sending and sending again."""
    nirs = _seed_patients()
    _row, secret = tokens.create("bench")
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    today = clock.to_paris(clock.now()).date()
    batches = [_batch(number, nirs, today) for number in range(BATCHES)]
    rates = []
    for expected in ("created", "unchanged"):
        start = time.perf_counter()
        for body in batches:
            response = client.post("/api/insurer/reimbursements", json=body, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            assert response.get_json()[expected] == BATCH, response.get_json()
        rates.append(BATCHES * BATCH / (time.perf_counter() - start))
    return rates[0], rates[1]


def _with_lines(app: Flask, count: int) -> FlaskClient:
    account = make_patient()
    assert account.patient is not None
    today = clock.to_paris(clock.now()).date()
    db.session.execute(
        insert(Reimbursement),
        [
            {
                "line_id": f"P{account.id}-{n}",
                "patient_id": account.patient.id,
                "care_date": today - timedelta(days=n * 700 // count),
                "act_code": "PH7" if n % 3 else "G",
                "act_label": "Médicaments" if n % 3 else "Consultation",
                "professional": f"Pharmacie {n % 7}" if n % 3 else "Dr Martin",
                "profession": "Pharmacie" if n % 3 else "Médecin généraliste",
                "amount_paid": Decimal("12.40"),
                "amount_reimbursed": Decimal("7.56"),
                "content_hash": "0" * 64,
                "received_at": clock.now(),
            }
            for n in range(count)
        ],
    )
    db.session.commit()
    client = app.test_client()
    login_as(client, account)
    return client


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def page(app: Flask) -> tuple[float, float, int, int]:
    """Median ms for 20 and 2,000 lines (alternating), and SQL statements of each."""
    small, big = _with_lines(app, 20), _with_lines(app, 2_000)
    for client in (small, big):
        assert client.get("/reimbursements/").status_code == 200
    samples: dict[str, list[float]] = {"small": [], "big": []}
    for _ in range(30):
        for name, client in (("small", small), ("big", big)):
            start = time.perf_counter()
            response = client.get("/reimbursements/")
            samples[name].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
    counts = []
    for client in (small, big):
        with counting(app) as statements:
            client.get("/reimbursements/")
        counts.append(len(statements))
    return (
        statistics.median(samples["small"]),
        statistics.median(samples["big"]),
        counts[0],
        counts[1],
    )


def run(engine_name: str, database_url: str, folder: Path) -> None:
    settings = Settings.for_tests(folder / "instance", database_url, rate_limits_enabled=False)
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    with app.app_context():
        reset_schema()
        first, again = feed(app)
        small_ms, big_ms, small_sql, big_sql = page(app)
    ratio = big_ms / small_ms
    print(f"\n{engine_name}")
    print(f"  feed: {BATCHES * BATCH:,} lines for {PATIENTS:,} patients in batches of {BATCH:,}")
    print(f"    first sending   {first:>10,.0f} lines/s")
    print(f"    sent again      {again:>10,.0f} lines/s (all unchanged)")
    print("  /reimbursements/: 2,000 lines against 20 (medians of 30, alternating)")
    print(f"    20 lines {small_ms:.1f} ms, 2,000 lines {big_ms:.1f} ms")
    verdict = "ok" if ratio <= GOAL_RATIO and small_sql == big_sql else "MISSED"
    print(f"    ratio {ratio:.2f} (goal <= {GOAL_RATIO})  SQL {small_sql} vs {big_sql}  {verdict}")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-insurer-"))
    run("SQLite", f"sqlite:///{folder / 'bench.db'}", folder / "sqlite")
    postgres = os.environ.get("TEST_DATABASE_URL")
    if postgres:
        run("PostgreSQL", postgres, folder / "postgresql")
    else:
        print("\nPostgreSQL: set TEST_DATABASE_URL to an empty database to measure it too.")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
