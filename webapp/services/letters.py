"""Postal letters, for people without e-mail: HTML from templates/letters/, then PDF.

A letter is self-contained (its CSS is inline): rendering it never fetches anything.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from flask import render_template
from flask_babel import force_locale
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from webapp.core import clock
from webapp.services import crypto

# WeasyPrint logs seven INFO lines per document: keep the worker's log for what matters.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# The kinds of letter, with the short French description kept as the outbox subject.
SUBJECTS = {
    "activation": "Lettre : code provisoire",
    "opposition_confirmed": "Lettre : opposition enregistrée",
    "record_opened": "Lettre : dossier ouvert",
    "record_closed": "Lettre : dossier fermé",
    "record_suspended": "Lettre : dossier suspendu",
    "record_reopened": "Lettre : dossier rouvert",
}


class _FetchNothing(URLFetcher):
    """Any URL in a letter is a mistake: stop the rendering rather than reach the network."""

    def __init__(self) -> None:
        super().__init__(fail_on_errors=True)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> NoReturn:
        raise ValueError(f"a letter fetches nothing ({url[:80]})")


def render_html(kind: str, language: str, **context: object) -> str:
    """The letter `kind` as HTML, in `language`, dated today in Paris."""
    if kind not in SUBJECTS:
        raise ValueError(f"unknown letter {kind!r}")
    context.setdefault("letter_date", clock.to_paris(clock.now()).date())
    context.setdefault("public_url", crypto.settings().public_url)
    with force_locale(language):
        return render_template(f"letters/{kind}.html", **{**context, "language": language})


def to_pdf(html: str) -> bytes:
    try:
        return HTML(string=html, base_url=None, url_fetcher=_FetchNothing()).write_pdf()
    except FatalURLFetchingError as exc:  # a BaseException: make it an ordinary failure
        raise ValueError(f"a letter fetches nothing: {exc}") from exc


def write_to_spool(folder: Path, name: str, data: bytes) -> Path:
    """Write a file the print room collects, atomically: it is whole or absent (mode 0600)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)  # mode 0600
    temp, final_path = Path(temp_name), folder / name
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, final_path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)
    return final_path
