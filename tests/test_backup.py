"""`flask backup create|verify|restore`: a copy taken while uploads run restores whole."""

from __future__ import annotations

import io
import json
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.builders import make_patient, pdf_file
from tests.conftest import IsolatedClient, database_url
from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import AccessEvent, Account, Document
from webapp.services import backup, documents, storage

FreshApp = Callable[..., Flask]


def _upload(account: Account, n: int) -> Document:
    assert account.patient is not None
    doc = documents.add(
        account,
        account.patient,
        stream=io.BytesIO(pdf_file(f"Bilan {n}")),
        file_name=f"bilan-{n}.pdf",
        title=f"Bilan {n}",
        category="biologie",
        care_date=clock.now().date(),
    )
    db.session.commit()
    return doc


def _contents() -> dict[int, bytes]:
    """Every document with a file, read (decrypted) through the documents service."""
    db.session.expire_all()
    rows = db.session.scalars(select(Document).where(Document.blob_id.is_not(None)))
    return {doc.id: b"".join(documents.content(doc)) for doc in rows}


def _run(app: Flask, *args: str) -> tuple[int, str]:
    """Run a command against `app` (its own context: the test's may belong to another app)."""
    db.session.commit()  # no transaction of the test holds SQLite's write lock meanwhile
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture
def fresh_app(tmp_path: Path, settings: Settings) -> Iterator[FreshApp]:
    """A second instance, new instance folder and new (empty) database, with the same keys."""
    made: list[Flask] = []
    databases: list[str] = []
    url = database_url(tmp_path)
    admin = create_engine(url, isolation_level="AUTOCOMMIT") if url.startswith("postgres") else None

    def make(**overrides: object) -> Flask:
        n = len(made)
        if admin is None:
            target = f"sqlite:///{tmp_path / f'restored-{n}.db'}"
        else:
            name = f"carnet_restore_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            databases.append(name)
            target = make_url(url).set(database=name).render_as_string(hide_password=False)
        keys = {
            "secret_key": settings.secret_key,
            "master_key": settings.master_key,
            "audit_key": settings.audit_key,
        }
        keys.update(overrides)  # type: ignore[arg-type]
        application = create_app(Settings.for_tests(tmp_path / f"restored-{n}", target, **keys))
        application.test_client_class = IsolatedClient
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            for name in databases:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_backup_taken_during_uploads_restores_byte_identical(
    app: Flask, fresh_app: FreshApp, tmp_path: Path
) -> None:
    alice, bob = make_patient(), make_patient()
    for n in range(6):
        _upload(alice if n % 2 else bob, n)
    alice_id = alice.id
    stop = threading.Event()
    uploaded: list[int] = []
    failures: list[BaseException] = []

    def keep_uploading() -> None:
        with app.app_context():
            try:
                account = db.session.get(Account, alice_id)
                assert account is not None
                n = 100
                while not stop.is_set() or len(uploaded) < 3:
                    uploaded.append(_upload(account, n).id)
                    n += 1
            except BaseException as exc:  # reported by the test thread
                failures.append(exc)
            finally:
                db.session.remove()

    uploader = threading.Thread(target=keep_uploading)
    uploader.start()
    try:
        code, output = _run(app, "backup", "create", str(tmp_path / "backup"))
    finally:
        stop.set()
        uploader.join(timeout=60)
    assert not failures
    assert code == 0, output
    assert "Backup written" in output
    source = _contents()
    events = db.session.scalar(select(func.count()).select_from(AccessEvent))
    assert events

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["engine"] == db.engine.dialect.name
    assert manifest["keys"]["master_key_id"] == storage.current_key_id()
    assert manifest["missing_blobs"] == []
    assert "master_key" not in json.dumps(manifest).replace("master_key_id", "")
    assert _run(app, "backup", "verify", str(tmp_path / "backup"))[0] == 0

    restored = fresh_app()
    code, output = _run(restored, "backup", "restore", str(tmp_path / "backup"))
    assert code == 0, output
    assert "flask audit verify" in output
    assert "Warning" not in output  # same keys
    code, output = _run(restored, "audit", "verify")
    assert code == 0, output
    with restored.app_context():
        copied = _contents()
        # Every document of the snapshot (the first six at least), each byte-identical.
        assert len(copied) >= 6
        assert all(copied[doc_id] == source[doc_id] for doc_id in copied)
        assert db.session.scalar(select(func.count()).select_from(AccessEvent))
        # The uploads after the snapshot are orphans at most, never rows without a file.
        assert {doc_id for doc_id in copied} <= set(source)


def test_a_different_key_is_pointed_out_on_restore(
    app: Flask, fresh_app: FreshApp, tmp_path: Path
) -> None:
    _upload(make_patient(), 1)
    assert _run(app, "backup", "create", str(tmp_path / "backup"))[0] == 0
    restored = fresh_app(master_key=secrets.token_bytes(32))
    code, output = _run(restored, "backup", "restore", str(tmp_path / "backup"))
    assert code == 0, output
    assert "Warning: Master key" in output
    assert "will not open" in output


def test_restore_into_a_database_with_tables_is_refused(app: Flask, tmp_path: Path) -> None:
    make_patient()
    assert _run(app, "backup", "create", str(tmp_path / "backup"))[0] == 0
    before = db.session.scalar(select(func.count()).select_from(Account))
    code, output = _run(app, "backup", "restore", str(tmp_path / "backup"))
    assert code == 1
    assert "not empty" in output and "Nothing was restored" in output
    assert db.session.scalar(select(func.count()).select_from(Account)) == before
    assert not storage.all_blob_ids()


def test_restore_into_a_non_empty_blob_folder_is_refused(
    app: Flask, fresh_app: FreshApp, tmp_path: Path
) -> None:
    _upload(make_patient(), 1)
    assert _run(app, "backup", "create", str(tmp_path / "backup"))[0] == 0
    restored = fresh_app()
    blobs = Path(restored.instance_path) / "blobs"
    blobs.mkdir()
    (blobs / "stray").write_bytes(b"x")
    code, output = _run(restored, "backup", "restore", str(tmp_path / "backup"))
    assert code == 1
    assert "blob folder" in output
    with restored.app_context():
        assert backup._tables() == []


def test_an_altered_blob_fails_verify_by_name_and_restore_refuses(
    app: Flask, fresh_app: FreshApp, tmp_path: Path
) -> None:
    doc = _upload(make_patient(), 1)
    folder = tmp_path / "backup"
    assert _run(app, "backup", "create", str(folder))[0] == 0
    altered = folder / "blobs" / str(doc.blob_id)
    data = bytearray(altered.read_bytes())
    data[-1] ^= 1
    altered.write_bytes(bytes(data))
    code, output = _run(app, "backup", "verify", str(folder))
    assert code == 1
    assert f"altered: blobs/{doc.blob_id}" in output
    restored = fresh_app()
    code, output = _run(restored, "backup", "restore", str(folder))
    assert code == 1
    assert f"altered: blobs/{doc.blob_id}" in output
    with restored.app_context():
        assert backup._tables() == []
    assert not (Path(restored.instance_path) / "blobs").exists()


def test_verify_names_missing_and_unexpected_files(app: Flask, tmp_path: Path) -> None:
    doc = _upload(make_patient(), 1)
    folder = tmp_path / "backup"
    assert _run(app, "backup", "create", str(folder))[0] == 0
    (folder / "blobs" / str(doc.blob_id)).unlink()
    (folder / "blobs" / "extra").write_bytes(b"?")
    code, output = _run(app, "backup", "verify", str(folder))
    assert code == 1
    assert f"missing: blobs/{doc.blob_id}" in output
    assert "unexpected: blobs/extra" in output


def test_a_missing_manifest_fails_verify_and_restore(
    app: Flask, fresh_app: FreshApp, tmp_path: Path
) -> None:
    _upload(make_patient(), 1)
    folder = tmp_path / "backup"
    assert _run(app, "backup", "create", str(folder))[0] == 0
    (folder / "manifest.json").unlink()
    code, output = _run(app, "backup", "verify", str(folder))
    assert code == 1
    assert "manifest.json: missing" in output
    restored = fresh_app()
    code, output = _run(restored, "backup", "restore", str(folder))
    assert code == 1
    assert "manifest.json: missing" in output


def test_create_refuses_a_folder_that_is_not_empty(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    code, output = _run(app, "backup", "create", str(folder))
    assert code == 1
    assert "not an empty folder" in output
    assert [path.name for path in folder.iterdir()] == ["keep.txt"]


def test_a_blob_deleted_during_the_backup_is_listed_as_missing(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = make_patient()
    kept, gone = _upload(patient, 1), _upload(patient, 2)
    gone_blob = str(gone.blob_id)
    copy_blobs = backup._copy_blobs

    def delete_then_copy(folder: Path, entries: list[backup.FileEntry]) -> set[str]:
        # After the snapshot, before the copy: the document is deleted, its file removed.
        storage.delete(gone_blob)
        return copy_blobs(folder, entries)

    monkeypatch.setattr(backup, "_copy_blobs", delete_then_copy)
    code, output = _run(app, "backup", "create", str(tmp_path / "backup"))
    assert code == 0, output
    assert f"file {gone_blob} was deleted while the backup ran" in output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["missing_blobs"] == [gone_blob]
    assert (tmp_path / "backup" / "blobs" / str(kept.blob_id)).is_file()
    assert _run(app, "backup", "verify", str(tmp_path / "backup"))[0] == 0
