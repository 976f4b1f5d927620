"""The files of the demo record (SPEC §11), made by small dependency-free generators.

`pdf` writes a valid one-page PDF 1.4 in Helvetica with WinAnsiEncoding, so that French
accents show in every viewer; `png` draws a grayscale chest radiograph-like picture; `txt`
writes UTF-8 text. The output is deterministic: the same arguments give the same bytes.
What the demo documents say is data (`webapp/data/demo/documents.toml`), see `record`.
"""

from __future__ import annotations

import math
import random
import struct
import textwrap
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from webapp.services.demo import texts

# A4 portrait, in points.
PAGE_WIDTH: Final = 595
PAGE_HEIGHT: Final = 842
LEFT: Final = 56
RIGHT: Final = 539
TOP: Final = 790
BOTTOM: Final = 72

_BODY_SIZE: Final = 10.0
_BODY_LEADING: Final = 14.0
# Helvetica's mean glyph width for French prose, in ems: enough to wrap lines safely.
_MEAN_WIDTH: Final = 0.48


class PageFull(ValueError):
    """The lines do not fit on one page."""


# --- PDF -------------------------------------------------------------------------------------


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding; bytes outside ASCII as octal escapes."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252", errors="replace"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    out += b")"
    return bytes(out)


def _text_string(text: str) -> bytes:
    """A PDF text string (document information) in UTF-16BE with its byte order mark."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


class _Page:
    """The content stream of one page, written top to bottom."""

    def __init__(self) -> None:
        self.ops: list[bytes] = []
        self.y = float(TOP)

    def down(self, points: float) -> None:
        self.y -= points
        if self.y < BOTTOM:
            raise PageFull("the document does not fit on one page")

    def text(self, x: float, text: str, *, bold: bool = False, size: float = _BODY_SIZE) -> None:
        font = b"/F2" if bold else b"/F1"
        self.ops.append(
            b"BT %s %.1f Tf %.1f %.1f Td %s Tj ET" % (font, size, x, self.y, _pdf_string(text))
        )

    def gray(self, level: float) -> None:
        self.ops.append(b"%.2f g %.2f G" % (level, level))

    def rule(self, width: float = 0.6) -> None:
        self.ops.append(b"%.1f w %d %.1f m %d %.1f l S" % (width, LEFT, self.y, RIGHT, self.y))

    def content(self) -> bytes:
        return b"\n".join(self.ops) + b"\n"


def _columns(count: int) -> list[float]:
    """Left edges of a row's cells: a wide first column, the others evenly spread."""
    if count == 1:
        return [LEFT]
    first = 210.0
    step = (RIGHT - LEFT - first) / (count - 1)
    return [LEFT] + [LEFT + first + step * i for i in range(count - 1)]


def _wrap(text: str, size: float, indent: float = 0.0, *, bold: bool = False) -> list[str]:
    em = _MEAN_WIDTH * (1.1 if bold else 1.0)
    chars = int((RIGHT - LEFT - indent) / (size * em))
    return textwrap.wrap(text, width=chars, break_on_hyphens=False) or [""]


def _layout(title: str, lines: Sequence[str], issuer: Sequence[str], notice: str) -> bytes:
    page = _Page()
    for index, line in enumerate(issuer):
        page.gray(0.0 if index == 0 else 0.3)
        page.text(LEFT, line, bold=index == 0, size=11.0 if index == 0 else 9.0)
        page.down(15.0 if index == 0 else 12.0)
    if issuer:
        page.down(18.0)
    page.gray(0.0)
    for part in _wrap(title, 16.0, bold=True):
        page.text(LEFT, part, bold=True, size=16.0)
        page.down(20.0)
    page.down(-12.0)
    page.gray(0.45)
    page.rule()
    page.gray(0.0)
    page.down(24.0)
    for line in lines:
        if line.startswith("## "):
            page.down(6.0)
            page.text(LEFT, line[3:], bold=True, size=11.5)
            page.down(18.0)
        elif "\t" in line:
            bold = line.startswith("**")
            cells = line.removeprefix("**").split("\t")
            for x, cell in zip(_columns(len(cells)), cells, strict=True):
                page.text(x, cell, bold=bold)
            page.down(_BODY_LEADING)
        elif line.startswith("**"):
            for part in _wrap(line[2:], _BODY_SIZE, bold=True):
                page.text(LEFT, part, bold=True)
                page.down(_BODY_LEADING)
        elif line.startswith("- "):
            for number, part in enumerate(_wrap(line[2:], _BODY_SIZE, indent=14.0)):
                if number == 0:
                    page.text(LEFT + 2, "\u2022")
                page.text(LEFT + 14, part)
                page.down(_BODY_LEADING)
        elif not line:
            page.down(_BODY_LEADING / 2)
        else:
            for part in _wrap(line, _BODY_SIZE):
                page.text(LEFT, part)
                page.down(_BODY_LEADING)
    # The footer sits under the bottom margin, out of the body's way.
    page.y = 46.0
    page.gray(0.45)
    page.rule(0.4)
    page.y = 34.0
    page.text(LEFT, notice, size=7.5)
    return page.content()


def pdf(
    title: str, lines: Sequence[str], *, issuer: Sequence[str] = (), notice: str | None = None
) -> bytes:
    """A one-page A4 PDF: an optional issuer block, the title, then the lines, and at the
    foot `notice` (by default the demo data's fiction notice).

    A line is a paragraph (wrapped), "" a half-line gap, "## text" a subheading,
    "- text" a bullet, "**text" bold, and cells separated by tabs a table row
    (bold when the row starts with "**"). Raises `PageFull` when it does not fit.
    """
    footer = texts.current().phrases.fiction_notice if notice is None else notice
    stream = zlib.compress(_layout(title, lines, issuer, footer), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        % (PAGE_WIDTH, PAGE_HEIGHT),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Title %s /Creator (Carnet, donn\\351es de d\\351monstration) >>"
        % _text_string(title),
    ]
    # The second line's high bytes tell transfer tools that the file is binary.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"  # each entry is exactly 20 bytes, space + LF included
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (
        len(objects) + 1,
        len(objects),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# --- PNG -------------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _smooth(edge0: float, edge1: float, x: float) -> float:
    t = min(max((x - edge0) / (edge1 - edge0), 0.0), 1.0)
    return t * t * (3 - 2 * t)


def _ellipse(u: float, v: float, cu: float, cv: float, ru: float, rv: float) -> float:
    """1 inside the ellipse, 0 outside, with a soft edge."""
    d = ((u - cu) / ru) ** 2 + ((v - cv) / rv) ** 2
    return 1.0 - _smooth(0.8, 1.1, d)


def _lung(w: float, v: float, apex: float, base: float, inner: float) -> float:
    """One lung field in side coordinates (w grows outwards from the midline): a rounded
    triangle, narrow at the apex, wide above the dome of the diaphragm."""
    if v < apex - 0.02:
        return 0.0
    reach = min(0.84, inner + 0.08 + 0.62 * math.sqrt(max(v - apex, 0.0) / 0.62))
    across = (w - inner) / max(reach - inner, 1e-6)  # 0 at the mediastinum, 1 at the ribs
    if across <= -0.15 or across >= 1.15:
        return 0.0
    dome = base - 0.07 * math.sin(math.pi * min(max(across, 0.0), 1.0)) - 0.04 * across
    inside = _smooth(-0.12, 0.05, across) * (1.0 - _smooth(0.90, 1.04, across))
    return inside * _smooth(apex - 0.02, apex + 0.05, v) * (1.0 - _smooth(dome - 0.03, dome, v))


@dataclass(frozen=True)
class _Chest:
    """The person on the film: what the seed moves slightly from one picture to the next."""

    tilt: float
    apex: float
    base: float
    heart_u: float
    heart_r: float
    rib_phase: float
    exposure: float
    waves: tuple[tuple[float, float, float], ...]
    opacity: bool

    @classmethod
    def draw(cls, rnd: random.Random, opacity: bool) -> _Chest:
        # One call at a time, in this order: the same seed gives the same person.
        tilt = rnd.uniform(-0.03, 0.03)
        apex = rnd.uniform(0.10, 0.13)
        base = rnd.uniform(0.74, 0.79)
        heart_u = rnd.uniform(0.15, 0.19)
        heart_r = rnd.uniform(0.23, 0.26)
        rib_phase = rnd.uniform(0.0, 1.0)
        exposure = rnd.uniform(0.94, 1.04)
        waves = tuple(
            (rnd.uniform(9, 23), rnd.uniform(9, 23), rnd.uniform(0, 2 * math.pi)) for _ in range(4)
        )
        return cls(tilt, apex, base, heart_u, heart_r, rib_phase, exposure, waves, opacity)

    def brightness(self, u: float, v: float, half: float, rib_rows: float) -> float:
        """Bright where the body is thick or bony, dark where there is air (before grain)."""
        au = abs(u)
        w = au if u < 0 else u
        # Soft tissue is thickest on the midline and thins out to the skin.
        tissue = math.sqrt(max(0.0, 1.0 - (u / half) ** 2)) if au < half else 0.0
        heart = _ellipse(u, v, self.heart_u, 0.64, self.heart_r, 0.15)
        lung = _lung(w, v, self.apex, self.base, 0.10 + (0.06 if u > 0 else 0.0))
        lung *= (1.0 - heart) * (0.65 + 0.35 * _smooth(0.10, 0.45, w))  # hila
        texture = sum(math.sin(a * u + b * v + c) for a, b, c in self.waves) * 0.02
        spine = (1.0 - _smooth(0.035, 0.075, au)) * (0.8 + 0.2 * math.cos(v * 2 * math.pi * 12))
        ribs = max(0.0, math.cos(2 * math.pi * (v * 7.2 - 0.9 * w * w + self.rib_phase))) ** 8
        ribs *= _smooth(0.06, 0.14, w) * rib_rows
        ribs *= 1.0 - _smooth(half - 0.08, half, au)
        clavicle_v = 0.17 - 0.10 * max(w - 0.15, 0.0) ** 1.3
        clavicle = (1.0 - _smooth(0.0, 0.022, abs(v - clavicle_v))) * _smooth(0.06, 0.12, w)
        clavicle *= 1.0 - _smooth(0.62, 0.72, w)
        bubble = _ellipse(u, v, 0.36, self.base + 0.08, 0.09, 0.05)
        cloud = (
            math.exp(-(((u + 0.42) / 0.15) ** 2) - ((v - self.base + 0.12) / 0.09) ** 2)
            * (0.8 + 4 * texture)
            * lung
            if self.opacity
            else 0.0
        )
        density = (
            0.62 * tissue
            - 0.42 * lung * (1.0 - texture)
            - 0.20 * bubble
            + 0.30 * cloud
            + 0.22 * spine * (1.0 - lung)
            + (0.20 + 0.10 * lung) * ribs
            + 0.28 * clavicle
        )
        falloff = 1.0 - 0.25 * min(1.0, math.hypot(u, (v - 0.5) * 1.6))
        brightness: float = max(density * self.exposure * falloff, 0.0) ** 0.85 + 0.04
        return brightness


def png(width: int, height: int, seed: int, *, opacity: bool = False) -> bytes:
    """An 8-bit grayscale PNG that looks like a frontal chest radiograph.

    Bright where the body is thick or bony (spine, heart, ribs, clavicles),
    dark where there is air (the lung fields, the gastric bubble, around the body), with a
    soft radial falloff and a little film grain. The seed moves the anatomy slightly, so two
    images of the demo record are not identical. With `opacity`, a soft consolidation
    clouds the lower lobe of the right lung (on the left of the picture).
    """
    if not (8 <= width <= 4096 and 8 <= height <= 4096):
        raise ValueError("width and height must be between 8 and 4096")
    rnd = random.Random(seed)
    chest = _Chest.draw(rnd, opacity)
    rows = bytearray()
    for y in range(height):
        v = y / (height - 1)
        rows.append(0)  # filter type None
        half = min(0.93, 0.70 + 1.6 * v) - 0.08 * max(v - 0.6, 0.0)  # neck, shoulders, waist
        rib_rows = (1.0 - _smooth(chest.base, chest.base + 0.08, v)) * _smooth(0.05, 0.12, v)
        for x in range(width):
            u = (x / (width - 1)) * 2.0 - 1.0 + chest.tilt * (v - 0.5)
            grain = (rnd.random() + rnd.random() - 1.0) * 0.03
            value = chest.brightness(u, v, half, rib_rows) + grain
            rows.append(min(255, max(0, int(value * 255))))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


# --- Text ------------------------------------------------------------------------------------


def txt(lines: Sequence[str]) -> bytes:
    """Plain UTF-8 text, one line each, ending with a newline."""
    return ("\n".join(lines) + "\n").encode("utf-8")
