"""Documents through the routes: adding, finding, reading, masking, replacing, deleting."""

from __future__ import annotations

import gc
import io
import re
import threading
from dataclasses import replace
from html import unescape
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.builders import (
    authorise,
    csrf_from,
    image_file,
    login_as,
    make_agent,
    make_patient,
    make_professional,
    pdf_file,
)
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Document
from webapp.policy import queries
from webapp.services import storage

PDF = pdf_file("Prise de sang")
PNG = image_file("PNG")


def upload(
    client: FlaskClient,
    content: bytes = PDF,
    *,
    name: str = "analyse.pdf",
    title: str = "Prise de sang",
    category: str = "biologie",
    date: str = "2026-03-03",
    submission: str | None = None,
) -> TestResponse:
    page = client.get("/documents/new")
    data: dict[str, object] = {
        "csrf_token": csrf_from(page),
        "file": (io.BytesIO(content), name),
        "title": title,
        "category": category,
        "date": date,
    }
    if submission is not None:
        data["submission"] = submission
    return client.post("/documents/new", data=data, content_type="multipart/form-data")


def _documents() -> list[Document]:
    db.session.expire_all()
    return list(db.session.scalars(select(Document).order_by(Document.id)))


def _field_errors(html: str) -> dict[str, str]:
    """The error shown under each field of a form page, by field id."""
    return {
        field: unescape(re.sub(r"<[^>]+>", "", text)).strip()
        for field, text in re.findall(r'<p class="error" id="([\w-]+)-error">(.*?)</p>', html, re.S)
    }


def _actions(account: Account) -> list[str]:
    assert account.patient is not None
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AccessEvent.action)
            .where(AccessEvent.patient_id == account.patient.id)
            .order_by(AccessEvent.seq)
        )
    )


@pytest.fixture
def patient(client: FlaskClient) -> Account:
    account = make_patient()
    login_as(client, account)
    return account


class TestAdding:
    def test_a_patient_adds_a_document(self, client: FlaskClient, patient: Account) -> None:
        response = upload(client)
        assert response.status_code == HTTPStatus.SEE_OTHER
        (doc,) = _documents()
        assert response.headers["Location"] == f"/documents/{doc.id}"
        assert (doc.title, doc.category, doc.type_code) == ("Prise de sang", "biologie", "11502-2")
        assert doc.media_type == "application/pdf" and doc.size == len(PDF)
        assert doc.author_kind == "patient" and doc.original_name == "analyse.pdf"
        assert storage.exists(doc.blob_id or "")
        assert "document_deposited" in _actions(patient)
        page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
        assert "Prise de sang" in page and "Qui peut voir ce document ?" in page

    def test_the_file_on_disk_is_encrypted(self, client: FlaskClient, patient: Account) -> None:
        marker = pdf_file("MARQUEUR-SECRET-LISIBLE")
        assert b"MARQUEUR-SECRET" in marker
        upload(client, marker)
        (doc,) = _documents()
        on_disk = (storage.blob_folder() / (doc.blob_id or "")).read_bytes()
        assert b"MARQUEUR-SECRET" not in on_disk

    def test_double_submission_creates_one_document(
        self, client: FlaskClient, patient: Account
    ) -> None:
        first = upload(client, submission="abc123")
        second = upload(client, submission="abc123")
        assert len(_documents()) == 1
        assert first.headers["Location"] == second.headers["Location"]

    @pytest.mark.parametrize(
        ("content", "name", "message"),
        [
            (b"MZ\x90\x00" + b"\x00" * 100, "facture.pdf", "type de fichier n&#39;est pas accepté"),
            (b"<html><script>alert(1)</script></html>", "photo.jpg", "n&#39;est pas accepté"),
            (b"", "vide.pdf", "est vide"),
        ],
    )
    def test_bad_files_are_explained_and_nothing_is_kept(
        self, client: FlaskClient, patient: Account, content: bytes, name: str, message: str
    ) -> None:
        response = upload(client, content, name=name, title="Mon titre gardé")
        html = response.get_data(as_text=True)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert message.replace("&#39;", "'") in html.replace("&#39;", "'")
        assert 'value="Mon titre gardé"' in html
        assert _documents() == [] and storage.all_blob_ids() == set()

    # Werkzeug's test EnvironBuilder spools a body this large to a temporary file it never
    # closes; the warning comes from the test client, not from Carnet.
    @pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    def test_over_the_patient_limit_without_content_length(
        self, client: FlaskClient, patient: Account
    ) -> None:
        big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 10)
        response = upload(client, big)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "dépasse 5 Mo" in response.get_data(as_text=True)
        assert _documents() == [] and storage.all_blob_ids() == set()
        del response  # it holds the spooled body: collect it under this test's filter
        gc.collect()

    def test_a_declared_oversize_body_is_refused_before_reading(
        self, client: FlaskClient, patient: Account
    ) -> None:
        class Untouchable(io.BytesIO):
            def read(self, size: int | None = -1) -> bytes:
                raise AssertionError("the body was read")

        response = client.post(
            "/documents/new",
            input_stream=Untouchable(),
            content_type="multipart/form-data; boundary=x",
            environ_overrides={"CONTENT_LENGTH": str(6 * 1024 * 1024)},
        )
        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("title", "x" * 500, "Le titre ne peut dépasser 200 caractères."),
            ("title", "", "Donnez un titre au document."),
            ("category", "astrologie", "N'est pas un choix valide."),
            ("date", "2999-01-01", "La date des soins ne peut pas être dans le futur."),
            ("date", "1850-06-01", "Choisissez une date après 1900."),
            ("date", "03/03/2026", "Indiquez la date des soins : jour, mois et année."),
        ],
    )
    def test_bad_fields_are_explained(
        self, client: FlaskClient, patient: Account, field: str, value: str, message: str
    ) -> None:
        response = upload(client, **{field: value})  # type: ignore[arg-type]
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        # The one field at fault, with its own message (not the select's placeholder option).
        assert _field_errors(response.get_data(as_text=True)) == {field: message}
        assert _documents() == []

    @pytest.mark.parametrize(
        ("name", "kept"),
        [
            ("../../etc/passwd.pdf", "passwd.pdf"),
            ("a\x00b.pdf", "ab.pdf"),
            ("fac\u202etxt.pdf", "factxt.pdf"),
            ("tab\tet\x1bescape.pdf", "tabetescape.pdf"),
        ],
    )
    def test_file_names_are_made_safe(
        self, client: FlaskClient, patient: Account, name: str, kept: str
    ) -> None:
        upload(client, name=name)
        (doc,) = _documents()
        assert doc.original_name == kept


class TestFinding:
    def test_list_counts_filter_search_and_sort(
        self, client: FlaskClient, patient: Account
    ) -> None:
        upload(client, title="Prise de sang mars", category="biologie", date="2026-03-01")
        upload(client, title="Radio du genou", category="imagerie", date="2025-01-10")
        upload(client, title="Prise de sang juin", category="biologie", date="2026-06-01")
        page = client.get("/documents/").get_data(as_text=True)
        assert "3 documents" in page
        assert page.index("Prise de sang juin") < page.index("Prise de sang mars")
        filtered = client.get("/documents/?category=imagerie").get_data(as_text=True)
        assert (
            "Radio du genou" in filtered
            and "Prise de sang" not in filtered.split('id="document-results"')[1]
        )
        found = client.get("/documents/?q=SANG").get_data(as_text=True)
        assert "2 documents" in found
        partial = client.get(
            "/documents/?q=genou", headers={"HX-Request": "true", "HX-Target": "document-results"}
        ).get_data(as_text=True)
        assert "<html" not in partial and "Radio du genou" in partial

    def test_odd_queries_never_fail(self, client: FlaskClient, patient: Account) -> None:
        for query in ("?q=%25%5F%5C", "?category=nope", "?sort=drop", "?page=999999999999"):
            assert client.get("/documents/" + query).status_code == HTTPStatus.OK


class TestReading:
    def test_download_headers(self, client: FlaskClient, patient: Account) -> None:
        upload(client, title='Compte "rendu" été')
        (doc,) = _documents()
        response = client.get(f"/documents/{doc.id}/download")
        assert response.status_code == HTTPStatus.OK
        assert response.data == PDF
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
        assert '"rendu"' not in disposition
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert "document_downloaded" in _actions(patient)

    def test_inline_view(self, client: FlaskClient, patient: Account) -> None:
        upload(client, PNG, name="radio.png", category="imagerie")
        (doc,) = _documents()
        response = client.get(f"/documents/{doc.id}/file")
        assert response.mimetype == "image/png"
        assert response.headers["Content-Disposition"].startswith("inline;")
        assert "<img" in client.get(f"/documents/{doc.id}").get_data(as_text=True)

    def test_another_patient_and_an_agent_get_404_everywhere(
        self, app: Flask, client: FlaskClient, patient: Account
    ) -> None:
        upload(client)
        (doc,) = _documents()
        for intruder in (make_patient(), make_agent()):
            other = app.test_client()
            login_as(other, intruder)
            page = other.get("/settings/")
            for path in ("", "/file", "/download", "/delete", "/replace"):
                assert other.get(f"/documents/{doc.id}{path}").status_code == 404, path
            for path in ("/mask", "/unmask", "/delete", "/replace"):
                response = other.post(
                    f"/documents/{doc.id}{path}", data={"csrf_token": csrf_from(page)}
                )
                assert response.status_code == 404, path
        assert "document_refused" in _actions(patient)
        assert storage.exists(doc.blob_id or "") and not _documents()[0].masked_from_pros

    def test_unknown_id_is_404(self, client: FlaskClient, patient: Account) -> None:
        assert client.get("/documents/999999").status_code == HTTPStatus.NOT_FOUND
        assert client.get("/documents/99999999999999").status_code == HTTPStatus.NOT_FOUND


class TestMasking:
    def test_mask_hides_from_professionals_lists_counts_and_search(
        self, app: Flask, client: FlaskClient, patient: Account
    ) -> None:
        upload(client, title="Sérologie")
        (doc,) = _documents()
        pro = make_professional()
        authorise(pro, patient)

        def visible_to_pro() -> list[int]:
            db.session.expire_all()
            assert patient.patient is not None
            account = db.session.get(Account, pro.id)
            assert account is not None
            query = queries.documents_query(account, patient.patient)
            return list(db.session.scalars(query.with_only_columns(Document.id)))

        assert visible_to_pro() == [doc.id]
        page = client.get(f"/documents/{doc.id}")
        assert "que vous avez autorisé" in page.get_data(as_text=True)
        response = client.post(f"/documents/{doc.id}/mask", data={"csrf_token": csrf_from(page)})
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert visible_to_pro() == []
        panel = client.get(f"/documents/{doc.id}").get_data(as_text=True)
        assert "ne le voit pas : il est masqué" in panel
        assert "masqué aux professionnels" in client.get("/documents/").get_data(as_text=True)
        client.post(f"/documents/{doc.id}/unmask", data={"csrf_token": csrf_from(page)})
        assert visible_to_pro() == [doc.id]
        # The holder's own opening of the document in between is in her history too.
        assert _actions(patient)[-3:] == ["document_masked", "document_viewed", "document_unmasked"]

    def test_mask_without_csrf_changes_nothing(self, client: FlaskClient, patient: Account) -> None:
        upload(client)
        (doc,) = _documents()
        assert client.post(f"/documents/{doc.id}/mask").status_code == HTTPStatus.BAD_REQUEST
        assert not _documents()[0].masked_from_pros

    def test_mask_by_get_is_not_possible(self, client: FlaskClient, patient: Account) -> None:
        upload(client)
        (doc,) = _documents()
        assert client.get(f"/documents/{doc.id}/mask").status_code == 405


class TestDeleting:
    def test_delete_destroys_the_file_and_leaves_a_tombstone(
        self, client: FlaskClient, patient: Account
    ) -> None:
        upload(client)
        (doc,) = _documents()
        blob = doc.blob_id or ""
        confirm = client.get(f"/documents/{doc.id}/delete")
        assert "Supprimer ce document ?" in confirm.get_data(as_text=True)
        response = client.post(
            f"/documents/{doc.id}/delete", data={"csrf_token": csrf_from(confirm)}
        )
        assert response.headers["Location"] == "/documents/"
        (tomb,) = _documents()
        assert tomb.state == "deleted" and tomb.blob_id is None
        assert not storage.exists(blob)
        assert client.get(f"/documents/{doc.id}").status_code == 404
        assert "document_deleted" in _actions(patient)
        assert "0 document" in client.get("/documents/").get_data(as_text=True)


class TestVersions:
    def _replace(self, client: FlaskClient, doc_id: int, content: bytes) -> TestResponse:
        page = client.get(f"/documents/{doc_id}/replace")
        return client.post(
            f"/documents/{doc_id}/replace",
            data={"csrf_token": csrf_from(page), "file": (io.BytesIO(content), "v2.pdf")},
            content_type="multipart/form-data",
        )

    def test_replace_keeps_the_earlier_version(self, client: FlaskClient, patient: Account) -> None:
        upload(client)
        (first,) = _documents()
        response = self._replace(client, first.id, PDF + b"v2")
        assert response.status_code == HTTPStatus.SEE_OTHER
        old, new = _documents()
        assert (old.state, new.state, new.version, new.series_id) == (
            "superseded",
            "current",
            2,
            old.id,
        )
        assert "1 document" in client.get("/documents/").get_data(as_text=True)
        page = client.get(f"/documents/{new.id}").get_data(as_text=True)
        assert "Version 1" in page and "Version 2 (celle-ci)" in page
        assert client.get(f"/documents/{old.id}/download").data == PDF

    def test_two_tabs_replacing_at_once_make_one_new_version(
        self, client: FlaskClient, patient: Account
    ) -> None:
        upload(client)
        (first,) = _documents()
        second_tab = client.get(f"/documents/{first.id}/replace")
        self._replace(client, first.id, PDF + b"tab one")
        late = client.post(
            f"/documents/{first.id}/replace",
            data={
                "csrf_token": csrf_from(second_tab),
                "file": (io.BytesIO(PDF + b"tab two"), "v2.pdf"),
            },
            content_type="multipart/form-data",
        )
        # The first tab made it a former version, which can no longer be replaced.
        assert late.status_code == HTTPStatus.NOT_FOUND
        refused = db.session.scalars(
            select(AccessEvent).where(AccessEvent.action == "document_refused")
        ).one()
        assert (refused.resource_id, refused.reason) == (str(first.id), "not_current_version")
        assert len(_documents()) == 2
        assert len(storage.all_blob_ids()) == 2

    def test_concurrent_replacement_in_the_service(self, app: Flask, patient: Account) -> None:
        from webapp.services import documents

        doc_id = None
        assert patient.patient is not None
        doc = documents.add(
            patient,
            patient.patient,
            stream=io.BytesIO(PDF),
            file_name="a.pdf",
            title="t",
            category="biologie",
            care_date=clock.now().date(),
        )
        db.session.commit()
        doc_id = doc.id
        stale = db.session.get(Document, doc_id)
        assert stale is not None
        stale_version = stale.row_version
        documents.replace(patient, stale, stream=io.BytesIO(PDF + b"1"), file_name="b.pdf")
        db.session.commit()
        stale.row_version = stale_version
        stale.state = "current"
        db.session.expunge(stale)
        with pytest.raises(documents.ReplacedMeanwhile):
            documents.replace(patient, stale, stream=io.BytesIO(PDF + b"2"), file_name="c.pdf")
        db.session.rollback()
        assert len(storage.all_blob_ids()) == 2


class TestStorageCommands:
    def test_sweep_removes_orphans_only(
        self, app: Flask, client: FlaskClient, patient: Account
    ) -> None:
        upload(client)
        orphan = storage.store(io.BytesIO(PDF), max_bytes=10_000)
        clock.advance(7200)
        result = app.test_cli_runner().invoke(args=["storage", "sweep"])
        assert result.exit_code == 0 and "1 orphan" in result.output
        assert not storage.exists(orphan.blob_id)
        (doc,) = _documents()
        assert storage.exists(doc.blob_id or "")

    def test_rotate_rewraps_every_key_and_files_still_open(
        self, app: Flask, client: FlaskClient, patient: Account
    ) -> None:
        import secrets

        upload(client, title="un")
        upload(client, title="deux")
        old = app.extensions["carnet.settings"]
        app.extensions["carnet.settings"] = replace(
            old, master_key=secrets.token_bytes(32), retired_master_keys=(old.master_key,)
        )
        result = app.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 0 and "2 document key(s) re-wrapped" in result.output
        again = app.test_cli_runner().invoke(args=["keys", "rotate"])
        assert "0 document key(s)" in again.output
        for doc in _documents():
            assert doc.key_id == storage.current_key_id()
            assert client.get(f"/documents/{doc.id}/download").data == PDF


def test_concurrent_uploads_do_not_collide(app: Flask) -> None:
    account = make_patient()
    assert account.patient is not None
    patient_id, account_id = account.patient.id, account.id
    errors: list[BaseException] = []

    def add(n: int) -> None:
        from webapp.models import Patient
        from webapp.services import documents

        try:
            with app.app_context():
                holder = db.session.get(Account, account_id)
                record = db.session.get(Patient, patient_id)
                assert holder is not None and record is not None
                documents.add(
                    holder,
                    record,
                    stream=io.BytesIO(PDF + bytes([n])),
                    file_name="x.pdf",
                    title=f"t{n}",
                    category="autres",
                    care_date=clock.now().date(),
                )
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    db.session.commit()
    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(_documents()) == 4
    from webapp.services import audit

    assert audit.verify_all()[1] == []
