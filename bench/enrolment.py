"""Activation timing: a wrong attempt must not answer faster or slower than a right one.

Run: .venv/bin/python -m bench.enrolment   (SQLite in a temporary folder; ~45 seconds)
Each kind of attempt is a real POST of /enrolment/activate through the application; the
table gives the median and the spread, and the ratio of each wrong kind to the right one.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import csrf_from, make_beneficiary
from tests.conftest import IsolatedClient
from webapp import create_app
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.services import enrolment, provisional

RUNS = 50


def attempt_ms(client: FlaskClient, data: dict[str, str]) -> float:
    token = csrf_from(client.get("/enrolment/activate"))
    started = time.perf_counter()
    response = client.post("/enrolment/activate", data={**data, "csrf_token": token})
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code in (303, 422), response.status_code
    return elapsed


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-"))
    settings = Settings.for_tests(
        folder / "instance", f"sqlite:///{folder / 'bench.db'}", rate_limits_enabled=False
    )
    app: Flask = create_app(settings)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        person = make_beneficiary()
        stranger = make_beneficiary()
        _, code = enrolment.send_code(person, "email", issued_by="campaign", actor=None)
        db.session.commit()
        right = {
            "code": code,
            "nir": person.nir,
            "vitale_serial": person.vitale_serial,
            "birth_date": person.birth_date.isoformat(),
        }
        kinds = {
            "right details": right,
            # A wrong detail costs the code a try: these use people without a live code, so
            # that the right attempts keep working through the whole run.
            "unknown code, unknown person": {
                **right,
                "code": provisional.new_code(),
                "nir": stranger.nir,
            },
            "unknown code, known person": {
                **right,
                "code": provisional.new_code(),
                "nir": stranger.nir,
                "vitale_serial": stranger.vitale_serial,
            },
            "known code, wrong serial": None,
        }
        client = app.test_client()
        samples: dict[str, list[float]] = {name: [] for name in kinds}
        for n in range(RUNS):
            for name, data in kinds.items():
                if data is None:
                    # A fresh code each time (five wrong tries kill one).
                    victim = make_beneficiary()
                    _, victim_code = enrolment.send_code(
                        victim, "email", issued_by="campaign", actor=None
                    )
                    db.session.commit()
                    data = {
                        **right,
                        "code": victim_code,
                        "nir": victim.nir,
                        "vitale_serial": "111111",
                    }
                samples[name].append(attempt_ms(client, data))
            del n
        base = statistics.median(samples["right details"])
        print(f"{'attempt':<32}{'median (ms)':>12}{'p90 (ms)':>10}{'ratio':>8}")
        for name, values in samples.items():
            median = statistics.median(values)
            p90 = statistics.quantiles(values, n=10)[-1]
            print(f"{name:<32}{median:>12.2f}{p90:>10.2f}{median / base:>8.2f}")


if __name__ == "__main__":
    main()
