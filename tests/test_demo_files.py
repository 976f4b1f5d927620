"""The demo record: its data files are checked, its generated files are valid, and loading it
twice changes nothing."""

from __future__ import annotations

import re
import struct
import zlib
from collections import Counter
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.models import Account, Authorisation, Category, Document, OutboxMessage
from webapp.services import demo, documents, filetypes
from webapp.services.demo import dates, entries, people, texts
from webapp.services.demo import files as demo_files
from webapp.services.demo.data import DemoDataError, read_text
from webapp.services.demo.record import named_dates
from webapp.services.demo.templates import render


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
    holder = demo.Holder("Marie", "Dubois", date(1985, 3, 14), demo.with_key("2850375116042"))
    record = demo.record(today, holder)
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


class TestDataFiles:
    """The demo data are files; a mistake in one is reported with the file and the entry."""

    def test_the_shipped_files_are_valid(self) -> None:
        assert people.current().password == demo.password()
        assert len(texts.current().documents) >= 18
        assert entries.profile() and entries.measurements()

    def test_a_missing_field_names_the_file_and_the_entry(self) -> None:
        text = read_text(people.FILE).replace('rpps = "10000000002"\n', "", 1)
        with pytest.raises(DemoDataError) as caught:
            people.parse(text)
        assert str(caught.value) == (
            "accounts.toml, professionals[1] ('cardio.demo'): \"rpps\" is missing"
        )

    def test_a_field_of_the_wrong_type_is_refused(self) -> None:
        text = read_text(texts.FILE).replace('category = "ma_sante"', "category = 12", 1)
        with pytest.raises(DemoDataError) as caught:
            texts.parse(text, people.current().authors)
        assert str(caught.value) == (
            "documents.toml, documents[0] ('Synthèse médicale'): "
            '"category" must be text, got 12 (a whole number)'
        )

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (("\nmasked = true", "\nhidden = true"), "unknown field(s): hidden"),
            (('date = "summary"', 'date = "someday"'), '"date" must be one of the [dates]'),
            (('author = "medecin.demo"', 'author = "agent.demo"'), '"author" must be a demo'),
            (('"{patient_line}",', '"{patient}",'), "unknown field {patient}"),
            (("le {day:long} par", "le {day.__class__} par"), "not allowed"),
            (('issuer = "martin"', 'issuer = "nobody"'), '"issuer" must be one of'),
            (('from = "hpv_sampled", days = 2', 'from = "yearly", days = 2'), "not a date defined"),
        ],
    )
    def test_documents_are_checked(self, change: tuple[str, str], message: str) -> None:
        text = read_text(texts.FILE).replace(*change, 1)
        assert text != read_text(texts.FILE)
        with pytest.raises(DemoDataError, match=re.escape(message)) as caught:
            texts.parse(text, people.current().authors)
        assert str(caught.value).startswith("documents.toml, ")

    def test_a_bad_measurement_names_its_line(self) -> None:
        text = read_text(entries.MEASUREMENTS_FILE).replace(",67.5,", ",lots,", 1)
        with pytest.raises(DemoDataError) as caught:
            entries.parse_measurements(text, people.current().authors)
        assert str(caught.value) == (
            "measurements.csv, line 15: \"value\" must be a number, got 'lots'"
        )

    def test_a_profile_entry_of_an_unknown_kind_is_refused(self) -> None:
        text = read_text(entries.PROFILE_FILE).replace('kind = "allergy"', 'kind = "alergy"', 1)
        with pytest.raises(DemoDataError, match=r"entries\[0\] \('Pénicillines'\): \"kind\""):
            entries.parse_profile(text, people.current())


class TestDates:
    def test_relative_dates_follow_the_day_of_loading(self) -> None:
        today = date(2026, 3, 2)  # a Monday
        named = named_dates(today)
        assert named["today"] == today
        assert named["summary"] == date(2026, 1, 16)  # 45 days before, a Friday
        assert named["yearly"] == date(2026, 2, 4)
        # 21 October at least a week before the summary, moved off the weekend.
        assert named["flu"] == date(2025, 10, 21)
        assert named["flu_next_year"].year == 2026
        assert named["sprain"] == named["injury"] - timedelta(days=1)
        assert all(day.weekday() < 5 for name, day in named.items() if name in ("cardio", "quote"))

    def test_a_date_before_a_weekend_moves_to_friday(self) -> None:
        assert dates.working_day(date(2026, 3, 1)) == date(2026, 2, 27)
        assert dates.working_day(date(2026, 3, 2)) == date(2026, 3, 2)

    def test_texts_show_french_dates(self) -> None:
        values = {"day": date(2025, 3, 1), "name": "Dubois"}
        assert render("{day:long} {day:short} {day:%y%m%d} {name!u}", values) == (
            "1er mars 2025 01/03/2025 250301 DUBOIS"
        )
        with pytest.raises(ValueError, match="not allowed"):
            render("{day.__class__}", values)


def test_a_document_too_long_for_its_page_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    longer = read_text(texts.FILE).replace(
        '    "{patient_line}",\n', '    "{patient_line}",\n' + '    "Une ligne.",\n' * 60, 1
    )
    monkeypatch.setattr(texts, "current", lambda: texts.parse(longer, people.current().authors))
    holder = demo.Holder("Marie", "Dubois", date(1985, 3, 14), demo.with_key("2850375116042"))
    first = demo.record(date(2026, 3, 2), holder)[0]
    with pytest.raises(DemoDataError, match="document 'Synthèse médicale': .* one page"):
        first.content()
