"""Encrypted blobs on disk, written and read in chunks so that memory stays flat.

A blob file is ``b"CRNB"``, a version byte and a 12-byte base nonce, then for each chunk of up
to 64 KiB a 4-byte big-endian length and its AES-256-GCM ciphertext. A chunk's nonce is the base
nonce XOR its index; its associated data binds the blob id, the index and a final flag, so that
truncating, reordering or swapping chunks between blobs fails on read. Each blob has its own
data key, wrapped by the master key; the wrapped key and the key id live in the database row.
The folder itself (which files are blobs, deleting them, the sweep) is `blob_files`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from webapp.services import crypto, filetypes
from webapp.services.blob_files import TEMP_PREFIX, blob_path
from webapp.services.blob_files import all_blob_ids as all_blob_ids
from webapp.services.blob_files import blob_folder as blob_folder
from webapp.services.blob_files import delete as delete
from webapp.services.blob_files import exists as exists
from webapp.services.blob_files import sweep as sweep

CHUNK_BYTES: Final = 64 * 1024
MAGIC: Final = b"CRNB"
VERSION: Final = 1
_NONCE_BYTES: Final = 12
_TAG_BYTES: Final = 16
_DATA_KEY_BYTES: Final = 32
_LENGTH_BYTES: Final = 4
_HEADER_BYTES: Final = len(MAGIC) + 1 + _NONCE_BYTES
_WRAPPED_KEY_BYTES: Final = _NONCE_BYTES + _DATA_KEY_BYTES + _TAG_BYTES


class StorageError(ValueError):
    """A blob cannot be stored, read or re-wrapped."""


class EmptyFile(StorageError):
    """The stream held no byte."""


class TooLarge(StorageError):
    """The stream held more than the limit; the rest was not read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The file is larger than {limit} bytes")
        self.limit = limit


class UnsupportedType(StorageError):
    """The content is none of the allowed types (see `filetypes`)."""


class BlobMissing(StorageError):
    """No blob file has this id."""


class BlobCorrupted(StorageError):
    """The blob file or its wrapped key fails authentication: altered, truncated or swapped."""


class UnknownKey(StorageError):
    """No configured master key (current or retired) has this key id."""


class Readable(Protocol):
    """What `store` reads: `BinaryIO`, werkzeug's `IO[bytes]` streams, or any reader."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class StoredBlob:
    blob_id: str
    key_id: str
    wrapped_key: bytes
    size: int
    sha256: str
    media_type: str


def store(stream: Readable, *, max_bytes: int) -> StoredBlob:
    """Encrypt `stream` into a new blob, atomically; nothing stays on disk if this raises."""
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    chunks = _plaintext_chunks(stream, max_bytes)
    first = next(chunks)
    media_type = filetypes.detect(first[0][: filetypes.SNIFF_BYTES])
    if media_type is None:
        raise UnsupportedType("This type of file is not accepted")
    folder = _ensure_folder()
    blob_id = secrets.token_hex(16)
    data_key = AESGCM.generate_key(bit_length=256)
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)  # mode 0600
    temp, final_path = Path(temp_name), folder / blob_id
    try:
        with os.fdopen(fd, "wb") as out:
            size, digest = _encrypt(itertools.chain([first], chunks), out, blob_id, data_key)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, final_path)
        _fsync_folder(folder)
    except BaseException:
        temp.unlink(missing_ok=True)
        final_path.unlink(missing_ok=True)  # a fresh random id: only ever this call's file
        raise
    master_key = crypto.settings().master_key
    return StoredBlob(
        blob_id=blob_id,
        key_id=key_id_for(master_key),
        wrapped_key=_wrap(master_key, blob_id, data_key),
        size=size,
        sha256=digest,
        media_type=media_type,
    )


def read(blob_id: str, key_id: str, wrapped_key: bytes) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, each chunk authenticated before it is yielded.

    The key, the header and the first chunk are checked before this returns (so a route can
    still answer an error); later chunks raise `BlobCorrupted` while streaming. The iterator
    needs no application context: it can be a Flask streaming response body as it is.
    """
    path = blob_path(blob_id)
    if path is None:
        raise BlobMissing(blob_id)
    aead = AESGCM(_unwrap(blob_id, key_id, wrapped_key))
    try:
        with path.open("rb") as handle:
            cursor = _ChunkCursor(blob_id, aead, _read_header(handle, blob_id))
            first, final = cursor.next_chunk(handle)
            offset = handle.tell()
    except FileNotFoundError as exc:
        raise BlobMissing(blob_id) from exc
    return _stream(path, offset, cursor, first, final)


@dataclass(frozen=True)
class SealedText:
    """A short text (a message) sealed like a blob: its own data key, wrapped by the master
    key, so that `flask keys rotate` and a lost database both treat it as a document."""

    key_id: str
    wrapped_key: bytes
    sealed: bytes


def seal_text(label: str, text: str) -> SealedText:
    """`label` names the row the text belongs to (bound into the encryption)."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = nonce + AESGCM(data_key).encrypt(nonce, text.encode(), label.encode())
    master_key = crypto.settings().master_key
    return SealedText(key_id_for(master_key), _wrap(master_key, label, data_key), sealed)


def open_text(label: str, key_id: str, wrapped_key: bytes, sealed: bytes) -> str:
    data_key = _unwrap(label, key_id, wrapped_key)
    nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        return AESGCM(data_key).decrypt(nonce, body, label.encode()).decode()
    except InvalidTag as exc:
        raise BlobCorrupted(f"{label}: the text does not open") from exc


def key_id_for(master_key: bytes) -> str:
    return hashlib.sha256(b"carnet-key-id" + master_key).hexdigest()[:16]


def current_key_id() -> str:
    return key_id_for(crypto.settings().master_key)


def rewrap(blob_id: str, key_id: str, wrapped_key: bytes) -> tuple[str, bytes]:
    """The blob's data key wrapped under the current master key: (key id, wrapped key)."""
    data_key = _unwrap(blob_id, key_id, wrapped_key)
    master_key = crypto.settings().master_key
    return key_id_for(master_key), _wrap(master_key, blob_id, data_key)


def retire_development_key() -> None:
    """Development only: keep instance/master_key in instance/retired_keys/ and write a new one.

    The old key is saved before the new one replaces it, so no crash loses it. The caller
    recreates the app, whose settings then hold the new key and the retired one.
    """
    settings = crypto.settings()
    if not settings.is_development:
        raise StorageError("Outside development, set MASTER_KEY and MASTER_KEYS_RETIRED instead")
    key_file = settings.instance_path / "master_key"
    in_file = key_file.is_file() and base64.urlsafe_b64decode(key_file.read_text().strip())
    if in_file != settings.master_key:
        raise StorageError("The master key in use does not come from instance/master_key")
    retired = settings.instance_path / "retired_keys"
    retired.mkdir(mode=0o700, exist_ok=True)
    _write_key_file(retired / key_id_for(settings.master_key), settings.master_key)
    _write_key_file(key_file, secrets.token_bytes(32))


# Writing


def _plaintext_chunks(stream: Readable, max_bytes: int) -> Iterator[tuple[bytes, bool]]:
    """(chunk, is_final) pairs of exactly CHUNK_BYTES but the last, which is never empty."""
    pending = bytearray()
    total = 0
    while piece := stream.read(min(CHUNK_BYTES, max_bytes + 1 - total)):
        total += len(piece)
        if total > max_bytes:
            raise TooLarge(max_bytes)
        pending += piece
        # Only a chunk known to be followed by more bytes goes out as not final.
        while len(pending) > CHUNK_BYTES:
            yield bytes(pending[:CHUNK_BYTES]), False
            del pending[:CHUNK_BYTES]
    if not pending:
        raise EmptyFile("The file is empty")
    yield bytes(pending), True


def _encrypt(
    chunks: Iterator[tuple[bytes, bool]], out: BinaryIO, blob_id: str, data_key: bytes
) -> tuple[int, str]:
    """Write the header and the sealed chunks; return the plaintext's size and SHA-256."""
    base_nonce = os.urandom(_NONCE_BYTES)
    aead = AESGCM(data_key)
    digest = hashlib.sha256()
    size = 0
    out.write(MAGIC + bytes([VERSION]) + base_nonce)
    for index, (chunk, final) in enumerate(chunks):
        digest.update(chunk)
        size += len(chunk)
        nonce = _chunk_nonce(base_nonce, index)
        sealed = aead.encrypt(nonce, chunk, _associated_data(blob_id, index, final))
        out.write(len(sealed).to_bytes(_LENGTH_BYTES, "big"))
        out.write(sealed)
    return size, digest.hexdigest()


def _ensure_folder() -> Path:
    folder = blob_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o777 != 0o700:
        folder.chmod(0o700)
    return folder


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Reading


def _read_header(handle: BinaryIO, blob_id: str) -> bytes:
    """Check the magic and version; return the base nonce."""
    header = handle.read(_HEADER_BYTES)
    if len(header) != _HEADER_BYTES or not header.startswith(MAGIC + bytes([VERSION])):
        raise BlobCorrupted(f"{blob_id}: not a blob file")
    return header[-_NONCE_BYTES:]


class _ChunkCursor:
    """Authenticates a blob's chunks one after the other, counting their index."""

    def __init__(self, blob_id: str, aead: AESGCM, base_nonce: bytes) -> None:
        self.blob_id = blob_id
        self.aead = aead
        self.base_nonce = base_nonce
        self.index = 0

    def next_chunk(self, handle: BinaryIO) -> tuple[bytes, bool]:
        sealed = self._read_record(handle)
        # The last record must carry the final flag; any other must not.
        final = handle.tell() == os.fstat(handle.fileno()).st_size
        nonce = _chunk_nonce(self.base_nonce, self.index)
        associated_data = _associated_data(self.blob_id, self.index, final)
        try:
            chunk = self.aead.decrypt(nonce, sealed, associated_data)
        except InvalidTag as exc:
            raise BlobCorrupted(f"{self.blob_id}: chunk {self.index} fails") from exc
        self.index += 1
        return chunk, final

    def _read_record(self, handle: BinaryIO) -> bytes:
        prefix = handle.read(_LENGTH_BYTES)
        if len(prefix) != _LENGTH_BYTES:
            raise BlobCorrupted(f"{self.blob_id}: truncated")
        length = int.from_bytes(prefix, "big")
        if not _TAG_BYTES <= length <= CHUNK_BYTES + _TAG_BYTES:
            raise BlobCorrupted(f"{self.blob_id}: bad chunk length")
        sealed = handle.read(length)
        if len(sealed) != length:
            raise BlobCorrupted(f"{self.blob_id}: truncated")
        return sealed


def _stream(
    path: Path, offset: int, cursor: _ChunkCursor, first: bytes, final: bool
) -> Iterator[bytes]:
    yield first
    if final:
        return
    # Reopened here so that an iterator never started, or closed early, holds no file.
    try:
        handle = path.open("rb")
    except FileNotFoundError as exc:
        raise BlobMissing(cursor.blob_id) from exc
    with handle:
        handle.seek(offset)
        while not final:
            chunk, final = cursor.next_chunk(handle)
            yield chunk


# Keys


def _chunk_nonce(base_nonce: bytes, index: int) -> bytes:
    counter = int.from_bytes(base_nonce[4:], "big") ^ index
    return base_nonce[:4] + counter.to_bytes(8, "big")


def _associated_data(blob_id: str, index: int, final: bool) -> bytes:
    return blob_id.encode() + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def _wrapping_key(master_key: bytes) -> bytes:
    return crypto.derive(master_key, "carnet-blob-key-wrap")


def _wrap(master_key: bytes, blob_id: str, data_key: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(_wrapping_key(master_key)).encrypt(nonce, data_key, blob_id.encode())


def _unwrap(blob_id: str, key_id: str, wrapped_key: bytes) -> bytes:
    master_key = _master_key(key_id)
    if len(wrapped_key) != _WRAPPED_KEY_BYTES:
        raise BlobCorrupted(f"{blob_id}: the wrapped key is malformed")
    nonce, sealed = wrapped_key[:_NONCE_BYTES], wrapped_key[_NONCE_BYTES:]
    try:
        return AESGCM(_wrapping_key(master_key)).decrypt(nonce, sealed, blob_id.encode())
    except InvalidTag as exc:
        raise BlobCorrupted(f"{blob_id}: the wrapped key is not this blob's") from exc


def _master_key(key_id: str) -> bytes:
    settings = crypto.settings()
    for key in (settings.master_key, *settings.retired_master_keys):
        if key_id_for(key) == key_id:
            return key
    raise UnknownKey(f"No master key has the id {key_id}")


def _write_key_file(path: Path, key: bytes) -> None:
    fd, temp_name = tempfile.mkstemp(prefix=".", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.urlsafe_b64encode(key).decode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
