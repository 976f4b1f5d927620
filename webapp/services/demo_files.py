"""The files of the demo record (SPEC §11), made by small dependency-free generators.

`pdf` writes a valid one-page PDF 1.4 in Helvetica with WinAnsiEncoding, so that French
accents show in every viewer; `png` draws a grayscale chest radiograph-like picture; `txt`
writes UTF-8 text. The output is deterministic: the same arguments give the same bytes.
`record` lists the demo patient's documents, with believable, entirely fictional content.
"""

from __future__ import annotations

import math
import random
import struct
import textwrap
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from webapp.models.document import Category

# A4 portrait, in points.
PAGE_WIDTH: Final = 595
PAGE_HEIGHT: Final = 842
LEFT: Final = 56
RIGHT: Final = 539
TOP: Final = 790
BOTTOM: Final = 72

FICTION_NOTICE: Final = (
    "Document fictif créé pour la démonstration de Carnet : personnes, établissements et "
    "résultats sont imaginaires."
)

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


def _layout(title: str, lines: Sequence[str], issuer: Sequence[str]) -> bytes:
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
    page.text(LEFT, FICTION_NOTICE, size=7.5)
    return page.content()


def pdf(title: str, lines: list[str], *, issuer: Sequence[str] = ()) -> bytes:
    """A one-page A4 PDF: an optional issuer block, the title, then the lines.

    A line is a paragraph (wrapped), "" a half-line gap, "## text" a subheading,
    "- text" a bullet, "**text" bold, and cells separated by tabs a table row
    (bold when the row starts with "**"). Raises `PageFull` when it does not fit.
    """
    stream = zlib.compress(_layout(title, lines, issuer), 9)
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
    tilt = rnd.uniform(-0.03, 0.03)
    apex = rnd.uniform(0.10, 0.13)
    base = rnd.uniform(0.74, 0.79)
    heart_u = rnd.uniform(0.15, 0.19)
    heart_r = rnd.uniform(0.23, 0.26)
    rib_phase = rnd.uniform(0.0, 1.0)
    exposure = rnd.uniform(0.94, 1.04)
    waves = [
        (rnd.uniform(9, 23), rnd.uniform(9, 23), rnd.uniform(0, 2 * math.pi)) for _ in range(4)
    ]
    rows = bytearray()
    for y in range(height):
        v = y / (height - 1)
        rows.append(0)  # filter type None
        half = min(0.93, 0.70 + 1.6 * v) - 0.08 * max(v - 0.6, 0.0)  # neck, shoulders, waist
        rib_rows = (1.0 - _smooth(base, base + 0.08, v)) * _smooth(0.05, 0.12, v)
        for x in range(width):
            u = (x / (width - 1)) * 2.0 - 1.0 + tilt * (v - 0.5)
            au = abs(u)
            w = au if u < 0 else u
            # Soft tissue is thickest on the midline and thins out to the skin.
            tissue = math.sqrt(max(0.0, 1.0 - (u / half) ** 2)) if au < half else 0.0
            heart = _ellipse(u, v, heart_u, 0.64, heart_r, 0.15)
            lung = _lung(w, v, apex, base, 0.10 + (0.06 if u > 0 else 0.0))
            lung *= (1.0 - heart) * (0.65 + 0.35 * _smooth(0.10, 0.45, w))  # hila
            texture = sum(math.sin(a * u + b * v + c) for a, b, c in waves) * 0.02
            spine = (1.0 - _smooth(0.035, 0.075, au)) * (0.8 + 0.2 * math.cos(v * 2 * math.pi * 12))
            ribs = max(0.0, math.cos(2 * math.pi * (v * 7.2 - 0.9 * w * w + rib_phase))) ** 8
            ribs *= _smooth(0.06, 0.14, w) * rib_rows
            ribs *= 1.0 - _smooth(half - 0.08, half, au)
            clavicle_v = 0.17 - 0.10 * max(w - 0.15, 0.0) ** 1.3
            clavicle = (1.0 - _smooth(0.0, 0.022, abs(v - clavicle_v))) * _smooth(0.06, 0.12, w)
            clavicle *= 1.0 - _smooth(0.62, 0.72, w)
            bubble = _ellipse(u, v, 0.36, base + 0.08, 0.09, 0.05)
            cloud = (
                math.exp(-(((u + 0.42) / 0.15) ** 2) - ((v - base + 0.12) / 0.09) ** 2)
                * (0.8 + 4 * texture)
                * lung
                if opacity
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
            grain = (rnd.random() + rnd.random() - 1.0) * 0.03
            value = max(density * exposure * falloff, 0.0) ** 0.85 + 0.04 + grain
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


# --- The demo record -------------------------------------------------------------------------

_MONTHS: Final = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def long_date(day: date) -> str:
    """ "1er mars 2025", "14 mars 2025"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _weekday(day: date) -> date:
    """The same day, or the Friday before when it falls on a weekend."""
    return day - timedelta(days=max(day.weekday() - 4, 0))


@dataclass(frozen=True)
class Holder:
    """The demo patient, as her papers name her."""

    first_names: str
    last_name: str
    birth_date: date
    nir: str

    @property
    def name(self) -> str:
        return f"Mme {self.first_names} {self.last_name.upper()}"

    @property
    def born(self) -> str:
        return f"née le {short_date(self.birth_date)}"

    @property
    def nir_spaced(self) -> str:
        n = self.nir
        return f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {n[13:]}"

    def age(self, day: date) -> int:
        return _age(self.birth_date, day)


@dataclass(frozen=True)
class DemoDocument:
    """One document of the demo record; `author` is a demo identifier, None for the patient."""

    title: str
    category: str
    type_code: str
    care_date: date
    author: str | None
    file_name: str
    content: Callable[[], bytes]
    masked: bool = False


MARTIN: Final = (
    "Docteur Claire MARTIN",
    "Médecine générale · Cabinet médical des Tilleuls",
    "8 place des Tilleuls, 69004 Lyon · Tél. 04 65 71 20 14",
    "RPPS 10000000001 · Conventionnée secteur 1",
)
BENALI: Final = (
    "Docteur Karim BENALI",
    "Cardiologie · Hôpital Édouard-Herriot, service de cardiologie",
    "Lyon · Secrétariat : 04 65 71 38 52",
    "RPPS 10000000002",
)
LEROY: Final = (
    "Pharmacie de la Croix-Rousse",
    "Sophie LEROY, pharmacienne titulaire",
    "30 boulevard de la Croix-Rousse, 69004 Lyon · Tél. 04 65 71 44 09",
)
PETIT: Final = (
    "Docteur Thomas PETIT",
    "Chirurgien-dentiste · Cabinet dentaire Bellecour",
    "2 rue de la Barre, 69002 Lyon · Tél. 04 65 71 61 27",
    "RPPS 10000000004",
)
LAB: Final = (
    "Laboratoire Rhône-Biologie",
    "Laboratoire de biologie médicale · site Croix-Rousse",
    "24 rue d'Austerlitz, 69004 Lyon · Tél. 04 65 71 52 30",
    "Biologiste responsable : Dr Antoine GIRARD",
)
IMAGING: Final = (
    "Centre d'imagerie médicale Part-Dieu",
    "Radiologie · Échographie · Scanner · IRM",
    "17 rue Garibaldi, 69003 Lyon · Tél. 04 65 71 77 10",
)
CLINIC: Final = (
    "Clinique du Parc",
    "Chirurgie orthopédique et traumatologique · Unité de chirurgie ambulatoire",
    "12 avenue du Parc, 69006 Lyon · Tél. 04 65 71 80 00",
)
GARNIER: Final = (
    "Docteur Hélène GARNIER",
    "Gynécologie médicale",
    "45 cours Gambetta, 69003 Lyon · Tél. 04 65 71 25 63",
)
PATHOLOGY: Final = (
    "Cabinet de pathologie Saint-Jean",
    "Anatomie et cytologie pathologiques",
    "6 quai Romain-Rolland, 69005 Lyon",
)


def _signed(place_day: date, name: str) -> list[str]:
    return ["", f"Lyon, le {long_date(place_day)}", "", f"**{name}"]


def _patient_line(holder: Holder, day: date, extra: str = "") -> str:
    line = f"Patiente : {holder.name}, {holder.born} ({holder.age(day)} ans)"
    return f"{line} · {extra}" if extra else line


def _blood_count(holder: Holder, day: date) -> bytes:
    return pdf(
        "Numération formule sanguine et bilan biochimique",
        [
            _patient_line(holder, day),
            f"Prélèvement le {short_date(day)} à 07 h 55, à jeun · Dossier n° "
            f"{day:%y%m%d}-0217 · Prescripteur : Dr Claire MARTIN",
            "## Hématologie",
            "**Analyse\tRésultat\tValeurs de référence",
            "Hématies\t4,52 T/L\t3,90 – 5,20",
            "Hémoglobine\t13,4 g/dL\t12,0 – 16,0",
            "Hématocrite\t40,1 %\t36,0 – 46,0",
            "Volume globulaire moyen (VGM)\t88,7 fL\t80,0 – 100,0",
            "TCMH\t29,6 pg\t27,0 – 32,0",
            "Leucocytes\t6,3 G/L\t4,0 – 10,0",
            "Polynucléaires neutrophiles\t3,58 G/L\t1,80 – 7,50",
            "Lymphocytes\t2,01 G/L\t1,00 – 4,00",
            "Monocytes\t0,48 G/L\t0,20 – 1,00",
            "Polynucléaires éosinophiles\t0,19 G/L\t< 0,50",
            "Polynucléaires basophiles\t0,04 G/L\t< 0,10",
            "Plaquettes\t245 G/L\t150 – 400",
            "## Biochimie",
            "**Analyse\tRésultat\tValeurs de référence",
            "Glycémie à jeun\t0,88 g/L (4,9 mmol/L)\t0,70 – 1,00 g/L",
            "Créatinine\t66 µmol/L\t45 – 90",
            "DFG estimé (CKD-EPI)\t> 90 mL/min/1,73 m²\t> 90",
            "TSH\t1,84 mUI/L\t0,40 – 4,00",
            "",
            "Commentaire : numération et formule sans anomalie.",
            "",
            f"Compte rendu validé le {short_date(day)} par Dr Antoine GIRARD, biologiste.",
        ],
        issuer=LAB,
    )


def _thyroid(holder: Holder, day: date) -> bytes:
    return pdf(
        "Bilan thyroïdien de contrôle",
        [
            _patient_line(holder, day),
            f"Prélèvement le {short_date(day)} à 08 h 20 · Dossier n° {day:%y%m%d}-0388 · "
            "Prescripteur : Dr Claire MARTIN",
            "Renseignements cliniques : hypothyroïdie traitée par lévothyroxine 75 µg/jour.",
            "## Hormonologie",
            "**Analyse\tRésultat\tValeurs de référence",
            "TSH (thyréostimuline)\t2,31 mUI/L\t0,40 – 4,00",
            "T4 libre\t14,2 pmol/L\t9,0 – 19,0",
            "Anticorps anti-TPO\t186 UI/mL\t< 34",
            "",
            "Commentaire : TSH dans les valeurs de référence sous traitement. Anticorps "
            "anti-thyroperoxydase positifs, en accord avec une thyroïdite de Hashimoto connue.",
            "",
            f"Compte rendu validé le {short_date(day)} par Dr Antoine GIRARD, biologiste.",
        ],
        issuer=LAB,
    )


def _yearly_check(holder: Holder, day: date, earlier: date) -> bytes:
    before = short_date(earlier)
    return pdf(
        "Bilan sanguin : NFS, glycémie, bilan lipidique, TSH",
        [
            _patient_line(holder, day),
            f"Prélèvement le {short_date(day)} à 08 h 05, à jeun · Dossier n° "
            f"{day:%y%m%d}-0431 · Prescripteur : Dr Claire MARTIN",
            "## Hématologie",
            f"**Analyse\tRésultat\tRéférence\tLe {before}",
            "Hémoglobine\t13,1 g/dL\t12,0 – 16,0\t13,4",
            "Hématocrite\t39,5 %\t36,0 – 46,0\t40,1",
            "VGM\t89,2 fL\t80 – 100\t88,7",
            "Leucocytes\t5,9 G/L\t4,0 – 10,0\t6,3",
            "Plaquettes\t231 G/L\t150 – 400\t245",
            "Ferritine\t38 µg/L\t15 – 150\t–",
            "## Biochimie",
            f"**Analyse\tRésultat\tRéférence\tLe {before}",
            "Glycémie à jeun\t0,91 g/L\t0,70 – 1,00\t0,88",
            "Créatinine\t68 µmol/L\t45 – 90\t66",
            "DFG (CKD-EPI)\t> 90 mL/min\t> 90\t> 90",
            "TSH\t1,62 mUI/L\t0,40 – 4,00\t1,84",
            "## Bilan lipidique",
            f"**Analyse\tRésultat\tRéférence\tLe {before}",
            "Cholestérol total\t1,94 g/L\t< 2,00\t–",
            "HDL-cholestérol\t0,64 g/L\t> 0,40\t–",
            "LDL-cholestérol (calculé)\t1,08 g/L\t< 1,60\t–",
            "Triglycérides\t0,91 g/L\t< 1,50\t–",
            "",
            "Commentaire : résultats dans les valeurs de référence. Réserve ferrique correcte.",
            "",
            f"Compte rendu validé le {short_date(day)} par Dr Antoine GIRARD, biologiste.",
        ],
        issuer=LAB,
    )


def _chest_report(holder: Holder, day: date) -> bytes:
    return pdf(
        "Compte rendu de radiographie thoracique",
        [
            _patient_line(holder, day),
            f"Examen du {short_date(day)} · Demandé par : Dr Claire MARTIN · "
            "Radiologue : Dr Julie FABRE",
            "## Indication",
            "Toux fébrile depuis dix jours, crépitants de la base droite. Recherche d'une "
            "pneumopathie.",
            "## Technique",
            "Radiographie thoracique de face, debout, en inspiration profonde.",
            "## Résultats",
            "Opacité alvéolaire systématisée de la base droite, avec bronchogramme aérique, "
            "effaçant en partie la coupole diaphragmatique droite.",
            "Pas d'épanchement pleural visible. Culs-de-sac costo-diaphragmatiques libres.",
            "Silhouette cardiaque de taille normale (index cardio-thoracique 0,45). Médiastin "
            "non élargi. Pas d'anomalie osseuse visible.",
            "## Conclusion",
            "**Aspect de pneumopathie franche lobaire inférieure droite.",
            "Radiographie de contrôle conseillée à six semaines, après le traitement.",
            "",
            f"Dr Julie FABRE, radiologue · validé le {short_date(day)}",
        ],
        issuer=IMAGING,
    )


def _knee_mri(holder: Holder, day: date, injury: date) -> bytes:
    return pdf(
        "Compte rendu d'IRM du genou droit",
        [
            _patient_line(holder, day),
            f"Examen du {short_date(day)} · Demandé par : Dr Claire MARTIN · "
            "Radiologue : Dr Marc LEFÈVRE",
            "## Indication",
            f"Entorse du genou droit le {short_date(injury)} en courant. Douleur de "
            "l'interligne interne persistante, sensations de blocage.",
            "## Technique",
            "IRM 1,5 T. Séquences sagittales, coronales et axiales en densité de protons avec "
            "saturation de la graisse, sagittale T1. Pas d'injection.",
            "## Résultats",
            "- Ménisque médial : fissure horizontale de la corne postérieure, atteignant le "
            "bord libre inférieur.",
            "- Ménisque latéral : normal.",
            "- Ligament croisé antérieur : continu, de signal normal. Ligament croisé "
            "postérieur : normal.",
            "- Ligament collatéral médial : infiltration œdémateuse péri-ligamentaire, fibres "
            "continues (entorse de grade I).",
            "- Cartilages fémoro-tibiaux et fémoro-patellaire : sans anomalie.",
            "- Épanchement intra-articulaire de faible abondance.",
            "## Conclusion",
            "**Fissure horizontale de la corne postérieure du ménisque médial.",
            "**Entorse bénigne du ligament collatéral médial. Pivot central intact.",
            "",
            f"Dr Marc LEFÈVRE, radiologue · validé le {short_date(day)}",
        ],
        issuer=IMAGING,
    )


def _day_surgery(holder: Holder, day: date) -> bytes:
    return pdf(
        "Compte rendu d'hospitalisation en chirurgie ambulatoire",
        [
            _patient_line(holder, day),
            f"Entrée le {short_date(day)} à 7 h 30 · Sortie le {short_date(day)} à 16 h 15",
            "Chirurgien : Dr Olivier BERNARD · Médecin traitant : Dr Claire MARTIN",
            "## Motif",
            "Lésion méniscale médiale du genou droit, symptomatique malgré trois mois de "
            "traitement médical et de rééducation.",
            "## Intervention",
            "Arthroscopie du genou droit sous anesthésie générale : méniscectomie partielle "
            "de la corne postérieure du ménisque médial. Cartilages sains. Ligaments croisés "
            "intacts.",
            "Allergie connue à la pénicilline : pas d'antibioprophylaxie par bêta-lactamine.",
            "## Suites",
            "Suites opératoires simples. Douleur bien contrôlée (EVA 2/10 à la sortie). "
            "Pansements propres. Reprise de la marche avec appui complet.",
            "## Traitement de sortie",
            "- Paracétamol 1 g : 1 comprimé jusqu'à 3 fois par jour si douleur, 7 jours.",
            "- Énoxaparine 4 000 UI : 1 injection sous-cutanée par jour pendant 10 jours.",
            "- Glace 20 minutes 3 fois par jour. Cannes anglaises selon le confort.",
            "- Kinésithérapie : 15 séances (ordonnance remise).",
            "## Suivi",
            "Consultation de contrôle avec le Dr BERNARD à 6 semaines. Reprise de la course "
            "à pied progressive après avis du chirurgien.",
            "",
            "**Dr Olivier BERNARD, chirurgien orthopédiste",
        ],
        issuer=CLINIC,
    )


def _physio_prescription(holder: Holder, day: date) -> bytes:
    return pdf(
        "Ordonnance",
        [
            f"{holder.name}, {holder.born}",
            "",
            "## Prescription de kinésithérapie",
            "Rééducation du genou droit après méniscectomie partielle médiale sous arthroscopie :",
            "- 15 séances, 2 à 3 séances par semaine, à débuter dès que possible.",
            "- Lutte contre la douleur et l'œdème, récupération des amplitudes articulaires.",
            "- Renforcement du quadriceps et des ischio-jambiers, travail proprioceptif.",
            "- Réathlétisation progressive en vue de la reprise de la course à pied.",
            "",
            "Bilan diagnostique kinésithérapique à adresser au prescripteur.",
            *_signed(day, "Dr Olivier BERNARD, chirurgien orthopédiste"),
        ],
        issuer=CLINIC,
    )


def _medicine_prescription(holder: Holder, day: date) -> bytes:
    return pdf(
        "Ordonnance",
        [
            f"{holder.name}, {holder.born} · Poids : 62 kg",
            "",
            "**LÉVOTHYROXINE SODIQUE 75 µg, comprimé sécable",
            "1 comprimé par jour, le matin à jeun, 30 minutes avant le petit-déjeuner.",
            "Traitement pour 3 mois, à renouveler 3 fois.",
            "",
            "**CÉTIRIZINE 10 mg, comprimé pelliculé",
            "1 comprimé le soir en cas de rhinite allergique (saison des pollens).",
            "Traitement pour 3 mois.",
            "",
            "Allergie : pénicilline (urticaire généralisée).",
            *_signed(day, "Dr Claire MARTIN"),
        ],
        issuer=MARTIN,
    )


def _lab_prescription(holder: Holder, day: date) -> bytes:
    return pdf(
        "Ordonnance d'examens de biologie médicale",
        [
            f"{holder.name}, {holder.born}",
            "",
            "Faire pratiquer par un laboratoire de biologie médicale, à jeun :",
            "- Numération formule sanguine, plaquettes",
            "- Ferritine",
            "- Glycémie à jeun",
            "- Créatininémie avec estimation du débit de filtration glomérulaire",
            "- Exploration d'une anomalie lipidique (cholestérol total, HDL, LDL, triglycérides)",
            "- TSH",
            "",
            "À réaliser dans les quinze jours. Résultats à transmettre au Dr MARTIN.",
            *_signed(day, "Dr Claire MARTIN"),
        ],
        issuer=MARTIN,
    )


def _summary(holder: Holder, day: date, dates: dict[str, date]) -> bytes:
    return pdf(
        "Synthèse médicale",
        [
            _patient_line(holder, day),
            f"Synthèse établie le {long_date(day)} par son médecin traitant.",
            "## Antécédents médicaux",
            "- Hypothyroïdie sur thyroïdite de Hashimoto (2016), substituée.",
            "- Rhinite allergique saisonnière aux pollens de graminées.",
            f"- Pneumopathie lobaire inférieure droite ({dates['pneumonia'].year}), guérie ; "
            "radiographie de contrôle normale.",
            f"- Palpitations explorées en cardiologie ({dates['holter'].year}) : extrasystoles "
            "bénignes, Holter rassurant.",
            "## Antécédents chirurgicaux",
            "- Appendicectomie (1997).",
            "- Arthroscopie du genou droit, méniscectomie partielle médiale "
            f"({dates['surgery'].year}).",
            "## Allergies",
            "**Pénicilline : urticaire généralisée (1992). Éviter les bêta-lactamines.",
            "## Traitements au long cours",
            "- Lévothyroxine sodique 75 µg : 1 comprimé le matin à jeun.",
            "- Cétirizine 10 mg : 1 comprimé le soir, d'avril à juin.",
            "## Vaccinations",
            "- Diphtérie, tétanos, poliomyélite, coqueluche : rappel à 25 ans (2010) ; "
            "prochain rappel à 45 ans (2030).",
            f"- Grippe saisonnière : le {short_date(dates['flu'])}, en pharmacie.",
            "## Mode de vie et antécédents familiaux",
            "- Non fumeuse, consommation d'alcool occasionnelle. Course à pied deux fois par "
            "semaine.",
            "- Père : infarctus du myocarde à 58 ans. Mère : hypothyroïdie.",
            "## Points de vigilance",
            "- TSH tous les 6 à 12 mois. Bilan lipidique annuel (antécédent familial).",
            f"- Prochain dépistage du cancer du col de l'utérus : {dates['hpv'].year + 5}.",
        ],
        issuer=MARTIN,
    )


def _advance_directives(holder: Holder, day: date) -> bytes:
    return pdf(
        "Mes directives anticipées",
        [
            f"Je soussignée {holder.first_names} {holder.last_name}, {holder.born}, "
            "demeurant à Lyon, rédige ici mes directives anticipées, pour le cas où je "
            "serais un jour hors d'état d'exprimer ma volonté.",
            "## Mes souhaits",
            "- Je refuse l'obstination déraisonnable : je ne veux pas que l'on prolonge "
            "artificiellement ma vie si je suis atteinte d'une maladie grave et incurable, "
            "ou dans un coma jugé irréversible.",
            "- Dans cette situation, je refuse la réanimation cardio-respiratoire, la "
            "ventilation mécanique, la dialyse et la nutrition artificielle.",
            "- Je demande à être soulagée de la douleur et de l'angoisse, même si ce "
            "traitement peut avoir pour effet d'abréger ma vie, y compris par une sédation "
            "profonde et continue.",
            "- Je souhaite, si possible, finir ma vie à mon domicile, entourée de mes proches.",
            "## Ma personne de confiance",
            "Paul DUBOIS, mon frère · Tél. 06 39 98 12 34 · Lyon 7e. Il a accepté cette "
            "mission et connaît ces directives.",
            "## Don d'organes",
            "Je suis favorable au don de mes organes et de mes tissus après mon décès.",
            "",
            "Ces directives sont révisables et révocables à tout moment.",
            "",
            f"Fait à Lyon, le {long_date(day)}",
            "",
            f"**Signature : {holder.first_names} {holder.last_name}",
        ],
    )


def _cardiology(holder: Holder, day: date, tsh: date) -> bytes:
    return pdf(
        "Compte rendu de consultation de cardiologie",
        [
            f"Lyon, le {long_date(day)}",
            "À l'attention du Dr Claire MARTIN, médecin traitant",
            "",
            "Chère consœur,",
            f"J'ai vu en consultation {holder.name}, {holder.age(day)} ans, que vous m'avez "
            "adressée pour des palpitations.",
            "## Histoire",
            "Depuis trois mois, sensations de « ratés » et de battements forts, brefs, "
            "surtout le soir au repos, sans malaise, syncope, douleur thoracique ni "
            "dyspnée. Tolérance à l'effort conservée (course à pied).",
            "Facteurs de risque : antécédent familial (père, infarctus à 58 ans). Non "
            f"fumeuse. Hypothyroïdie substituée, TSH normale le {short_date(tsh)}.",
            "## Examen",
            "Pression artérielle 118/74 mmHg aux deux bras. Fréquence cardiaque 72/min, "
            "régulière. Auscultation cardiaque et pulmonaire normale, pas de souffle. Pas "
            "d'œdème des membres inférieurs.",
            "## Examens complémentaires",
            "- ECG : rythme sinusal à 70/min, PR 160 ms, QRS fins, QTc 410 ms, pas de "
            "trouble de la repolarisation.",
            "- Échocardiographie transthoracique : ventricule gauche non dilaté, fraction "
            "d'éjection 62 %, pas de valvulopathie significative, péricarde sec.",
            "## Conclusion",
            "**Palpitations probablement liées à des extrasystoles bénignes, sur cœur sain.",
            "Je propose un Holter ECG des 24 heures. Pas de traitement à ce stade. Limiter "
            "le café et les boissons énergisantes. Je la reverrai avec le résultat.",
            "",
            "Bien confraternellement,",
            "**Dr Karim BENALI",
        ],
        issuer=BENALI,
    )


def _holter(holder: Holder, day: date) -> bytes:
    return pdf(
        "Compte rendu de Holter ECG des 24 heures",
        [
            _patient_line(holder, day),
            f"Pose le {short_date(day)} à 9 h 10 · Durée d'enregistrement : 23 h 48 min · "
            "Qualité du signal : bonne",
            "Indication : palpitations, extrasystoles suspectées.",
            "## Fréquence cardiaque",
            "**Mesure\tValeur\tMoment",
            "Fréquence moyenne\t76/min\t–",
            "Fréquence minimale\t52/min\tvers 3 h 40 (sommeil)",
            "Fréquence maximale\t138/min\tvers 18 h 15 (course à pied)",
            "## Rythme et conduction",
            "- Rythme sinusal permanent. Pas de fibrillation ni de flutter atrial.",
            "- Pas de pause supérieure à 2 secondes. Pas de trouble de la conduction.",
            "## Extrasystoles",
            "**Type\tNombre\tCharge",
            "Ventriculaires, isolées, monomorphes\t214\t0,2 %",
            "Supraventriculaires isolées\t96\t0,1 %",
            "Salves supraventriculaires (4 complexes)\t2\t–",
            "## Symptômes",
            "Trois épisodes de palpitations notés sur le carnet : ils correspondent à des "
            "extrasystoles ventriculaires isolées.",
            "## Conclusion",
            "**Holter rassurant : extrasystolie ventriculaire et supraventriculaire de très "
            "faible charge, bénigne. Pas d'indication à un traitement ni à d'autres examens.",
            "Reconsulter en cas de malaise, de syncope ou de palpitations prolongées.",
            "",
            "**Dr Karim BENALI",
        ],
        issuer=BENALI,
    )


def _gynaecology(holder: Holder, day: date) -> bytes:
    return pdf(
        "Compte rendu de consultation de gynécologie",
        [
            _patient_line(holder, day),
            f"Consultation du {short_date(day)} · Suivi gynécologique annuel",
            "## Contraception",
            "Dispositif intra-utérin au cuivre posé en mars 2019, bien toléré. Fils "
            "visibles. À changer au plus tard en mars 2029.",
            "## Examen",
            "Examen des seins normal. Examen gynécologique normal. Pression artérielle "
            "116/72 mmHg.",
            "## Dépistage",
            "Prélèvement cervico-utérin réalisé ce jour pour test HPV à haut risque "
            "(dépistage organisé du cancer du col de l'utérus). Résultat adressé à la "
            "patiente et au médecin traitant.",
            "Mammographie : pas d'indication avant 50 ans en l'absence d'antécédent "
            "familial de cancer du sein.",
            "## Conclusion",
            "Suivi normal. Prochaine consultation dans un an, ou avant si besoin.",
            "",
            "**Dr Hélène GARNIER",
        ],
        issuer=GARNIER,
    )


def _hpv(holder: Holder, day: date, sampled: date) -> bytes:
    return pdf(
        "Dépistage du cancer du col de l'utérus : test HPV",
        [
            _patient_line(holder, day),
            f"Prélèvement cervico-utérin du {short_date(sampled)} · Reçu le "
            f"{short_date(sampled + timedelta(days=2))} · Prescripteur : Dr Hélène GARNIER",
            "Cadre : dépistage organisé du cancer du col de l'utérus (femmes de 30 à 65 ans).",
            "## Technique",
            "Recherche d'ADN des papillomavirus humains à haut risque oncogène (HPV-HR) par "
            "PCR en temps réel, sur milieu de conservation en phase liquide.",
            "## Résultat",
            "**Analyse\tRésultat",
            "HPV 16\tnon détecté",
            "HPV 18\tnon détecté",
            "Autres HPV à haut risque (12 génotypes)\tnon détectés",
            "## Conclusion",
            "**Test HPV-HR négatif.",
            f"Prochain dépistage recommandé dans 5 ans, soit en {sampled.year + 5}.",
            "",
            f"Dr Camille ROUX, pathologiste · validé le {short_date(day)}",
        ],
        issuer=PATHOLOGY,
    )


def _flu(holder: Holder, day: date) -> bytes:
    season = f"{day.year}-{day.year + 1}"
    return pdf(
        "Attestation de vaccination contre la grippe saisonnière",
        [
            f"Campagne de vaccination {season}",
            "",
            "Je soussignée Sophie LEROY, pharmacienne, atteste avoir vacciné ce jour :",
            f"**{holder.name}, {holder.born}",
            "",
            "**Élément\tDétail",
            "Vaccin\tvaccin grippal inactivé, à virion fragmenté",
            "Numéro de lot\tGR4719K",
            "Date d'injection\t" + short_date(day) + " à 11 h 20",
            "Voie et site\tintramusculaire, deltoïde gauche",
            "Dose\t0,5 mL",
            "",
            "Questionnaire préalable complété : pas de contre-indication. Allergie à la "
            "pénicilline signalée (sans rapport avec ce vaccin).",
            "Surveillance de 15 minutes après l'injection : aucune réaction immédiate.",
            "",
            "Conservez cette attestation : la vaccination est aussi inscrite dans votre "
            "carnet de vaccination.",
            *_signed(day, "Sophie LEROY, pharmacienne"),
        ],
        issuer=LEROY,
    )


def _sprain_certificate(holder: Holder, day: date) -> bytes:
    return pdf(
        "Certificat médical initial",
        [
            f"Je soussignée, Docteur Claire MARTIN, certifie avoir examiné ce jour "
            f"{holder.name}, {holder.born}.",
            "",
            f"Elle déclare avoir présenté, le {long_date(day - timedelta(days=1))}, une "
            "torsion du genou droit lors d'une course à pied.",
            "",
            "À l'examen : épanchement articulaire modéré du genou droit, douleur à la "
            "palpation de l'interligne articulaire interne et du ligament collatéral médial. "
            "Pas de laxité antérieure. Marche possible avec boiterie.",
            "",
            "Une IRM du genou droit est prescrite. Une incapacité totale de travail de 7 "
            "jours est à prévoir, sous réserve de complications.",
            "",
            "Certificat établi à la demande de l'intéressée et remis en main propre pour "
            "servir et valoir ce que de droit.",
            *_signed(day, "Dr Claire MARTIN"),
        ],
        issuer=MARTIN,
    )


def _running_certificate(holder: Holder, day: date) -> bytes:
    return pdf(
        "Certificat médical de non contre-indication",
        [
            f"Je soussignée, Docteur Claire MARTIN, certifie avoir examiné ce jour "
            f"{holder.name}, {holder.born}.",
            "",
            "Je n'ai pas constaté, à la date de ce jour, de signe clinique apparent "
            "contre-indiquant la pratique de la course à pied, y compris en compétition.",
            "",
            "Ce certificat est établi à la demande de l'intéressée pour son inscription "
            f"aux Foulées de la Croix-Rousse {day.year}, et remis en main propre.",
            *_signed(day, "Dr Claire MARTIN"),
        ],
        issuer=MARTIN,
    )


def _insurance_rights(holder: Holder, day: date) -> bytes:
    until = day + timedelta(days=364)
    return pdf(
        "Attestation de droits à l'assurance maladie",
        [
            f"Attestation délivrée le {long_date(day)}",
            "",
            "**Élément\tInformation",
            f"Assurée\t{holder.name}",
            f"Date de naissance\t{short_date(holder.birth_date)}",
            f"Numéro de sécurité sociale\t{holder.nir_spaced}",
            "Organisme de rattachement\t691 · CPAM du Rhône",
            "Régime\tRégime général",
            f"Droits ouverts\tdu {short_date(day)} au {short_date(until)}",
            "Exonération du ticket modérateur\taucune",
            "Complémentaire santé solidaire\tnon",
            "Médecin traitant déclaré\tDr Claire MARTIN, depuis 2016",
            "",
            "Cette attestation justifie de vos droits auprès des professionnels de santé "
            "qui ne peuvent pas lire votre carte Vitale. Elle ne remplace pas la carte "
            "Vitale.",
            "",
            "Votre carte Vitale doit être mise à jour une fois par an, en pharmacie ou dans "
            "une borne de votre caisse.",
        ],
        issuer=(
            "Assurance Maladie",
            "Caisse primaire d'assurance maladie du Rhône",
            "69907 Lyon Cedex 20",
        ),
    )


def _top_up_insurance(holder: Holder, day: date) -> bytes:
    return pdf(
        "Attestation de tiers payant : complémentaire santé",
        [
            f"Période de validité : du 1er janvier {day.year} au 31 décembre {day.year}",
            "",
            "**Élément\tInformation",
            f"Bénéficiaire\t{holder.name}",
            f"Date de naissance\t{short_date(holder.birth_date)}",
            f"Numéro de sécurité sociale\t{holder.nir_spaced}",
            "Numéro d'adhérent\tMC-0458712",
            "Contrat\tSanté Essentielle, individuel",
            "## Garanties en tiers payant",
            "**Poste\tPrise en charge",
            "Pharmacie (médicaments remboursables)\t100 % de la base de remboursement",
            "Consultations et actes médicaux\t100 % de la base de remboursement",
            "Analyses et imagerie\t100 % de la base de remboursement",
            "Hospitalisation\t100 % + forfait journalier",
            "Soins dentaires\t100 % ; prothèses : 300 %",
            "Optique\t100 % Santé ; hors panier : 200 € par an",
            "",
            "Présentez cette attestation avec votre carte Vitale : vous n'avancez pas la "
            "part prise en charge par la mutuelle.",
        ],
        issuer=(
            "Mutuelle des Canuts",
            "Complémentaire santé",
            "Service adhérents · Tél. 04 65 71 90 00",
        ),
    )


def _dental_quote(holder: Holder, day: date) -> bytes:
    return pdf(
        "Devis pour traitements et actes bucco-dentaires",
        [
            f"{holder.name}, {holder.born} · N° de sécurité sociale {holder.nir_spaced}",
            f"Devis établi le {short_date(day)}, valable 6 mois.",
            "",
            "**Acte\tHonoraires\tBase remb.\tRemb. AMO",
            "Couronne céramo-métallique, dent 36\t550,00 €\t120,00 €\t72,00 €",
            "Inlay-core, dent 36\t230,00 €\t90,00 €\t54,00 €",
            "**Total\t780,00 €\t210,00 €\t126,00 €",
            "",
            "Panier de soins : tarifs maîtrisés (couronne sur molaire). AMO : assurance "
            "maladie obligatoire, 60 % de la base de remboursement.",
            "Reste à charge avant complémentaire santé : 654,00 €.",
            "",
            "Une alternative thérapeutique du panier « 100 % Santé » vous a été proposée : "
            "couronne métallique, sans reste à charge.",
            "",
            "Date et signature de la patiente, précédées de « Bon pour accord » :",
            *_signed(day, "Dr Thomas PETIT"),
        ],
        issuer=PETIT,
    )


def _dental_advice(holder: Holder, day: date) -> bytes:
    return pdf(
        "Conseils après la pose d'une couronne provisoire",
        [
            f"Pour {holder.name} · dent 36 · le {long_date(day)}",
            "",
            "Votre couronne provisoire protège la dent en attendant la couronne définitive.",
            "- Évitez de mâcher des aliments durs ou collants (caramels, chewing-gums) du "
            "côté de la dent 36.",
            "- Brossez-vous les dents deux fois par jour pendant deux minutes, avec une "
            "brosse souple et un dentifrice fluoré.",
            "- Passez le fil dentaire en le retirant par le côté, sans tirer vers le haut.",
            "- Une légère sensibilité au froid est normale les premiers jours.",
            "- Si la couronne se décolle, gardez-la et appelez le cabinet : ne la recollez "
            "pas vous-même.",
            "",
            "**Pose de la couronne définitive : le "
            f"{long_date(_weekday(day + timedelta(days=15)))} à 14 h 30.",
            "",
            "En cas de douleur forte ou de gonflement, appelez le cabinet au 04 65 71 61 27 ; "
            "le week-end, appelez le 15.",
        ],
        issuer=PETIT,
    )


def _medication_plan(holder: Holder, day: date) -> bytes:
    return pdf(
        "Plan de prise de vos médicaments",
        [
            f"Pour {holder.name}, {holder.born} · établi le {long_date(day)}",
            "",
            "**Médicament\tMatin\tMidi\tSoir\tCoucher",
            "Lévothyroxine 75 µg\t1\t–\t–\t–",
            "Cétirizine 10 mg (avril à juin)\t–\t–\t1\t–",
            "",
            "## Conseils",
            "- Lévothyroxine : à jeun, avec un verre d'eau, 30 minutes avant le "
            "petit-déjeuner, toujours à la même heure.",
            "- Le fer, le calcium et les pansements gastriques gênent son absorption : "
            "prenez-les au moins 2 heures plus tard.",
            "- Cétirizine : elle peut donner envie de dormir ; évitez l'alcool.",
            "- Allergie à la pénicilline : signalez-la à chaque nouvelle prescription.",
            "",
            "Ce plan ne remplace pas votre ordonnance. Apportez-le à chaque consultation.",
            "",
            "**Sophie LEROY, pharmacienne",
        ],
        issuer=LEROY,
    )


def _home_blood_pressure(holder: Holder, day: date) -> bytes:
    lines = [
        "Relevé d'automesure tensionnelle (règle des 3)",
        f"{holder.first_names} {holder.last_name}, née le {short_date(holder.birth_date)}",
        "Tensiomètre à brassard huméral, bras gauche, assise après 5 minutes de repos.",
        "3 mesures le matin avant le petit-déjeuner, 3 mesures le soir avant le coucher,",
        "pendant 3 jours.",
        "",
    ]
    readings = (
        ((124, 79, 68), (121, 77, 66), (119, 76, 65), (118, 75, 70), (117, 74, 69), (116, 74, 68)),
        ((122, 78, 71), (120, 77, 69), (121, 76, 68), (125, 80, 74), (122, 78, 72), (120, 76, 71)),
        ((123, 79, 66), (121, 78, 65), (119, 77, 65), (119, 76, 70), (118, 75, 69), (117, 75, 68)),
    )
    systolic: list[int] = []
    diastolic: list[int] = []
    for offset, day_readings in enumerate(readings):
        current = day - timedelta(days=len(readings) - 1 - offset)
        lines.append(f"{long_date(current)}")
        for moment, chunk in (("matin", day_readings[:3]), ("soir ", day_readings[3:])):
            values = "   ".join(f"{s}/{d} mmHg, pouls {p}" for s, d, p in chunk)
            lines.append(f"  {moment}  {values}")
            systolic += [s for s, _, _ in chunk]
            diastolic += [d for _, d, _ in chunk]
        lines.append("")
    mean_s = round(sum(systolic) / len(systolic))
    mean_d = round(sum(diastolic) / len(diastolic))
    lines += [
        f"Moyenne des 18 mesures : {mean_s}/{mean_d} mmHg (normale en automesure : "
        "moins de 135/85 mmHg).",
        "Relevé demandé par le Dr Martin avant la consultation de cardiologie.",
    ]
    return txt(lines)


def record(today: date, holder: Holder) -> list[DemoDocument]:
    """The demo patient's documents, dated back from `today` over three years.

    Files are built only when `content` is called.
    """

    def ago(days: int) -> date:
        return _weekday(today - timedelta(days=days))

    summary = ago(45)
    # Flu shots are given in the autumn, before the summary that mentions this one.
    flu = date(today.year, 10, 21)
    while flu > summary - timedelta(days=7):
        flu = flu.replace(year=flu.year - 1)
    flu = _weekday(flu)
    pneumonia, control = ago(1000), ago(958)
    injury = ago(560)
    mri = ago(545)
    surgery = ago(500)
    hpv_sampled = ago(760)
    hpv = ago(752)
    first_count = ago(1060)
    thyroid = ago(215)
    home_bp = ago(208)
    cardio = ago(200)
    holter = ago(185)
    quote = ago(240)
    prescriptions = ago(40)
    yearly = ago(26)
    dates = {
        "pneumonia": pneumonia,
        "holter": holter,
        "surgery": surgery,
        "flu": flu,
        "hpv": hpv_sampled,
    }
    c = Category
    return [
        DemoDocument(
            "Synthèse médicale",
            c.SUMMARY,
            "60591-5",
            summary,
            "medecin.demo",
            "synthese-medicale.pdf",
            lambda: _summary(holder, summary, dates),
        ),
        DemoDocument(
            "Mes directives anticipées",
            c.SUMMARY,
            "42348-3",
            ago(370),
            None,
            "directives-anticipees.pdf",
            lambda: _advance_directives(holder, ago(370)),
        ),
        DemoDocument(
            "Ordonnance : lévothyroxine et cétirizine",
            c.PRESCRIPTIONS,
            "57833-6",
            prescriptions,
            "medecin.demo",
            "ordonnance-medicaments.pdf",
            lambda: _medicine_prescription(holder, prescriptions),
        ),
        DemoDocument(
            "Ordonnance de bilan sanguin",
            c.PRESCRIPTIONS,
            "57832-8",
            prescriptions,
            "medecin.demo",
            "ordonnance-bilan-sanguin.pdf",
            lambda: _lab_prescription(holder, prescriptions),
        ),
        DemoDocument(
            "Ordonnance de kinésithérapie (genou droit)",
            c.PRESCRIPTIONS,
            "57832-8",
            surgery,
            None,
            "ordonnance-kine.pdf",
            lambda: _physio_prescription(holder, surgery),
        ),
        DemoDocument(
            "Radiographie thoracique de face",
            c.IMAGING,
            "18748-4",
            pneumonia,
            None,
            "radio-thorax-face.png",
            lambda: png(320, 384, seed=3, opacity=True),
        ),
        DemoDocument(
            "Compte rendu de radiographie thoracique",
            c.IMAGING,
            "18748-4",
            pneumonia,
            None,
            "cr-radio-thorax.pdf",
            lambda: _chest_report(holder, pneumonia),
        ),
        DemoDocument(
            "Radiographie thoracique de contrôle",
            c.IMAGING,
            "18748-4",
            control,
            None,
            "radio-thorax-controle.png",
            lambda: png(320, 384, seed=7),
        ),
        DemoDocument(
            "IRM du genou droit",
            c.IMAGING,
            "18748-4",
            mri,
            None,
            "irm-genou-droit.pdf",
            lambda: _knee_mri(holder, mri, injury - timedelta(days=1)),
        ),
        DemoDocument(
            "Numération formule sanguine",
            c.LABORATORY,
            "11502-2",
            first_count,
            None,
            "nfs.pdf",
            lambda: _blood_count(holder, first_count),
        ),
        DemoDocument(
            "Bilan thyroïdien de contrôle",
            c.LABORATORY,
            "11502-2",
            thyroid,
            None,
            "bilan-thyroidien.pdf",
            lambda: _thyroid(holder, thyroid),
        ),
        DemoDocument(
            "Bilan sanguin annuel",
            c.LABORATORY,
            "11502-2",
            yearly,
            "medecin.demo",
            "bilan-sanguin.pdf",
            lambda: _yearly_check(holder, yearly, first_count),
        ),
        DemoDocument(
            "Consultation de gynécologie",
            c.REPORTS,
            "11488-4",
            hpv_sampled,
            None,
            "consultation-gynecologie.pdf",
            lambda: _gynaecology(holder, hpv_sampled),
            masked=True,
        ),
        DemoDocument(
            "Arthroscopie du genou droit : compte rendu d'hospitalisation",
            c.REPORTS,
            "34133-9",
            surgery,
            None,
            "cr-hospitalisation-genou.pdf",
            lambda: _day_surgery(holder, surgery),
        ),
        DemoDocument(
            "Compte rendu de consultation de cardiologie",
            c.REPORTS,
            "11488-4",
            cardio,
            "cardio.demo",
            "consultation-cardiologie.pdf",
            lambda: _cardiology(holder, cardio, thyroid),
        ),
        DemoDocument(
            "Holter ECG des 24 heures",
            c.REPORTS,
            "11488-4",
            holter,
            "cardio.demo",
            "holter-ecg.pdf",
            lambda: _holter(holder, holter),
        ),
        DemoDocument(
            "Dépistage du cancer du col de l'utérus : test HPV",
            c.PREVENTION,
            "CARNET-DEPIST",
            hpv,
            None,
            "depistage-col-uterus.pdf",
            lambda: _hpv(holder, hpv, hpv_sampled),
        ),
        DemoDocument(
            "Vaccination contre la grippe",
            c.PREVENTION,
            "11369-6",
            flu,
            "pharma.demo",
            "vaccination-grippe.pdf",
            lambda: _flu(holder, flu),
        ),
        DemoDocument(
            "Certificat médical initial : entorse du genou",
            c.CERTIFICATES,
            "CARNET-CERT",
            injury,
            "medecin.demo",
            "certificat-entorse.pdf",
            lambda: _sprain_certificate(holder, injury),
        ),
        DemoDocument(
            "Certificat de non contre-indication à la course à pied",
            c.CERTIFICATES,
            "CARNET-CERT",
            ago(330),
            "medecin.demo",
            "certificat-course.pdf",
            lambda: _running_certificate(holder, ago(330)),
        ),
        DemoDocument(
            "Attestation de complémentaire santé",
            c.ADMINISTRATIVE,
            "CARNET-ADMIN",
            ago(930),
            None,
            "attestation-mutuelle.pdf",
            lambda: _top_up_insurance(holder, ago(930)),
        ),
        DemoDocument(
            "Attestation de droits à l'assurance maladie",
            c.ADMINISTRATIVE,
            "CARNET-ADMIN",
            ago(300),
            None,
            "attestation-droits.pdf",
            lambda: _insurance_rights(holder, ago(300)),
        ),
        DemoDocument(
            "Devis dentaire : couronne sur la dent 36",
            c.ADMINISTRATIVE,
            "CARNET-ADMIN",
            quote,
            "dentiste.demo",
            "devis-dentaire.pdf",
            lambda: _dental_quote(holder, quote),
        ),
        DemoDocument(
            "Conseils après la pose d'une couronne provisoire",
            c.OTHER,
            "CARNET-AUTRE",
            ago(225),
            "dentiste.demo",
            "conseils-couronne.pdf",
            lambda: _dental_advice(holder, ago(225)),
        ),
        DemoDocument(
            "Automesure tensionnelle",
            c.OTHER,
            "CARNET-AUTRE",
            home_bp,
            None,
            "automesure-tension.txt",
            lambda: _home_blood_pressure(holder, home_bp),
        ),
        DemoDocument(
            "Plan de prise des médicaments",
            c.OTHER,
            "CARNET-AUTRE",
            ago(38),
            "pharma.demo",
            "plan-de-prise.pdf",
            lambda: _medication_plan(holder, ago(38)),
        ),
    ]
