"""The blob folder: which files are blobs, and removing them, one by one or by the sweep.

No cryptography here: what a blob holds, and how it is written and read, is
:mod:`webapp.services.storage`, which also exposes these functions to callers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

from webapp.core import clock
from webapp.services import crypto

TEMP_PREFIX: Final = ".tmp-"
_BLOB_ID: Final = re.compile(r"[0-9a-f]{32}")


def blob_folder() -> Path:
    return crypto.settings().instance_path / "blobs"


def blob_path(blob_id: str) -> Path | None:
    """The file of a well-formed id; None for anything else (no path ever leaves the folder)."""
    if _BLOB_ID.fullmatch(blob_id) is None:
        return None
    return blob_folder() / blob_id


def delete(blob_id: str) -> None:
    path = blob_path(blob_id)
    if path is not None:
        path.unlink(missing_ok=True)


def exists(blob_id: str) -> bool:
    path = blob_path(blob_id)
    return path is not None and path.is_file()


def all_blob_ids() -> set[str]:
    folder = blob_folder()
    if not folder.is_dir():
        return set()
    with os.scandir(folder) as entries:
        return {entry.name for entry in entries if _is_blob_entry(entry)}


def sweep(known: set[str], *, older_than_seconds: int = 3600) -> list[str]:
    """Remove blobs absent from `known`, and temporary files, older than the grace period.

    The grace period spares a blob written just before its row commits. Returns the ids of
    the removed blobs (removed temporary files are not listed).
    """
    folder = blob_folder()
    if not folder.is_dir():
        return []
    cutoff = clock.now().timestamp() - older_than_seconds
    removed: list[str] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            orphan = _is_blob_entry(entry) and entry.name not in known
            temporary = entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False)
            if (orphan or temporary) and _modified_before(entry, cutoff):
                Path(entry.path).unlink(missing_ok=True)
                if orphan:
                    removed.append(entry.name)
    return sorted(removed)


def _is_blob_entry(entry: os.DirEntry[str]) -> bool:
    return _BLOB_ID.fullmatch(entry.name) is not None and entry.is_file(follow_symlinks=False)


def _modified_before(entry: os.DirEntry[str], cutoff: float) -> bool:
    try:
        return entry.stat(follow_symlinks=False).st_mtime <= cutoff
    except FileNotFoundError:  # renamed by a store, or deleted, since the listing
        return False
