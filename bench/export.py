"""Export benchmark: the whole-record ZIP of 100 and of 1,000 documents, time and peak memory.

Run: .venv/bin/python -m bench.export   (SQLite in a temporary folder; ~1 minute)
Each document is a real encrypted blob (`storage.store` of a small PDF), since the export
decrypts every file. What matters is that memory stays flat while the ZIP grows tenfold.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import fresh_csrf, login_as, make_patient, pdf_file
from tests.conftest import IsolatedClient
from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import Account, Document
from webapp.services import storage

FILE_BYTES = 48 * 1024  # a scanned page: most of it random, as compressed images are
TYPES = [("biologie", "11502-2"), ("imagerie", "18748-4"), ("ordonnances", "57833-6")]


def seed(account: Account, count: int) -> None:
    """`count` documents with their encrypted files, written straight as rows (no history)."""
    assert account.patient is not None
    for n in range(count):
        content = pdf_file(f"Bench {n}", padding=os.urandom(FILE_BYTES))
        blob = storage.store(_Reader(content), max_bytes=len(content))
        category, type_code = TYPES[n % len(TYPES)]
        db.session.add(
            Document(
                patient_id=account.patient.id,
                title=f"Compte rendu {n % 50}",  # repeated titles: the names get (2), (3)…
                category=category,
                type_code=type_code,
                care_date=date(2016 + n % 10, 1 + n % 12, 1 + n % 28),
                author_kind="patient",
                author_account_id=account.id,
                author_label="Bench",
                deposited_at=clock.now(),
                size=blob.size,
                sha256=blob.sha256,
                media_type=blob.media_type,
                blob_id=blob.blob_id,
                key_id=blob.key_id,
                wrapped_key=blob.wrapped_key,
                state="current",
                version=1,
                masked_from_pros=False,
            )
        )
        if n % 500 == 499:
            db.session.commit()
    db.session.commit()


class _Reader:
    def __init__(self, content: bytes) -> None:
        self._content = memoryview(content)
        self._at = 0

    def read(self, size: int, /) -> bytes:
        piece = bytes(self._content[self._at : self._at + size])
        self._at += len(piece)
        return piece


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    """Linux resets VmHWM (the peak RSS) when 5 is written to clear_refs."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def download(client: FlaskClient, token: str) -> int:
    """POST the export and read the stream chunk by chunk, as a browser would; its size.

    Outside any application context, as on a server (the request pushes its own), and with
    FlaskClient.open, not IsolatedClient's: the stream is read in this very context."""
    response = FlaskClient.open(
        client, "/settings/export", method="POST", data={"csrf_token": token}
    )
    assert response.status_code == 200, response.status_code
    assert response.is_streamed
    received = sum(len(chunk) for chunk in response.iter_encoded())
    response.close()
    return received


def measure(action: Callable[[], int]) -> tuple[float, int, int, int]:
    """Seconds (untraced run), bytes, tracemalloc peak and peak RSS growth (traced run)."""
    start = time.perf_counter()
    size = action()
    seconds = time.perf_counter() - start
    rss_known = _reset_peak_rss()
    rss_before = _status_kib("VmRSS")
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = (_status_kib("VmHWM") - rss_before) * 1024 if rss_known else -1
    return seconds, size, peak, rss_growth


def patient_client(app: Flask, count: int) -> tuple[FlaskClient, str]:
    """A signed-in client of a record of `count` documents, and a CSRF token for its form."""
    with app.app_context():
        account = make_patient()
        seed(account, count)
        client = app.test_client()
        login_as(client, account)
        return client, fresh_csrf(client)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-"))
    settings = Settings.for_tests(
        folder / "instance", f"sqlite:///{folder / 'bench.db'}", rate_limits_enabled=False
    )
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
    rows = []
    for count in (100, 1000):
        client, token = patient_client(app, count)
        rows.append((count, *measure(partial(download, client, token))))
    print(
        f"{'documents':>10}{'ZIP (MB)':>10}{'time (s)':>10}{'MB/s':>8}"
        f"{'traced peak (MB)':>18}{'RSS growth (MB)':>17}"
    )
    for count, seconds, size, peak, rss in rows:
        mb = size / 1024 / 1024
        rss_text = f"{rss / 1024 / 1024:>17.1f}" if rss >= 0 else f"{'n/a':>17}"
        print(
            f"{count:>10}{mb:>10.1f}{seconds:>10.2f}{mb / seconds:>8.1f}"
            f"{peak / 1024 / 1024:>18.1f}{rss_text}"
        )
    print(
        "\nTraced peak: Python's allocations during one streamed download (the FHIR bundle "
        "of the documents' descriptions included). RSS growth: the process's peak resident "
        "memory during that download, above what it held before."
    )


if __name__ == "__main__":
    main()
