"""The matrix and the value sets are data, checked at start."""

from __future__ import annotations

import pytest

from webapp.services import catalogue
from webapp.services.catalogue import CatalogueError

TYPES = """code,system,label_fr,label_en,category,default_for_category
T1,LOINC,Un,One,ma_sante,yes
T2,LOINC,Deux,Two,ordonnances,yes
T3,LOINC,Trois,Three,imagerie,yes
T4,LOINC,Quatre,Four,biologie,yes
T5,LOINC,Cinq,Five,comptes_rendus,yes
T6,LOINC,Six,Six,prevention,yes
T7,LOINC,Sept,Seven,certificats,yes
T8,LOINC,Huit,Eight,administratif,yes
T9,LOINC,Neuf,Nine,autres,yes
"""
PROFESSIONS = (
    "code,label_fr,label_en\nmedecin,Médecin,Physician\npharmacien,Pharmacien,Pharmacist\n"
)
HEADER = "profession,specialty,resource,read,download\n"


def test_the_shipped_files_load() -> None:
    loaded = catalogue.current()
    assert len(loaded.types) >= 15
    assert "42348-3" not in loaded.readable_types("chirurgien_dentiste", None)
    assert "15508-5" not in loaded.readable_types("pedicure_podologue", None)


def test_a_specialty_row_wins_over_the_profession_row() -> None:
    loaded = catalogue.parse(
        TYPES,
        PROFESSIONS,
        HEADER + "medecin,*,T1,yes,yes\nmedecin,medecine_du_travail,T1,no,no\n",
    )
    assert loaded.grant("medecin", "cardiologie", "T1").read
    assert not loaded.grant("medecin", "medecine_du_travail", "T1").read


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (HEADER + "sorcier,*,T1,yes,yes\n", "line 2: unknown profession sorcier"),
        (HEADER + "medecin,*,T1,yes,yes\nmedecin,*,XX,yes,no\n", "line 3: unknown resource XX"),
        (HEADER + "medecin,*,T1,oui,yes\n", "'oui' must be yes or no"),
        (HEADER + "medecin,*,T1,no,yes\n", "download without read"),
        ("profession,resource,read\nmedecin,T1,yes\n", "columns must be"),
    ],
)
def test_bad_matrix_stops_the_start(matrix: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        catalogue.parse(TYPES, PROFESSIONS, matrix)


def test_unknown_category_in_the_value_set() -> None:
    with pytest.raises(CatalogueError, match="unknown category"):
        catalogue.parse(TYPES + "T10,LOINC,Dix,Ten,astrologie,no\n", PROFESSIONS, HEADER)


def test_every_category_needs_a_default_type() -> None:
    without_other = TYPES.replace("T9,LOINC,Neuf,Nine,autres,yes\n", "")
    with pytest.raises(CatalogueError, match="no default type for category autres"):
        catalogue.parse(without_other, PROFESSIONS, HEADER)
