"""The patient takes her whole record away (SPEC §8): a ZIP written as it streams out.

`zipfile` writes onto `_Sink`, a write-only buffer that the generator empties after every
chunk: the archive never sits whole in memory, whatever the record holds (zipfile sees an
unseekable stream and writes data descriptors after each entry). The archive holds the
documents under readable names, `fhir.json` (services/fhir.py), `history.csv` (services/history.py)
and a README in her language that names any document whose file could not be read.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Final

from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, Document, Patient
from webapp.policy import queries
from webapp.services import documents, fhir, filetypes, history, notify, storage
from webapp.services.audit import Action, record_access

FOLDER: Final = "documents/"
MAX_NAME: Final = 120
# Names Windows keeps for devices, whatever the extension ("NUL.pdf" is still NUL).
RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in range(1, 10)}
)
_FORBIDDEN: Final = frozenset('<>:"/\\|?*')
_ZWJ: Final = "\u200d"  # joins emoji into one; every other format character goes
SPOOL_BYTES: Final = 1024 * 1024  # fhir.json, history.csv: beyond this they wait on disk
_MODE: Final = zipfile.ZIP_DEFLATED  # stored entries with data descriptors trip some unzippers


def archive_name(day: date) -> str:
    return f"carnet-{day.isoformat()}.zip"


def today() -> date:
    return clock.to_paris(clock.now()).date()


def begin(actor: Account, patient: Patient) -> None:
    """The export goes into her history and she is told by e-mail, before the first byte
    leaves: a download cut short was still a download. The caller commits."""
    record_access(patient, actor, Action.RECORD_EXPORTED, resource_type="record")
    notify.enqueue(actor, "record_exported", when=clock.now())


# --- names ----------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Words any file system accepts: no separator, control, direction or reserved character,
    no word made only of dots, no run of dots, single spaces."""
    kept = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _FORBIDDEN:
            kept.append(" ")
        elif unicodedata.category(ch)[0] != "C" or ch == _ZWJ:
            kept.append(ch)
    words = re.sub(r"(?<!\S)\.+(?!\S)", " ", "".join(kept))
    words = re.sub(r"\.{2,}", ".", re.sub(r"\s+", " ", words))
    return words.strip(" ." + _ZWJ)


def _cut(stem: str, room: int) -> str:
    return stem[:room].rstrip(" ." + _ZWJ)


def file_name(doc: Document, taken: set[str]) -> str:
    """`2025-03-12 Bilan sanguin.pdf`: the care date, the title, the media type's extension."""
    extension = filetypes.EXTENSIONS.get(doc.media_type, ".bin")
    return safe_name(f"{doc.care_date.isoformat()} {doc.title}", extension, taken)


def safe_name(words: str, extension: str, taken: set[str]) -> str:
    """`words` + `extension` made safe on every system, at most MAX_NAME characters, with
    ` (2)`, ` (3)`… when the name is already `taken` (compared as Windows and macOS do,
    ignoring case). Adds the name to `taken`."""
    stem = _clean(words) or "document"
    if stem.split(".", 1)[0].strip().upper() in RESERVED:
        stem = "_" + stem
    number = 1
    while True:
        suffix = f" ({number})" if number > 1 else ""
        name = _cut(stem, MAX_NAME - len(extension) - len(suffix)) + suffix + extension
        if name.casefold() not in taken:
            taken.add(name.casefold())
            return name
        number += 1


# --- the stream -------------------------------------------------------------------------------


class _Sink:
    """Where zipfile writes: it only appends, and `take` hands over what came since (or a
    spool file takes it, while the database is being read)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.spool: IO[bytes] | None = None  # while set, writes go there instead

    def write(self, data: bytes) -> int:
        if self.spool is not None:
            return self.spool.write(data)
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to do: the generator sends the bytes out."""

    def close(self) -> None:
        """Nothing to release: zipfile never closes a stream it did not open, but may ask."""

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


@dataclass
class Archive:
    """One export, streamed by `chunks` inside the request's context (`stream_with_context`).

    Flask pushes that context again only once the view has returned and its session is gone:
    the archive keeps ids, and loads the account and the record afresh. It reads the database
    in short transactions that end before any byte goes to the browser: on SQLite every
    transaction takes the write lock, and a slow download must not hold it.
    """

    account_id: int
    patient_id: int
    unreadable: list[str] = field(default_factory=list)

    @property
    def actor(self) -> Account:
        return db.session.get_one(Account, self.account_id)

    @property
    def patient(self) -> Patient:
        return db.session.get_one(Patient, self.patient_id)

    def chunks(self) -> Iterator[bytes]:
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=_MODE) as archive:
            files = []
            for doc, name in self._named_documents():
                files.append((yield from self._add_document(archive, doc, FOLDER + name, sink)))
            yield from _spooled(sink, lambda: self._write_fhir(archive, files))
            yield from _spooled(sink, lambda: self._write_history(archive))
            kept = sum(1 for item in files if item.path is not None)
            archive.writestr(_info("README.txt"), self.readme(kept))
        yield from _drained(sink)

    def _named_documents(self) -> list[tuple[Document, str]]:
        """The documents she may read, detached from the session (their files need no database)."""
        query = queries.documents_query(self.actor, self.patient).order_by(
            Document.care_date, Document.id
        )
        rows = db.session.scalars(query).all()
        for row in rows:
            db.session.expunge(row)
        _end_reading()
        taken: set[str] = set()
        return [(doc, file_name(doc, taken)) for doc in rows]

    def _write_fhir(self, archive: zipfile.ZipFile, files: list[fhir.ExportedFile]) -> None:
        with archive.open(_info("fhir.json"), "w") as out:
            fhir.write_bundle(out, self.actor, self.patient, files)

    def _write_history(self, archive: zipfile.ZipFile) -> None:
        """history.csv as the history page downloads it, with its BOM (for Excel)."""
        with archive.open(_info("history.csv"), "w") as out:
            out.write("\ufeff".encode())
            for text in history.csv_chunks(self.actor, self.patient, history.Filters()):
                out.write(text.encode())

    def _add_document(
        self, archive: zipfile.ZipFile, doc: Document, path: str, sink: _Sink
    ) -> Generator[bytes, None, fhir.ExportedFile]:
        """Its file, decrypted chunk by chunk; a file missing or damaged is named in the README
        (a chunk that fails midway leaves the entry cut short)."""
        try:
            chunks = documents.content(doc)
        except storage.StorageError:
            self.unreadable.append(path.removeprefix(FOLDER))
            return fhir.ExportedFile(doc, None)
        digest = hashlib.sha1(usedforsecurity=False)  # FHIR's Attachment.hash is SHA-1
        entry = _info(path, doc.care_date)
        entry.file_size = doc.size  # lets zipfile decide on ZIP64 before the data
        try:
            with archive.open(entry, "w") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                    yield from _drained(sink)
        except storage.StorageError:
            self.unreadable.append(path.removeprefix(FOLDER))
            return fhir.ExportedFile(doc, None)
        yield from _drained(sink)
        return fhir.ExportedFile(doc, path, base64.b64encode(digest.digest()).decode())

    def readme(self, count: int) -> str:
        """What each file is, in her language, and the documents whose file could not be read."""
        lines = [
            _("Carnet : votre dossier de santé complet, téléchargé le %(day)s.", day=_day()),
            "",
            _("Cette archive contient :"),
            "",
            "documents/",
            "  "
            + ngettext(
                "Votre document, tel qu'il a été déposé (%(num)d fichier).",
                "Vos documents, tels qu'ils ont été déposés (%(num)d fichiers).",
                count,
            ),
            "  " + _("Chaque nom commence par la date des soins, suivie du titre du document."),
            "",
            "fhir.json",
            "  "
            + _(
                "Tout votre dossier (identité, allergies, antécédents, traitements, vaccinations, "
                "mesures, rendez-vous, messages, accès autorisés et liste des documents) au "
                "format FHIR R4, le standard international d'échange de données de santé."
            ),
            "  "
            + _(
                "C'est un fichier texte (JSON) : un navigateur web ou un éditeur de texte "
                "l'affiche. Un logiciel de santé compatible FHIR peut l'importer."
            ),
            "",
            "history.csv",
            "  "
            + _(
                "L'historique des accès à votre dossier : qui, quand et quoi. Il s'ouvre avec "
                "un tableur (LibreOffice Calc, Excel…)."
            ),
            "",
        ]
        if self.unreadable:
            lines.append(
                _(
                    "Le fichier de ces documents n'a pas pu être lu : il est absent de l'archive, "
                    "ou incomplet (le document reste décrit dans fhir.json). Signalez-le à "
                    "l'accueil de votre caisse d'assurance maladie :"
                )
            )
            lines.extend(f"  - {name}" for name in self.unreadable)
        else:
            lines.append(_("Tous vos documents sont dans l'archive."))
        lines += [
            "",
            _("Gardez cette archive en lieu sûr : elle contient vos données de santé."),
            "",
        ]
        return "\r\n".join(lines)  # Windows' Notepad too shows the lines


def _day() -> str:
    return format_date(today(), format="long")


def _info(name: str, day: date | None = None) -> zipfile.ZipInfo:
    """An entry dated in Paris (ZIP dates have no zone): the care date for a document."""
    moment = clock.to_paris(clock.now())
    if day is not None:
        day = max(day, date(1980, 1, 1))  # the earliest day a ZIP can hold
    stamp = (day.year, day.month, day.day, 12, 0, 0) if day else moment.timetuple()[:6]
    entry = zipfile.ZipInfo(name, date_time=stamp)
    entry.compress_type = _MODE
    entry.external_attr = 0o644 << 16
    return entry


def _end_reading() -> None:
    """Close the read transaction (nothing was written): the next read opens a new one."""
    db.session.rollback()


def _spooled(sink: _Sink, write: Callable[[], None]) -> Iterator[bytes]:
    """Run `write` (it reads the database into the ZIP) with what it writes spooled to a
    temporary file past SPOOL_BYTES, and send it only once the transaction is over."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        spool.write(sink.take())  # anything still waiting goes first
        sink.spool = spool
        try:
            write()
        finally:
            sink.spool = None
        _end_reading()
        spool.write(sink.take())
        spool.seek(0)
        while piece := spool.read(storage.CHUNK_BYTES):
            yield piece


def _drained(sink: _Sink) -> Iterator[bytes]:
    data = sink.take()
    if data:
        yield data
