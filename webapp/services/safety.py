"""Safety warnings when a treatment is added (issue: the medical profile, §4).

A treatment warns when its medicine or active substance matches a recorded allergy, directly
or through its class (amoxicilline → pénicillines), or when it duplicates a current treatment
(the same substance, or two medicines of the same class). Matching ignores case and accents.
The substance table is data (`webapp/data/substances.csv`), checked at load.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


def fold(text: str) -> str:
    """Lower case, no accents, single spaces; hyphens and apostrophes are spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^a-z0-9]+", " ", plain.lower())
    return " ".join(plain.split())


def _stem(word: str) -> str:
    """Singular and plural alike: pénicillines = pénicilline."""
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


def _stems(text: str) -> str:
    return " ".join(_stem(word) for word in fold(text).split())


def _contains(haystack: str, needle: str) -> bool:
    """Whole words: "iode" is not found in "iodure"... nor "pen" in "penicilline"."""
    if not needle:
        return False
    return f" {needle} " in f" {haystack} "


@dataclass(frozen=True)
class SubstanceTable:
    classes: dict[str, str]  # stemmed substance -> stemmed class
    names: dict[str, str]  # stemmed class -> the class as written (for messages)

    def find(self, text: str) -> tuple[str, str] | None:
        """The longest known substance named in `text`, and its class (both stemmed)."""
        words = _stems(text)
        found = [key for key in self.classes if _contains(words, key)]
        if not found:
            return None
        key = max(found, key=len)
        return key, self.classes[key]


class SubstanceTableError(ValueError):
    pass


def parse(text: str) -> SubstanceTable:
    kept = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.startswith("#")
    ]
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in kept)))
    if reader.fieldnames != ["substance", "class"]:
        raise SubstanceTableError("substances.csv: columns must be substance,class")
    classes: dict[str, str] = {}
    names: dict[str, str] = {}
    for row in reader:
        number = kept[reader.line_num - 1][0]  # the file's own line, comments included
        substance, klass = _stems(row["substance"] or ""), _stems(row["class"] or "")
        if not substance or not klass:
            raise SubstanceTableError(f"substances.csv line {number}: empty cell")
        if substance in classes and classes[substance] != klass:
            raise SubstanceTableError(f"substances.csv line {number}: {substance} has two classes")
        classes[substance] = klass
        names.setdefault(klass, (row["class"] or "").strip())
        # A class named alone ("pénicillines") is itself a known word.
        classes.setdefault(klass, klass)
    return SubstanceTable(classes, names)


@lru_cache(maxsize=1)
def table() -> SubstanceTable:
    return parse(resources.files("webapp.data").joinpath("substances.csv").read_text("utf-8"))


@dataclass(frozen=True)
class Recorded:
    """An allergy or a current treatment already in the profile."""

    entry_id: int
    label: str
    detail: str = ""  # for an allergy: the reaction and severity, as the patient wrote them


@dataclass(frozen=True)
class Warning:
    kind: str  # "allergy" or "duplicate"
    how: str  # "same" (the same substance) or "class" (the same class)
    against: Recorded
    class_name: str  # the class, as written in the table ("" when how == "same")

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.against.entry_id}"


def _relation(new: str, old: str) -> tuple[str, str] | None:
    """How two names meet: ("same", "") or ("class", class name), or None."""
    known = table()
    new_words, old_words = _stems(new), _stems(old)
    if not new_words or not old_words:
        return None
    if new_words == old_words or _contains(new_words, old_words) or _contains(old_words, new_words):
        return "same", ""
    new_found, old_found = known.find(new), known.find(old)
    if new_found and old_found:
        if new_found[0] == old_found[0]:
            return "same", ""
        if new_found[1] == old_found[1]:
            return "class", known.names.get(new_found[1], new_found[1])
    return None


def check_treatment(
    medicine: str, allergies: Iterable[Recorded], current: Iterable[Recorded]
) -> list[Warning]:
    """Everything a prescriber must acknowledge before this treatment is recorded."""
    warnings: list[Warning] = []
    for allergy in allergies:
        found = _relation(medicine, allergy.label)
        if found is not None:
            warnings.append(Warning("allergy", found[0], allergy, found[1]))
    for treatment in current:
        found = _relation(medicine, treatment.label)
        if found is not None:
            warnings.append(Warning("duplicate", found[0], treatment, found[1]))
    return warnings
