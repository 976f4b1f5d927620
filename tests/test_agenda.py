"""The agenda (SPEC §7): appointments between a patient and one professional, who sees them,
who may move or cancel them, the database's refusal of overlapping slots, Paris time across the
daylight-saving changes, the daily notices, the calendar feed, bad input, and SQL per page."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.builders import (
    authorise,
    csrf_from,
    fresh_csrf,
    make_agent,
    make_appointment,
    make_patient,
    make_professional,
    page_text,
    page_words,
    signed_in,
)
from tests.test_query_counts import counting
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import (
    AccessEvent,
    Account,
    AgendaNotice,
    Appointment,
    OutboxMessage,
    Patient,
)
from webapp.models.digest import DigestEntry
from webapp.services import agenda, agenda_feed, agenda_remind
from webapp.services.audit import Action

TITLE = "Consultation de suivi cardiologique"
NOTE = "Apporter l'électrocardiogramme de mars"


@dataclass
class People:
    holder: Account
    cardio: Account

    @property
    def patient(self) -> Patient:
        assert self.holder.patient is not None
        return self.holder.patient

    @property
    def pro_id(self) -> int:
        assert self.cardio.professional is not None
        return self.cardio.professional.id


@pytest.fixture
def people(app: Flask) -> People:
    holder = make_patient()
    cardio = make_professional(first_names="Karim", specialty="cardiologie")
    authorise(cardio, holder)
    return People(holder, cardio)


def _words(response: TestResponse) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def future(days: int = 7) -> date:
    return clock.to_paris(clock.now()).date() + timedelta(days=days)


def book(
    client: FlaskClient,
    *,
    day: date | str | None = None,
    at: str = "10:30",
    duration: str = "30",
    title: str = TITLE,
    place: str = "Cabinet, 3 rue Sainte-Catherine, Lyon",
    note: str = NOTE,
    professional: int | str | None = None,
    patient: int | str | None = None,
    **extra: str,
) -> TestResponse:
    data = {
        "csrf_token": fresh_csrf(client),
        "title": title,
        "date": (day or future()).isoformat() if not isinstance(day, str) else day,
        "time": at,
        "duration": duration,
        "place": place,
        "note": note,
        **extra,
    }
    if professional is not None:
        data["professional"] = str(professional)
    if patient is not None:
        data["patient"] = str(patient)
    return client.post("/agenda/new", data=data)


def appointments() -> list[Appointment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Appointment).order_by(Appointment.id)).all())


def notices(account: Account) -> list[str]:
    """What was queued for an account: its outbox bodies and digest lines."""
    db.session.expire_all()
    bodies = db.session.scalars(
        select(OutboxMessage.body).where(OutboxMessage.account_id == account.id)
    ).all()
    digests = db.session.scalars(
        select(DigestEntry.summary).where(DigestEntry.account_id == account.id)
    ).all()
    return [*bodies, *digests]


def history(patient: Patient, action: Action) -> list[AccessEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AccessEvent).where(
                AccessEvent.patient_id == patient.id, AccessEvent.action == action
            )
        ).all()
    )


# --- the journey ------------------------------------------------------------------------------


def test_patient_books_with_her_cardiologist_who_sees_moves_and_she_is_told(
    app: Flask, people: People
) -> None:
    her = signed_in(app, people.holder)
    day = future(3)
    response = book(her, day=day, professional=people.pro_id)
    assert response.status_code == 303, _words(response)[:600]
    [row] = appointments()
    assert row.professional_id == people.pro_id and row.duration_minutes == 30
    assert clock.to_paris(row.starts_at).strftime("%H:%M") == "10:30"
    assert row.starts_at.tzinfo is not None and row.starts_at.utcoffset() == timedelta(0)
    assert NOTE.encode() not in (row.note_sealed or b"")  # sealed, not kept in clear
    page = _words(her.get("/agenda/"))
    assert TITLE in page and "10:30" in page and "Karim" in page
    # The cardiologist was told, without the title or the note.
    told = notices(people.cardio)
    assert told and all(NOTE not in text and TITLE not in text for text in told)

    him = signed_in(app, people.cardio)
    week = _words(him.get(f"/agenda/?view=week&date={day.isoformat()}"))
    assert TITLE in week and people.patient.last_name in week
    assert TITLE in _words(him.get(f"/agenda/?view=day&date={day.isoformat()}"))
    edit_page = him.get(f"/agenda/{row.id}")
    assert edit_page.status_code == 200 and NOTE in page_text(edit_page)
    before = len(notices(people.holder))
    moved = him.post(
        f"/agenda/{row.id}",
        data={
            "csrf_token": csrf_from(edit_page),
            "title": TITLE,
            "date": day.isoformat(),
            "time": "15:00",
            "duration": "45",
            "place": row.place,
            "note": NOTE,
            "version": str(row.row_version),
        },
    )
    assert moved.status_code == 303, _words(moved)[:600]
    [row] = appointments()
    assert clock.to_paris(row.starts_at).strftime("%H:%M") == "15:00"
    assert row.duration_minutes == 45 and row.updated_by_kind == "professional"
    told = notices(people.holder)
    assert len(told) == before + 1 and NOTE not in told[-1] and TITLE not in told[-1]
    assert "15:00" in told[-1]
    [changed] = history(people.patient, Action.APPOINTMENT_CHANGED)
    assert changed.actor_account_id == people.cardio.id and changed.detail == "moved"


def test_professional_books_from_the_record_page_and_the_patient_sees_it(
    app: Flask, people: People
) -> None:
    him = signed_in(app, people.cardio)
    form = him.get(f"/agenda/new?patient={people.patient.id}")
    assert form.status_code == 200
    assert re.search(rf'<option selected value="{people.patient.id}">', page_text(form))
    response = book(him, patient=people.patient.id, title="Échographie cardiaque")
    assert response.status_code == 303, _words(response)[:600]
    [row] = appointments()
    assert row.professional_id == people.pro_id and row.created_by_kind == "professional"
    assert "Échographie cardiaque" in _words(signed_in(app, people.holder).get("/agenda/"))
    assert notices(people.holder)
    [created] = history(people.patient, Action.APPOINTMENT_CREATED)
    assert created.actor_account_id == people.cardio.id


def test_cancelled_appointment_stays_marked_frees_the_slot_and_refuses_changes(
    app: Flask, people: People
) -> None:
    her = signed_in(app, people.holder)
    assert book(her, professional=people.pro_id).status_code == 303
    [row] = appointments()
    response = her.post(f"/agenda/{row.id}/cancel", data={"csrf_token": fresh_csrf(her)})
    assert response.status_code == 303
    [row] = appointments()
    assert row.cancelled
    assert any("annulé" in text for text in notices(people.cardio))
    assert "Annulé" in _words(her.get("/agenda/"))
    # A cancelled appointment is read, not changed.
    assert her.get(f"/agenda/{row.id}").status_code == 200
    again = her.post(f"/agenda/{row.id}/cancel", data={"csrf_token": fresh_csrf(her)})
    assert again.status_code == 404
    # Its slot is free again.
    other = make_patient()
    authorise(people.cardio, other)
    assert book(signed_in(app, other), professional=people.pro_id).status_code == 303


# --- who sees what ---------------------------------------------------------------------------


def test_no_one_else_reaches_an_appointment(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    assert book(her, professional=people.pro_id).status_code == 303
    [row] = appointments()
    stranger_pro = make_professional()
    authorise(stranger_pro, people.holder)  # authorised on the record, not concerned
    for intruder in (make_patient(), stranger_pro, make_agent()):
        client = signed_in(app, intruder)
        assert client.get(f"/agenda/{row.id}").status_code == 404
        token = fresh_csrf(client)
        assert (
            client.post(f"/agenda/{row.id}/cancel", data={"csrf_token": token}).status_code == 404
        )
        assert TITLE not in _words(client.get("/agenda/"))
    refused = history(people.patient, Action.APPOINTMENT_REFUSED)
    assert len(refused) >= 4
    assert appointments()[0].cancelled_at is None


def test_a_blocked_professional_loses_the_appointment(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    assert book(her, professional=people.pro_id).status_code == 303
    [row] = appointments()
    authorise(people.cardio, people.holder, kind="blocked")
    him = signed_in(app, people.cardio)
    assert him.get(f"/agenda/{row.id}").status_code == 404
    assert TITLE not in _words(him.get(f"/agenda/?date={future().isoformat()}"))


def test_a_professional_books_only_for_patients_they_may_reach(app: Flask, people: People) -> None:
    stranger = make_patient()
    him = signed_in(app, people.cardio)
    assert him.get(f"/agenda/new?patient={stranger.patient.id}").status_code == 404  # type: ignore[union-attr]
    assert book(him, patient=stranger.patient.id).status_code == 404  # type: ignore[union-attr]
    assert appointments() == []
    assert history(stranger.patient, Action.APPOINTMENT_REFUSED)  # type: ignore[arg-type]
    assert make_agent() and signed_in(app, make_agent()).get("/agenda/new").status_code == 404


# --- overlapping slots -----------------------------------------------------------------------


def test_overlapping_slots_of_one_professional_are_refused_with_a_clear_message(
    app: Flask, people: People
) -> None:
    her = signed_in(app, people.holder)
    day = future(5)
    assert (
        book(her, day=day, at="10:00", duration="60", professional=people.pro_id).status_code == 303
    )
    other = make_patient()
    authorise(people.cardio, other)
    him_other = signed_in(app, other)
    refused = book(him_other, day=day, at="10:30", duration="30", professional=people.pro_id)
    assert refused.status_code == 422
    assert "déjà un rendez-vous à ce moment-là" in _words(refused)
    assert TITLE in page_text(refused) and 'value="10:30"' in page_text(
        refused
    )  # what was typed stays
    assert len(appointments()) == 1
    # Back to back is fine; another professional at the same time is fine; no professional too.
    assert book(him_other, day=day, at="11:00", professional=people.pro_id).status_code == 303
    assert book(him_other, day=day, at="10:15").status_code == 303
    assert len(appointments()) == 3


def test_moving_onto_a_taken_slot_is_refused(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    day = future(5)
    assert book(her, day=day, at="09:00", professional=people.pro_id).status_code == 303
    assert book(her, day=day, at="14:00", professional=people.pro_id).status_code == 303
    first, second = appointments()
    response = her.post(
        f"/agenda/{second.id}",
        data={
            "csrf_token": fresh_csrf(her),
            "title": TITLE,
            "date": day.isoformat(),
            "time": "09:15",
            "duration": "30",
            "professional": str(people.pro_id),
            "version": str(second.row_version),
        },
    )
    assert response.status_code == 422 and "déjà un rendez-vous" in _words(response)
    assert clock.to_paris(appointments()[1].starts_at).strftime("%H:%M") == "14:00"


def test_the_database_itself_refuses_an_overlap(app: Flask, people: People) -> None:
    """Not only the form: a row written past the service is refused by the engine."""
    from sqlalchemy.exc import IntegrityError

    start = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)

    make_appointment(people.patient, people.pro_id, start)
    db.session.commit()
    make_appointment(people.patient, people.pro_id, start + timedelta(minutes=29))
    with pytest.raises(IntegrityError, match="appointment_overlap"):
        db.session.commit()
    db.session.rollback()
    make_appointment(people.patient, people.pro_id, start + timedelta(minutes=30))
    db.session.commit()


def test_parallel_requests_for_one_slot_get_exactly_one_success(app: Flask, people: People) -> None:
    clients = []
    for _n in range(4):
        someone = make_patient()
        authorise(people.cardio, someone)
        clients.append(signed_in(app, someone))
    day = future(9)
    tokens = [fresh_csrf(c) for c in clients]
    pro_id = str(people.pro_id)
    db.session.commit()  # the test's own session holds no transaction while they race
    barrier = threading.Barrier(len(clients))
    results: list[int] = []

    def go(client: FlaskClient, token: str) -> None:
        with app.app_context():
            barrier.wait()
            results.append(_post_slot(client, token))

    def _post_slot(client: FlaskClient, token: str) -> int:
        response = client.post(
            "/agenda/new",
            data={
                "csrf_token": token,
                "title": TITLE,
                "date": day.isoformat(),
                "time": "16:00",
                "duration": "30",
                "professional": pro_id,
            },
        )
        return response.status_code

    threads = [threading.Thread(target=go, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [303, 422, 422, 422]
    assert len(appointments()) == 1


# --- Paris time and the daylight-saving changes ------------------------------------------------


def test_times_are_entered_in_paris_and_stored_in_utc_across_the_changes(
    app: Flask, people: People
) -> None:
    her = signed_in(app, people.holder)
    for day, at, utc in (
        ("2026-03-28", "10:00", "09:00"),  # winter time, UTC+1
        ("2026-03-29", "10:00", "08:00"),  # summer time from 02:00 that night, UTC+2
        ("2026-10-24", "10:00", "08:00"),
        ("2026-10-25", "10:00", "09:00"),  # back to winter time at 03:00
    ):
        response = book(her, day=day, at=at, title=f"RDV {day}")
        assert response.status_code == 303, (day, _words(response)[:400])
        row = appointments()[-1]
        assert row.starts_at.strftime("%Y-%m-%d %H:%M") == f"{day} {utc}", day
        assert clock.to_paris(row.starts_at).strftime("%H:%M") == at
    # Past dates are kept, with a word that they are in the past.
    assert "dans le passé" in _words(her.get("/agenda/"))


def test_an_hour_that_does_not_exist_is_refused_and_one_that_happens_twice_is_the_first(
    app: Flask, people: People
) -> None:
    her = signed_in(app, people.holder)
    gap = book(her, day="2026-03-29", at="02:30")
    assert gap.status_code == 422 and "heure d'été" in _words(gap)
    assert appointments() == []
    twice = book(her, day="2026-10-25", at="02:30")
    assert twice.status_code == 303
    [row] = appointments()
    assert row.starts_at.strftime("%H:%M") == "00:30"  # the first 02:30, still UTC+2
    assert "deux fois" in _words(her.get("/agenda/"))


def test_a_duration_across_the_spring_change_ends_an_hour_later_on_the_clock(
    app: Flask, people: People
) -> None:
    her = signed_in(app, people.holder)
    assert book(her, day="2026-03-29", at="01:30", duration="120").status_code == 303
    [row] = appointments()
    assert clock.to_paris(row.ends_at).strftime("%H:%M") == "04:30"
    assert row.ends_at - row.starts_at == timedelta(minutes=120)


def test_the_professional_day_view_covers_23_and_25_hour_days(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    for day in ("2026-03-29", "2026-10-25"):
        for at in ("00:15", "23:30"):
            assert (
                book(
                    her,
                    day=day,
                    at=at,
                    duration="15",
                    professional=people.pro_id,
                    title=f"{day} {at}",
                ).status_code
                == 303
            )
    him = signed_in(app, people.cardio)
    for day in ("2026-03-29", "2026-10-25"):
        page = _words(him.get(f"/agenda/?view=day&date={day}"))
        assert f"{day} 00:15" in page and f"{day} 23:30" in page
        assert "2 rendez-vous" in page
    start, end = agenda.day_bounds(date(2026, 3, 29), 1)
    assert end - start == timedelta(hours=23)
    start, end = agenda.day_bounds(date(2026, 10, 25), 1)
    assert end - start == timedelta(hours=25)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date", "2026-02-31", "Cette date n'existe pas"),
        ("date", "31/02/2026", "Cette date n'existe pas"),
        ("time", "25:00", "Cette heure n'existe pas"),
        ("time", "10h", "Cette heure n'existe pas"),
        ("duration", "0", "La durée va de 5 minutes"),
        ("duration", str(10 * 24 * 60), "La durée va de 5 minutes"),
        ("duration", "trente", "durée"),
        ("place", "L" * 1000, "200 caractères au plus"),
        ("title", "", "Écrivez le motif"),
        ("title", "Ligne\r\nEn-tête: x", "une seule ligne"),
        ("professional", "999999", ""),
        ("professional", "abc", ""),
    ],
)
def test_bad_input_is_refused_kept_and_changes_nothing(
    app: Flask, people: People, field: str, value: str, message: str
) -> None:
    her = signed_in(app, people.holder)
    values = {field: value}
    response = book(her, **values)
    assert response.status_code == 422, (field, value)
    page = _words(response)
    assert "Quelque chose est à corriger" in page
    if message:
        assert message.lower() in page.lower(), page[:800]
    if field != "title":
        assert TITLE in page_text(response)  # what was typed stays
    assert appointments() == []


def test_someone_elses_appointment_id_is_404(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    assert her.get("/agenda/2147483647").status_code == 404
    assert her.get("/agenda/99999999999").status_code == 404


def test_a_stale_form_does_not_overwrite_a_newer_change(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    assert book(her, professional=people.pro_id).status_code == 303
    [row] = appointments()
    stale = str(row.row_version)
    him = signed_in(app, people.cardio)
    fields = {
        "title": TITLE,
        "date": future().isoformat(),
        "duration": "30",
        "version": stale,
    }
    assert (
        him.post(
            f"/agenda/{row.id}", data={"csrf_token": fresh_csrf(him), **fields, "time": "11:00"}
        ).status_code
        == 303
    )
    late = her.post(
        f"/agenda/{row.id}",
        data={
            "csrf_token": fresh_csrf(her),
            **fields,
            "time": "12:00",
            "professional": str(people.pro_id),
        },
    )
    assert late.status_code == 409 and "vient d'être modifié" in _words(late)
    assert clock.to_paris(appointments()[0].starts_at).strftime("%H:%M") == "11:00"


def test_a_form_sent_twice_makes_one_appointment(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    assert book(her, submission="abc123").status_code == 303
    assert book(her, submission="abc123").status_code == 303
    assert len(appointments()) == 1


def test_the_directory_search_keeps_what_was_typed(app: Flask, people: People) -> None:
    other = make_professional(first_names="Zoé", specialty="dermatologie")
    assert other.professional is not None
    other.professional.last_name = "Vasseur"
    her = signed_in(app, people.holder)
    found = book(her, professional_search="Vasseur", find="1", professional="")
    assert found.status_code == 200
    text = page_text(found)
    assert "Zoé Vasseur" in text and TITLE in text and appointments() == []
    chosen = book(her, professional=other.professional.id)
    assert chosen.status_code == 303
    assert appointments()[0].professional_id == other.professional.id


# --- the daily notices -----------------------------------------------------------------------


def _reminder_mails() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "agenda_reminder")
        ).all()
    )


def test_remind_sends_the_day_before_and_the_same_day_once(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    tomorrow = future(1)
    assert book(her, day=tomorrow, at="09:00", professional=people.pro_id).status_code == 303
    today = clock.to_paris(clock.now()).date()
    first = agenda_remind.run(today)
    assert first.appointments == 1
    again = agenda_remind.run(today)
    assert again.appointments == 0
    [mail] = [m for m in _reminder_mails() if m.account_id == people.holder.id]
    assert "demain" in mail.subject and TITLE not in mail.body and NOTE not in mail.body
    assert agenda_remind.run(tomorrow).appointments == 1  # the day itself
    assert agenda_remind.run(tomorrow).appointments == 0
    assert len([m for m in _reminder_mails() if m.account_id == people.holder.id]) == 2


def test_remind_in_two_threads_sends_each_notice_once(app: Flask, people: People) -> None:
    for n in range(3):
        someone = make_patient()
        client = signed_in(app, someone)
        assert book(client, day=future(1), at=f"1{n}:00").status_code == 303
    today = clock.to_paris(clock.now()).date()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait()
                agenda_remind.run(today)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    mails = [m for m in _reminder_mails() if "rendez-vous" in m.subject.lower()]
    assert len(mails) == 3
    db.session.expire_all()
    assert (db.session.scalar(select(func.count(AgendaNotice.id))) or 0) >= 3


def test_a_moved_appointment_is_announced_again_a_cancelled_one_not(
    app: Flask, people: People
) -> None:
    her = signed_in(app, people.holder)
    assert book(her, day=future(1), at="09:00").status_code == 303
    today = clock.to_paris(clock.now()).date()
    assert agenda_remind.run(today).appointments == 1
    [row] = appointments()
    moved = her.post(
        f"/agenda/{row.id}",
        data={
            "csrf_token": fresh_csrf(her),
            "title": TITLE,
            "date": future(1).isoformat(),
            "time": "17:00",
            "duration": "30",
            "professional": "",
            "version": str(row.row_version),
        },
    )
    assert moved.status_code == 303
    assert agenda_remind.run(today).appointments == 1
    her.post(f"/agenda/{row.id}/cancel", data={"csrf_token": fresh_csrf(her)})
    assert agenda_remind.run(future(1)).appointments == 0


# --- the calendar feed -----------------------------------------------------------------------


def _feed_address(client: FlaskClient, **extra: str) -> str:
    response = client.post("/agenda/feed", data={"csrf_token": fresh_csrf(client), **extra})
    assert response.status_code == 200
    found = re.search(
        r'value="(https?://[^"]+/agenda/feed/[A-Za-z0-9_-]+\.ics)"', page_text(response)
    )
    assert found, "the address is shown once"
    return "/agenda/feed/" + found.group(1).rsplit("/", 1)[1]


def test_the_feed_is_valid_icalendar_without_notes_unless_chosen(
    app: Flask, people: People
) -> None:
    her = signed_in(app, people.holder)
    assert book(her, professional=people.pro_id).status_code == 303
    [row] = appointments()
    path = _feed_address(her)
    anonymous = app.test_client()
    response = anonymous.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "Set-Cookie" not in response.headers
    calendar = icalendar.Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == TITLE
    assert str(event["UID"]).startswith(f"appointment-{row.id}@")
    assert event.decoded("DTSTART") == row.starts_at
    assert NOTE not in response.get_data(as_text=True)
    # The page never shows the address again.
    assert path not in page_text(her.get("/agenda/feed"))
    # With the notes, when she chooses it (a new address; the old one stops at once).
    with_notes = _feed_address(her, include_notes="y")
    assert anonymous.get(path).status_code == 404
    [noted] = icalendar.Calendar.from_ical(anonymous.get(with_notes).data).walk("VEVENT")
    assert NOTE in str(noted["DESCRIPTION"])
    uid = str(noted["UID"])
    assert uid == str(event["UID"])  # stable across addresses


def test_a_revoked_or_malformed_token_is_404(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    path = _feed_address(her)
    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 200
    assert her.post("/agenda/feed/revoke", data={"csrf_token": fresh_csrf(her)}).status_code == 303
    assert anonymous.get(path).status_code == 404
    for bad in ("short", "A" * 42, "A" * 44, "A" * 42 + "!", "A" * 64):
        assert anonymous.get(f"/agenda/feed/{bad}.ics").status_code == 404
    assert len(history(people.patient, Action.FEED_REVOKED)) == 1


def test_the_feed_answers_304_for_one_query_and_logs_once_a_day(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    assert book(her).status_code == 303
    path = _feed_address(her)
    calendar_app = app.test_client()
    first = calendar_app.get(path)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    with counting(app) as statements:
        again = calendar_app.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    queries = [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    assert len(queries) == 1, statements
    for _n in range(3):
        calendar_app.get(path, headers={"If-None-Match": etag})
    assert len(history(people.patient, Action.FEED_READ)) == 1
    # A change in the agenda changes the validator.
    assert book(her, at="08:00", title="Prise de sang").status_code == 303
    assert calendar_app.get(path, headers={"If-None-Match": etag}).status_code == 200
    # The next day, one more line.
    clock.advance(24 * 3600)
    calendar_app.get(path)
    assert len(history(people.patient, Action.FEED_READ)) == 2


def test_the_feed_token_is_kept_hashed(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    path = _feed_address(her)
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) == agenda_feed.TOKEN_LENGTH
    feed = agenda_feed.current(people.patient)
    assert feed is not None and token not in feed.token_hash and len(feed.token_hash) == 64


# --- SQL per page ----------------------------------------------------------------------------


def test_agenda_pages_cost_at_most_8_statements_whatever_the_data(
    app: Flask, people: People
) -> None:
    her = signed_in(app, people.holder)
    him = signed_in(app, people.cardio)
    week = future(7) - timedelta(days=future(7).weekday())

    def costs() -> tuple[int, int]:
        with counting(app) as mine:
            assert her.get("/agenda/").status_code == 200
        with counting(app) as his:
            assert him.get(f"/agenda/?view=week&date={week.isoformat()}").status_code == 200
        return len(mine), len(his)

    small = costs()
    for n in range(60):
        start = datetime.combine(week, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2 * n)
        start = start - timedelta(days=30) if n % 2 else start
        make_appointment(people.patient, people.pro_id, start, title=f"Rendez-vous {n}")
    db.session.commit()
    big = costs()
    assert big == small, (small, big)
    assert max(big) <= 8, big


# --- prevention reminders through the pages ----------------------------------------------------

SEASON = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)  # inside the flu campaign


def _move_clock_to(moment: datetime) -> None:
    clock.advance((moment - clock.now()).total_seconds())


def _senior(app: Flask) -> tuple[Account, FlaskClient]:
    """A woman of 67 with nothing recorded: flu, dTP, breast and colorectal are due."""
    holder = make_patient()
    assert holder.patient is not None
    holder.patient.birth_date = date(1959, 6, 2)
    db.session.commit()
    return holder, signed_in(app, holder)


def _reminder_codes(client: FlaskClient) -> str:
    page = page_text(client.get("/agenda/"))
    return page[page.index('id="reminders"') : page.index('id="past-title"')]


def test_marking_the_flu_vaccination_done_records_it_in_the_profile(app: Flask) -> None:
    _move_clock_to(SEASON)
    holder, client = _senior(app)
    block = _reminder_codes(client)
    for code in ("flu", "dtp", "breast", "colorectal"):
        assert f"/agenda/reminders/{code}/done" in block, code
    form = client.get("/agenda/reminders/flu/done")
    assert form.status_code == 200 and 'value="2027-01-12"' in page_text(form)
    done = client.post(
        "/agenda/reminders/flu/done", data={"csrf_token": csrf_from(form), "date": "2027-01-10"}
    )
    assert done.status_code == 303
    assert "/agenda/reminders/flu/done" not in _reminder_codes(client)
    profile = _words(client.get("/profile/vaccinations"))
    assert "Grippe saisonnière" in profile
    assert history(holder.patient, Action.REMINDER_UPDATED)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2027-01-11", "après"),
        ("2027-01-12", "après"),
        ("2030-01-12", "deux ans"),
        ("2027-02-30", "n'existe pas"),
        ("", "Choisissez la date"),
    ],
)
def test_a_postponed_date_must_be_after_today_and_within_two_years(
    app: Flask, day: str, message: str
) -> None:
    _move_clock_to(SEASON)
    _holder, client = _senior(app)
    response = client.post(
        "/agenda/reminders/colorectal/postpone",
        data={"csrf_token": fresh_csrf(client), "date": day},
    )
    assert response.status_code == 422
    assert message.lower() in _words(response).lower()
    assert "/agenda/reminders/colorectal/done" in _reminder_codes(client)


def test_postpone_dismiss_and_restore(app: Flask) -> None:
    _move_clock_to(SEASON)
    _holder, client = _senior(app)
    moved = client.post(
        "/agenda/reminders/colorectal/postpone",
        data={"csrf_token": fresh_csrf(client), "date": "2027-03-15"},
    )
    assert moved.status_code == 303
    assert "Reporté au 15 mars 2027" in _words(client.get("/agenda/"))
    assert (
        client.post(
            "/agenda/reminders/breast/dismiss", data={"csrf_token": fresh_csrf(client)}
        ).status_code
        == 303
    )
    block = _reminder_codes(client)
    assert "/agenda/reminders/breast/done" not in block
    assert "/agenda/reminders/breast/restore" in block
    assert (
        client.post(
            "/agenda/reminders/breast/restore", data={"csrf_token": fresh_csrf(client)}
        ).status_code
        == 303
    )
    assert "/agenda/reminders/breast/done" in _reminder_codes(client)


def test_reminders_are_the_holders_alone(app: Flask, people: People) -> None:
    _move_clock_to(SEASON)
    _holder, client = _senior(app)
    token = fresh_csrf(client)
    assert (
        client.post("/agenda/reminders/nosuch/dismiss", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post("/agenda/reminders/cervical/dismiss", data={"csrf_token": token}).status_code
        == 404
    )  # a rule that does not apply
    him = signed_in(app, people.cardio)
    for path in ("/agenda/reminders/flu/done", "/agenda/feed"):
        assert him.get(path).status_code == 404
    assert (
        him.post("/agenda/reminders/flu/dismiss", data={"csrf_token": fresh_csrf(him)}).status_code
        == 404
    )


def test_remind_sends_a_prevention_notice_the_day_before_and_on_the_day_once(app: Flask) -> None:
    """The flu campaign opens on 15 October: a woman of 70 hears of it on the 14th and the 15th."""
    holder = make_patient()
    assert holder.patient is not None
    holder.patient.birth_date = date(1956, 3, 1)
    db.session.commit()
    sent = [agenda_remind.run(date(2027, 10, d)).reminders for d in (13, 14, 14, 15, 15, 16)]
    mails = [
        m for m in _reminder_mails() if m.account_id == holder.id and "prévention" in m.subject
    ]
    flu = [m for m in mails if "grippe" in m.subject.lower()]
    assert len(flu) == 2, [m.subject for m in mails]
    assert sent[2] == 0 and sent[4] == 0  # the second run of a day sends nothing new


def test_dates_beyond_the_calendar_are_refused_not_crashed(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    for day in ("0001-01-01", "9999-12-31", "1899-12-31", "2101-01-01"):
        response = book(her, day=day, at="23:50")
        assert response.status_code == 422, day
        assert "entre 1900 et 2100" in _words(response)
    assert appointments() == []
    him = signed_in(app, people.cardio)
    for day in ("0001-01-01", "9999-12-31", "2026-13-01", "x" * 10):
        assert him.get(f"/agenda/?view=week&date={day}").status_code == 200
        assert him.get(f"/agenda/?view=day&date={day}").status_code == 200


def test_the_agenda_pages_through_many_appointments(app: Flask, people: People) -> None:
    first = datetime.combine(future(1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    for n in range(45):
        make_appointment(people.patient, None, first + timedelta(days=n), title=f"Séance {n:02d}")
        make_appointment(
            people.patient, None, first - timedelta(days=n + 3), title=f"Passé {n:02d}"
        )
    db.session.commit()
    her = signed_in(app, people.holder)
    page = page_words(her.get("/agenda/"))
    assert "Séance 00" in page and "Séance 19" in page and "Séance 20" not in page
    assert "Rendez-vous suivants" in page and "Rendez-vous précédents" not in page
    assert "Passé 00" in page and "Plus anciens" in page
    last = page_words(her.get("/agenda/?page=3&past=3"))
    assert "Séance 40" in last and "Séance 44" in last and "Séance 39" not in last
    assert "Rendez-vous suivants" not in last and "Rendez-vous précédents" in last
    assert "Passé 44" in last and "Plus récents" in last and "Plus anciens" not in last


def test_the_home_page_shows_the_next_two_appointments(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    assert "Aucun rendez-vous à venir." in page_words(her.get("/"))
    for n, title in enumerate(("Prise de sang", "Échographie", "Dentiste")):
        assert book(her, day=future(n + 1), title=title).status_code == 303
    [cancelled] = [row for row in appointments() if row.title == "Prise de sang"]
    her.post(f"/agenda/{cancelled.id}/cancel", data={"csrf_token": fresh_csrf(her)})
    home = page_words(her.get("/"))
    assert "Échographie" in home and "Dentiste" in home and "Prise de sang" not in home


def test_a_closed_record_feed_answers_404(app: Flask, people: People) -> None:
    her = signed_in(app, people.holder)
    path = _feed_address(her)
    calendar_app = app.test_client()
    assert calendar_app.get(path).status_code == 200
    people.patient.record_state = "closed"
    db.session.commit()
    assert calendar_app.get(path).status_code == 404
