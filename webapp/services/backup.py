"""A consistent copy of the database and the encrypted blobs, taken while the site serves.

What a backup folder holds: ``database.sqlite3`` (SQLite's online backup API, never a plain
file copy, which could catch a half-written page or miss the WAL) or ``database.pgdump``
(``pg_dump --format=custom``); ``blobs/<id>``, the blob files exactly as they are on disk (still
encrypted: a backup leaks nothing the master key does not open); and ``manifest.json``, written
last, so that a folder without it is an interrupted backup. The manifest names every file with
its size and SHA-256, the engine, the migration head, and the *ids* of the keys the data needs,
never the keys: they live apart (instance/ files or the environment), and a backup stored with
them would hand over every document to whoever takes the backup.

Consistency. Rows and blobs cannot be snapshotted together, so the order carries it:

* A blob is written (and fsynced, then renamed into place) before its row commits
  (`documents.add`, `storage.store`), and a blob file is never modified in place: a new version
  is a new blob id (`documents.replace`), a key rotation re-wraps the data key in the row and
  leaves the file alone (`storage.rewrap`). So a blob present when the copy runs holds exactly
  the bytes its row in the snapshot expects.
* The database snapshot is therefore taken first, and the blob folder copied after it: every row
  of the snapshot committed before it, so its blob was already on disk. A blob written after
  the snapshot is copied too, or not; either way it is an orphan in the backup, harmless (the
  sweep removes it after a restore).
* Deletion is the one hazard: `documents.delete`, the lifecycle purge and a replaced attachment
  remove files after their commit. A document deleted between the snapshot and the copy is
  still a row in the snapshot, but its file is gone. The blob ids the snapshot references are
  read *inside the snapshot itself* (the backup file for SQLite; for PostgreSQL, the very
  transaction whose exported snapshot pg_dump uses), and any of them the copy did not find is
  listed in the manifest under ``missing_blobs`` and printed by `create`. Those are exactly
  documents that were being deleted as the backup ran, so nothing the patient still wants is
  lost; the restored row then answers "file missing" like any row whose blob went.
  Avoiding them altogether would need hard links taken before the snapshot, in a folder on the
  blob store's file system, for a window of milliseconds: not worth the extra moving part.

Restore refuses a non-empty target: a database with any table at all (even empty ones: a
schema built by `flask db upgrade` would clash with the restored one; restore into a freshly
created database), or a blob folder holding any file. Both are checked before anything is
written. The restored data needs the same master key (current or retired) and the same audit
key; the manifest's key ids let `restore` say so before anyone opens a document.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, create_engine, inspect, select, text
from sqlalchemy.engine import URL

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Appointment, Document, Message, MessageAttachment
from webapp.services import crypto, storage

FORMAT: Final = "carnet-backup"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
SQLITE_FILE: Final = "database.sqlite3"
POSTGRES_FILE: Final = "database.pgdump"
BLOBS: Final = "blobs"
_READ_BYTES: Final = 1024 * 1024
# The only names a manifest may list: a hostile manifest cannot point outside the folder.
_FILE_NAME: Final = re.compile(
    rf"({re.escape(SQLITE_FILE)}|{re.escape(POSTGRES_FILE)}|blobs/[0-9a-f]{{32}})"
)


class BackupError(RuntimeError):
    """The backup or the restore cannot go on; the message says why, for the operator."""


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class KeyIds:
    """Fingerprints of the keys, never the keys: enough to tell whether two instances match."""

    master: str
    retired: tuple[str, ...]
    audit: str
    secret: str


@dataclass(frozen=True)
class Manifest:
    created_at: str
    engine: str
    migration_head: str | None
    keys: KeyIds
    # The master key ids the rows of the snapshot are wrapped under.
    key_ids_in_use: tuple[str, ...]
    files: tuple[FileEntry, ...]
    missing_blobs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "engine": self.engine,
            "migration_head": self.migration_head,
            "keys": {
                "master_key_id": self.keys.master,
                "retired_master_key_ids": list(self.keys.retired),
                "audit_key_id": self.keys.audit,
                "secret_key_id": self.keys.secret,
                "master_key_ids_in_use": list(self.key_ids_in_use),
            },
            "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in self.files],
            "missing_blobs": list(self.missing_blobs),
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Raises `BackupError` on anything but a manifest this version wrote."""
        try:
            if data["format"] != FORMAT or data["format_version"] != FORMAT_VERSION:
                raise BackupError("manifest.json: not a Carnet backup of a known format version")
            keys = data["keys"]
            files = tuple(
                FileEntry(str(item["name"]), int(item["size"]), str(item["sha256"]))
                for item in data["files"]
            )
            return cls(
                created_at=str(data["created_at"]),
                engine=str(data["engine"]),
                migration_head=data["migration_head"],
                keys=KeyIds(
                    master=str(keys["master_key_id"]),
                    retired=tuple(keys["retired_master_key_ids"]),
                    audit=str(keys["audit_key_id"]),
                    secret=str(keys["secret_key_id"]),
                ),
                key_ids_in_use=tuple(keys["master_key_ids_in_use"]),
                files=files,
                missing_blobs=tuple(data["missing_blobs"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, BackupError):
                raise
            raise BackupError(f"manifest.json: malformed ({exc!r})") from exc


@dataclass(frozen=True)
class Verification:
    manifest: Manifest | None
    # One line per altered, missing or unexpected file, naming it.
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    # What the operator must fix before the restored data opens (different keys).
    key_warnings: list[str]


def instance_key_ids() -> KeyIds:
    settings = crypto.settings()
    return KeyIds(
        master=storage.key_id_for(settings.master_key),
        retired=tuple(storage.key_id_for(key) for key in settings.retired_master_keys),
        audit=_fingerprint("audit", settings.audit_key),
        secret=_fingerprint("secret", settings.secret_key),
    )


# Create


def create(target: Path) -> Manifest:
    """Back up the database, then the blobs, into `target` (absent or empty)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not an empty folder; give a new one")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine_name = db.engine.dialect.name
    if engine_name == "sqlite":
        database_file = target / SQLITE_FILE
        _sqlite_snapshot(database_file)
        facts = _read_sqlite_facts(database_file)
    elif engine_name == "postgresql":
        database_file = target / POSTGRES_FILE
        facts = _postgres_snapshot(database_file)
    else:
        raise BackupError(f"No backup for the {engine_name} engine")
    entries = [_entry(target, database_file)]
    copied = _copy_blobs(target / BLOBS, entries)
    manifest = Manifest(
        created_at=clock.now().isoformat(),
        engine=engine_name,
        migration_head=facts.migration_head,
        keys=instance_key_ids(),
        key_ids_in_use=tuple(sorted(facts.key_ids)),
        files=tuple(entries),
        missing_blobs=tuple(sorted(facts.blob_ids - copied)),
    )
    _write_manifest(target, manifest)
    return manifest


@dataclass(frozen=True)
class _Facts:
    """What the snapshot itself says: its migration head, the blobs and keys its rows need."""

    migration_head: str | None
    blob_ids: set[str]
    key_ids: set[str]


def _facts(connection: Connection) -> _Facts:
    head = None
    if inspect(connection).has_table("alembic_version"):
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    blob_ids = set(
        connection.scalars(select(Document.blob_id).where(Document.blob_id.is_not(None)))
    )
    blob_ids |= set(connection.scalars(select(MessageAttachment.blob_id)))
    key_ids: set[str] = set()
    for column, condition in (
        (Document.key_id, Document.blob_id.is_not(None)),
        (MessageAttachment.key_id, MessageAttachment.key_id.is_not(None)),
        (Message.key_id, Message.key_id.is_not(None)),
        (Appointment.key_id, Appointment.key_id.is_not(None)),
    ):
        key_ids |= set(connection.scalars(select(column).where(condition).distinct()))
    return _Facts(head, {b for b in blob_ids if b}, {k for k in key_ids if k})


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("The SQLite database is in memory: nothing to back up")
    return Path(database)


def _sqlite_snapshot(destination: Path) -> None:
    """One step of the online backup API: a read transaction over the whole copy, so the file
    is the database at one instant (WAL mode lets the site keep writing meanwhile)."""
    source = sqlite3.connect(_sqlite_path(), timeout=30)
    try:
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        copy = sqlite3.connect(destination)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()


def _read_sqlite_facts(database_file: Path) -> _Facts:
    engine = create_engine(f"sqlite:///{database_file}")
    try:
        with engine.connect() as connection:
            return _facts(connection)
    finally:
        engine.dispose()


def _postgres_snapshot(destination: Path) -> _Facts:
    """pg_dump reads the snapshot this transaction exports, so the facts read here (the blobs
    the rows need) describe exactly the dumped rows."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            facts = _facts(connection)
            _run_postgres_tool(
                "pg_dump",
                ["--format=custom", f"--snapshot={snapshot}", f"--file={destination}"],
                db.engine.url,
            )
    destination.chmod(0o600)
    return facts


def _copy_blobs(folder: Path, entries: list[FileEntry]) -> set[str]:
    """Copy every blob present now; returns the ids copied. A file gone since the listing was
    deleted after its row (see the module docstring): skipped here, reported by the caller."""
    folder.mkdir(mode=0o700)
    source_folder = storage.blob_folder()
    copied: set[str] = set()
    for blob_id in sorted(storage.all_blob_ids()):
        try:
            size, digest = _copy_file(source_folder / blob_id, folder / blob_id)
        except FileNotFoundError:
            continue
        entries.append(FileEntry(f"{BLOBS}/{blob_id}", size, digest))
        copied.add(blob_id)
    return copied


def _copy_file(source: Path, destination: Path) -> tuple[int, str]:
    """Copy and hash in one pass; the copy is mode 0600 like the original."""
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader:
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as writer:
            while piece := reader.read(_READ_BYTES):
                digest.update(piece)
                size += len(piece)
                writer.write(piece)
    return size, digest.hexdigest()


def _entry(root: Path, path: Path) -> FileEntry:
    size, digest = _hash_file(path)
    return FileEntry(path.relative_to(root).as_posix(), size, digest)


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while piece := reader.read(_READ_BYTES):
            digest.update(piece)
            size += len(piece)
    return size, digest.hexdigest()


def _write_manifest(target: Path, manifest: Manifest) -> None:
    """Last, and atomically: its presence says the backup is whole."""
    fd, temp_name = tempfile.mkstemp(prefix=".manifest-", dir=target)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(manifest.to_json(), handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target / MANIFEST)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


# Verify


def verify(source: Path) -> Verification:
    """Recompute every file's SHA-256 against the manifest; name every file that differs."""
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        return Verification(None, [f"{MANIFEST}: missing (an interrupted or foreign backup)"])
    try:
        manifest = Manifest.from_json(json.loads(manifest_path.read_text()))
    except (BackupError, ValueError) as exc:
        return Verification(
            None, [str(exc) if isinstance(exc, BackupError) else f"{MANIFEST}: {exc}"]
        )
    problems: list[str] = []
    listed: set[str] = set()
    for entry in manifest.files:
        if _FILE_NAME.fullmatch(entry.name) is None or entry.name in listed:
            problems.append(f"{MANIFEST}: lists an invalid or repeated name {entry.name!r}")
            continue
        listed.add(entry.name)
        path = source / entry.name
        if not path.is_file():
            problems.append(f"missing: {entry.name}")
        elif _hash_file(path) != (entry.size, entry.sha256):
            problems.append(f"altered: {entry.name}")
    for name in sorted(_present_files(source) - listed - {MANIFEST}):
        problems.append(f"unexpected: {name}")
    return Verification(manifest, problems)


def _present_files(root: Path) -> set[str]:
    found: set[str] = set()
    for folder, _dirs, names in os.walk(root):
        for name in names:
            found.add((Path(folder) / name).relative_to(root).as_posix())
    return found


# Restore


def restore(source: Path) -> Restored:
    """Verify, check that the target is empty, then the database, then the blobs."""
    verification = verify(source)
    if verification.manifest is None or verification.problems:
        raise BackupError("The backup does not verify:\n  " + "\n  ".join(verification.problems))
    manifest = verification.manifest
    engine_name = db.engine.dialect.name
    if manifest.engine != engine_name:
        raise BackupError(f"This backup is of a {manifest.engine} database, not {engine_name}")
    blob_folder = storage.blob_folder()
    if blob_folder.is_dir() and any(blob_folder.iterdir()):
        raise BackupError(f"The blob folder {blob_folder} is not empty: restore into a new one")
    blobs = [entry for entry in manifest.files if entry.name.startswith(f"{BLOBS}/")]
    if engine_name == "sqlite":
        _restore_sqlite(source / SQLITE_FILE)
    else:
        tables = _tables()
        if tables:
            raise _not_empty(tables)
        _run_postgres_tool(
            "pg_restore",
            ["--no-owner", "--exit-on-error", "--single-transaction", str(source / POSTGRES_FILE)],
            db.engine.url,
        )
    db.engine.dispose()  # no pooled connection keeps a view of the database before
    storage_folder = _ensure_blob_folder()
    for entry in blobs:
        _copy_file(source / entry.name, storage_folder / Path(entry.name).name)
    return Restored(manifest, _key_warnings(manifest))


def _restore_sqlite(backup_file: Path) -> None:
    live = _sqlite_path()
    if not live.exists():
        # No database yet: a plain copy, written aside then renamed so no half file is seen.
        live.parent.mkdir(parents=True, exist_ok=True)
        temp = live.with_name(f".{live.name}.restoring")
        temp.unlink(missing_ok=True)
        _copy_file(backup_file, temp)
        os.replace(temp, live)
        return
    tables = _tables()
    if tables:
        raise _not_empty(tables)
    source = sqlite3.connect(backup_file)
    try:
        target = sqlite3.connect(live, timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _tables() -> list[str]:
    """Every table of the target, Carnet's or not (system catalogues aside)."""
    if db.engine.dialect.name == "sqlite":
        # Plain sqlite3: the engine's connections begin IMMEDIATE, a write lock for a look.
        handle = sqlite3.connect(_sqlite_path(), timeout=30)
        try:
            rows = handle.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
            return sorted(str(row[0]) for row in rows)
        finally:
            handle.close()
    with db.engine.connect() as connection:
        query = text(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "AND table_schema NOT LIKE 'pg_toast%' ORDER BY 1"
        )
        return list(connection.execute(query).scalars())


def _not_empty(tables: list[str]) -> BackupError:
    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
    return BackupError(
        f"The target database is not empty ({len(tables)} table(s): {shown}); restore into a "
        "newly created database, without running `flask db upgrade` on it first"
    )


def _ensure_blob_folder() -> Path:
    folder = storage.blob_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _key_warnings(manifest: Manifest) -> list[str]:
    mine = instance_key_ids()
    known = {mine.master, *mine.retired}
    warnings = [
        f"Master key {key_id} wraps data in this backup but this instance does not have it "
        "(as MASTER_KEY or retired): those documents and messages will not open"
        for key_id in manifest.key_ids_in_use
        if key_id not in known
    ]
    if manifest.keys.audit != mine.audit:
        warnings.append(
            f"The audit key differs (backup {manifest.keys.audit}, this instance {mine.audit}): "
            "`flask audit verify` will report every history as broken"
        )
    if manifest.keys.secret != mine.secret:
        warnings.append(
            "The secret key differs: sessions, CSRF tokens and codes sent before the backup "
            "are void (harmless; everyone signs in again)"
        )
    return warnings


# PostgreSQL tools


def _run_postgres_tool(tool: str, arguments: list[str], url: URL) -> None:
    """Run pg_dump or pg_restore against `url`; the password goes in PGPASSWORD, never argv."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} is not installed (Debian: the postgresql-client package)")
    command = [executable, *_connection_arguments(url), *arguments]
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()}")


def _connection_arguments(url: URL) -> Iterator[str]:
    """The URL's parts as libpq options (any driver, `postgresql+psycopg`, dropped)."""
    if url.host:
        yield f"--host={url.host}"
    if url.port:
        yield f"--port={url.port}"
    if url.username:
        yield f"--username={url.username}"
    yield "--no-password"  # never prompt: a cron job has nobody to answer
    yield f"--dbname={url.database}"


def _fingerprint(purpose: str, key: bytes) -> str:
    """A one-way id of a key that has no id of its own (the master key's is `key_id_for`)."""
    return hashlib.sha256(f"carnet-{purpose}-key-id".encode() + key).hexdigest()[:16]
