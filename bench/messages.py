"""Messaging benchmark: the inbox at 10 and 1,000 conversations, a thread of 5 and of 500
messages, and the unread badge's polling endpoint against /healthz.

Run: .venv/bin/python -m bench.messages   (SQLite in a temporary folder; ~1 minute)
Each pair is measured alternately (A, B, A, B ...) in the same run, so that both sides see the
same machine; the ratios matter, not the absolute figures. Each row also gives the number of
SQL statements one request sends: it must not grow with the data.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select, update

from tests.builders import login_as, make_patient, make_professional
from tests.conftest import IsolatedClient
from tests.test_query_counts import counting
from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import Account, Conversation, Message, Patient
from webapp.services import storage

RUNS = 40
BODY = (
    "Bonjour, voici les résultats de votre bilan : tout est dans les valeurs de référence. "
    "Nous en reparlerons à la prochaine consultation."
)


# --- data, inserted in bulk -------------------------------------------------------------------


def _conversation_rows(
    patient_ids: list[int], professional: Account, count: int, unread: int
) -> list[dict[str, Any]]:
    pro = professional.professional
    assert pro is not None
    start = clock.now() - timedelta(days=count)
    return [
        {
            "patient_id": patient_ids[n % len(patient_ids)],
            "professional_id": pro.id,
            "subject": f"Résultats de l'examen n° {n}",
            "professional_label": pro.display_name,
            "professional_profession": pro.profession,
            "professional_structure": pro.structure or "",
            "started_at": start + timedelta(days=n),
            "last_message_at": start + timedelta(days=n, hours=1),
            "message_count": 1,
            "patient_unread": 1 if n >= count - unread else 0,
            "professional_unread": 0,
            "hidden_from_legal_reps": False,
            "row_version": 1,
        }
        for n in range(count)
    ]


def add_conversations(
    patient_ids: list[int], professional: Account, count: int, *, unread: int = 0
) -> list[int]:
    """`count` conversations of one message each, spread over the patients; their ids."""
    rows = _conversation_rows(patient_ids, professional, count, unread)
    first = (db.session.scalar(select(func.max(Conversation.id))) or 0) + 1
    for offset, row in enumerate(rows):
        row["id"] = first + offset
    db.session.execute(insert(Conversation), rows)
    for row in rows:
        add_messages(row["id"], professional, 1, unread=row["patient_unread"], commit=False)
    db.session.commit()
    return [row["id"] for row in rows]


def add_messages(
    conversation_id: int, professional: Account, count: int, *, unread: int = 0, commit: bool = True
) -> None:
    """`count` sealed messages, alternately from the professional and from the patient."""
    first = (db.session.scalar(select(func.max(Message.id))) or 0) + 1
    sent = clock.now() - timedelta(hours=count)
    rows = []
    for n in range(count):
        message_id = first + n
        sealed = storage.seal_text(f"message-{message_id}", f"{BODY} ({n})")
        from_pro = n % 2 == 0
        rows.append(
            {
                "id": message_id,
                "conversation_id": conversation_id,
                "author_kind": "professional" if from_pro else "patient",
                "author_account_id": professional.id if from_pro else None,
                "author_label": professional.display_name if from_pro else "Alice Bench",
                "sent_at": sent + timedelta(hours=n),
                "read_at": None if n >= count - unread else sent + timedelta(hours=n, minutes=5),
                "key_id": sealed.key_id,
                "wrapped_key": sealed.wrapped_key,
                "sealed_body": sealed.sealed,
            }
        )
    db.session.execute(insert(Message), rows)
    if commit:
        db.session.commit()


def add_patients(count: int, tag: str) -> list[int]:
    """Records without an account, to write to: what a professional's inbox lists."""
    rows = [
        {
            "nir": f"{tag}{n:010d}"[:15],
            "last_name": f"Patient{tag}{n}",
            "first_names": "Alice",
            "birth_date": date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
            "sex": "F",
            "audit_head_seq": 0,
        }
        for n in range(count)
    ]
    db.session.execute(insert(Patient), rows)
    db.session.commit()
    return list(
        db.session.scalars(select(Patient.id).where(Patient.last_name.like(f"Patient{tag}%")))
    )


def _thread(patient_id: int, professional: Account, messages: int) -> int:
    (conversation_id,) = add_conversations([patient_id], professional, 1)
    add_messages(conversation_id, professional, messages - 1)
    db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(message_count=messages)
    )
    db.session.commit()
    return conversation_id


# --- measuring --------------------------------------------------------------------------------


def _get(client: FlaskClient, path: str, status: int) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == status, (path, response.status_code)
    return elapsed


def statements(client: FlaskClient, path: str, status: int) -> int:
    with counting(client.application) as sent:
        _get(client, path, status)
    return len(sent)


Probe = tuple[FlaskClient, str, int]  # who asks, for what, expecting which status


def alternate(a: Probe, b: Probe, runs: int = RUNS) -> tuple[float, float]:
    """Median milliseconds of `a` and of `b`, measured A, B, A, B ... after a warm-up."""
    for probe in (a, b):
        _get(*probe)
    first: list[float] = []
    second: list[float] = []
    for _ in range(runs):
        first.append(_get(*a))
        second.append(_get(*b))
    return statistics.median(first), statistics.median(second)


def _signed_in(app: Flask, account: Account) -> FlaskClient:
    client = app.test_client()
    login_as(client, account)
    return client


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-"))
    settings = Settings.for_tests(
        folder / "instance", f"sqlite:///{folder / 'bench.db'}", rate_limits_enabled=False
    )
    app = create_app(settings)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        writer, small_pro, page_pro, large_pro, reader_pro = (make_professional() for _ in range(5))
        small, page, large, reader = (make_patient() for _ in range(4))
        assert small.patient and page.patient and large.patient and reader.patient
        # Her inbox: 10, 25 (a full page) or 1,000 conversations, two of them unread.
        add_conversations([small.patient.id], writer, 10, unread=2)
        add_conversations([page.patient.id], writer, 25, unread=2)
        add_conversations([large.patient.id], writer, 1000, unread=2)
        # A professional's inbox: 10, 25 or 1,000 conversations, each with another patient.
        add_conversations(add_patients(10, "S"), small_pro, 10)
        add_conversations(add_patients(25, "P"), page_pro, 25)
        add_conversations(add_patients(1000, "L"), large_pro, 1000)
        # Two threads of one patient, nothing unread: reading them writes nothing.
        short = _thread(reader.patient.id, reader_pro, 5)
        full = _thread(reader.patient.id, reader_pro, 25)
        long = _thread(reader.patient.id, reader_pro, 500)
        print(f"data built in {time.perf_counter() - started:.1f} s\n")

        small_client, large_client = _signed_in(app, small), _signed_in(app, large)
        page_client, reader_client = _signed_in(app, page), _signed_in(app, reader)
        small_desk, large_desk = _signed_in(app, small_pro), _signed_in(app, large_pro)
        page_desk = _signed_in(app, page_pro)
        pairs: list[tuple[str, Probe, Probe]] = [
            (
                "patient's inbox, 10 / 1,000",
                (small_client, "/messages/", 200),
                (large_client, "/messages/", 200),
            ),
            (
                "patient's inbox, 25 / 1,000",
                (page_client, "/messages/", 200),
                (large_client, "/messages/", 200),
            ),
            (
                "inbox, search, 10 / 1,000",
                (small_client, "/messages/?q=examen", 200),
                (large_client, "/messages/?q=examen", 200),
            ),
            (
                "professional's inbox, 10 / 1,000",
                (small_desk, "/messages/", 200),
                (large_desk, "/messages/", 200),
            ),
            (
                "professional's inbox, 25 / 1,000",
                (page_desk, "/messages/", 200),
                (large_desk, "/messages/", 200),
            ),
            (
                "thread, 5 / 500 messages",
                (reader_client, f"/messages/{short}", 200),
                (reader_client, f"/messages/{long}", 200),
            ),
            (
                "thread, 25 / 500 messages",
                (reader_client, f"/messages/{full}", 200),
                (reader_client, f"/messages/{long}", 200),
            ),
            (
                "poll, nothing new: /healthz / 204",
                (large_client, "/healthz", 200),
                (large_client, "/messages/unread?seen=2", 204),
            ),
            (
                "poll, count changed: /healthz / 200",
                (large_client, "/healthz", 200),
                (large_client, "/messages/unread?seen=0", 200),
            ),
        ]
        print(
            f"{'measure (A / B)':<38}{'A (ms)':>9}{'B (ms)':>9}{'B/A':>7}{'SQL A':>7}{'SQL B':>7}"
        )
        for label, a, b in pairs:
            median_a, median_b = alternate(a, b)
            print(
                f"{label:<38}{median_a:>9.2f}{median_b:>9.2f}{median_b / median_a:>7.2f}"
                f"{statements(*a):>7}{statements(*b):>7}"
            )
        print(
            "\nGoals: the inbox at 1,000 conversations within 1.2 times the inbox at 10; a "
            "thread page does not grow with the thread; the poll costs about as much as /healthz "
            "plus the session check. A page shows 25 conversations or messages: the 25 / 1,000 "
            "and 25 / 500 rows compare pages of the same length, the data alone growing."
        )


if __name__ == "__main__":
    main()
