"""Backup benchmark: `flask backup create`, `verify` and `restore` over the demo data plus
10,000 documents with small real encrypted blobs.

Run: .venv/bin/python -m bench.backup   (SQLite in a temporary folder; PostgreSQL too when
TEST_DATABASE_URL is set: its schema is rebuilt, and a scratch database is created and dropped
for the restore.)
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.builders import pdf_file
from webapp import create_app
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import Account, Document, Role
from webapp.services import demo, storage

DOCUMENTS = 10_000


def fast_blob(content: bytes) -> storage.StoredBlob:
    """What `storage.store` writes, minus its fsyncs and its type check: 10,000 in seconds."""
    folder = storage.blob_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    blob_id = secrets.token_hex(16)
    data_key = AESGCM.generate_key(bit_length=256)
    with (folder / blob_id).open("wb") as out:
        size, digest = storage._encrypt(iter([(content, True)]), out, blob_id, data_key)
    master_key = storage.crypto.settings().master_key
    return storage.StoredBlob(
        blob_id=blob_id,
        key_id=storage.key_id_for(master_key),
        wrapped_key=storage._wrap(master_key, blob_id, data_key),
        size=size,
        sha256=digest,
        media_type="application/pdf",
    )


def seed() -> None:
    demo.load()
    db.session.commit()
    owner = db.session.scalars(select(Account).where(Account.role == Role.PATIENT)).first()
    assert owner is not None and owner.patient is not None
    batch = []
    for n in range(DOCUMENTS):
        blob = fast_blob(pdf_file(f"Compte rendu {n}"))
        batch.append(
            Document(
                patient_id=owner.patient.id,
                title=f"Compte rendu {n}",
                category="biologie",
                type_code="11502-2",
                care_date=date(2016 + n % 10, 1 + n % 12, 1 + n % 28),
                author_kind="patient",
                author_account_id=owner.id,
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
        if len(batch) == 2000:
            db.session.add_all(batch)
            db.session.commit()
            batch = []
    db.session.add_all(batch)
    db.session.commit()


def timed(app: Flask, *args: str) -> float:
    with app.app_context():
        start = time.perf_counter()
        result = app.test_cli_runner().invoke(args=list(args))
        elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    return elapsed


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """An empty PostgreSQL database beside `url`, dropped afterwards."""
    name = f"carnet_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(label: str, folder: Path, source_url: str, target: Callable[[], Iterator[str]]) -> None:
    settings = Settings.for_tests(folder / "instance", source_url)
    app = create_app(settings)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        db.create_all()
        start = time.perf_counter()
        seed()
        seeded = time.perf_counter() - start
        count = db.session.scalar(select(func.count()).select_from(Document))
        db.session.remove()
    backup_dir = folder / "backup"
    create = timed(app, "backup", "create", str(backup_dir))
    verify = timed(app, "backup", "verify", str(backup_dir))
    size = sum(path.stat().st_size for path in backup_dir.rglob("*") if path.is_file())
    with contextmanager(target)() as target_url:
        restored = create_app(
            Settings.for_tests(
                folder / "restored",
                target_url,
                secret_key=settings.secret_key,
                master_key=settings.master_key,
                audit_key=settings.audit_key,
            )
        )
        restore = timed(restored, "backup", "restore", str(backup_dir))
        audit = timed(restored, "audit", "verify")
        with restored.app_context():
            db.engine.dispose()
    with app.app_context():
        db.engine.dispose()
    print(
        f"{label}: {count} documents, {size / 1024 / 1024:.1f} MiB backed up "
        f"(seeding {seeded:.1f} s)\n"
        f"  create  {create:6.2f} s\n  verify  {verify:6.2f} s\n"
        f"  restore {restore:6.2f} s\n  audit verify after restore {audit:6.2f} s"
    )


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="carnet-bench-backup-"))
    try:

        def sqlite_target() -> Iterator[str]:
            yield f"sqlite:///{folder / 'sqlite' / 'restored.db'}"

        run(
            "SQLite",
            folder / "sqlite",
            f"sqlite:///{folder / 'sqlite' / 'bench.db'}",
            sqlite_target,
        )
        postgres = os.environ.get("TEST_DATABASE_URL")
        if postgres:

            def postgres_target() -> Iterator[str]:
                with scratch_database(postgres) as url:
                    yield url

            run("PostgreSQL", folder / "postgres", postgres, postgres_target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
