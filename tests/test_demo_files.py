"""The demo record: its generated files are valid, and loading it twice changes nothing."""

from __future__ import annotations

import re
import struct
import zlib
from collections import Counter
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.models import Account, Authorisation, Category, Document, OutboxMessage
from webapp.services import demo, demo_files, documents, filetypes


def _pdf_objects(data: bytes) -> dict[int, int]:
    """Object number -> offset, read from the cross-reference table the trailer points to."""
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))  # type: ignore[union-attr]
    assert data[start:].startswith(b"xref\n0 ")
    header, _, rest = data[start + 5 :].partition(b"\n")
    first, count = (int(n) for n in header.split())
    entries = [rest[i * 20 : (i + 1) * 20] for i in range(count)]
    assert entries[0] == b"0000000000 65535 f \n"
    return {first + n: int(entry[:10]) for n, entry in enumerate(entries) if n}


def test_pdf_is_a_valid_one_page_pdf_with_french_accents() -> None:
    data = demo_files.pdf(
        "Numération formule sanguine",
        ["## Hématologie", "**Analyse\tRésultat", "Hémoglobine\t13,4 g/dL", "(parenthèses) \\"],
        issuer=["Laboratoire Rhône-Biologie"],
    )
    assert data.startswith(b"%PDF-1.4\n")
    assert filetypes.detect(data[: filetypes.SNIFF_BYTES]) == filetypes.PDF
    offsets = _pdf_objects(data)
    assert len(offsets) == 7
    for number, offset in offsets.items():
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    assert b"/Count 1" in data and b"/WinAnsiEncoding" in data
    stream = re.search(rb"stream\n(.*)\nendstream", data, re.S).group(1)  # type: ignore[union-attr]
    assert len(stream) == int(re.search(rb"/Length (\d+)", data).group(1))  # type: ignore[union-attr]
    content = zlib.decompress(stream)
    # "é" is 0xE9 in WinAnsiEncoding; parentheses and backslashes are escaped.
    assert b"(Num\\351ration formule sanguine) Tj" in content
    assert b"(\\(parenth\\350ses\\) \\\\) Tj" in content


def test_pdf_is_deterministic_and_refuses_to_overflow_its_page() -> None:
    assert demo_files.pdf("Ordonnance", ["a"]) == demo_files.pdf("Ordonnance", ["a"])
    with pytest.raises(demo_files.PageFull):
        demo_files.pdf("Trop long", ["Une ligne de compte rendu."] * 80)


def test_png_is_a_valid_grayscale_png() -> None:
    data = demo_files.png(40, 30, seed=1)
    assert filetypes.detect(data[: filetypes.SNIFF_BYTES]) == filetypes.PNG
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks.append((kind, body))
        position += 12 + length
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (40, 30, 8, 0, 0, 0, 0)
    pixels = zlib.decompress(chunks[1][1])
    assert len(pixels) == 30 * (40 + 1)
    assert len(set(pixels)) > 20  # a picture, not a flat grey
    assert demo_files.png(40, 30, seed=1) == data
    assert demo_files.png(40, 30, seed=2) != data


def test_txt_is_accepted_as_plain_text() -> None:
    data = demo_files.txt(["Tension à 121/77 mmHg", "Pouls 68"])
    assert data == "Tension à 121/77 mmHg\nPouls 68\n".encode()
    assert filetypes.detect(data) == filetypes.TEXT


def test_record_spans_three_years_and_every_category() -> None:
    today = date(2026, 3, 2)
    holder = demo_files.Holder("Marie", "Dubois", date(1985, 3, 14), demo.with_key("2850375116042"))
    record = demo_files.record(today, holder)
    counts = Counter(doc.category for doc in record)
    assert set(counts) == set(Category) and min(counts.values()) >= 2
    assert sum(doc.masked for doc in record) == 1
    assert all(today.replace(year=today.year - 3) <= doc.care_date < today for doc in record)
    assert sum(doc.file_name.endswith(".png") for doc in record if doc.category == "imagerie") >= 2


def _patient_documents() -> list[Document]:
    return list(
        db.session.scalars(select(Document).where(Document.patient_id == _demo_patient_id()))
    )


def _demo_patient_id() -> int:
    account = db.session.scalar(select(Account).where(Account.identifier == "patient.demo"))
    assert account is not None and account.patient is not None
    return account.patient.id


def test_demo_load_gives_documents_in_every_category_and_is_idempotent(app: Flask) -> None:
    demo.load()
    db.session.commit()
    docs = _patient_documents()
    counts = Counter(doc.category for doc in docs)
    assert set(counts) == {category.value for category in Category}
    assert min(counts.values()) >= 2
    assert [doc.title for doc in docs if doc.masked_from_pros] == ["Consultation de gynécologie"]
    authors = {doc.author_label for doc in docs}
    assert {"Marie Dubois", "Dr Claire Martin", "Dr Karim Benali", "Sophie Leroy"} <= authors
    for doc in docs:  # every file is stored, readable, and of the type its name says
        head = b"".join(documents.content(doc))[: filetypes.SNIFF_BYTES]
        assert filetypes.detect(head) == doc.media_type
        assert filetypes.EXTENSIONS[doc.media_type] == "." + doc.original_name.rsplit(".")[-1]
    assert sum(doc.media_type == filetypes.PNG for doc in docs if doc.category == "imagerie") >= 2
    patient_id = _demo_patient_id()
    authorisations = db.session.scalars(
        select(Authorisation).where(Authorisation.patient_id == patient_id)
    ).all()
    assert len(authorisations) == 4
    assert [a.is_medecin_traitant for a in authorisations].count(True) == 1
    # Her history is not news: no "new document" e-mail for each demo document.
    assert not db.session.scalar(select(func.count()).where(OutboxMessage.kind == "new_document"))

    assert demo.load() == []
    db.session.commit()
    assert len(_patient_documents()) == len(docs)
    assert (
        db.session.scalar(select(func.count()).where(Authorisation.patient_id == patient_id)) == 4
    )
