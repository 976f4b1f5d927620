"""Encrypted blobs: round trips, limits, tampering, sweeping, key rotation and flat memory."""

from __future__ import annotations

import base64
import contextvars
import hashlib
import io
import os
import stat
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from http import HTTPStatus
from pathlib import Path

import pytest
from flask import Flask, Response

from webapp.core import clock
from webapp.core.settings import ConfigurationError, Settings
from webapp.services import crypto, storage
from webapp.services.storage import (
    CHUNK_BYTES,
    BlobCorrupted,
    BlobMissing,
    EmptyFile,
    StorageError,
    StoredBlob,
    TooLarge,
    UnknownKey,
    UnsupportedType,
)

MARKER = b"SECRET-DIAGNOSIS-7f3a"
PDF_HEAD = b"%PDF-1.7\n"
HEADER_BYTES = 17
MB = 1024 * 1024


def pdf(size: int) -> bytes:
    """A PDF-looking document of exactly `size` bytes, with the marker all along."""
    body = PDF_HEAD + (MARKER + os.urandom(40)) * (size // (len(MARKER) + 40) + 1)
    return body[:size]


def store_bytes(content: bytes, max_bytes: int = 50 * MB) -> StoredBlob:
    return storage.store(io.BytesIO(content), max_bytes=max_bytes)


def read_all(blob: StoredBlob) -> bytes:
    return b"".join(storage.read(blob.blob_id, blob.key_id, blob.wrapped_key))


def blob_file(blob: StoredBlob) -> Path:
    return storage.blob_folder() / blob.blob_id


def files_on_disk() -> list[str]:
    folder = storage.blob_folder()
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def split_records(data: bytes) -> tuple[bytes, list[bytes]]:
    """The header and the (length + ciphertext) records of a blob file."""
    header, rest, records = data[:HEADER_BYTES], data[HEADER_BYTES:], []
    while rest:
        length = int.from_bytes(rest[:4], "big")
        records.append(rest[: 4 + length])
        rest = rest[4 + length :]
    return header, records


class PatternStream:
    """`size` bytes made on the fly from one block, returned at most `max_read` at a time."""

    def __init__(self, size: int, *, max_read: int | None = None, allowed: int | None = None):
        self.block = PDF_HEAD + bytes(range(256)) * (CHUNK_BYTES // 256)
        self.remaining = size
        self.max_read = max_read
        self.allowed = allowed
        self.consumed = 0

    def read(self, size: int, /) -> bytes:
        take = min(size, self.remaining, self.max_read or size, len(self.block))
        if self.allowed is not None and self.consumed + take > self.allowed:
            raise AssertionError("read past the limit")
        self.consumed += take
        self.remaining -= take
        return self.block[:take]


class FailingStream:
    def __init__(self) -> None:
        self.calls = 0

    def read(self, size: int, /) -> bytes:
        self.calls += 1
        if self.calls > 3:
            raise OSError("connection reset")
        return pdf(size)


@pytest.fixture
def use_settings(app: Flask) -> Callable[[Settings], None]:
    def use(settings: Settings) -> None:
        app.extensions["carnet.settings"] = settings

    return use


class TestRoundTrip:
    @pytest.mark.parametrize(
        "size", [1, 2, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * MB + 7]
    )
    def test_sizes(self, app: Flask, size: int) -> None:
        content = b"x" * size if size < len(PDF_HEAD) else pdf(size)
        blob = store_bytes(content)
        assert blob.size == size
        assert blob.sha256 == hashlib.sha256(content).hexdigest()
        assert blob.media_type == ("text/plain" if size < len(PDF_HEAD) else "application/pdf")
        chunks = list(storage.read(blob.blob_id, blob.key_id, blob.wrapped_key))
        assert b"".join(chunks) == content
        assert len(chunks) == -(-size // CHUNK_BYTES)
        assert all(len(chunk) == CHUNK_BYTES for chunk in chunks[:-1])
        overhead = HEADER_BYTES + len(chunks) * (4 + 16)
        assert blob_file(blob).stat().st_size == size + overhead

    def test_empty_file(self, app: Flask) -> None:
        with pytest.raises(EmptyFile):
            store_bytes(b"")
        assert files_on_disk() == []

    @pytest.mark.parametrize(
        ("content", "media_type"),
        [
            ("Compte rendu : échographie normale.\n".encode(), "text/plain"),
            (b"\x89PNG\r\n\x1a\n" + os.urandom(5000), "image/png"),
            (b"\xff\xd8\xff\xe0" + os.urandom(5000), "image/jpeg"),
            (b"II*\x00" + os.urandom(100), "image/tiff"),
            (b"{\\rtf1 Ordonnance}", "application/rtf"),
        ],
    )
    def test_media_type_is_detected(self, app: Flask, content: bytes, media_type: str) -> None:
        blob = store_bytes(content)
        assert blob.media_type == media_type
        assert read_all(blob) == content

    def test_no_plaintext_on_disk(self, app: Flask) -> None:
        content = pdf(3 * CHUNK_BYTES + 5)
        blob = store_bytes(content)
        for path in crypto.settings().instance_path.rglob("*"):
            if path.is_file():
                assert MARKER not in path.read_bytes(), path
        assert blob_file(blob).read_bytes().startswith(b"CRNB\x01")

    def test_short_reads_still_make_full_chunks(self, app: Flask) -> None:
        stream = PatternStream(3 * CHUNK_BYTES + 10, max_read=1000)
        blob = storage.store(stream, max_bytes=10 * MB)
        chunks = list(storage.read(blob.blob_id, blob.key_id, blob.wrapped_key))
        assert [len(chunk) for chunk in chunks] == [CHUNK_BYTES] * 3 + [10]

    def test_random_names_and_modes(self, app: Flask) -> None:
        first, second = store_bytes(pdf(100)), store_bytes(pdf(100))
        assert first.blob_id != second.blob_id
        assert len(first.blob_id) == 32 and int(first.blob_id, 16) >= 0
        assert first.key_id == storage.current_key_id()
        assert first.wrapped_key != second.wrapped_key
        folder = storage.blob_folder()
        assert folder == crypto.settings().instance_path / "blobs"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(blob_file(first).stat().st_mode) == 0o600
        assert files_on_disk() == sorted([first.blob_id, second.blob_id])

    def test_folder_made_private_when_it_was_not(self, app: Flask) -> None:
        storage.blob_folder().mkdir(mode=0o755, parents=True)
        store_bytes(pdf(10))
        assert stat.S_IMODE(storage.blob_folder().stat().st_mode) == 0o700

    def test_identical_content_encrypts_differently(self, app: Flask) -> None:
        content = pdf(1000)
        first, second = store_bytes(content), store_bytes(content)
        assert blob_file(first).read_bytes() != blob_file(second).read_bytes()
        assert first.sha256 == second.sha256


class TestFlaskStreaming:
    def test_response_body(self, app: Flask, settings: Settings) -> None:
        content = pdf(2 * CHUNK_BYTES + 3)
        blob = store_bytes(content)
        # A bare application: Carnet's own asks for a sign-in before any route.
        bare = Flask("streaming")
        bare.extensions["carnet.settings"] = settings

        @bare.get("/blob")
        def download() -> Response:
            chunks = storage.read(blob.blob_id, blob.key_id, blob.wrapped_key)
            return Response(chunks, mimetype=blob.media_type)

        response = bare.test_client().get("/blob")
        assert response.status_code == HTTPStatus.OK
        assert response.is_streamed
        assert response.data == content

    def test_iterating_needs_no_application_context(self, app: Flask) -> None:
        content = pdf(3 * CHUNK_BYTES)
        blob = store_bytes(content)
        chunks = storage.read(blob.blob_id, blob.key_id, blob.wrapped_key)
        # A fresh context has no application context, as after a streamed response returns.
        assert contextvars.Context().run(lambda: b"".join(chunks)) == content

    def test_closing_early_is_clean(self, app: Flask) -> None:
        blob = store_bytes(pdf(3 * CHUNK_BYTES))
        chunks = storage.read(blob.blob_id, blob.key_id, blob.wrapped_key)
        assert len(next(chunks)) == CHUNK_BYTES
        assert len(next(chunks)) == CHUNK_BYTES
        chunks.close()  # type: ignore[attr-defined]
        # Never started at all: no file is held open (a ResourceWarning would fail the run).
        storage.read(blob.blob_id, blob.key_id, blob.wrapped_key)


class TestLimits:
    def test_too_large_stops_reading(self, app: Flask) -> None:
        limit = 3 * CHUNK_BYTES + 100
        stream = PatternStream(100 * MB, allowed=limit + CHUNK_BYTES)
        with pytest.raises(TooLarge) as raised:
            storage.store(stream, max_bytes=limit)
        assert raised.value.limit == limit
        assert stream.consumed <= limit + 1
        assert files_on_disk() == []

    def test_too_large_before_the_first_chunk(self, app: Flask) -> None:
        stream = PatternStream(10 * MB, allowed=100 + CHUNK_BYTES)
        with pytest.raises(TooLarge):
            storage.store(stream, max_bytes=100)
        assert files_on_disk() == []

    def test_exactly_the_limit_is_accepted(self, app: Flask) -> None:
        content = pdf(CHUNK_BYTES + 1)
        assert store_bytes(content, max_bytes=len(content)).size == len(content)
        with pytest.raises(TooLarge):
            store_bytes(content, max_bytes=len(content) - 1)

    @pytest.mark.parametrize(
        "content",
        [
            b"<!DOCTYPE html><html><script>alert(1)</script></html>" + b" " * CHUNK_BYTES,
            b"MZ\x90\x00\x03" + os.urandom(3 * CHUNK_BYTES),
        ],
    )
    def test_unsupported_type_leaves_nothing(self, app: Flask, content: bytes) -> None:
        with pytest.raises(UnsupportedType):
            store_bytes(content)
        assert files_on_disk() == []

    def test_failing_stream_leaves_nothing(self, app: Flask) -> None:
        with pytest.raises(OSError, match="connection reset"):
            storage.store(FailingStream(), max_bytes=50 * MB)
        assert files_on_disk() == []

    def test_failing_rename_leaves_nothing(
        self, app: Flask, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken_replace(source: object, target: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", broken_replace)
        with pytest.raises(OSError, match="disk full"):
            store_bytes(pdf(2 * CHUNK_BYTES))
        assert files_on_disk() == []

    def test_failing_folder_sync_leaves_nothing(
        self, app: Flask, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken_sync(folder: Path) -> None:
            raise OSError("I/O error")

        monkeypatch.setattr(storage, "_fsync_folder", broken_sync)
        with pytest.raises(OSError, match="I/O error"):
            store_bytes(pdf(100))
        assert files_on_disk() == []


class TestTampering:
    @pytest.fixture
    def blob(self, app: Flask) -> StoredBlob:
        return store_bytes(pdf(3 * CHUNK_BYTES + 500))

    def rewrite(self, blob: StoredBlob, change: Callable[[bytes], bytes]) -> None:
        path = blob_file(blob)
        path.write_bytes(change(path.read_bytes()))

    @pytest.mark.parametrize(
        "position",
        [
            pytest.param(0, id="magic"),
            pytest.param(4, id="version"),
            pytest.param(10, id="base-nonce"),
            pytest.param(HEADER_BYTES + 2, id="first-length"),
            pytest.param(HEADER_BYTES + 100, id="first-chunk"),
            pytest.param(HEADER_BYTES + 4 + CHUNK_BYTES + 16 + 4 + 7, id="second-chunk"),
            pytest.param(-1, id="last-tag"),
        ],
    )
    def test_flipped_byte(self, blob: StoredBlob, position: int) -> None:
        def flip(data: bytes) -> bytes:
            changed = bytearray(data)
            changed[position] ^= 0x01
            return bytes(changed)

        self.rewrite(blob, flip)
        with pytest.raises(BlobCorrupted):
            read_all(blob)

    @pytest.mark.parametrize(
        "cut",
        [
            pytest.param(lambda data: data[:HEADER_BYTES], id="header-only"),
            pytest.param(lambda data: data[:10], id="inside-header"),
            pytest.param(lambda data: b"", id="empty-file"),
            pytest.param(lambda data: data[:-1], id="one-byte-short"),
            pytest.param(lambda data: data[: -(4 + 500 + 16)], id="last-chunk-dropped"),
            pytest.param(lambda data: data[: HEADER_BYTES + 4 + CHUNK_BYTES + 16], id="one-chunk"),
            pytest.param(lambda data: data + b"\x00", id="byte-appended"),
        ],
    )
    def test_truncated_or_extended(self, blob: StoredBlob, cut: Callable[[bytes], bytes]) -> None:
        self.rewrite(blob, cut)
        with pytest.raises(BlobCorrupted):
            read_all(blob)

    def test_chunks_swapped(self, blob: StoredBlob) -> None:
        def swap(data: bytes) -> bytes:
            header, records = split_records(data)
            records[0], records[1] = records[1], records[0]
            return header + b"".join(records)

        self.rewrite(blob, swap)
        with pytest.raises(BlobCorrupted):
            read_all(blob)

    def test_chunk_removed_from_the_middle(self, blob: StoredBlob) -> None:
        def remove(data: bytes) -> bytes:
            header, records = split_records(data)
            return header + b"".join(records[:1] + records[2:])

        self.rewrite(blob, remove)
        with pytest.raises(BlobCorrupted):
            read_all(blob)

    def test_chunk_taken_from_another_blob(self, blob: StoredBlob) -> None:
        other = store_bytes(pdf(3 * CHUNK_BYTES + 500))
        _, other_records = split_records(blob_file(other).read_bytes())

        def transplant(data: bytes) -> bytes:
            header, records = split_records(data)
            records[1] = other_records[1]
            return header + b"".join(records)

        self.rewrite(blob, transplant)
        with pytest.raises(BlobCorrupted):
            read_all(blob)
        assert len(read_all(other)) == 3 * CHUNK_BYTES + 500

    def test_another_blobs_wrapped_key(self, blob: StoredBlob) -> None:
        other = store_bytes(pdf(100))
        with pytest.raises(BlobCorrupted):
            storage.read(blob.blob_id, other.key_id, other.wrapped_key)
        with pytest.raises(BlobCorrupted):
            read_all(replace(blob, blob_id=other.blob_id))

    @pytest.mark.parametrize("wrapped_key", [b"", b"\x00" * 60, b"\x00" * 10])
    def test_malformed_wrapped_key(self, blob: StoredBlob, wrapped_key: bytes) -> None:
        with pytest.raises(BlobCorrupted):
            storage.read(blob.blob_id, blob.key_id, wrapped_key)

    def test_unknown_key_id(self, blob: StoredBlob) -> None:
        with pytest.raises(UnknownKey):
            storage.read(blob.blob_id, "0" * 16, blob.wrapped_key)

    def test_first_chunk_is_checked_before_read_returns(self, app: Flask) -> None:
        blob = store_bytes(pdf(1000))
        self.rewrite(blob, lambda data: data[:-1] + bytes([data[-1] ^ 1]))
        with pytest.raises(BlobCorrupted):
            storage.read(blob.blob_id, blob.key_id, blob.wrapped_key)


class TestPresence:
    def test_missing(self, app: Flask) -> None:
        blob = store_bytes(pdf(100))
        storage.delete(blob.blob_id)
        assert not storage.exists(blob.blob_id)
        with pytest.raises(BlobMissing):
            storage.read(blob.blob_id, blob.key_id, blob.wrapped_key)
        storage.delete(blob.blob_id)  # already gone: fine

    def test_removed_while_streaming(self, app: Flask) -> None:
        blob = store_bytes(pdf(2 * CHUNK_BYTES + 1))
        chunks = storage.read(blob.blob_id, blob.key_id, blob.wrapped_key)
        storage.delete(blob.blob_id)
        assert len(next(chunks)) == CHUNK_BYTES
        with pytest.raises(BlobMissing):
            next(chunks)

    @pytest.mark.parametrize(
        "blob_id", ["../master_key", "/etc/passwd", "", "A" * 32, "0" * 31, "0" * 32 + "/"]
    )
    def test_malformed_ids_reach_no_file(self, app: Flask, blob_id: str) -> None:
        key_file = crypto.settings().instance_path / "master_key"
        key_file.write_text("not a blob")
        assert not storage.exists(blob_id)
        storage.delete(blob_id)
        with pytest.raises(BlobMissing):
            storage.read(blob_id, storage.current_key_id(), b"\x00" * 60)
        assert key_file.exists()

    def test_exists_and_listing(self, app: Flask) -> None:
        first, second = store_bytes(pdf(10)), store_bytes(pdf(10))
        folder = storage.blob_folder()
        (folder / ".tmp-abandoned").write_bytes(b"x")
        (folder / "README").write_text("not a blob")
        assert storage.exists(first.blob_id)
        assert storage.all_blob_ids() == {first.blob_id, second.blob_id}

    def test_listing_without_folder(self, app: Flask) -> None:
        assert storage.all_blob_ids() == set()
        assert storage.sweep(set()) == []


class TestSweep:
    def age(self, path: Path, seconds: int) -> None:
        when = clock.now().timestamp() - seconds
        os.utime(path, (when, when))

    def test_removes_old_orphans_only(self, app: Flask) -> None:
        known, orphan, recent = (store_bytes(pdf(10)) for _ in range(3))
        folder = storage.blob_folder()
        old_temp, new_temp = folder / ".tmp-old", folder / ".tmp-new"
        old_temp.write_bytes(b"x")
        new_temp.write_bytes(b"x")
        for path in (blob_file(known), blob_file(orphan), old_temp):
            self.age(path, 7200)
        self.age(blob_file(recent), 600)

        removed = storage.sweep({known.blob_id})

        assert removed == [orphan.blob_id]
        assert storage.all_blob_ids() == {known.blob_id, recent.blob_id}
        assert not old_temp.exists()
        assert new_temp.exists()
        assert read_all(known) == read_all(known)

    def test_grace_period_follows_the_clock(self, app: Flask) -> None:
        blob = store_bytes(pdf(10))
        assert storage.sweep(set(), older_than_seconds=60) == []
        clock.advance(61)
        assert storage.sweep(set(), older_than_seconds=60) == [blob.blob_id]
        assert files_on_disk() == []


class TestKeys:
    def test_key_id(self, app: Flask) -> None:
        master_key = crypto.settings().master_key
        expected = hashlib.sha256(b"carnet-key-id" + master_key).hexdigest()[:16]
        assert storage.current_key_id() == expected == storage.key_id_for(master_key)

    def test_rewrap_after_rotation(
        self, app: Flask, settings: Settings, use_settings: Callable[[Settings], None]
    ) -> None:
        content = pdf(2 * CHUNK_BYTES + 9)
        blob = store_bytes(content)
        rotated = replace(
            settings, master_key=os.urandom(32), retired_master_keys=(settings.master_key,)
        )
        use_settings(rotated)
        assert storage.current_key_id() != blob.key_id
        assert read_all(blob) == content  # still readable through the retired key

        key_id, wrapped_key = storage.rewrap(blob.blob_id, blob.key_id, blob.wrapped_key)
        assert key_id == storage.current_key_id()
        rewrapped = replace(blob, key_id=key_id, wrapped_key=wrapped_key)
        assert read_all(rewrapped) == content

        use_settings(replace(rotated, retired_master_keys=()))
        assert read_all(rewrapped) == content
        with pytest.raises(UnknownKey):
            read_all(blob)

    def test_rewrap_refuses_unknown_keys_and_other_blobs(self, app: Flask) -> None:
        blob, other = store_bytes(pdf(10)), store_bytes(pdf(10))
        with pytest.raises(StorageError):
            storage.rewrap(blob.blob_id, "f" * 16, blob.wrapped_key)
        with pytest.raises(BlobCorrupted):
            storage.rewrap(other.blob_id, blob.key_id, blob.wrapped_key)

    def test_retire_development_key(
        self,
        app: Flask,
        settings: Settings,
        use_settings: Callable[[Settings], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        for name in ("CARNET_INSTANCE", "MASTER_KEY", "MASTER_KEYS_RETIRED", "SECRET_KEY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("CARNET_ENV", "development")
        instance = settings.instance_path
        use_settings(Settings.from_env(instance))
        content = pdf(CHUNK_BYTES + 1)
        blob = store_bytes(content)
        old_key = crypto.settings().master_key

        storage.retire_development_key()
        use_settings(Settings.from_env(instance))

        assert crypto.settings().master_key != old_key
        assert crypto.settings().retired_master_keys == (old_key,)
        retired_file = instance / "retired_keys" / blob.key_id
        assert base64.urlsafe_b64decode(retired_file.read_text()) == old_key
        for path in (retired_file, instance / "master_key"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert read_all(blob) == content
        key_id, wrapped_key = storage.rewrap(blob.blob_id, blob.key_id, blob.wrapped_key)
        assert key_id == storage.current_key_id() != blob.key_id
        assert read_all(replace(blob, key_id=key_id, wrapped_key=wrapped_key)) == content

    def test_retire_refused_outside_development(self, app: Flask) -> None:
        with pytest.raises(StorageError):
            storage.retire_development_key()

    def test_retire_refused_when_the_key_is_not_the_file(
        self, app: Flask, settings: Settings, use_settings: Callable[[Settings], None]
    ) -> None:
        use_settings(replace(settings, environment="development"))
        (settings.instance_path / "master_key").write_text(
            base64.urlsafe_b64encode(os.urandom(32)).decode()
        )
        with pytest.raises(StorageError):
            storage.retire_development_key()
        assert not (settings.instance_path / "retired_keys").exists()


class TestRetiredKeysSetting:
    @pytest.fixture
    def production_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("CARNET_INSTANCE", raising=False)
        monkeypatch.setenv("CARNET_ENV", "production")
        for name in ("SECRET_KEY", "MASTER_KEY", "AUDIT_KEY"):
            monkeypatch.setenv(name, base64.urlsafe_b64encode(os.urandom(32)).decode())
        monkeypatch.setenv("DATABASE_URL", "postgresql://carnet@localhost/carnet")
        monkeypatch.setenv("PUBLIC_URL", "https://carnet.example")

    def test_from_the_environment(
        self, production_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first, second = os.urandom(32), os.urandom(32)
        value = ",".join(base64.urlsafe_b64encode(key).decode() for key in (first, second))
        monkeypatch.setenv("MASTER_KEYS_RETIRED", f" {value} ,")
        # Production never reads key files from the instance folder.
        (tmp_path / "retired_keys").mkdir()
        (tmp_path / "retired_keys" / "old").write_text(
            base64.urlsafe_b64encode(os.urandom(32)).decode()
        )
        loaded = Settings.from_env(tmp_path)
        assert loaded.retired_master_keys == (first, second)
        assert base64.urlsafe_b64encode(first).decode() not in repr(loaded)

    @pytest.mark.parametrize("value", ["not-base64!", base64.urlsafe_b64encode(b"short").decode()])
    def test_malformed(
        self, production_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
    ) -> None:
        monkeypatch.setenv("MASTER_KEYS_RETIRED", value)
        with pytest.raises(ConfigurationError, match="MASTER_KEYS_RETIRED"):
            Settings.from_env(tmp_path)

    def test_default_is_none(self, settings: Settings) -> None:
        assert settings.retired_master_keys == ()


class TestFlatMemory:
    SIZE = 40 * MB
    LIMIT = 4 * MB

    def test_store_and_read_40_mb(self, app: Flask) -> None:
        expected = hashlib.sha256()
        source = PatternStream(self.SIZE)
        while piece := source.read(CHUNK_BYTES):
            expected.update(piece)

        stream = PatternStream(self.SIZE)
        tracemalloc.start()
        try:
            blob = storage.store(stream, max_bytes=50 * MB)
            _, store_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            digest, size = hashlib.sha256(), 0
            for chunk in storage.read(blob.blob_id, blob.key_id, blob.wrapped_key):
                digest.update(chunk)
                size += len(chunk)
            _, read_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert blob.size == size == self.SIZE
        assert blob.sha256 == digest.hexdigest() == expected.hexdigest()
        assert store_peak < self.LIMIT, store_peak
        assert read_peak < self.LIMIT, read_peak
