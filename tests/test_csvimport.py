"""The CSV importer both registers use (services.csvimport), on a small register of its own.

The register of these tests keys professionals on their RPPS number, with four columns and
checks of its own, so that a failure here points at the importer, not at a register's rules.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.models import Professional
from webapp.services import csvimport

COLUMNS = ("rpps", "last_name", "first_names", "profession")
HEADER = ",".join(COLUMNS)


@dataclass(frozen=True)
class Entry:
    rpps: str
    last_name: str
    first_names: str
    profession: str


def _number(text: str) -> str:
    if not text.isdigit():
        raise csvimport.InvalidValue(f"number {text!r} is not digits")
    return text


def _check_line(cells: dict[str, str]) -> Entry | list[str]:
    fields = csvimport.FieldChecks(cells)
    entry = Entry(
        rpps=fields.take(_number, "rpps", ""),
        last_name=fields.take(csvimport.required("last name", 10), "last_name", ""),
        first_names=fields.take(csvimport.required("first names", 10), "first_names", ""),
        profession=fields.take(csvimport.required("profession", 10), "profession", ""),
    )
    return fields.reasons or entry


REGISTER = csvimport.Register(COLUMNS, _check_line, key=Professional.rpps, key_name="number")


def _read(text: str) -> tuple[list[Entry], list[str]]:
    records, errors = REGISTER.read_csv(io.StringIO(text))
    return records, [str(error) for error in errors]


def _lines(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


def _stored() -> dict[str, Professional]:
    """The table as the session sees it, by RPPS number."""
    return {row.rpps: row for row in db.session.scalars(select(Professional))}


class TestHeader:
    def test_the_header_is_the_columns(self) -> None:
        assert REGISTER.header == "rpps,last_name,first_names,profession"

    @pytest.mark.parametrize(
        "header",
        [
            "rpps,last_name,first_names",
            "rpps,last_name,first_names,profession,city",
            "last_name,rpps,first_names,profession",
            "RPPS,last_name,first_names,profession",
            "1,Martin,Claire,medecin",
        ],
        ids=["missing-column", "extra-column", "reordered", "capitalised", "no-header"],
    )
    def test_a_wrong_header_refuses_the_file(self, header: str) -> None:
        records, errors = _read(_lines(header, "1,Martin,Claire,medecin"))
        assert records == []
        assert errors == [f"line 1: the header must be exactly {HEADER}"]

    def test_the_header_may_follow_blank_lines(self) -> None:
        records, errors = _read(_lines("", ",,,", HEADER, "1,Martin,Claire,medecin", "2,x"))
        assert [record.rpps for record in records] == ["1"]
        assert errors == ["line 5: expected 4 fields, found 2"]

    @pytest.mark.parametrize("bom", ["\ufeff", ""], ids=["bom", "no-bom"])
    def test_a_byte_order_mark_and_spaces_around_names_are_accepted(self, bom: str) -> None:
        text = bom + _lines(" rpps , last_name,first_names ,profession", "1,Martin,Claire,medecin")
        records, errors = _read(text)
        assert errors == []
        assert records == [Entry("1", "Martin", "Claire", "medecin")]

    @pytest.mark.parametrize("text", ["", "\n\n", "\ufeff", " , ,,\n\n"])
    def test_an_empty_file(self, text: str) -> None:
        stream = io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8-sig", newline="")
        records, errors = REGISTER.read_csv(stream)
        assert records == []
        assert [str(error) for error in errors] == [
            f"line 1: the file is empty; expected the header {HEADER}"
        ]

    def test_a_header_and_nothing_else_is_an_empty_register(self) -> None:
        assert _read(_lines(HEADER)) == ([], [])


class TestLines:
    def test_a_bad_line_is_reported_by_its_number_in_the_file(self) -> None:
        text = _lines(HEADER, "1,Martin,Claire,medecin", "", "2,Benali,,medecin")
        records, errors = _read(text)
        assert [record.rpps for record in records] == ["1"]
        assert errors == ["line 4: first names is missing"]

    def test_a_quoted_line_break_counts_in_the_line_numbers(self) -> None:
        text = _lines(HEADER, '1,"Le', 'Gall",Claire,medecin', "2,Benali,Karim,")
        records, errors = _read(text)
        assert records == [Entry("1", "Le Gall", "Claire", "medecin")]
        assert errors == ["line 4: profession is missing"]

    def test_every_reason_of_every_line_in_file_order(self) -> None:
        text = _lines(
            HEADER,
            "x1,,Claire,medecin",
            "2,Benali,Karim,medecin",
            "3,Leroy,Sophie",
            "4,Petit,Thomas,medecin,extra",
            "5,Rousseau,Nadia,pharmacienne",
        )
        records, errors = _read(text)
        assert [record.rpps for record in records] == ["2"]
        assert errors == [
            "line 2: number 'x1' is not digits",
            "line 2: last name is missing",
            "line 4: expected 4 fields, found 3",
            "line 5: expected 4 fields, found 5",
            "line 6: profession is longer than 10 characters",
        ]

    def test_a_key_twice_is_an_error_on_the_later_line(self) -> None:
        text = _lines(HEADER, "1,Martin,Claire,medecin", "2,Benali,Karim,medecin", "1,M,C,x")
        records, errors = _read(text)
        assert [record.rpps for record in records] == ["1", "2"]
        assert errors == ["line 4: same number as line 2"]

    def test_a_line_that_is_not_utf8_is_named(self) -> None:
        raw = _lines(HEADER, "1,Martin,Claire,medecin", "2,Lefèvre,Anne,medecin").encode("latin-1")
        stream = io.TextIOWrapper(
            io.BytesIO(raw), encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        records, errors = REGISTER.read_csv(stream)
        assert [record.rpps for record in records] == ["1"]
        assert [str(error) for error in errors] == [
            "line 3: this line is not UTF-8 text (save the file as UTF-8)"
        ]

    def test_a_file_opened_without_surrogateescape_is_refused_whole(self) -> None:
        raw = _lines(HEADER, "1,Martin,Claire,medecin", "2,Lefèvre,Anne,medecin").encode("latin-1")
        stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline="")
        records, errors = REGISTER.read_csv(stream)
        assert records == []  # decoding fails on the first block read, before the header
        assert [str(error) for error in errors] == ["line 1: the file is not UTF-8 text from here"]

    def test_unreadable_csv_ends_the_file_at_its_line(self) -> None:
        text = _lines(HEADER, "1,Martin,Claire,medecin", '2,"Ben"ali,Karim,medecin', "3,a,b,c")
        records, errors = _read(text)
        assert [record.rpps for record in records] == ["1"]
        assert len(errors) == 1 and errors[0].startswith("line 3: unreadable CSV (")


class TestFieldChecks:
    def test_text_is_folded_and_bounded(self) -> None:
        assert csvimport.optional("city", 10)("  Saint   Malo ") == "Saint Malo"
        assert csvimport.optional("city", 10)("") is None
        with pytest.raises(csvimport.InvalidValue, match="^city is longer than 3 characters$"):
            csvimport.optional("city", 3)("Lyon")
        with pytest.raises(csvimport.InvalidValue, match="^city is missing$"):
            csvimport.required("city", 10)("   ")

    def test_email(self) -> None:
        assert csvimport.optional_email("Claire.Martin@Sante.EXAMPLE") == (
            "claire.martin@sante.example"
        )
        assert csvimport.optional_email("") is None
        with pytest.raises(csvimport.InvalidValue, match="^e-mail 'claire' is not a valid"):
            csvimport.optional_email("claire")


class TestAllOrNothing:
    def test_one_bad_line_and_nothing_is_written(self, app: Flask) -> None:
        assert REGISTER.import_csv(io.StringIO(_lines(HEADER, "1,Martin,Claire,medecin"))).ok
        db.session.commit()
        text = _lines(HEADER, "1,Martin,Claire,pharmacien", "2,Benali,Karim,medecin", "3,,,")
        report = REGISTER.import_csv(io.StringIO(text))
        assert [str(error) for error in report.errors] == [
            "line 4: last name is missing",
            "line 4: first names is missing",
            "line 4: profession is missing",
        ]
        assert not report.ok
        assert (report.created, report.updated, report.unchanged) == (0, 0, 0)
        assert not db.session.new and not db.session.dirty
        db.session.commit()
        assert len(_stored()) == 1 and _stored()["1"].profession == "medecin"

    def test_good_lines_are_upserted_on_the_key(self, app: Flask) -> None:
        first = REGISTER.import_csv(
            io.StringIO(_lines(HEADER, "1,Martin,Claire,medecin", "2,Benali,Karim,medecin"))
        )
        assert first.ok and (first.created, first.updated, first.unchanged) == (2, 0, 0)
        db.session.commit()
        again = REGISTER.import_csv(
            io.StringIO(_lines(HEADER, "2,Benali,Karim,medecin", "1,Martin,Claire,pharmacien"))
        )
        assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
        db.session.commit()
        assert len(_stored()) == 2 and _stored()["1"].profession == "pharmacien"

    def test_the_importer_flushes_but_does_not_commit(self, app: Flask) -> None:
        REGISTER.import_csv(io.StringIO(_lines(HEADER, "1,Martin,Claire,medecin")))
        assert len(_stored()) == 1  # flushed: the session's own queries see it
        db.session.rollback()
        assert len(_stored()) == 0

    def test_the_stamp_is_written_on_change_and_never_compared(self, app: Flask) -> None:
        imports: list[str] = []

        def stamp() -> dict[str, object]:
            imports.append(f"import {len(imports) + 1}")
            return {"structure": imports[-1]}

        stamped = csvimport.Register(
            COLUMNS, _check_line, key=Professional.rpps, key_name="number", stamp=stamp
        )
        stamped.import_csv(io.StringIO(_lines(HEADER, "1,Martin,Claire,medecin")))
        assert _stored()["1"].structure == "import 1"
        stamped.import_csv(io.StringIO(_lines(HEADER, "1,Martin,Claire,medecin")))
        assert _stored()["1"].structure == "import 1"  # unchanged, although the stamp differs
        report = stamped.import_csv(io.StringIO(_lines(HEADER, "1,Martin,Anne,medecin")))
        assert report.updated == 1 and _stored()["1"].structure == "import 3"

    def test_more_keys_than_one_lookup_takes(self, app: Flask) -> None:
        count = 1234  # more than two lookups of 500 keys
        text = _lines(HEADER, *(f"{n},Name{n % 7},First,medecin" for n in range(1, count + 1)))
        assert REGISTER.import_csv(io.StringIO(text)).created == count
        db.session.commit()
        again = REGISTER.import_csv(io.StringIO(text))
        assert (again.created, again.updated, again.unchanged) == (0, 0, count)
