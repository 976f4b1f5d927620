"""Files made to attack the viewer: refused with a plain message, or kept only as a clean copy.

The service (`file_safety`) first, then every route that takes a file: a patient's upload, a
professional's deposit, and the attachments of messages, both ways.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import random
import re
import signal
import struct
import time
import zlib
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import RectangleObject
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.builders import (
    authorise,
    build_pdf,
    csrf_from,
    image_file,
    login_as,
    make_patient,
    make_professional,
    pdf_file,
)
from webapp.core.extensions import db
from webapp.models import Conversation, Document, Message, MessageAttachment
from webapp.services import file_safety, filetypes, pdf_safety, storage
from webapp.services.demo import files as demo_files

MB = 1024 * 1024

# --- hostile files -----------------------------------------------------------------------------

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def huge_png() -> bytes:
    """A real PNG header declaring 50,000 x 50,000 pixels, in a handful of bytes."""
    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00"))
        + _png_chunk(b"IEND", b"")
    )


def noisy_png() -> bytes:
    """A PNG whose pixels do not compress: cutting it loses pixels, not just its end."""
    noise = random.Random(7).randbytes(100 * 100 * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (100, 100), noise).save(out, format="PNG")
    return out.getvalue()


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) says `width` x `height`."""
    data = bytearray(image_file("JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def tiff_pages(*sizes: tuple[int, int]) -> bytes:
    """A little-endian TIFF whose pages declare these sizes (8-bit grey, one strip each)."""
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for index, (width, height) in enumerate(sizes):
        entries = [
            (256, 4, width),
            (257, 4, height),
            (258, 3, 8),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, 0),  # the strip's offset, patched below
            (277, 3, 1),
            (278, 4, height),
            (279, 4, width * height),
        ]
        ifd_end = len(out) + 2 + 12 * len(entries) + 4
        entries[5] = (273, 4, ifd_end)
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            out += struct.pack("<HHII", tag, kind, 1, value)
        last = index == len(sizes) - 1
        out += struct.pack("<I", 0 if last else ifd_end + 1)
        out += b"\x80"  # one byte of the strip; the rest is never read
    return bytes(out)


def pdf_open_action(action: bytes) -> bytes:
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", PAGES, PAGE, action])


def pdf_with_javascript() -> bytes:
    return pdf_open_action(b"<< /S /JavaScript /JS (app.alert\\('pwned'\\)) >>")


def pdf_with_launch() -> bytes:
    return pdf_open_action(b"<< /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) >> >>")


def pdf_with_embedded_file() -> bytes:
    payload = b"MZ\x90\x00 a program"
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R "
            b"/Names << /EmbeddedFiles << /Names [(facture.exe) 4 0 R] >> >> >>",
            PAGES,
            PAGE,
            b"<< /Type /Filespec /F (facture.exe) /EF << /F 5 0 R >> >>",
            b"<< /Type /EmbeddedFile /Length %d >>\nstream\n%s\nendstream"
            % (len(payload), payload),
        ]
    )


def pdf_with_javascript_in_an_object_stream() -> bytes:
    """The action sits compressed in an object stream: only a parser sees its names."""
    action = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
    packed = zlib.compress(b"5 0 " + action)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        PAGES,
        PAGE,
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n%s\n"
        b"endstream" % (len(packed), packed),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    rows += [struct.pack(">BIH", 1, offset, 0) for offset in offsets]
    rows += [struct.pack(">BIH", 2, 4, 0), struct.pack(">BIH", 1, xref_at, 0)]
    table = b"".join(rows)
    xref_head = b"<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>" % len(table)
    out += b"6 0 obj\n" + xref_head + b"\nstream\n"
    out += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def pdf_with_escaped_names() -> bytes:
    """/JavaScript and /JS written with #xx escapes, which a byte search would miss."""
    return pdf_open_action(b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>")


def pdf_with_a_shadow_object() -> bytes:
    """A script in an object no table lists: a viewer repairing the file might find it."""
    good = pdf_file("Bilan")
    return good.replace(b"xref\n", b"9 0 obj\n<< /S /JavaScript /JS (x) >>\nendobj\nxref\n", 1)


def pdf_from_pypdf(change: Callable[[PdfWriter], object]) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf_file("Bilan")))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def garbage_after_header() -> bytes:
    return b"%PDF-1.7\n" + bytes(range(256)) * 16


def garbage_with_end_marker() -> bytes:
    return b"%PDF-1.7\n" + bytes(range(256)) * 16 + b"\nstartxref\n9\n%%EOF\n"


def truncated_pdf() -> bytes:
    good = demo_files.pdf("Bilan sanguin", ["Hémoglobine : 13,5 g/dl"])
    return good[: len(good) * 2 // 3]


TOO_LARGE = "trop grande : 40 millions de pixels au plus"
ACTIVE = "contient un programme, un script ou un fichier caché"
DAMAGED = "abîmé ou incomplet"
LOCKED = "protégé par un mot de passe"
COMPLEX = "trop complexe pour être vérifié"

# (name, content, the message's words): every route refuses each of them.
HOSTILE: list[tuple[str, Callable[[], bytes], str]] = [
    ("huge.png", huge_png, TOO_LARGE),
    ("huge.jpg", lambda: jpeg_declaring(8000, 6000), TOO_LARGE),
    ("openaction-js.pdf", pdf_with_javascript, ACTIVE),
    ("launch.pdf", pdf_with_launch, ACTIVE),
    ("embedded.pdf", pdf_with_embedded_file, ACTIVE),
    ("garbage.pdf", garbage_after_header, DAMAGED),
    ("truncated.pdf", truncated_pdf, DAMAGED),
]


def _blobs() -> set[str]:
    return storage.all_blob_ids()


# --- the service -------------------------------------------------------------------------------


class TestImagesTooLarge:
    def test_a_tiny_png_declaring_billions_of_pixels(self, app: Flask) -> None:
        content = huge_png()
        assert len(content) < 80 and filetypes.detect(content) == filetypes.PNG
        with pytest.raises(file_safety.TooManyPixels) as refused:
            file_safety.store_upload(io.BytesIO(content), max_bytes=MB)
        assert refused.value.limit == file_safety.MAX_PIXELS == 40_000_000
        assert _blobs() == set()

    def test_a_jpeg_over_the_cap_is_refused_from_its_header(self, app: Flask) -> None:
        content = jpeg_declaring(8000, 6000)  # 48 Mpx: under Pillow's own limit, over ours
        with pytest.raises(file_safety.TooManyPixels):
            file_safety.store_upload(io.BytesIO(content), max_bytes=MB)
        assert _blobs() == set()

    def test_the_cap_itself_is_allowed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(file_safety, "MAX_PIXELS", 40 * 30)
        file_safety.cleaned(image_file("JPEG", size=(40, 30)), filetypes.JPEG)
        with pytest.raises(file_safety.TooManyPixels):
            file_safety.cleaned(image_file("JPEG", size=(41, 30)), filetypes.JPEG)

    def test_every_page_of_a_tiff_is_measured(self) -> None:
        with pytest.raises(file_safety.TooManyPixels):
            file_safety.cleaned(tiff_pages((8000, 6000)), filetypes.TIFF)
        with pytest.raises(file_safety.TooManyPixels):
            file_safety.cleaned(tiff_pages((10, 10), (8000, 6000)), filetypes.TIFF)

    def test_a_tiff_with_too_many_pages(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(file_safety, "MAX_FRAMES", 2)
        with pytest.raises(file_safety.TooComplex):
            file_safety.cleaned(tiff_pages((10, 10), (10, 10), (10, 10)), filetypes.TIFF)

    def test_a_small_tiff_is_kept_as_sent(self) -> None:
        content = image_file("TIFF")
        assert file_safety.cleaned(content, filetypes.TIFF) == content


class TestImagesDamaged:
    @pytest.mark.parametrize(
        ("content", "media_type"),
        [
            (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, filetypes.PNG),
            (b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, filetypes.JPEG),
            (b"II*\x00" + bytes(range(256)), filetypes.TIFF),
            (noisy_png()[:4000], filetypes.PNG),
            (image_file("JPEG", size=(400, 300))[:600], filetypes.JPEG),
            (image_file("JPEG", size=(400, 300))[:-10], filetypes.JPEG),
            (jpeg_declaring(0, 10), filetypes.JPEG),
        ],
        ids=[
            "png garbage",
            "jpeg garbage",
            "tiff garbage",
            "png cut",
            "jpeg cut",
            "jpeg end cut",
            "no pixel",
        ],
    )
    def test_refused(self, app: Flask, content: bytes, media_type: str) -> None:
        assert filetypes.detect(content) == media_type
        with pytest.raises(file_safety.Unreadable):
            file_safety.store_upload(io.BytesIO(content), max_bytes=MB)
        assert _blobs() == set()


class TestImagesEncodedAgain:
    def test_a_photo_loses_its_metadata_and_stands_upright(self, app: Flask) -> None:
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = 6  # taken with the phone turned
        exif[ExifTags.Base.Make] = "Téléphone"
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N"
        gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
        photo = image_file("JPEG", size=(40, 30), exif=exif, comment=b"chez moi")
        payload = b"<html><script>alert(1)</script></html>"
        blob = file_safety.store_upload(io.BytesIO(photo + payload), max_bytes=MB)
        kept = b"".join(storage.read(blob.blob_id, blob.key_id, blob.wrapped_key))
        assert blob.media_type == filetypes.JPEG and blob.size == len(kept)
        assert blob.sha256 == hashlib.sha256(kept).hexdigest()
        assert b"<script>" not in kept and b"chez moi" not in kept and b"Exif" not in kept
        picture = Image.open(io.BytesIO(kept))
        assert picture.size == (30, 40), "turned as the orientation tag said"
        assert dict(picture.getexif()) == {} and "comment" not in picture.info
        assert abs(len(kept) - len(photo)) < len(photo) // 2, "about the same quality"

    def test_a_png_loses_its_text_chunks_and_what_follows_it(self) -> None:
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Comment", "<script>alert(1)</script>")
        info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS 48.85</x:xmpmeta>")
        original = image_file("PNG", pnginfo=info) + b"PK\x03\x04 a zip after the picture"
        kept = file_safety.cleaned(original, filetypes.PNG)
        assert b"script" not in kept and b"xmpmeta" not in kept and b"PK\x03\x04" not in kept
        assert kept.endswith(_png_chunk(b"IEND", b""))
        assert Image.open(io.BytesIO(kept)).tobytes() == Image.open(io.BytesIO(original)).tobytes()

    def test_a_png_keeps_its_transparency(self) -> None:
        picture = Image.new("P", (8, 8), 1)
        picture.putpalette([0, 0, 0, 255, 0, 0])
        out = io.BytesIO()
        picture.save(out, format="PNG", transparency=0)
        kept = Image.open(io.BytesIO(file_safety.cleaned(out.getvalue(), filetypes.PNG)))
        assert kept.mode == "P" and kept.info.get("transparency") == 0

    def test_a_colour_profile_is_applied_then_dropped(self) -> None:
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        photo = image_file("JPEG", icc_profile=srgb)
        kept = file_safety.cleaned(photo, filetypes.JPEG)
        assert "icc_profile" in Image.open(io.BytesIO(photo)).info
        assert "icc_profile" not in Image.open(io.BytesIO(kept)).info

    def test_the_demo_picture_passes(self) -> None:
        content = demo_files.png(96, 96, seed=7)
        kept = file_safety.cleaned(content, filetypes.PNG)
        assert Image.open(io.BytesIO(kept)).tobytes() == Image.open(io.BytesIO(content)).tobytes()


class TestPdfRefused:
    @pytest.mark.parametrize(
        ("make", "refusal"),
        [
            (pdf_with_javascript, file_safety.ActiveContent),
            (pdf_with_launch, file_safety.ActiveContent),
            (pdf_with_embedded_file, file_safety.ActiveContent),
            (pdf_with_javascript_in_an_object_stream, file_safety.ActiveContent),
            (pdf_with_escaped_names, file_safety.ActiveContent),
            (pdf_with_a_shadow_object, file_safety.ActiveContent),
            (
                lambda: pdf_from_pypdf(lambda w: w.add_open_action(JavaScript("app.alert(1)"))),
                file_safety.ActiveContent,
            ),
            (
                lambda: pdf_from_pypdf(lambda w: w.add_attachment("x.exe", b"MZ")),
                file_safety.ActiveContent,
            ),
            (
                lambda: pdf_from_pypdf(lambda w: w.encrypt("secret", algorithm="AES-128")),
                file_safety.PasswordProtected,
            ),
            (garbage_after_header, file_safety.Unreadable),
            (garbage_with_end_marker, file_safety.Unreadable),
            (truncated_pdf, file_safety.Unreadable),
            (lambda: pdf_file("Bilan")[:-40], file_safety.Unreadable),
            (
                lambda: build_pdf([CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"]),
                file_safety.Unreadable,
            ),
            (lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", file_safety.Unreadable),
        ],
        ids=[
            "openaction javascript",
            "launch",
            "embedded file",
            "javascript in an object stream",
            "escaped names",
            "shadow object",
            "pypdf javascript",
            "pypdf attachment",
            "user password",
            "garbage after the header",
            "garbage with an end marker",
            "truncated",
            "end cut off",
            "no page",
            "skeleton",
        ],
    )
    def test_refused_and_nothing_stored(
        self, app: Flask, make: Callable[[], bytes], refusal: type[file_safety.Refused]
    ) -> None:
        content = make()
        assert filetypes.detect(content) == filetypes.PDF
        with pytest.raises(refusal):
            file_safety.store_upload(io.BytesIO(content), max_bytes=MB)
        assert _blobs() == set()

    def test_the_parser_finds_what_the_byte_search_cannot(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(pdf_safety, "_RAW_ACTIVE", re.compile(b"(?!)"))
        for make in (pdf_with_javascript, pdf_with_launch, pdf_with_embedded_file):
            assert pdf_safety.examine(make()) == pdf_safety.Verdict.ACTIVE, make.__name__

    def test_too_many_objects(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(pdf_safety, "MAX_OBJECTS", 3)
        assert pdf_safety.examine(pdf_file("Bilan")) == pdf_safety.Verdict.TOO_COMPLEX


class TestPdfTimeLimit:
    """A parse that never ends is cut at the limit; the worker answers."""

    def test_a_parse_that_hangs_is_killed(
        self, app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        started = tmp_path / "child-pid"

        def hang(data: bytes) -> pdf_safety.Verdict:
            started.write_text(str(os.getpid()))
            while True:
                time.sleep(1)

        monkeypatch.setattr(pdf_safety, "_examine_here", hang)
        monkeypatch.setattr(pdf_safety, "TIME_LIMIT", 0.5)
        with pytest.raises(file_safety.TooComplex):
            file_safety.store_upload(io.BytesIO(pdf_file("Bilan")), max_bytes=MB)
        assert _blobs() == set()
        child = int(started.read_text())
        with pytest.raises(ProcessLookupError):  # killed and reaped: no process, no zombie
            os.kill(child, 0)

    def test_a_child_that_dies_says_damaged(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def die(data: bytes) -> pdf_safety.Verdict:
            os.kill(os.getpid(), signal.SIGKILL)
            raise AssertionError("unreachable")

        monkeypatch.setattr(pdf_safety, "_examine_here", die)
        assert pdf_safety.examine(pdf_file("Bilan")) == pdf_safety.Verdict.DAMAGED

    def test_no_process_to_spare_is_a_plain_failure(
        self, app: Flask, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def refuse() -> int:
            raise BlockingIOError(11, "Resource temporarily unavailable")

        descriptors = len(os.listdir("/proc/self/fd"))
        monkeypatch.setattr(os, "fork", refuse)
        with pytest.raises(storage.StorageError) as raised:
            file_safety.store_upload(io.BytesIO(pdf_file("Bilan")), max_bytes=MB)
        assert not isinstance(raised.value, file_safety.Refused), "try again, not refused"
        assert len(os.listdir("/proc/self/fd")) == descriptors, "the pipe is closed"
        assert _blobs() == set()

    def test_the_parse_runs_in_another_process(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        seen = tmp_path / "pid"
        real = pdf_safety._examine_here

        def note(data: bytes) -> pdf_safety.Verdict:
            seen.write_text(str(os.getpid()))
            return real(data)

        monkeypatch.setattr(pdf_safety, "_examine_here", note)
        assert pdf_safety.examine(pdf_file("Bilan")) == pdf_safety.Verdict.SAFE
        assert int(seen.read_text()) != os.getpid()


class TestAccepted:
    @pytest.mark.parametrize(
        "make",
        [
            lambda: pdf_file("Bilan"),
            lambda: demo_files.pdf("Compte rendu", ["Échographie normale."], issuer=["Dr X"]),
            lambda: pdf_file("Bilan") + b"\r\n",
            lambda: pdf_from_pypdf(lambda w: w.encrypt("", owner_password="owner")),
            lambda: pdf_from_pypdf(
                lambda w: w.add_uri(0, "https://www.ameli.fr", RectangleObject([0, 0, 9, 9]))
            ),
        ],
        ids=["plain", "demo", "trailing line break", "owner password only", "web link"],
    )
    def test_a_good_pdf_is_stored_as_sent(self, app: Flask, make: Callable[[], bytes]) -> None:
        content = make()
        blob = file_safety.store_upload(io.BytesIO(content), max_bytes=MB)
        assert blob.media_type == filetypes.PDF
        assert blob.sha256 == hashlib.sha256(content).hexdigest()
        assert _blobs() == {blob.blob_id}

    @pytest.mark.parametrize(
        "content",
        ["Compte rendu : échographie normale.\n".encode(), b"{\\rtf1 Ordonnance}"],
        ids=["text", "rtf"],
    )
    def test_text_and_rtf_stream_through(self, app: Flask, content: bytes) -> None:
        blob = file_safety.store_upload(io.BytesIO(content), max_bytes=MB)
        assert b"".join(storage.read(blob.blob_id, blob.key_id, blob.wrapped_key)) == content

    def test_the_limit_still_applies_before_any_check(self, app: Flask) -> None:
        with pytest.raises(storage.TooLarge):
            file_safety.store_upload(io.BytesIO(pdf_file(padding=b"0" * 2000)), max_bytes=1000)
        with pytest.raises(storage.TooLarge):
            file_safety.store_upload(io.BytesIO(b"x" * 1001), max_bytes=1000)
        with pytest.raises(storage.EmptyFile):
            file_safety.store_upload(io.BytesIO(b""), max_bytes=1000)
        assert _blobs() == set()


class TestDamagedAtRandom:
    """Bytes changed anywhere in a good file: kept (cleaned) or refused, never a crash."""

    @given(data=st.data())
    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @pytest.mark.parametrize(
        ("original", "media_type"),
        [
            (pdf_file("Bilan"), filetypes.PDF),
            (image_file("PNG"), filetypes.PNG),
            (image_file("JPEG"), filetypes.JPEG),
        ],
        ids=["pdf", "png", "jpeg"],
    )
    def test_changed_bytes(self, original: bytes, media_type: str, data: st.DataObject) -> None:
        changed = bytearray(original)
        for _ in range(data.draw(st.integers(1, 8))):
            at = data.draw(st.integers(len(b"%PDF-") + 3, len(changed) - 1))
            changed[at] = data.draw(st.integers(0, 255))
        try:
            kept = file_safety.cleaned(bytes(changed), media_type)
        except file_safety.Refused:
            return
        if media_type == filetypes.PDF:
            assert kept == bytes(changed), "a PDF is kept as sent"
        else:
            picture = Image.open(io.BytesIO(kept))
            picture.load()  # a whole picture, encoded again
            assert filetypes.detect(kept) == media_type


def test_every_upload_goes_through_the_checks() -> None:
    """Only file_safety may call storage.store: a new caller would skip the checks."""
    webapp = Path(__file__).resolve().parent.parent / "webapp"
    callers = sorted(
        str(path.relative_to(webapp))
        for path in webapp.rglob("*.py")
        if "storage.store(" in path.read_text(encoding="utf-8")
    )
    assert callers == ["services/file_safety.py"]


# --- through the routes ------------------------------------------------------------------------


def _words(response: TestResponse) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))).split())


def _count(model: type[object]) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _nothing_stored() -> bool:
    counts = [_count(model) for model in (Document, Conversation, Message, MessageAttachment)]
    return counts == [0, 0, 0, 0] and _blobs() == set()


def _upload(
    client: FlaskClient, path: str, file: tuple[str, bytes], field: str = "file", **fields: str
) -> TestResponse:
    """Post the form at `path` as its page gives it, with `file` (name, bytes) in `field`."""
    page = client.get(path)
    assert page.status_code == HTTPStatus.OK
    name, content = file
    data: dict[str, object] = {"csrf_token": csrf_from(page), **fields}
    data[field] = (io.BytesIO(content), name)
    return client.post(path, data=data, content_type="multipart/form-data")


DOCUMENT_FIELDS = {
    "title": "Mon titre gardé",
    "category": "imagerie",
    "date": "2026-03-03",
}


class TestRoutes:
    def test_a_patient_upload(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        for name, make, said in HOSTILE:
            response = _upload(client, "/documents/new", (name, make()), **DOCUMENT_FIELDS)
            assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, name
            words = _words(response)
            assert said in words, (name, words[:600])
            assert 'value="Mon titre gardé"' in response.get_data(as_text=True), name
            assert _nothing_stored(), name

    def test_a_professional_deposit(self, client: FlaskClient) -> None:
        holder = make_patient()
        pro = make_professional()
        authorise(pro, holder)
        login_as(client, pro)
        assert holder.patient is not None
        path = f"/pro/patients/{holder.patient.id}/deposit"
        fields = DOCUMENT_FIELDS | {"type_code": "18748-4", "informed": "y"}
        for name, make, said in HOSTILE:
            response = _upload(client, path, (name, make()), **fields)
            assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, name
            assert said in _words(response), name
            assert 'value="Mon titre gardé"' in response.get_data(as_text=True), name
            assert _nothing_stored(), name

    def test_an_attachment_to_a_new_message(self, client: FlaskClient) -> None:
        holder = make_patient()
        pro = make_professional()
        authorise(pro, holder)
        login_as(client, pro)
        assert holder.patient is not None
        fields = {
            "patient": str(holder.patient.id),
            "subject": "Vos résultats",
            "body": "Bonjour, voici le compte rendu.",
        }
        for name, make, said in HOSTILE:
            response = _upload(client, "/messages/new", (name, make()), "attachment", **fields)
            assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, name
            assert said in _words(response), name
            page = response.get_data(as_text=True)
            assert "Bonjour, voici le compte rendu." in page and 'value="Vos résultats"' in page
            assert _nothing_stored(), name

    def test_an_attachment_to_a_reply(self, app: Flask, client: FlaskClient) -> None:
        from webapp.services import messages

        holder = make_patient()
        pro = make_professional()
        authorise(pro, holder)
        assert holder.patient is not None
        conversation = messages.start(pro, holder.patient, subject="Résultats", body="Bonjour.")
        db.session.commit()
        login_as(client, holder)
        path = f"/messages/{conversation.id}"
        for name, make, said in HOSTILE:
            response = _upload(client, path, (name, make()), "attachment", body="Voici ma radio.")
            assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, name
            assert said in _words(response), name
            assert "Voici ma radio." in response.get_data(as_text=True), name
            assert _count(Message) == 1 and _count(MessageAttachment) == 0, name
            assert _blobs() == set(), name

    def test_a_pdf_locked_by_a_password(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        locked = pdf_from_pypdf(lambda w: w.encrypt("secret", algorithm="AES-128"))
        response = _upload(client, "/documents/new", ("verrou.pdf", locked), **DOCUMENT_FIELDS)
        assert LOCKED in _words(response) and _nothing_stored()

    def test_a_pdf_that_takes_too_long(
        self, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def hang(data: bytes) -> pdf_safety.Verdict:
            while True:
                time.sleep(1)

        monkeypatch.setattr(pdf_safety, "_examine_here", hang)
        monkeypatch.setattr(pdf_safety, "TIME_LIMIT", 0.5)
        login_as(client, make_patient())
        content = ("lent.pdf", pdf_file("Bilan"))
        response = _upload(client, "/documents/new", content, **DOCUMENT_FIELDS)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert COMPLEX in _words(response) and _nothing_stored()

    def test_saving_an_attachment_kept_before_the_checks(self, client: FlaskClient) -> None:
        """An attachment stored before the checks existed is checked again when the patient
        keeps it among her documents: refused with the message, not a server error."""
        from webapp.services import messages

        holder = make_patient()
        pro = make_professional()
        authorise(pro, holder)
        assert holder.patient is not None
        conversation = messages.start(pro, holder.patient, subject="Résultats", body="Bonjour.")
        message = db.session.scalars(select(Message)).one()
        blob = storage.store(io.BytesIO(pdf_with_javascript()), max_bytes=MB)
        db.session.add(
            MessageAttachment(
                message_id=message.id,
                conversation_id=conversation.id,
                original_name="ancien.pdf",
                size=blob.size,
                sha256=blob.sha256,
                media_type=blob.media_type,
                blob_id=blob.blob_id,
                key_id=blob.key_id,
                wrapped_key=blob.wrapped_key,
            )
        )
        db.session.commit()
        attachment = db.session.scalars(select(MessageAttachment)).one()
        login_as(client, holder)
        thread = f"/messages/{conversation.id}"
        response = client.post(
            f"{thread}/attachments/{attachment.id}/save",
            data={"csrf_token": csrf_from(client.get(thread)), "category": "biologie"},
        )
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"].endswith(thread)
        assert ACTIVE in _words(client.get(thread))
        assert _count(Document) == 0 and _blobs() == {blob.blob_id}

    def test_a_good_photo_is_kept_clean(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "Téléphone"
        photo = image_file("JPEG", exif=exif) + b"<script>alert(1)</script>"
        response = _upload(client, "/documents/new", ("radio.jpg", photo), **DOCUMENT_FIELDS)
        assert response.status_code == HTTPStatus.SEE_OTHER
        (doc,) = db.session.scalars(select(Document)).all()
        shown = client.get(f"/documents/{doc.id}/file")
        assert shown.mimetype == "image/jpeg"
        assert shown.headers["Content-Disposition"].startswith("inline;")
        assert b"<script>" not in shown.data and b"Exif" not in shown.data
        assert doc.size == len(shown.data)
        assert doc.sha256 == hashlib.sha256(shown.data).hexdigest()

    def test_a_good_pdf_is_kept_as_sent(self, client: FlaskClient) -> None:
        login_as(client, make_patient())
        content = pdf_file("Bilan")
        fields = DOCUMENT_FIELDS | {"category": "biologie"}
        response = _upload(client, "/documents/new", ("bilan.pdf", content), **fields)
        assert response.status_code == HTTPStatus.SEE_OTHER
        (doc,) = db.session.scalars(select(Document)).all()
        assert client.get(f"/documents/{doc.id}/download").data == content
