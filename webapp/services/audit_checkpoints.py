"""Audit checkpoints: signed copies of every chain's head, kept outside the database.

A patient's HMAC chain proves that no row before its head was altered, removed or reordered,
but the head lives on the patient row: a database administrator who deletes a chain's last
rows and moves the head back, or empties a chain and resets its head to 0, leaves a chain that
verifies. A checkpoint records every head at one moment on storage that administrator cannot
write (another host, a WORM bucket), and optionally in an auditor's mailbox; `verify` then
reports every chain that is shorter than it was, whose row at the recorded head was rewritten,
or that is gone.

Nothing deletes a chain legitimately: deleting a record purges its content but keeps the
patient row and its whole history (services/purge.py, run by the lifecycle), so a
checkpointed patient whose chain shrank or vanished is always reported and no tombstone is
needed. A future purge that deleted chains would have to write a signed tombstone here first.

One file per checkpoint, named by its UTC time, one canonical JSON value a line:

    {"created_at": "…", "format": 1, "previous": "<the previous checkpoint's signature>"}
    [patient_id, seq, hmac]       one line per chain, by patient id
    {"chains": N}
    {"signature": "<hex>"}        HMAC-SHA256 of every byte above, with a key derived from
                                  the audit key

Lines let a checkpoint of millions of chains be written and checked while streaming. A file is
written under a temporary name, synced, then hard-linked to its final name (a link never
replaces an existing name) and left read-only (0400). Each names the previous one's signature,
so a checkpoint removed from the middle, or the oldest ones, shows; removing the latest cannot
show from the files alone, which is why the folder belongs on write-once storage and why the
witness e-mail exists.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from sqlalchemy import select, tuple_

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Patient
from webapp.services import crypto, notify

FORMAT = 1
GENESIS = "0" * 64
SUFFIX = ".jsonl"
WITNESS_KIND = "audit_checkpoint"
_KEY_PURPOSE = "carnet audit checkpoint v1"
_CHUNK = 500  # chains compared per query


class CheckpointError(RuntimeError):
    """A checkpoint cannot be written (the latest one is unreadable, the folder is full)."""


@dataclass(frozen=True)
class Written:
    name: str
    chains: int
    signature: str
    digest: str  # SHA-256 of the whole file, what the witness can compare a copy against


@dataclass(frozen=True)
class Finding:
    subject: str  # "patient 12" or "checkpoint 20250101T020000Z-000.jsonl"
    problem: str
    seq: int | None = None


@dataclass(frozen=True)
class Report:
    checkpoints: int
    latest: str | None  # the latest checkpoint whose signature holds, the one compared
    compared: int  # chains in it
    findings: list[Finding]


@dataclass
class _Loaded:
    """What a file says, whether or not its signature holds (links are checked on both)."""

    name: str
    previous: str | None = None
    signature: str | None = None
    created_at: str = ""
    problem: str = ""
    chains: dict[int, tuple[int, str | None]] = field(default_factory=dict)


def _key() -> bytes:
    """A key of its own (HKDF of the audit key): a checkpoint can never pass for a chain row."""
    return crypto.derive(crypto.settings().audit_key, _KEY_PURPOSE)


def _line(value: object) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.encode() + b"\n"


def folder() -> Path:
    return crypto.settings().audit_checkpoint_dir


def _files(target: Path) -> list[Path]:
    """Checkpoints oldest first: names are UTC times, so their order is the time order."""
    if not target.is_dir():
        return []
    return sorted(
        path
        for path in target.iterdir()
        if path.name.endswith(SUFFIX) and not path.name.startswith(".") and path.is_file()
    )


# --- writing --------------------------------------------------------------------------------


def write() -> Written:
    """Sign the head of every chain into a new file; read in one streamed query."""
    target = folder()
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    previous = _latest_signature(target)
    created = clock.now().astimezone(UTC)
    stamp = created.strftime("%Y%m%dT%H%M%SZ")
    mac = hmac.new(_key(), digestmod=hashlib.sha256)
    whole = hashlib.sha256()
    temporary = target / f".{stamp}-{secrets.token_hex(6)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    try:
        with os.fdopen(fd, "wb") as out:

            def emit(data: bytes, signed: bool = True) -> None:
                out.write(data)
                whole.update(data)
                if signed:
                    mac.update(data)

            header = {
                "format": FORMAT,
                "created_at": created.isoformat(timespec="microseconds"),
                "previous": previous,
            }
            emit(_line(header))
            count = 0
            for patient_id, seq, head in _heads():
                emit(_line([patient_id, seq, head]))
                count += 1
            emit(_line({"chains": count}))
            signature = mac.hexdigest()
            emit(_line({"signature": signature}), signed=False)
            out.flush()
            os.fsync(out.fileno())
        name = _link(temporary, target, stamp)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_folder(target)
    return Written(name, count, signature, whole.hexdigest())


def _heads() -> Iterator[tuple[int, int, str | None]]:
    """One statement, so one snapshot of every head; streamed, not loaded."""
    rows = db.session.execute(
        select(Patient.id, Patient.audit_head_seq, Patient.audit_head_hmac)
        .order_by(Patient.id)
        .execution_options(yield_per=1000)
    )
    try:
        yield from rows
    finally:
        rows.close()


def _latest_signature(target: Path) -> str:
    files = _files(target)
    if not files:
        return GENESIS
    latest = _load(files[-1], keep_chains=False)
    if latest.signature is None:
        raise CheckpointError(f"{latest.name} is unreadable: run `flask audit verify`")
    return latest.signature


def _link(temporary: Path, target: Path, stamp: str) -> str:
    """The first free name for this second; a link fails rather than replace a file."""
    for n in range(1000):
        name = f"{stamp}-{n:03d}{SUFFIX}"
        try:
            os.link(temporary, target / name)
        except FileExistsError:
            continue
        return name
    raise CheckpointError(f"1000 checkpoints already written at {stamp}")


def _fsync_folder(target: Path) -> None:
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def queue_witness(written: Written) -> bool:
    """E-mail the digest and signature to the auditor, when one is set; in the caller's
    transaction. A copy in someone else's mailbox shows a checkpoint deleted or replaced."""
    address = crypto.settings().audit_witness_email
    if not address:
        return False
    notify.enqueue_contact(
        address,
        "email",
        WITNESS_KIND,
        name=written.name,
        chains=written.chains,
        digest=written.digest,
        signature=written.signature,
    )
    return True


# --- reading and verifying ------------------------------------------------------------------


def _load(path: Path, *, keep_chains: bool) -> _Loaded:
    """Check one file's signature while streaming it; keep its chains only when asked."""
    loaded = _Loaded(path.name)
    mac = hmac.new(_key(), digestmod=hashlib.sha256)
    held: bytes | None = None
    lines = 0
    count: int | None = None
    malformed = False
    try:
        with path.open("rb") as handle:
            for raw in handle:
                if held is not None:
                    mac.update(held)
                    if count is not None or not _take(loaded, held, lines, keep_chains):
                        # Only the count may follow the chains, and nothing may follow it.
                        malformed = malformed or count is not None
                        count = _count(held)
                        malformed = malformed or count is None
                    lines += 1
                held = raw
    except OSError as exc:
        loaded.problem = f"unreadable ({type(exc).__name__})"
        return loaded
    loaded.signature = _signature(held)
    if loaded.signature is None or not hmac.compare_digest(mac.hexdigest(), loaded.signature):
        loaded.problem = "edited: its signature does not match"
    elif malformed or count is None or count != lines - 2 or loaded.previous is None:
        loaded.problem = "malformed"
    if not keep_chains:
        loaded.chains = {}
    return loaded


def _take(loaded: _Loaded, raw: bytes, index: int, keep_chains: bool) -> bool:
    """Read a header or a chain line into `loaded`; False for anything else."""
    try:
        value = json.loads(raw)
    except ValueError:
        return False
    if index == 0 and isinstance(value, dict):
        previous = value.get("previous")
        loaded.previous = previous if isinstance(previous, str) else None
        loaded.created_at = str(value.get("created_at", ""))
        return value.get("format") == FORMAT
    if index > 0 and isinstance(value, list) and len(value) == 3:
        patient_id, seq, head = value
        if isinstance(patient_id, int) and isinstance(seq, int):
            if keep_chains:
                loaded.chains[patient_id] = (seq, head if isinstance(head, str) else None)
            return True
    return False


def _count(raw: bytes) -> int | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    chains = value.get("chains") if isinstance(value, dict) else None
    return chains if isinstance(chains, int) else None


def _signature(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    signature = value.get("signature") if isinstance(value, dict) else None
    return signature if isinstance(signature, str) else None


def verify() -> Report:
    """Check every checkpoint file and its link to the one before; compare the database with
    the latest that holds.

    Comparing with the latest is enough: every chain's rows up to that head are bound to it by
    the chain itself, which `audit.verify_all` checks, and no chain ever leaves a checkpoint.
    """
    files = _files(folder())
    findings: list[Finding] = []
    previous = GENESIS
    latest: Path | None = None
    for index, path in enumerate(files):
        loaded = _load(path, keep_chains=False)
        subject = f"checkpoint {loaded.name}"
        if loaded.problem:
            findings.append(Finding(subject, loaded.problem))
        else:
            latest = path
            if loaded.previous != previous:
                missing = "checkpoints before it" if index == 0 else "the checkpoint before it"
                findings.append(Finding(subject, f"{missing} missing or replaced"))
        previous = loaded.signature or ""
    if latest is None:
        return Report(len(files), None, 0, findings)
    chains = _load(latest, keep_chains=True).chains
    findings.extend(_compare(chains))
    return Report(len(files), latest.name, len(chains), findings)


def _compare(chains: dict[int, tuple[int, str | None]]) -> list[Finding]:
    found: list[Finding] = []
    ids = sorted(chains)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        heads: dict[int, int] = {
            patient_id: seq
            for patient_id, seq in db.session.execute(
                select(Patient.id, Patient.audit_head_seq).where(Patient.id.in_(chunk))
            )
        }
        pairs = [(patient_id, chains[patient_id][0]) for patient_id in chunk]
        rows: dict[int, str] = {
            patient_id: row_hmac
            for patient_id, row_hmac in db.session.execute(
                select(AccessEvent.patient_id, AccessEvent.hmac).where(
                    tuple_(AccessEvent.patient_id, AccessEvent.seq).in_(
                        [pair for pair in pairs if pair[1] > 0]
                    )
                )
            )
        }
        for patient_id in chunk:
            found.extend(_compare_one(patient_id, chains[patient_id], heads, rows))
    return found


def _compare_one(
    patient_id: int,
    recorded: tuple[int, str | None],
    heads: dict[int, int],
    rows: dict[int, str],
) -> list[Finding]:
    seq, recorded_hmac = recorded
    subject = f"patient {patient_id}"
    if patient_id not in heads:
        return [Finding(subject, f"record gone: its chain had {seq} row(s) at the checkpoint")]
    head = heads[patient_id]
    if head < seq:
        if head == 0:
            return [Finding(subject, f"chain emptied: {seq} row(s) at the checkpoint", 1)]
        return [Finding(subject, f"chain cut: {head} row(s), {seq} at the checkpoint", head + 1)]
    if seq and (rows.get(patient_id) is None or rows[patient_id] != recorded_hmac):
        return [Finding(subject, "row differs from the checkpoint (rewritten)", seq)]
    return []
