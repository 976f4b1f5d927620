"""Whether a PDF may be kept: parsed by a real parser (pypdf), in a child process killed at a
time limit, so that a hostile file can neither pass as a PDF nor hang a worker.

A PDF that does not parse (garbage after a valid header, a truncated file) is refused, since a
viewer would show nothing or guess; so is one that carries active content (JavaScript, launch
actions, embedded files, rich media), which a viewer may run, and one locked by a password,
which nobody who reads the record could open. Refusing rather than rewriting keeps the
document's bytes, and any signature on them, exactly as the author made them.
"""

from __future__ import annotations

import contextlib
import enum
import io
import logging
import os
import re
import resource
import selectors
import signal
import warnings
from collections.abc import Callable
from typing import Final

import pypdf
from pypdf import PasswordType
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

# The whole examination, parse and walk, in seconds of wall time; the child is killed after.
TIME_LIMIT: Final = 10.0
# Memory the child may take beyond what it inherits: a bomb in a stream fails, not the host.
MEMORY_LIMIT: Final = 512 * 1024 * 1024
# Budgets (dictionaries and arrays; pages) that end a walk early, whatever time is left.
MAX_OBJECTS: Final = 250_000
MAX_PAGES: Final = 5_000
# Viewers look for the end-of-file marker in the last 1024 bytes (as Acrobat does).
_EOF_WINDOW: Final = 1024

# Names that mean code to run or a file to drop; "/JS" and "/EF" are the keys that hold them.
_ACTIVE_NAMES: Final = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/Launch",
        "/EF",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/FileAttachment",
        "/GoToE",
        "/RichMedia",
        "/RichMediaContent",
    }
)
# The longer ones are also looked for in the raw bytes (with #xx escapes, as a name may be
# written), for objects a viewer could find by repairing a file that pypdf reads otherwise.
_RAW_NAMES: Final = ("JavaScript", "Launch", "EmbeddedFile", "RichMedia", "FileAttachment")


class Verdict(enum.Enum):
    SAFE = "safe"
    DAMAGED = "damaged"
    ACTIVE = "active"
    PASSWORD = "password"
    TOO_COMPLEX = "complex"


def examine(data: bytes) -> Verdict:
    """The verdict on `data`, a file whose first bytes say PDF, in `TIME_LIMIT` at most."""
    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        return Verdict.DAMAGED  # truncated, or a header followed by anything
    if not hasattr(os, "fork"):  # pragma: no cover - Carnet runs on Linux
        return _examine_here(data)
    return _examine_in_child(data, TIME_LIMIT)


# --- the examination, in the child ---------------------------------------------------------------


def _examine_here(data: bytes) -> Verdict:
    if _RAW_ACTIVE.search(data):
        return Verdict.ACTIVE
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return Verdict.PASSWORD
        return _walk(reader)
    except _Budget:
        return Verdict.TOO_COMPLEX
    except (MemoryError, RecursionError):
        return Verdict.TOO_COMPLEX
    except Exception:  # any failure of the parser on this input: it does not parse
        return Verdict.DAMAGED


class _Budget(Exception):
    """The file holds more objects or pages than any real document."""


def _walk(reader: pypdf.PdfReader) -> Verdict:
    """Every dictionary and array the trailer or the cross-reference tables reach, once, its
    names looked at; then the pages. Numbers and strings are not counted in the budget."""
    root = reader.trailer.get("/Root")
    if root is None or not isinstance(root.get_object(), DictionaryObject):
        return Verdict.DAMAGED
    pending: list[object] = [reader.trailer, *_listed_objects(reader)]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = reader.get_object(item)
        if isinstance(item, DictionaryObject):
            if any(key in _ACTIVE_NAMES for key in dict.keys(item)):
                return Verdict.ACTIVE
            values: list[object] = list(dict.values(item))
        elif isinstance(item, ArrayObject):
            values = list(list.__iter__(item))
        else:
            continue
        visited += 1
        if visited > MAX_OBJECTS:
            raise _Budget
        for value in values:
            if isinstance(value, NameObject) and value in _ACTIVE_NAMES:
                return Verdict.ACTIVE
            if isinstance(value, (IndirectObject, DictionaryObject, ArrayObject)):
                pending.append(value)
    return _pages_read(reader)


def _listed_objects(reader: pypdf.PdfReader) -> list[IndirectObject]:
    listed = [
        IndirectObject(idnum, generation, reader)
        for generation, entries in reader.xref.items()
        for idnum in entries
    ]
    listed += [IndirectObject(idnum, 0, reader) for idnum in reader.xref_objStm]
    return listed


def _pages_read(reader: pypdf.PdfReader) -> Verdict:
    """At least one page, each with contents that decode: what a viewer will draw."""
    count = len(reader.pages)
    if count > MAX_PAGES:
        raise _Budget
    if count == 0:
        return Verdict.DAMAGED
    for page in reader.pages:
        contents = page.get_contents()
        if contents is not None:
            contents.get_data()
    return Verdict.SAFE


def _raw_pattern() -> re.Pattern[bytes]:
    def letter(char: str) -> bytes:
        return b"(?:%s|#(?i:%02x))" % (re.escape(char.encode()), ord(char))

    names = [b"".join(letter(char) for char in name) for name in _RAW_NAMES]
    return re.compile(b"/(?:" + b"|".join(names) + b")")


_RAW_ACTIVE: Final = _raw_pattern()


# --- the child process -------------------------------------------------------------------------


def _examine_in_child(data: bytes, seconds: float) -> Verdict:
    """Fork; the child examines and writes its verdict to a pipe; the parent waits `seconds`
    at most, then kills it. A child that dies without a word leaves a damaged verdict.
    Raises OSError when no process can be started now."""
    read_end, write_end = os.pipe()
    try:
        with warnings.catch_warnings():  # Python 3.12+ warns about fork in a threaded process
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # pragma: no cover - runs in the child, which never returns
        _child(read_end, write_end, lambda: _examine_here(data))
    os.close(write_end)
    answer = b""
    try:
        # A selector, not select(): a busy server's descriptors may be past FD_SETSIZE.
        with selectors.DefaultSelector() as selector:
            selector.register(read_end, selectors.EVENT_READ)
            if not selector.select(seconds):
                return Verdict.TOO_COMPLEX
        answer = os.read(read_end, 64)
    finally:
        os.close(read_end)
        if not answer:  # out of time, or dead already: killing is harmless then
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    try:
        return Verdict(answer.decode())
    except ValueError:
        return Verdict.DAMAGED  # the child died without a word (its memory or CPU limit)


def _child(
    read_end: int, write_end: int, examine_data: Callable[[], Verdict]
) -> None:  # pragma: no cover - runs in the child
    """Never returns: the child must not run the parent's code (tests, requests, atexit)."""
    try:
        os.close(read_end)
        _limit_child()
        os.write(write_end, examine_data().value.encode())
    finally:
        os._exit(0)


def _limit_child() -> None:  # pragma: no cover - runs in the child
    """Quiet (pypdf's warnings would reach the parent's logs) and bounded in memory and CPU."""
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    # Each limit is a second line of defence (the parent kills at TIME_LIMIT): a host that
    # refuses one must not make every PDF fail.
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CPU, (int(TIME_LIMIT) + 1, int(TIME_LIMIT) + 2))
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/statm") as statm:
            in_use = int(statm.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (in_use + MEMORY_LIMIT, in_use + MEMORY_LIMIT))
