"""A document's media type, read from its first bytes (magic numbers), never from its name.

Only types a browser will not run are allowed: PDF, JPEG, PNG, TIFF, RTF and plain text.
Text that looks like markup or script is refused, since a browser that ignores
``Content-Type`` would otherwise render it as HTML.
"""

from __future__ import annotations

import codecs
import unicodedata
from typing import Final

# How many leading bytes `detect` needs: the whole content when it is shorter.
SNIFF_BYTES: Final = 8192

PDF: Final = "application/pdf"
JPEG: Final = "image/jpeg"
PNG: Final = "image/png"
TIFF: Final = "image/tiff"
RTF: Final = "application/rtf"
TEXT: Final = "text/plain"

EXTENSIONS: Final[dict[str, str]] = {
    PDF: ".pdf",
    JPEG: ".jpg",
    PNG: ".png",
    TIFF: ".tif",
    RTF: ".rtf",
    TEXT: ".txt",
}

_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"{\\rtf", RTF),
)

# Executables and scripts are refused even when their first bytes happen to be valid text.
_EXECUTABLE_STARTS: Final = (b"MZ", b"\x7fELF", b"#!")
_MARKUP_STARTS: Final = (
    "<!doctype",
    "<html",
    "<script",
    "<svg",
    "<?xml",
    "<body",
    "<head",
    "<iframe",
)
_ALLOWED_CONTROLS: Final = frozenset("\t\r\n\f")
_BOM: Final = "\ufeff"


def detect(head: bytes) -> str | None:
    """The media type of a document whose first `SNIFF_BYTES` bytes are `head`, or None.

    `head` is the first `SNIFF_BYTES` bytes, or the whole content when it is shorter: a
    multi-byte character cut at the end is accepted only when `head` fills `SNIFF_BYTES`.
    """
    head = head[:SNIFF_BYTES]
    if not head or head.startswith(_EXECUTABLE_STARTS):
        return None
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    return TEXT if _is_plain_text(head, truncated=len(head) == SNIFF_BYTES) else None


def _is_plain_text(head: bytes, *, truncated: bool) -> bool:
    text = _decode_utf8(head, truncated=truncated)
    if text is None:
        return False
    if any(_is_forbidden_control(char) for char in text):
        return False
    return not _looks_like_markup(text)


def _decode_utf8(head: bytes, *, truncated: bool) -> str | None:
    # Not final when the prefix was cut: an incomplete last character waits for more bytes.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        return decoder.decode(head, final=not truncated)
    except UnicodeDecodeError:
        return None


def _is_forbidden_control(char: str) -> bool:
    # Category Cc covers NUL, the other C0 controls, DEL and the C1 controls.
    return unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS


def _looks_like_markup(text: str) -> bool:
    lowered = text.lower()
    return _skip_leading_space(lowered).startswith(_MARKUP_STARTS) or "<script" in lowered


def _skip_leading_space(text: str) -> str:
    # Byte order marks too: a repeated one must not hide markup behind it.
    index = 0
    while index < len(text) and (text[index].isspace() or text[index] == _BOM):
        index += 1
    return text[index:]
