"""The patient takes her whole record away: POST /settings/export streams a ZIP (SPEC §8)."""

from __future__ import annotations

import contextvars
import csv
import io
import threading
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.builders import (
    csrf_from,
    fresh_csrf,
    image_file,
    login_as,
    make_agent,
    make_patient,
    make_professional,
    pdf_file,
    signed_in,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Document, OutboxMessage
from webapp.services import documents, export, history, notify, storage
from webapp.services.audit import Action

URL = "/settings/export"


def deposit(
    holder: Account,
    title: str,
    content: bytes | None = None,
    *,
    care_date: date = date(2025, 3, 12),
    file_name: str = "bilan.pdf",
) -> Document:
    assert holder.patient is not None
    doc = documents.add(
        holder,
        holder.patient,
        stream=io.BytesIO(content if content is not None else pdf_file(_ascii(title))),
        file_name=file_name,
        title=title,
        category="biologie",
        care_date=care_date,
    )
    db.session.commit()
    return doc


def _ascii(title: str) -> str:
    return title.encode("ascii", "ignore").decode()[:20] or "x"


def post_export(client: FlaskClient) -> TestResponse:
    return client.post(URL, data={"csrf_token": fresh_csrf(client)}, buffered=True)


def opened(response: TestResponse) -> zipfile.ZipFile:
    assert response.status_code == HTTPStatus.OK, response.get_data(as_text=True)[:300]
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert archive.testzip() is None
    return archive


def document_names(archive: zipfile.ZipFile) -> list[str]:
    return [name.removeprefix("documents/") for name in archive.namelist() if "/" in name]


def events(holder: Account, action: str) -> list[AccessEvent]:
    assert holder.patient is not None
    query = select(AccessEvent).where(
        AccessEvent.patient_id == holder.patient.id, AccessEvent.action == action
    )
    return list(db.session.scalars(query))


@pytest.fixture
def holder(app: Flask) -> Account:
    return make_patient()


@pytest.fixture
def own(client: FlaskClient, holder: Account) -> FlaskClient:
    login_as(client, holder)
    return client


class TestWhoMayExport:
    def test_a_stale_sign_in_is_sent_to_confirm_first(
        self, own: FlaskClient, holder: Account
    ) -> None:
        token = fresh_csrf(own)
        clock.advance(6 * 60)
        response = own.post(URL, data={"csrf_token": token})
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"].startswith("/auth/reauth")
        assert events(holder, Action.RECORD_EXPORTED) == []

    def test_a_fresh_sign_in_downloads(self, own: FlaskClient) -> None:
        clock.advance(60)
        response = post_export(own)
        assert response.status_code == HTTPStatus.OK
        assert response.mimetype == "application/zip"

    @pytest.mark.parametrize("make", [make_professional, make_agent])
    def test_an_account_without_a_record_gets_404(self, app: Flask, make: object) -> None:
        assert callable(make)
        client = signed_in(app, make())
        response = client.post(URL, data={"csrf_token": fresh_csrf(client)})
        assert response.status_code == HTTPStatus.NOT_FOUND

    def test_a_deleted_record_is_not_taken_away(self, own: FlaskClient, holder: Account) -> None:
        assert holder.patient is not None
        holder.patient.record_state = "deleted"
        db.session.commit()
        response = own.post(URL, data={"csrf_token": fresh_csrf(own)})
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert events(holder, Action.RECORD_EXPORTED) == []

    def test_another_patient_takes_only_her_own(self, app: Flask, holder: Account) -> None:
        deposit(holder, "Bilan de la voisine")
        other = signed_in(app, make_patient())
        archive = opened(post_export(other))
        assert document_names(archive) == []
        assert b"Bilan de la voisine" not in archive.read("fhir.json")

    def test_anonymous_and_get_and_no_token_are_refused(
        self, client: FlaskClient, holder: Account
    ) -> None:
        anonymous = client.post(URL)
        assert anonymous.status_code in (HTTPStatus.SEE_OTHER, HTTPStatus.FOUND)
        assert "/auth/login" in anonymous.headers["Location"]
        login_as(client, holder)
        assert client.get(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED
        assert client.post(URL).status_code == HTTPStatus.BAD_REQUEST
        assert events(holder, Action.RECORD_EXPORTED) == []


class TestArchive:
    def test_documents_come_back_byte_identical_under_readable_names(
        self, own: FlaskClient, holder: Account
    ) -> None:
        blood, scan = pdf_file("Sang", padding=bytes(range(256)) * 700), image_file("PNG")
        deposit(holder, "Bilan sanguin", blood)
        deposit(holder, "Radio du genou", scan, care_date=date(2024, 11, 2), file_name="r.png")
        response = post_export(own)
        archive = opened(response)
        day = clock.to_paris(clock.now()).date().isoformat()
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="carnet-{day}.zip"'
        )
        assert archive.read("documents/2025-03-12 Bilan sanguin.pdf") == blood
        assert archive.read("documents/2024-11-02 Radio du genou.png") == scan
        assert {"fhir.json", "history.csv", "README.txt"} <= set(archive.namelist())

    def test_held_and_older_versions_stay_out(self, own: FlaskClient, holder: Account) -> None:
        deposit(holder, "Visible")
        held = deposit(holder, "Pas encore annoncé")
        held.hidden_from_patient_until = clock.now() + timedelta(days=10)
        old = deposit(holder, "Ancienne version")
        old.state = "superseded"
        db.session.commit()
        assert document_names(opened(post_export(own))) == ["2025-03-12 Visible.pdf"]

    def test_history_csv_is_the_history_pages_own(self, own: FlaskClient) -> None:
        text = opened(post_export(own)).read("history.csv").decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
        assert tuple(rows[0]) == history.CSV_COLUMNS
        actions = [row[history.CSV_COLUMNS.index("action")] for row in rows[1:]]
        assert Action.SIGN_IN in actions and Action.RECORD_EXPORTED in actions
        # The ZIP's copy is not a second download of the history on its own.
        assert Action.HISTORY_EXPORTED not in actions

    def test_the_readme_says_what_each_file_is_in_french(self, own: FlaskClient) -> None:
        readme = opened(post_export(own)).read("README.txt").decode("utf-8")
        for words in ("documents/", "fhir.json", "history.csv", "FHIR R4", "tableur"):
            assert words in readme
        assert "Tous vos documents sont dans l'archive." in readme

    def test_the_readme_follows_an_english_visitor(self, own: FlaskClient) -> None:
        own.set_cookie("lang", "en")
        readme = opened(post_export(own)).read("README.txt").decode("utf-8")
        month = clock.to_paris(clock.now()).strftime("%B")  # the C locale's English names
        assert month in readme


class TestUnreadableFiles:
    def test_a_missing_file_is_named_and_the_rest_comes(
        self, own: FlaskClient, holder: Account
    ) -> None:
        deposit(holder, "Compte rendu")
        lost = deposit(holder, "Ordonnance perdue", care_date=date(2023, 5, 6))
        assert lost.blob_id is not None
        storage.delete(lost.blob_id)
        archive = opened(post_export(own))
        assert document_names(archive) == ["2025-03-12 Compte rendu.pdf"]
        readme = archive.read("README.txt").decode()
        assert "2023-05-06 Ordonnance perdue.pdf" in readme
        assert "n'a pas pu être lu" in readme

    def test_a_damaged_file_is_named_too(self, own: FlaskClient, holder: Account) -> None:
        damaged = deposit(holder, "Abîmé")
        assert damaged.blob_id is not None
        path = storage.blob_folder() / damaged.blob_id
        path.write_bytes(path.read_bytes()[:-5])
        archive = opened(post_export(own))
        assert "2025-03-12 Abîmé.pdf" in archive.read("README.txt").decode()


class TestNames:
    @pytest.mark.parametrize(
        ("title", "expected"),
        [
            ("Bilan/sanguin", "2025-03-12 Bilan sanguin.pdf"),
            ("..\\..\\etc\\passwd", "2025-03-12 etc passwd.pdf"),
            ("../../etc/passwd", "2025-03-12 etc passwd.pdf"),
            ("Dr. J..P. Martin", "2025-03-12 Dr. J.P. Martin.pdf"),
            ("Radio 🦴 du genou", "2025-03-12 Radio 🦴 du genou.pdf"),
            ("Fin avec points...  ", "2025-03-12 Fin avec points.pdf"),
            ("a\u202egpj.exe\x00\x1f", "2025-03-12 agpj.exe.pdf"),
            ('Dr "Martin" <CHU>: bilan?*|', "2025-03-12 Dr Martin CHU bilan.pdf"),
        ],
    )
    def test_names_are_safe_everywhere(self, title: str, expected: str) -> None:
        doc = Document(title=title, care_date=date(2025, 3, 12), media_type="application/pdf")
        name = export.file_name(doc, set())
        assert name == expected
        assert ".." not in name and "/" not in name and "\\" not in name

    @pytest.mark.parametrize(
        ("words", "expected"),
        [
            ("NUL", "_NUL.txt"),
            ("con", "_con.txt"),
            ("Com1.backup", "_Com1.backup.txt"),
            ("LPT9 ", "_LPT9.txt"),
            ("CONSULTATION", "CONSULTATION.txt"),
            ("...", "document.txt"),
        ],
    )
    def test_reserved_windows_names_are_changed(self, words: str, expected: str) -> None:
        assert export.safe_name(words, ".txt", set()) == expected

    def test_an_untitled_document_or_an_unknown_type_still_gets_a_name(self) -> None:
        untitled = Document(title="", care_date=date(2025, 3, 12), media_type="text/plain")
        assert export.file_name(untitled, set()) == "2025-03-12.txt"
        odd = Document(title="x", care_date=date(2025, 1, 1), media_type="application/x-odd")
        assert export.file_name(odd, set()) == "2025-01-01 x.bin"

    def test_long_names_are_cut_keeping_the_extension(self) -> None:
        doc = Document(title="é" * 300, care_date=date(2025, 3, 12), media_type="image/jpeg")
        taken: set[str] = set()
        first, second = export.file_name(doc, taken), export.file_name(doc, taken)
        assert len(first) == len(second) == export.MAX_NAME
        assert first.endswith("é.jpg") and second.endswith("é (2).jpg")

    def test_same_names_are_numbered_whatever_the_case(
        self, own: FlaskClient, holder: Account
    ) -> None:
        deposit(holder, "Bilan", pdf_file("un"))
        deposit(holder, "bilan", pdf_file("deux"))
        deposit(holder, "Bilan", pdf_file("trois"))
        # Titles hold 200 characters at most (TestNames cuts a 300-character one).
        deposit(holder, "🦴" + "x" * 190 + "/..", pdf_file("quatre"))
        archive = opened(post_export(own))
        names = document_names(archive)
        assert names[:3] == [
            "2025-03-12 Bilan.pdf",
            "2025-03-12 bilan (2).pdf",
            "2025-03-12 Bilan (3).pdf",
        ]
        assert archive.read("documents/2025-03-12 Bilan (3).pdf") == pdf_file("trois")
        long = names[3]
        assert long.startswith("2025-03-12 🦴x") and long.endswith("x.pdf")
        assert len(long) == export.MAX_NAME
        info = archive.getinfo("documents/" + long)
        assert info.flag_bits & 0x800  # the UTF-8 flag: the emoji survives every unzipper


class TestRecorded:
    def test_the_export_is_in_her_history_and_she_is_told(
        self, own: FlaskClient, holder: Account
    ) -> None:
        opened(post_export(own))
        assert len(events(holder, Action.RECORD_EXPORTED)) == 1
        sent = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "record_exported")
        ).all()
        assert [(m.channel, m.recipient) for m in sent] == [("email", holder.email)]
        body = notify.message_text(sent[0])
        assert "téléchargé le" in body and "carte Vitale" in body
        assert "/settings/" in body

    def test_the_settings_page_offers_it(self, own: FlaskClient) -> None:
        page = own.get("/settings/").get_data(as_text=True)
        assert "Télécharger tout mon dossier" in page
        assert f'action="{URL}"' in page and 'hx-boost="false"' in page


class TestStreaming:
    def test_the_first_bytes_leave_before_the_other_files_are_read(
        self, own: FlaskClient, holder: Account, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for n in range(4):
            deposit(holder, f"Document {n}")
        reads: list[int] = []
        original = documents.content

        def counted(doc: Document) -> Iterator[bytes]:
            reads.append(doc.id)
            return original(doc)

        monkeypatch.setattr(documents, "content", counted)
        token = fresh_csrf(own)
        db.session.commit()
        # As on a server: no application context around the request (it pushes its own), and
        # the stream read in the same context as the request (Werkzeug reads its first chunk).
        context = contextvars.Context()
        response = context.run(
            FlaskClient.open, own, URL, method="POST", data={"csrf_token": token}
        )
        assert response.is_streamed
        chunks = response.iter_encoded()
        first = context.run(next, chunks)
        assert first.startswith(b"PK\x03\x04")
        assert len(reads) == 1
        rest = b"".join(context.run(list, chunks))
        context.run(response.close)
        assert len(reads) == 4
        archive = zipfile.ZipFile(io.BytesIO(first + rest))
        assert len(document_names(archive)) == 4

    def test_two_exports_at_once_both_complete(self, app: Flask, holder: Account) -> None:
        for n in range(3):
            deposit(holder, f"Analyse {n}", pdf_file(f"A{n}", padding=bytes(70_000)))
        clients = [signed_in(app, holder), signed_in(app, holder)]
        tokens = [fresh_csrf(c) for c in clients]
        # Both requests wait for each other at their first file: they truly overlap.
        together = threading.Barrier(2, timeout=20)
        original = documents.content
        seen: set[int] = set()

        def meeting(doc: Document) -> Iterator[bytes]:
            if threading.get_ident() not in seen:
                seen.add(threading.get_ident())
                together.wait()
            return original(doc)

        results: list[bytes] = []
        failures: list[BaseException] = []

        def download(client: FlaskClient, token: str) -> None:
            try:
                with app.app_context():
                    response = client.post(URL, data={"csrf_token": token}, buffered=True)
                assert response.status_code == HTTPStatus.OK
                results.append(response.get_data())
            except BaseException as exc:  # reported below, in the test's thread
                failures.append(exc)

        db.session.commit()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(documents, "content", meeting)
            threads = [
                threading.Thread(target=download, args=pair)
                for pair in zip(clients, tokens, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        assert failures == []
        assert len(results) == 2
        for data in results:
            archive = zipfile.ZipFile(io.BytesIO(data))
            assert archive.testzip() is None
            assert archive.read("documents/2025-03-12 Analyse 2.pdf") == pdf_file(
                "A2", padding=bytes(70_000)
            )
        assert len(events(holder, Action.RECORD_EXPORTED)) == 2


def test_csrf_page_has_the_form(own: FlaskClient) -> None:
    assert csrf_from(own.get("/settings/"))
