"""Documents benchmark: list latency at 10 and 10,000 documents, and 20 MB upload/download.

Run: .venv/bin/python -m bench.documents   (SQLite in a temporary folder; ~1 minute)
Ratios against a baseline in the same run matter, not absolute figures.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import csrf_from, login_as, make_patient, pdf_file
from tests.conftest import IsolatedClient
from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import Account, Document
from webapp.services import documents

CATEGORIES = ["biologie", "imagerie", "ordonnances", "comptes_rendus", "autres"]
TYPES = ["11502-2", "18748-4", "57833-6", "11488-4", "CARNET-AUTRE"]


def seed(account: Account, count: int) -> None:
    assert account.patient is not None
    batch = []
    for n in range(count):
        batch.append(
            Document(
                patient_id=account.patient.id,
                title=f"Compte rendu {n}",
                category=CATEGORIES[n % 5],
                type_code=TYPES[n % 5],
                care_date=date(2016 + n % 10, 1 + n % 12, 1 + n % 28),
                author_kind="patient",
                author_account_id=account.id,
                author_label="Bench",
                deposited_at=clock.now(),
                size=1000,
                sha256="0" * 64,
                media_type="application/pdf",
                blob_id=f"{account.id:06x}{n:026x}",
                key_id="0" * 16,
                wrapped_key=b"x",
                state="current",
                version=1,
                masked_from_pros=False,
            )
        )
        if len(batch) == 2000:
            db.session.add_all(batch)
            db.session.commit()
            batch = []
    db.session.add_all(batch)
    db.session.commit()


def median_ms(action: Callable[[], object], runs: int = 30) -> float:
    action()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def signed_in(app: Flask, documents_count: int) -> FlaskClient:
    account = make_patient()
    seed(account, documents_count)
    client = app.test_client()
    login_as(client, account)
    return client


def pdf_of(size: int) -> bytes:
    """A real PDF (uploads are parsed) of exactly `size` bytes: random bytes in a stream."""
    padding = size - len(pdf_file())
    longer = len(pdf_file(padding=bytes(padding))) - size  # the stream's length has digits
    return pdf_file(padding=os.urandom(padding - longer))


def transfer(client: FlaskClient, size: int) -> tuple[float, float, int, int]:
    """Upload then download `size` bytes; MB/s both ways and peak traced memory both ways."""
    content = pdf_of(size)
    page = client.get("/documents/new")
    tracemalloc.start()
    start = time.perf_counter()
    response = client.post(
        "/documents/new",
        data={
            "csrf_token": csrf_from(page),
            "file": (io.BytesIO(content), "big.pdf"),
            "title": "Scanner",
            "category": "imagerie",
            "date": "2026-01-01",
        },
        content_type="multipart/form-data",
    )
    up_seconds = time.perf_counter() - start
    _, up_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    tracemalloc.start()
    start = time.perf_counter()
    received = 0
    download = client.get(location + "/download", buffered=False)
    for chunk in download.response:  # type: ignore[attr-defined]
        received += len(chunk)
    down_seconds = time.perf_counter() - start
    _, down_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    download.close()
    assert received == size
    mb = size / 1024 / 1024
    return mb / up_seconds, mb / down_seconds, up_peak, down_peak


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-"))
    settings = Settings.for_tests(
        folder / "instance", f"sqlite:///{folder / 'bench.db'}", rate_limits_enabled=False
    )
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    documents.PATIENT_LIMIT = 21 * 1024 * 1024  # the bench moves a professional-sized file
    with app.app_context():
        db.create_all()
        small = signed_in(app, 10)
        large = signed_in(app, 10_000)
        rows = []
        for label, path in (
            ("list, first page", "/documents/"),
            ("list, search", "/documents/?q=rendu%201"),
            ("list, category", "/documents/?category=imagerie"),
        ):
            base = median_ms(lambda p=path: small.get(p))
            big = median_ms(lambda p=path: large.get(p))
            rows.append((label, base, big, big / base))
        print(f"{'page':<20}{'10 docs (ms)':>14}{'10,000 docs (ms)':>18}{'ratio':>8}")
        for label, base, big, ratio in rows:
            print(f"{label:<20}{base:>14.1f}{big:>18.1f}{ratio:>8.2f}")
        print()
        print(
            f"{'file':<10}{'upload MB/s':>13}{'download MB/s':>15}"
            f"{'peak up (MB)':>14}{'peak down (MB)':>16}"
        )
        for size_mb in (5, 20):
            up, down, up_peak, down_peak = transfer(small, size_mb * 1024 * 1024)
            print(
                f"{size_mb:>3} MB    {up:>13.1f}{down:>15.1f}"
                f"{up_peak / 1024 / 1024:>14.1f}{down_peak / 1024 / 1024:>16.1f}"
            )
        print(
            "\nPeak memory is Python's traced allocations during the request, test body "
            "included (the 20 MB request body itself is built in memory by the client)."
        )


if __name__ == "__main__":
    main()
