"""`flask directory import FILE` and the directory search (SPEC §10)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from tests.builders import make_professional
from webapp.core.extensions import db
from webapp.models import Professional
from webapp.services import directory

SAMPLE = Path(__file__).parent.parent / "webapp" / "data" / "samples" / "directory.csv"
HEADER = "rpps,last_name,first_names,profession,specialty,structure,city,email,samu_regulator"
RPPS = "10000099001"
OTHER_RPPS = "10000099002"


def _row(**overrides: str) -> str:
    values = {
        "rpps": RPPS,
        "last_name": "Lemoine",
        "first_names": "Pierre",
        "profession": "medecin",
        "specialty": "medecine_generale",
        "structure": "Cabinet des Acacias",
        "city": "Lyon",
        "email": "pierre.lemoine@sante.example",
        "samu_regulator": "no",
    } | overrides
    return ",".join(values.values())


def _file(tmp_path: Path, *lines: str, name: str = "directory.csv") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _import(app: Flask, path: Path) -> Result:
    db.session.commit()  # the command runs in its own session; ours must hold no transaction
    result = app.test_cli_runner().invoke(args=["directory", "import", str(path)])
    db.session.commit()
    return result


def _load(text: str) -> directory.DirectoryReport:
    return directory.import_csv(io.StringIO(text))


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Professional)) or 0


def _by_rpps(rpps: str) -> Professional:
    found = db.session.scalar(select(Professional).where(Professional.rpps == rpps))
    assert found is not None
    return found


class TestSample:
    def test_imports_without_errors_then_changes_nothing(self, app: Flask) -> None:
        with SAMPLE.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
            report = directory.import_csv(stream)
        rows = len(SAMPLE.read_text(encoding="utf-8").splitlines()) - 1
        assert report.ok, report.errors
        assert (report.created, report.updated, report.unchanged) == (rows, 0, 0)
        assert _count() == rows >= 30
        db.session.commit()
        with SAMPLE.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
            again = directory.import_csv(stream)
        assert (again.created, again.updated, again.unchanged) == (0, 0, rows)

    def test_holds_the_demo_professionals(self, app: Flask) -> None:
        assert _load(SAMPLE.read_text(encoding="utf-8")).ok
        expected = {
            "10000000001": ("Martin", "Claire", "medecin", "medecine_generale"),
            "10000000002": ("Benali", "Karim", "medecin", "cardiologie"),
            "10000000003": ("Leroy", "Sophie", "pharmacien", None),
            "10000000004": ("Petit", "Thomas", "chirurgien_dentiste", None),
            "10000000005": ("Rousseau", "Nadia", "medecin", "medecine_urgence"),
            "10000000006": ("Garnier", "Hugo", "pharmacien", None),
            "10000000007": ("Lefèvre", "Anne", "medecin", "medecine_du_travail"),
        }
        for rpps, values in expected.items():
            found = _by_rpps(rpps)
            assert (found.last_name, found.first_names, found.profession, found.specialty) == (
                values
            )
            assert found.city == "Lyon" and found.account_id is None
        assert _by_rpps("10000000002").structure == "Hôpital Édouard-Herriot"
        assert _by_rpps("10000000005").email == "samu.demo@carnet.example"
        assert _by_rpps("10000000005").samu_regulator
        regulators = db.session.scalars(
            select(Professional).where(Professional.samu_regulator.is_(True))
        ).all()
        assert len(regulators) >= 2
        assert {(p.profession, p.specialty) for p in regulators} == {
            ("medecin", "medecine_urgence")
        }

    def test_covers_the_professions(self, app: Flask) -> None:
        assert _load(SAMPLE.read_text(encoding="utf-8")).ok
        professions = set(db.session.scalars(select(Professional.profession)))
        assert professions == {
            "medecin",
            "pharmacien",
            "chirurgien_dentiste",
            "infirmier",
            "sage_femme",
            "masseur_kinesitherapeute",
            "pedicure_podologue",
            "assistant_social",
        }


class TestUpsert:
    def test_a_changed_line_updates_the_row_and_keeps_the_account(self, app: Flask) -> None:
        account = make_professional()
        professional = account.professional
        assert professional is not None
        rpps = professional.rpps
        line = _row(
            rpps=rpps,
            last_name=professional.last_name,
            first_names=professional.first_names,
            structure="Centre de santé du Parc",
        )
        report = _load(f"{HEADER}\n{line}\n")
        assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
        db.session.commit()
        db.session.expire_all()
        row = _by_rpps(rpps)
        assert row.structure == "Centre de santé du Parc"
        assert row.account_id == account.id
        assert _count() == 1
        assert _load(f"{HEADER}\n{line}\n").unchanged == 1

    def test_fields_are_normalised(self, app: Flask) -> None:
        text = "\ufeff" + "\n".join(
            [
                HEADER,
                _row(last_name="  Le   Gall ", email=" Pierre.Lemoine@Sante.EXAMPLE "),
                _row(
                    rpps=OTHER_RPPS,
                    profession="pharmacien",
                    specialty="",
                    structure="",
                    city="",
                    email="",
                    samu_regulator="",
                ),
            ]
        )
        report = _load(text)
        assert report.ok and report.created == 2
        first, second = _by_rpps(RPPS), _by_rpps(OTHER_RPPS)
        assert (first.last_name, first.email) == ("Le Gall", "pierre.lemoine@sante.example")
        assert (second.specialty, second.structure, second.city, second.email) == (None,) * 4
        assert second.samu_regulator is False

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("yes", True),
            ("TRUE", True),
            ("1", True),
            ("no", False),
            ("false", False),
            ("0", False),
            ("", False),
        ],
    )
    def test_samu_regulator_values(self, app: Flask, value: str, expected: bool) -> None:
        line = _row(specialty="medecine_urgence", samu_regulator=value)
        assert _load(f"{HEADER}\n{line}\n").ok
        assert _by_rpps(RPPS).samu_regulator is expected

    def test_the_service_does_not_commit(self, app: Flask) -> None:
        _load(f"{HEADER}\n{_row()}\n")
        db.session.rollback()
        assert _count() == 0


BAD_LINES: list[tuple[dict[str, str], str]] = [  # (overrides, the reason the operator reads)
    ({"rpps": ""}, "RPPS is missing"),
    ({"rpps": "1000009900"}, "RPPS must be exactly 11 digits, found '1000009900'"),
    ({"rpps": "100000990011"}, "RPPS must be exactly 11 digits, found '100000990011'"),
    ({"rpps": "1000009900A"}, "RPPS must be exactly 11 digits, found '1000009900A'"),
    ({"rpps": "100 000 990"}, "RPPS must be exactly 11 digits, found '100 000 990'"),
    ({"last_name": " "}, "last name is missing"),
    ({"first_names": ""}, "first names is missing"),
    ({"last_name": "L" * 101}, "last name is longer than 100 characters"),
    ({"first_names": "P" * 151}, "first names is longer than 150 characters"),
    ({"profession": ""}, "profession is missing"),
    ({"profession": "docteur"}, "unknown profession 'docteur' (expected one of medecin, "),
    ({"profession": "Medecin"}, "unknown profession 'Medecin'"),
    ({"specialty": "chirurgie"}, "unknown specialty 'chirurgie'"),
    (
        {"profession": "pharmacien", "specialty": "cardiologie"},
        "specialty cardiologie belongs to the profession medecin, not pharmacien",
    ),
    ({"structure": "S" * 201}, "structure is longer than 200 characters"),
    ({"city": "C" * 101}, "city is longer than 100 characters"),
    ({"email": "pierre.sante.example"}, "e-mail 'pierre.sante.example' is not a valid address"),
    ({"email": "a@b@sante.example"}, "e-mail 'a@b@sante.example' is not a valid address"),
    ({"email": "pierre@localhost"}, "e-mail 'pierre@localhost' is not a valid address"),
    ({"email": "p" * 250 + "@sante.example"}, "e-mail is longer than 254 characters"),
    (
        {"samu_regulator": "maybe"},
        "samu_regulator must be yes, no, true, false, 1, 0 or empty, found 'maybe'",
    ),
    (
        {"profession": "infirmier", "specialty": "", "samu_regulator": "yes"},
        "only a physician (medecin) may be a SAMU regulator, not infirmier",
    ),
]


class TestAllOrNothing:
    @pytest.mark.parametrize(
        ("overrides", "reason"),
        BAD_LINES,
        ids=[f"{'+'.join(o)}-{next(iter(o.values()))[:16]}" for o, _ in BAD_LINES],
    )
    def test_a_bad_line_is_reported_and_nothing_is_written(
        self, app: Flask, tmp_path: Path, overrides: dict[str, str], reason: str
    ) -> None:
        good = _row(rpps=OTHER_RPPS)
        result = _import(app, _file(tmp_path, HEADER, good, _row(**overrides)))
        assert result.exit_code == 1
        assert f"directory.csv: line 3: {reason}" in result.stderr
        assert "line 2" not in result.stderr
        assert "1 error(s): nothing was imported." in result.stderr
        assert _count() == 0

    def test_an_rpps_twice_in_the_file_is_an_error_on_the_second_line(
        self, app: Flask, tmp_path: Path
    ) -> None:
        path = _file(tmp_path, HEADER, _row(), _row(rpps=OTHER_RPPS), _row(first_names="Paul"))
        result = _import(app, path)
        assert result.exit_code == 1
        assert "line 4: same RPPS as line 2" in result.stderr
        assert "line 2:" not in result.stderr and "line 3:" not in result.stderr
        assert _count() == 0

    @pytest.mark.parametrize(
        ("line", "found"),
        [(f"{RPPS},Lemoine,Pierre", 3), (_row() + ",extra", 10)],
        ids=["missing", "extra"],
    )
    def test_a_line_with_the_wrong_number_of_fields(
        self, app: Flask, tmp_path: Path, line: str, found: int
    ) -> None:
        result = _import(app, _file(tmp_path, HEADER, line))
        assert result.exit_code == 1
        assert f"line 2: expected 9 fields, found {found}" in result.stderr

    @pytest.mark.parametrize(
        "header",
        [
            "rpps,last_name,first_names,profession,specialty,structure,city,email",
            "RPPS,last_name,first_names,profession,specialty,structure,city,email,samu_regulator",
            "rpps,first_names,last_name,profession,specialty,structure,city,email,samu_regulator",
            _row(),
        ],
        ids=["missing-column", "capitalised", "reordered", "no-header"],
    )
    def test_a_wrong_header(self, app: Flask, tmp_path: Path, header: str) -> None:
        result = _import(app, _file(tmp_path, header, _row(rpps=OTHER_RPPS)))
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
        text = f"{HEADER}\n{_row(rpps=OTHER_RPPS)}\n{_row(last_name='Lefèvre')}\n"
        path.write_bytes(text.encode("latin-1"))
        result = _import(app, path)
        assert result.exit_code == 1
        assert "line 3: this line is not UTF-8 text" in result.stderr
        assert "line 2" not in result.stderr
        assert _count() == 0

    def test_good_lines_before_a_bad_one_are_not_written(self, app: Flask, tmp_path: Path) -> None:
        assert _import(app, _file(tmp_path, HEADER, _row())).exit_code == 0
        mixed = _file(
            tmp_path,
            HEADER,
            _row(structure="Clinique du Lac"),  # an update that must not happen
            _row(rpps="10000099003"),  # a creation that must not happen
            "",
            _row(rpps="10000099004", profession="sage_femme"),
            _row(rpps="123", email="nope"),
            name="mixed.csv",
        )
        result = _import(app, mixed)
        assert result.exit_code == 1
        errors = [line for line in result.stderr.splitlines() if ": line " in line]
        assert errors == [
            "mixed.csv: line 5: specialty medecine_generale belongs to the profession medecin, "
            "not sage_femme",
            "mixed.csv: line 6: RPPS must be exactly 11 digits, found '123'",
            "mixed.csv: line 6: e-mail 'nope' is not a valid address",
        ]
        assert "3 error(s): nothing was imported." in result.stderr
        assert _count() == 1 and _by_rpps(RPPS).structure == "Cabinet des Acacias"

    def test_the_report_of_the_service(self, app: Flask) -> None:
        report = _load(f"{HEADER}\n{_row(profession='docteur', specialty='')}\n")
        assert not report.ok and report.created == 0
        assert [str(error) for error in report.errors] == [
            "line 2: unknown profession 'docteur' (expected one of medecin, sage_femme, "
            "pharmacien, infirmier, masseur_kinesitherapeute, chirurgien_dentiste, "
            "pedicure_podologue, assistant_social)"
        ]


class TestCommand:
    def test_a_good_file_then_a_bad_one(self, app: Flask, tmp_path: Path) -> None:
        good = _import(app, _file(tmp_path, HEADER, _row(), _row(rpps=OTHER_RPPS)))
        assert good.exit_code == 0, good.output
        assert "Directory: 2 created, 0 updated, 0 unchanged." in good.output
        again = _import(
            app, _file(tmp_path, HEADER, _row(city="Villeurbanne"), _row(rpps=OTHER_RPPS))
        )
        assert "Directory: 0 created, 1 updated, 1 unchanged." in again.output
        bad = _import(app, _file(tmp_path, HEADER, _row(rpps="1"), name="bad.csv"))
        assert bad.exit_code == 1
        assert "bad.csv: line 2: RPPS must be exactly 11 digits, found '1'" in bad.output
        assert "Directory:" not in bad.output
        assert _count() == 2 and _by_rpps(RPPS).city == "Villeurbanne"

    def test_the_sample(self, app: Flask) -> None:
        result = _import(app, SAMPLE)
        assert result.exit_code == 0, result.output
        assert f"Directory: {_count()} created, 0 updated, 0 unchanged." in result.output
        again = _import(app, SAMPLE)
        assert f"Directory: 0 created, 0 updated, {_count()} unchanged." in again.output


def _names(found: list[Professional]) -> list[str]:
    return [f"{p.first_names} {p.last_name}" for p in found]


@pytest.fixture
def sample(app: Flask) -> None:
    assert _load(SAMPLE.read_text(encoding="utf-8")).ok
    db.session.commit()


@pytest.mark.usefixtures("sample")
class TestSearch:
    @pytest.mark.parametrize("query", ["lefevre", "LEFÈVRE", "Lefèvre", "lefÈvre", " anne  lef "])
    def test_ignores_case_and_accents(self, query: str) -> None:
        assert _names(directory.search(query)) == ["Anne Lefèvre"]

    def test_accented_query_finds_plain_text(self, app: Flask) -> None:
        line = _row(last_name="Lefevre", first_names="Eloise", city="Orleans")
        assert _load(f"{HEADER}\n{line}\n").ok
        assert _names(directory.search("lefèvre éloïse")) == ["Eloise Lefevre"]
        assert _names(directory.search("ORLÉANS")) == ["Eloise Lefevre"]

    def test_matches_every_word_in_names_city_and_structure(self) -> None:
        assert _names(directory.search("edouard herriot")) == ["Karim Benali"]
        assert _names(directory.search("pharmacie lyon")) == ["Hugo Garnier", "Sophie Leroy"]
        assert _names(directory.search("gwenaelle")) == ["Gwenaëlle Le Gall"]
        assert directory.search("herriot rennes") == []

    def test_ordered_by_last_name_then_first_names(self) -> None:
        found = directory.search("lyon")
        keys = [(p.last_name, p.first_names) for p in found]
        assert keys == sorted(keys) and len(found) == 10

    def test_filters_by_profession_and_city(self) -> None:
        pharmacists = directory.search("", profession="pharmacien")
        assert {p.profession for p in pharmacists} == {"pharmacien"} and len(pharmacists) == 4
        in_lyon = directory.search("", profession="pharmacien", city="lyon")
        assert _names(in_lyon) == ["Hugo Garnier", "Sophie Leroy"]
        assert _names(directory.search("garnier", city="Lyon")) == ["Hugo Garnier"]
        assert directory.search("garnier", city="Paris") == []
        clermont = directory.search("", city="CLERMONT-FERRAND")
        assert {p.city for p in clermont} == {"Clermont-Ferrand"} and len(clermont) == 3
        assert directory.search("", city=" clermont ") == clermont  # the start of the name
        assert directory.search("", city="ferrand") == []
        assert len(directory.search("", city="Lyon", limit=50)) == 10
        assert directory.search("martin", profession="pharmacien") == []
        assert directory.search("", profession="plombier") == []

    def test_limit(self) -> None:
        assert len(directory.search("", city="Lyon", limit=3)) == 3
        assert len(directory.search("lyon")) == 10
        assert len(directory.search("e", limit=20)) == 20
        assert directory.search("lyon", limit=0) == []

    @pytest.mark.parametrize("query", ["", "   ", "\t"])
    def test_an_empty_query_without_filters_finds_nothing(self, query: str) -> None:
        assert directory.search(query) == []
        assert directory.search(query, profession=" ", city="") == []

    @pytest.mark.parametrize("query", ["%", "_", "100%_\\"])
    def test_like_wildcards_are_plain_characters(self, query: str) -> None:
        assert directory.search(query) == []
