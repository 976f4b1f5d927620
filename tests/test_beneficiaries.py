"""`flask beneficiaries import FILE`: the register import, idempotent and all-or-nothing."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Beneficiary
from webapp.services import beneficiaries
from webapp.services.demo import with_key

SAMPLE = Path(__file__).parent.parent / "webapp" / "data" / "samples" / "beneficiaries.csv"
HEADER = "nir,vitale_serial,last_name,first_names,sex,birth_date,email,mobile,address,postcode,city"
NIR = with_key("1800175056001")
OTHER_NIR = with_key("2920469123456")


def _row(**overrides: str) -> str:
    values = {
        "nir": NIR,
        "vitale_serial": "1234567890",
        "last_name": "Lemoine",
        "first_names": "Pierre",
        "sex": "M",
        "birth_date": "1980-01-15",
        "email": "pierre.lemoine@carnet.test",
        "mobile": "06 12 34 56 78",
        "address": "4 rue Victor-Hugo",
        "postcode": "69002",
        "city": "Lyon",
    } | overrides
    return ",".join(values.values())


def _file(tmp_path: Path, *lines: str, name: str = "register.csv") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _import(app: Flask, path: Path) -> Result:
    db.session.commit()  # the command runs in its own session; ours must hold no transaction
    result = app.test_cli_runner().invoke(args=["beneficiaries", "import", str(path)])
    db.session.commit()
    return result


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Beneficiary)) or 0


def _by_nir(nir: str) -> Beneficiary:
    found = db.session.scalar(select(Beneficiary).where(Beneficiary.nir == nir))
    assert found is not None
    return found


class TestSample:
    def test_imports_without_errors(self, app: Flask) -> None:
        result = _import(app, SAMPLE)
        assert result.exit_code == 0, result.output
        rows = len(SAMPLE.read_text(encoding="utf-8").splitlines()) - 1
        assert f"{rows} created, 0 updated, 0 unchanged" in result.output
        assert _count() == rows >= 20

    def test_holds_the_demo_patient_and_the_pending_beneficiary(self, app: Flask) -> None:
        assert _import(app, SAMPLE).exit_code == 0
        patient = _by_nir(with_key("2850375116042"))
        assert (patient.last_name, patient.first_names, patient.sex) == ("Dubois", "Marie", "F")
        assert patient.birth_date == date(1985, 3, 14)
        assert patient.vitale_serial == "0123456789"
        pending = _by_nir(with_key("1490669384012"))
        assert (pending.first_names, pending.last_name) == ("Lucien", "Fabre")
        assert (pending.birth_date, pending.vitale_serial) == (date(1949, 6, 2), "8143020517")
        assert pending.mobile == "+33698765432"

    def test_second_import_changes_nothing(self, app: Flask) -> None:
        assert _import(app, SAMPLE).exit_code == 0
        before = _by_nir(with_key("2850375116042")).updated_at
        clock.advance(3600)
        again = _import(app, SAMPLE)
        assert again.exit_code == 0
        assert f"0 created, 0 updated, {_count()} unchanged" in again.output
        assert _by_nir(with_key("2850375116042")).updated_at == before


class TestUpsert:
    def test_a_changed_line_updates_the_row(self, app: Flask, tmp_path: Path) -> None:
        assert _import(app, _file(tmp_path, HEADER, _row())).exit_code == 0
        before = _by_nir(NIR).updated_at
        clock.advance(3600)
        changed = _file(
            tmp_path, HEADER, _row(mobile="+33 7 81 22 33 44", city="Villeurbanne"), name="v2.csv"
        )
        result = _import(app, changed)
        assert result.exit_code == 0, result.output
        assert "0 created, 1 updated, 0 unchanged" in result.output
        row = _by_nir(NIR)
        assert (row.mobile, row.city) == ("+33781223344", "Villeurbanne")
        assert row.updated_at > before
        assert _count() == 1

    def test_fields_are_normalised(self, app: Flask) -> None:
        spaced = f"{NIR[:1]} {NIR[1:3]} {NIR[3:5]} {NIR[5:7]} {NIR[7:10]} {NIR[10:13]} {NIR[13:]}"
        text = "\ufeff" + "\n".join(
            [
                HEADER,
                _row(nir=spaced, email=" Pierre.Lemoine@Carnet.TEST ", last_name="  Lemoine "),
                _row(nir=OTHER_NIR, sex="f", mobile="0033 6 98 76 54 32", postcode="2a004"),
            ]
        )
        report = beneficiaries.import_csv(io.StringIO(text))
        assert report.ok and report.created == 2
        first, second = _by_nir(NIR), _by_nir(OTHER_NIR)
        assert (first.email, first.last_name, first.mobile) == (
            "pierre.lemoine@carnet.test",
            "Lemoine",
            "+33612345678",
        )
        assert (second.sex, second.mobile, second.postcode) == ("F", "+33698765432", "2A004")

    def test_empty_contacts_are_stored_as_none(self, app: Flask) -> None:
        text = f"{HEADER}\n{_row(email='', mobile='', address='', postcode='', city='')}\n"
        assert beneficiaries.import_csv(io.StringIO(text)).created == 1
        row = _by_nir(NIR)
        assert (row.email, row.mobile, row.address, row.postcode, row.city) == (None,) * 5

    def test_the_service_does_not_commit(self, app: Flask) -> None:
        beneficiaries.import_csv(io.StringIO(f"{HEADER}\n{_row()}\n"))
        db.session.rollback()
        assert _count() == 0


WRONG_KEY = NIR[:13] + f"{int(NIR[13:]) % 97 + 1:02d}"
BAD_LINES = [  # (column, value, the reason the operator reads)
    ("nir", WRONG_KEY, "NIR key does not match"),
    ("nir", NIR[:14], "NIR must have 15 characters (13 digits and the 2-digit key), found 14"),
    ("nir", NIR + "0", "NIR must have 15 characters (13 digits and the 2-digit key), found 16"),
    ("nir", "1800175056001A7", "NIR may only hold digits (and 2A or 2B for Corsica)"),
    ("vitale_serial", "12345", "carte Vitale serial must be 6 to 12 digits"),
    ("vitale_serial", "1234567890123", "carte Vitale serial must be 6 to 12 digits"),
    ("vitale_serial", "12345AB890", "carte Vitale serial must be 6 to 12 digits"),
    ("last_name", " ", "last name is missing"),
    ("first_names", "", "first names is missing"),
    ("last_name", "L" * 101, "last name is longer than 100 characters"),
    ("sex", "X", "sex must be F or M, found 'X'"),
    ("birth_date", "2099-01-01", "birth date 2099-01-01 is in the future"),
    ("birth_date", "1850-01-01", "birth date 1850-01-01 is before 1900"),
    ("birth_date", "31/12/1980", "birth date '31/12/1980' must be written YYYY-MM-DD"),
    ("birth_date", "1981-02-29", "birth date 1981-02-29 is not a real date"),
    ("email", "pierre.carnet.test", "e-mail 'pierre.carnet.test' is not a valid address"),
    ("email", "pierre@localhost", "e-mail 'pierre@localhost' is not a valid address"),
    ("email", "a@b@carnet.test", "e-mail 'a@b@carnet.test' is not a valid address"),
    ("mobile", "01 23 45 67 89", "mobile '01 23 45 67 89' is not a French mobile number"),
    ("mobile", "06 12 34", "mobile '06 12 34' is not a French mobile number"),
    ("postcode", "750", "postcode must be 5 digits (or 2A/2B and 3 digits for Corsica)"),
]


class TestAllOrNothing:
    @pytest.mark.parametrize(
        ("column", "value", "reason"), BAD_LINES, ids=[f"{c}-{v[:16]}" for c, v, _ in BAD_LINES]
    )
    def test_a_bad_line_is_reported_and_nothing_is_written(
        self, app: Flask, tmp_path: Path, column: str, value: str, reason: str
    ) -> None:
        good = _row(nir=OTHER_NIR)
        result = _import(app, _file(tmp_path, HEADER, good, _row(**{column: value})))
        assert result.exit_code == 1
        assert f"register.csv: line 3: {reason}" in result.stderr
        assert "line 2" not in result.stderr
        assert "nothing was imported" in result.stderr
        assert _count() == 0

    def test_a_nir_twice_in_the_file_is_an_error_on_the_second_line(
        self, app: Flask, tmp_path: Path
    ) -> None:
        path = _file(tmp_path, HEADER, _row(), _row(nir=OTHER_NIR), _row(first_names="Paul"))
        result = _import(app, path)
        assert result.exit_code == 1
        assert "line 4: same NIR as line 2" in result.stderr
        assert "line 2:" not in result.stderr and "line 3:" not in result.stderr
        assert _count() == 0

    def test_a_line_with_missing_fields(self, app: Flask, tmp_path: Path) -> None:
        result = _import(app, _file(tmp_path, HEADER, f"{NIR},1234567890,Lemoine"))
        assert result.exit_code == 1
        assert "line 2: expected 11 fields, found 3" in result.stderr

    @pytest.mark.parametrize(
        "header",
        [
            "nir,vitale_serial,last_name,first_names,sex,birth_date,email,mobile,address,city",
            "NIR,vitale_serial,last_name,first_names,sex,birth_date,email,mobile,address,postcode,city",
            _row(),
        ],
        ids=["missing-column", "capitalised", "no-header"],
    )
    def test_a_wrong_header(self, app: Flask, tmp_path: Path, header: str) -> None:
        result = _import(app, _file(tmp_path, header, _row(nir=OTHER_NIR)))
        assert result.exit_code == 1
        assert f"line 1: the header must be exactly {HEADER}" in result.stderr
        assert _count() == 0

    @pytest.mark.parametrize("content", ["", "\n\n", "\ufeff"])
    def test_an_empty_file(self, app: Flask, tmp_path: Path, content: str) -> None:
        path = tmp_path / "empty.csv"
        path.write_text(content, encoding="utf-8")
        result = _import(app, path)
        assert result.exit_code == 1
        assert "line 1: the file is empty" in result.stderr

    def test_a_file_that_is_not_utf8(self, app: Flask, tmp_path: Path) -> None:
        path = tmp_path / "latin1.csv"
        path.write_bytes(f"{HEADER}\n{_row(city='Orléans')}\n".encode("latin-1"))
        result = _import(app, path)
        assert result.exit_code == 1
        assert "line 2: this line is not UTF-8 text" in result.stderr
        assert _count() == 0

    def test_every_bad_line_is_reported_and_good_lines_change_nothing(
        self, app: Flask, tmp_path: Path
    ) -> None:
        assert _import(app, _file(tmp_path, HEADER, _row())).exit_code == 0
        before = _by_nir(NIR).city
        mixed = _file(
            tmp_path,
            HEADER,
            _row(city="Paris"),  # an update that must not happen
            _row(nir=OTHER_NIR, sex="X"),
            "",
            _row(nir=with_key("1550275056123")),  # a creation that must not happen
            _row(nir=with_key("1550275056124"), birth_date="2099-01-01", email="nope"),
            name="mixed.csv",
        )
        result = _import(app, mixed)
        assert result.exit_code == 1
        errors = [line for line in result.stderr.splitlines() if ": line " in line]
        assert errors == [
            "mixed.csv: line 3: sex must be F or M, found 'X'",
            "mixed.csv: line 6: birth date 2099-01-01 is in the future",
            "mixed.csv: line 6: e-mail 'nope' is not a valid address",
        ]
        assert "3 error(s): nothing was imported." in result.stderr
        assert _count() == 1 and _by_nir(NIR).city == before

    def test_the_report_of_the_service(self) -> None:
        records, errors = beneficiaries.read_csv(io.StringIO(f"{HEADER}\n{_row(sex='X')}\n"))
        assert records == []
        assert [str(error) for error in errors] == ["line 2: sex must be F or M, found 'X'"]
