"""The medical profile's entries (SPEC §3): structured, so that the emergency summary and the
safety checks can read them, each with its author, its version and its masking."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core import clock
from webapp.models.base import Base, UTCDateTime


class Section(StrEnum):
    """Profile sections; each maps to a resource of the access matrix."""

    CONDITIONS = "conditions"  # conditions and surgical history
    ALLERGIES = "allergies"
    TREATMENTS = "treatments"
    VACCINATIONS = "vaccinations"
    FAMILY = "family"
    MEASUREMENTS = "measurements"
    WISHES = "wishes"
    PEOPLE = "people"

    @property
    def resource(self) -> str:
        return SECTION_RESOURCES[self]


SECTION_RESOURCES = {
    Section.CONDITIONS: "PROFIL-ANTECEDENTS",
    Section.ALLERGIES: "PROFIL-ALLERGIES",
    Section.TREATMENTS: "PROFIL-TRAITEMENTS",
    Section.VACCINATIONS: "PROFIL-VACCINS",
    Section.FAMILY: "PROFIL-FAMILLE",
    Section.MEASUREMENTS: "PROFIL-MESURES",
    Section.WISHES: "PROFIL-VOLONTES",
    Section.PEOPLE: "PROFIL-ENTOURAGE",
}


class EntryKind(StrEnum):
    """What an entry is, within its section."""

    CONDITION = "condition"
    SURGERY = "surgery"
    ALLERGY = "allergy"
    TREATMENT = "treatment"
    VACCINATION = "vaccination"
    FAMILY = "family"
    BLOOD_GROUP = "blood_group"
    ADVANCE_DIRECTIVES = "advance_directives"
    ORGAN_DONATION = "organ_donation"
    TRUSTED_PERSON = "trusted_person"
    EMERGENCY_CONTACT = "emergency_contact"


class ProfileEntry(Base):
    __tablename__ = "profile_entries"
    __table_args__ = (Index("ix_profile_patient_section", "patient_id", "section", "deleted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    section: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    # The main words: a condition, a substance, a medicine, a vaccine, a person's name, a
    # blood group, an organ-donation position.
    label: Mapped[str] = mapped_column(String(200), default="")  # none for directives
    reaction: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(12), default="")
    dose: Mapped[str] = mapped_column(String(100), default="")
    frequency: Mapped[str] = mapped_column(String(100), default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    prescriber: Mapped[str] = mapped_column(String(200), default="")
    batch: Mapped[str] = mapped_column(String(60), default="")
    relation: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    author_kind: Mapped[str] = mapped_column(String(16))
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    author_label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    masked_from_pros: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A treatment recorded despite a safety warning: what was acknowledged, by whom, when.
    acknowledged: Mapped[str] = mapped_column(String(300), default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def current(self) -> bool:
        """A treatment without an end date, or ending today or later, is current."""

        today = clock.to_paris(clock.now()).date()
        return self.end_date is None or self.end_date >= today


class MeasureKind(StrEnum):
    HEIGHT = "height"  # cm
    WEIGHT = "weight"  # kg
    BLOOD_PRESSURE = "blood_pressure"  # mmHg, systolic in value, diastolic in value2
    GLUCOSE = "glucose"  # stored in mmol/L; `unit` is the one the person typed


class Measurement(Base):
    """One measurement of a series (the profile's "Mesures"), charted by kind over time."""

    __tablename__ = "measurements"
    __table_args__ = (
        Index("ix_measurements_series", "patient_id", "kind", "deleted_at", "measured_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(String(16))
    measured_on: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    value2: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(8))
    fasting: Mapped[bool | None] = mapped_column(Boolean)
    author_kind: Mapped[str] = mapped_column(String(16))
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    author_label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    masked_from_pros: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
