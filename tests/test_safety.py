"""Safety warnings when a treatment is added: allergies and duplicates, as a table.

The expectations are written by hand from webapp/data/substances.csv and the matching rules
(case and accents ignored, singular = plural, whole words only); never computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask

from tests.builders import authorise, make_patient, make_professional
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import Account, EntryKind, Patient, ProfileEntry, Section
from webapp.services import profile, safety
from webapp.services.safety import Recorded, SubstanceTableError

# (kind, how, the recorded label it was found against, the class as written in the table)
Found = tuple[str, str, str, str]


@dataclass(frozen=True)
class Check:
    name: str
    medicine: str
    allergies: tuple[str, ...] = ()
    current: tuple[str, ...] = ()
    expected: tuple[Found, ...] = ()


PENICILLINS = "pénicillines"
NSAIDS = "anti-inflammatoires non stéroïdiens"

CHECKS = [
    # an allergy, through the substance itself
    Check(
        "same substance",
        "Amoxicilline",
        ("amoxicilline",),
        (),
        (("allergy", "same", "amoxicilline", ""),),
    ),
    Check(
        "case and accents", "ASPIRINE", ("aspirine",), (), (("allergy", "same", "aspirine", ""),)
    ),
    Check(
        "accents the other way",
        "Lévofloxacine",
        ("levofloxacine",),
        (),
        (("allergy", "same", "levofloxacine", ""),),
    ),
    Check(
        "plural allergy",
        "amoxicillines",
        ("amoxicilline",),
        (),
        (("allergy", "same", "amoxicilline", ""),),
    ),
    Check(
        "dose after the name",
        "Amoxicilline 1 g",
        ("Amoxicilline",),
        (),
        (("allergy", "same", "Amoxicilline", ""),),
    ),
    Check(
        "an allergy not in the table",
        "Arachide",
        ("arachides",),
        (),
        (("allergy", "same", "arachides", ""),),
    ),
    Check("latex is its own class", "Latex", ("latex",), (), (("allergy", "same", "latex", ""),)),
    Check(
        "iodé is iode, a whole word",
        "Produit de contraste iodé",
        ("Iode",),
        (),
        (("allergy", "same", "Iode", ""),),
    ),
    Check(
        "pénicilline V and the class",
        "Pénicilline V",
        ("Pénicillines",),
        (),
        (("allergy", "same", "Pénicillines", ""),),
    ),
    # an allergy, through the class
    Check(
        "upper case vs the class word",
        "AMOXICILLINE",
        ("pénicilline",),
        (),
        (("allergy", "class", "pénicilline", PENICILLINS),),
    ),
    Check(
        "brand Clamoxyl",
        "Clamoxyl 1 g",
        ("Pénicillines",),
        (),
        (("allergy", "class", "Pénicillines", PENICILLINS),),
    ),
    Check(
        "brand Augmentin, no accent typed",
        "Augmentin",
        ("penicilline",),
        (),
        (("allergy", "class", "penicilline", PENICILLINS),),
    ),
    Check(
        "two brands of one class",
        "Oracilline",
        ("Clamoxyl",),
        (),
        (("allergy", "class", "Clamoxyl", PENICILLINS),),
    ),
    Check(
        "Kardégic is aspirin",
        "Kardégic 75",
        ("aspirine",),
        (),
        (("allergy", "class", "aspirine", NSAIDS),),
    ),
    Check(
        "a class named in words",
        "Advil",
        ("anti-inflammatoires non stéroïdiens",),
        (),
        (("allergy", "class", "anti-inflammatoires non stéroïdiens", NSAIDS),),
    ),
    Check(
        "Bactrim and the sulfamides",
        "Bactrim forte",
        ("sulfamides",),
        (),
        (("allergy", "class", "sulfamides", "sulfamides"),),
    ),
    Check("opiates", "Tramadol", ("Codéine",), (), (("allergy", "class", "Codéine", "opiacés"),)),
    Check(
        "local anaesthetics",
        "Xylocaïne",
        ("Lidocaïne",),
        (),
        (("allergy", "class", "Lidocaïne", "anesthésiques locaux"),),
    ),
    # duplicates of a current treatment
    Check(
        "same medicine, two doses",
        "Doliprane 1000 mg",
        (),
        ("Doliprane 500",),
        (("duplicate", "same", "Doliprane 500", ""),),
    ),
    Check(
        "Doliprane is paracétamol",
        "Doliprane 1000 mg",
        (),
        ("Paracétamol",),
        (("duplicate", "class", "Paracétamol", "paracétamol"),),
    ),
    Check(
        "two paracétamol brands",
        "Efferalgan",
        (),
        ("Dafalgan",),
        (("duplicate", "class", "Dafalgan", "paracétamol"),),
    ),
    Check(
        "two NSAIDs",
        "Ibuprofène",
        (),
        ("Kétoprofène 100 mg",),
        (("duplicate", "class", "Kétoprofène 100 mg", NSAIDS),),
    ),
    Check(
        "two cephalosporins",
        "Rocéphine",
        (),
        ("Ceftriaxone",),
        (("duplicate", "class", "Ceftriaxone", "céphalosporines"),),
    ),
    Check(
        "two fluoroquinolones",
        "Ciprofloxacine",
        (),
        ("Ofloxacine",),
        (("duplicate", "class", "Ofloxacine", "fluoroquinolones"),),
    ),
    # both at once, in order: allergies first
    Check(
        "an allergy and a duplicate",
        "Amoxicilline",
        ("pénicilline",),
        ("Clamoxyl",),
        (
            ("allergy", "class", "pénicilline", PENICILLINS),
            ("duplicate", "class", "Clamoxyl", PENICILLINS),
        ),
    ),
    Check(
        "two allergies",
        "Augmentin",
        ("Pénicilline", "latex", "amoxicilline"),
        (),
        (
            ("allergy", "class", "Pénicilline", PENICILLINS),
            ("allergy", "class", "amoxicilline", PENICILLINS),
        ),
    ),
    # no warning
    Check("no cross-class rule: cephalosporin vs penicillin", "Céfalexine", ("Pénicilline",)),
    Check("a macrolide vs penicillin", "Azithromycine", ("Pénicilline",)),
    Check("paracétamol vs an aspirin allergy", "Paracétamol", ("Aspirine",)),
    Check("iodure is not iode (whole words)", "Iodure de potassium", ("iode",)),
    Check("a fragment is not a word", "Pen", ("pénicilline",)),
    Check("acide is not enough", "Amoxicilline acide clavulanique", ("acide acétylsalicylique",)),
    Check("an opiate is no duplicate of paracétamol", "Morphine", (), ("Paracétamol",)),
    Check("an unknown medicine", "Levothyrox", ("Pénicilline",), ("Doliprane",)),
    Check("nothing typed", "", ("Pénicilline",), ("Doliprane",)),
    Check("blank words", " - ", ("Pénicilline",), ("Doliprane",)),
    Check("nothing recorded", "Amoxicilline"),
]


def _found(warnings: list[safety.Warning]) -> tuple[Found, ...]:
    return tuple((w.kind, w.how, w.against.label, w.class_name) for w in warnings)


@pytest.mark.parametrize("check", CHECKS, ids=[check.name for check in CHECKS])
def test_check_treatment(check: Check) -> None:
    allergies = [Recorded(n, label, "") for n, label in enumerate(check.allergies, start=1)]
    current = [Recorded(100 + n, label) for n, label in enumerate(check.current, start=1)]
    assert _found(safety.check_treatment(check.medicine, allergies, current)) == check.expected


def test_the_table_is_large_and_has_both_outcomes() -> None:
    assert len(CHECKS) >= 24
    assert len({check.name for check in CHECKS}) == len(CHECKS)
    assert sum(1 for check in CHECKS if not check.expected) >= 8
    hows = {found[:2] for check in CHECKS for found in check.expected}
    assert hows == {
        ("allergy", "same"),
        ("allergy", "class"),
        ("duplicate", "same"),
        ("duplicate", "class"),
    }


def test_a_warning_names_the_entry_it_was_found_against() -> None:
    allergy = Recorded(7, "Pénicilline", "urticaire, Sévère")
    (warning,) = safety.check_treatment("Clamoxyl", [allergy], [])
    assert warning.against is allergy and warning.key == "allergy:7"
    (duplicate,) = safety.check_treatment("Clamoxyl", [], [Recorded(9, "Clamoxyl")])
    assert duplicate.key == "duplicate:9"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Pénicilline", "penicilline"),
        ("ANTI-INFLAMMATOIRES  non stéroïdiens", "anti inflammatoires non steroidiens"),
        ("Kardégic®  75", "kardegic 75"),
        ("l'aspirine", "l aspirine"),
        ("Xylocaïne", "xylocaine"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert safety.fold(text) == folded


# --- the substance table --------------------------------------------------------------------


def test_the_shipped_table_loads() -> None:
    safety.table.cache_clear()
    known = safety.table()
    assert known.find("Clamoxyl") == ("clamoxyl", "penicilline")
    assert known.find("amoxicilline acide clavulanique") == (
        "amoxicilline acide clavulanique",
        "penicilline",
    )
    assert known.names["penicilline"] == PENICILLINS
    assert known.find("pénicillines") == ("penicilline", "penicilline")
    assert known.find("Levothyrox") is None
    for klass in set(known.classes.values()):  # every class is a known word by itself
        assert known.find(klass) is not None, klass


def test_parse_skips_comments_and_blank_lines() -> None:
    known = safety.parse("# a comment\n\nsubstance,class\n# another\nAspirine,AINS\n\n")
    assert known.classes == {"aspirine": "ain", "ain": "ain"}
    assert known.names == {"ain": "AINS"}


def test_parse_allows_a_repeated_line() -> None:
    known = safety.parse("substance,class\naspirine,AINS\nAspirine,ains\n")
    assert known.classes["aspirine"] == "ain"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,class\naspirine,AINS\n", "columns must be substance,class"),
        ("class,substance\nAINS,aspirine\n", "columns must be substance,class"),
        ("substance,class,note\naspirine,AINS,x\n", "columns must be substance,class"),
        ("", "columns must be substance,class"),
        ("substance,class\naspirine,\n", "line 2: empty cell"),
        ("substance,class\n,AINS\n", "line 2: empty cell"),
        ("substance,class\naspirine\n", "line 2: empty cell"),
        ("substance,class\naspirine,AINS\n - ,AINS\n", "line 3: empty cell"),
        (
            "substance,class\naspirine,AINS\nibuprofène,AINS\naspirine,salicylés\n",
            "line 4: aspirine has two classes",
        ),
        # the line numbers are the file's own, comments and blank lines included
        ("# header comment\n\nsubstance,class\naspirine,AINS\n\naspirine,opiacés\n", "line 6:"),
    ],
)
def test_parse_refuses_a_bad_table(text: str, message: str) -> None:
    with pytest.raises(SubstanceTableError, match=message):
        safety.parse(text)


# --- what profile.safety_warnings reads: the profile, as the actor may see it ---------------


def _patient(account: Account) -> Patient:
    assert account.patient is not None
    return account.patient


def _add(holder: Account, section: Section, kind: EntryKind, label: str, **extra: object) -> int:
    now = clock.now()
    entry = ProfileEntry(
        patient_id=_patient(holder).id,
        section=section.value,
        kind=kind.value,
        label=label,
        author_kind="patient",
        author_account_id=holder.id,
        author_label="Alice",
        created_at=now,
        updated_at=now,
        **extra,
    )
    db.session.add(entry)
    db.session.commit()
    return entry.id


def _keys(actor: Account, holder: Account, medicine: str, **kwargs: int) -> list[str]:
    found = profile.safety_warnings(actor, _patient(holder), medicine, **kwargs)
    return [warning.key for warning in found]


def test_a_past_treatment_is_not_a_duplicate(app: Flask) -> None:
    holder = make_patient()
    today = clock.to_paris(clock.now()).date()
    _add(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Advil", end_date=today - timedelta(1))
    ending = _add(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Nurofen", end_date=today)
    going = _add(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Kétoprofène")
    assert _keys(holder, holder, "Ibuprofène") == [f"duplicate:{ending}", f"duplicate:{going}"]


def test_the_edited_treatment_is_not_its_own_duplicate(app: Flask) -> None:
    holder = make_patient()
    own = _add(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Doliprane")
    assert _keys(holder, holder, "Doliprane 1000") == [f"duplicate:{own}"]
    assert _keys(holder, holder, "Doliprane 1000", exclude_id=own) == []


def test_deleted_entries_and_other_kinds_do_not_warn(app: Flask) -> None:
    holder = make_patient()
    _add(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Pénicilline", deleted_at=clock.now())
    _add(holder, Section.CONDITIONS, EntryKind.CONDITION, "Pénicilline")  # not an allergy
    _add(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Clamoxyl", deleted_at=clock.now())
    assert _keys(holder, holder, "Amoxicilline") == []


def test_a_professional_is_warned_by_what_they_may_read(app: Flask) -> None:
    """A masked allergy warns the patient and the médecin traitant; a pharmacist, who may not
    read it, is not warned by it (nor told it exists)."""
    holder = make_patient()
    masked = _add(
        holder, Section.ALLERGIES, EntryKind.ALLERGY, "Pénicilline", masked_from_pros=True
    )
    shown = _add(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Aspirine")
    pharmacist = make_professional(profession="pharmacien", specialty=None)
    traitant = make_professional()
    authorise(pharmacist, holder)
    authorise(traitant, holder, traitant=True)
    assert _keys(holder, holder, "Augmentin") == [f"allergy:{masked}"]
    assert _keys(traitant, holder, "Augmentin") == [f"allergy:{masked}"]
    assert _keys(pharmacist, holder, "Augmentin") == []
    assert _keys(pharmacist, holder, "Kardégic") == [f"allergy:{shown}"]


def test_no_warning_from_a_section_the_professional_may_not_read(app: Flask) -> None:
    holder = make_patient()
    _add(holder, Section.ALLERGIES, EntryKind.ALLERGY, "Pénicilline")
    _add(holder, Section.TREATMENTS, EntryKind.TREATMENT, "Clamoxyl")
    outsider = make_professional()  # not authorised: reads nothing
    assert _keys(outsider, holder, "Amoxicilline") == []
