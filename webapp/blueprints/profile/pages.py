"""The profile's pages: what each section holds, its forms, and the page or fragment that
shows a section, an entry, an edit or a conflict. The routes (routes.py) decide and save;
this module renders."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice  # type: ignore[attr-defined]

from webapp import policy
from webapp.blueprints.profile.charts import chart_blocks
from webapp.blueprints.profile.forms import ENTRY_FORMS, MEASURE_FORMS, EntryForm, MeasureForm
from webapp.models import (
    Account,
    EntryKind,
    MeasureKind,
    Measurement,
    Patient,
    ProfileEntry,
    Section,
)
from webapp.policy import Permission, SectionOf, loaders
from webapp.policy.decide import entry_rights
from webapp.policy.relations import patient_of
from webapp.services import profile, safety
from webapp.web import htmx
from webapp.web.labels import SECTION_TITLES
from webapp.web.paging import requested_page
from webapp.web.security import current_account

SECTION_KINDS: dict[Section, tuple[EntryKind | MeasureKind, ...]] = {
    Section.ALLERGIES: (EntryKind.ALLERGY,),
    Section.TREATMENTS: (EntryKind.TREATMENT,),
    Section.CONDITIONS: (EntryKind.CONDITION, EntryKind.SURGERY),
    Section.WISHES: (EntryKind.ADVANCE_DIRECTIVES, EntryKind.ORGAN_DONATION),
    Section.PEOPLE: (EntryKind.TRUSTED_PERSON, EntryKind.EMERGENCY_CONTACT),
    Section.MEASUREMENTS: (
        MeasureKind.BLOOD_PRESSURE,
        MeasureKind.WEIGHT,
        MeasureKind.HEIGHT,
        MeasureKind.GLUCOSE,
        EntryKind.BLOOD_GROUP,
    ),
    Section.VACCINATIONS: (EntryKind.VACCINATION,),
    Section.FAMILY: (EntryKind.FAMILY,),
}


KIND_ADD = {
    EntryKind.ALLERGY: _l("Ajouter une allergie"),
    EntryKind.TREATMENT: _l("Ajouter un traitement"),
    EntryKind.CONDITION: _l("Ajouter une maladie"),
    EntryKind.SURGERY: _l("Ajouter une intervention chirurgicale"),
    EntryKind.ADVANCE_DIRECTIVES: _l("Écrire mes directives anticipées"),
    EntryKind.ORGAN_DONATION: _l("Indiquer ma position sur le don d'organes"),
    EntryKind.TRUSTED_PERSON: _l("Désigner une personne de confiance"),
    EntryKind.EMERGENCY_CONTACT: _l("Ajouter une personne à prévenir"),
    EntryKind.VACCINATION: _l("Ajouter une vaccination"),
    EntryKind.FAMILY: _l("Ajouter un antécédent familial"),
    EntryKind.BLOOD_GROUP: _l("Indiquer le groupe sanguin"),
    MeasureKind.BLOOD_PRESSURE: _l("Ajouter une tension artérielle"),
    MeasureKind.WEIGHT: _l("Ajouter un poids"),
    MeasureKind.HEIGHT: _l("Ajouter une taille"),
    MeasureKind.GLUCOSE: _l("Ajouter une glycémie"),
}


def kind_for(section: Section, raw: str | None) -> EntryKind | MeasureKind:
    kinds = SECTION_KINDS[section]
    for kind in kinds:
        if kind.value == raw:
            return kind
    return kinds[0]


def url_args(section: Section, patient: Patient, actor: Account) -> dict[str, Any]:
    """The holder reaches her profile at /profile/…, a professional at /profile/patients/<id>/…"""
    if loaders.holds(actor, patient):
        return {"section": section.value}
    return {"section": section.value, "patient_id": patient.id}


def section_url(section: Section, patient: Patient, actor: Account, **args: Any) -> str:
    return url_for("profile.section", **url_args(section, patient, actor), **args)


def new_form(kind: EntryKind | MeasureKind, patient: Patient, **kwargs: Any) -> EntryForm:
    form_class: type[EntryForm] = (
        MEASURE_FORMS[kind] if isinstance(kind, MeasureKind) else ENTRY_FORMS[kind]
    )
    form = form_class(**kwargs)
    form.birth_date = patient.birth_date
    if kind == EntryKind.ADVANCE_DIRECTIVES:
        # Only documents this person may see: never a masked or a held one's title.
        actor = current_account()
        documents = profile.directive_documents(actor, patient)
        form.document_id.choices = [SelectChoice("", _l("Aucun document"))] + [  # type: ignore[attr-defined]
            SelectChoice(str(doc.id), doc.title) for doc in documents
        ]
    return form


def entry_values(form: EntryForm) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in profile.ENTRY_FIELDS:
        if hasattr(form, name):
            data = getattr(form, name).data
            if name == "document_id":
                raw = data.strip() if isinstance(data, str) else ""
                data = int(raw) if raw.isdigit() and len(raw) <= 9 else None
            elif isinstance(data, str):
                data = data.strip()
            elif data is None and name not in ("start_date", "end_date"):
                data = ""  # a text field missing from the POST: never NULL
            values[name] = data
    return values


def bmi(latest: dict[str, Measurement]) -> float | None:
    height, weight = latest.get(MeasureKind.HEIGHT), latest.get(MeasureKind.WEIGHT)
    if height is None or weight is None or height.value <= 0:
        return None
    return round(weight.value / (height.value / 100) ** 2, 1)


def section_page(
    actor: Account,
    patient: Patient,
    section: Section,
    *,
    form: EntryForm | None = None,
    kind: EntryKind | MeasureKind | None = None,
    warnings: list[safety.Warning] | None = None,
    status: int = 200,
    partial: bool = False,
    saved: bool = False,
) -> ResponseReturnValue:
    found = profile.view(actor, patient)
    can_write = policy.decide(actor, Permission.PROFILE_WRITE, SectionOf(patient, section))
    kind = kind or kind_for(section, request.args.get("kind"))
    if form is None and can_write:
        form = new_form(kind, patient, formdata=None)  # after a save: empty, not the one sent
    measures: list[Measurement] = []
    charted: list[Measurement] = []
    page, pages = requested_page(), 1
    if section == Section.MEASUREMENTS:
        charted = profile.measurements(actor, patient)
        listed = profile.measurement_page(actor, patient, page=page)
        measures, pages = list(listed.items), listed.pages
    context = {
        "patient": patient,
        "section": section,
        "title": SECTION_TITLES[section],
        "entries": found.of(section),
        "measures": measures,
        "chart_blocks": chart_blocks(charted) if section == Section.MEASUREMENTS else [],
        "page": page,
        "pages": pages,
        "form": form,
        "kind": kind,
        "kinds": SECTION_KINDS[section],
        "kind_add": KIND_ADD,
        "can_write": bool(can_write),
        "warnings": warnings or [],
        "section_url": section_url(section, patient, actor),
        "url_args": url_args(section, patient, actor),
        "add_url": add_url(section, patient, actor, kind),
        "check_url": check_url(section, patient, actor, kind),
        "own": loaders.holds(actor, patient),
        "saved": saved,
        "can": can_for(actor, patient),
        "summary_url": url_for("profile.summary")
        if loaders.holds(actor, patient)
        else url_for("profile.summary", patient_id=patient.id),
    }
    template = "profile/_section_body.html" if partial else "profile/section.html"
    return render_template(template, **context), status


def can_for(actor: Account, patient: Patient) -> Callable[[str, ProfileEntry | Measurement], bool]:
    rights = entry_rights(actor, patient)

    def can(permission: str, row: ProfileEntry | Measurement) -> bool:
        return rights(Permission(permission), row).allowed

    return can


def add_url(section: Section, patient: Patient, actor: Account, kind: Any) -> str:
    return url_for("profile.add", **url_args(section, patient, actor), kind=kind.value)


def check_url(section: Section, patient: Patient, actor: Account, kind: Any) -> str:
    return url_for("profile.check", **url_args(section, patient, actor), kind=kind.value)


def version_of(raw: str | None) -> int:
    """The version a form was opened at; anything else never matches (a conflict, not a 500)."""
    return int(raw) if raw and re.fullmatch(r"[0-9]{1,9}", raw) else -1


def section_of(row: ProfileEntry | Measurement) -> Section:
    return Section(row.section) if isinstance(row, ProfileEntry) else Section.MEASUREMENTS


def kind_of(row: ProfileEntry | Measurement) -> EntryKind | MeasureKind:
    return EntryKind(row.kind) if isinstance(row, ProfileEntry) else MeasureKind(row.kind)


def filled_form(row: ProfileEntry | Measurement, patient: Patient) -> EntryForm:
    kind = kind_of(row)
    if isinstance(row, Measurement):
        form = new_form(kind, patient, formdata=None)
        assert isinstance(form, MeasureForm)
        form.measured_on.data = row.measured_on
        form.fill(row.value, row.value2, row.unit, row.fasting)
    else:
        form = new_form(kind, patient, formdata=None, obj=row)
        if hasattr(form, "document_id"):
            form.document_id.data = str(row.document_id or "")
    form.version.data = str(row.version)
    return form


def entry_fragment(
    actor: Account, row: ProfileEntry | Measurement, notice: str | None = None
) -> str:
    patient = patient_of(row.patient_id)
    return render_template(
        "profile/_row.html",
        row=row,
        can=can_for(actor, patient),
        own=loaders.holds(actor, patient),
        status=_("C'est enregistré.") if notice is None else None,
        notice=notice,
    )


def edit_page(
    form: EntryForm,
    row: ProfileEntry | Measurement,
    back: str,
    *,
    warnings: list[safety.Warning],
    status: int = 200,
) -> ResponseReturnValue:
    table = "entries" if isinstance(row, ProfileEntry) else "measurements"
    template = "profile/_edit_row.html" if htmx.is_request() else "profile/edit.html"
    return render_template(
        template,
        form=form,
        row=row,
        kind=kind_of(row),
        back=back,
        warnings=warnings,
        edit_url=url_for("profile.edit", table=table, row_id=row.id),
    ), status


def conflict_page(
    actor: Account,
    patient: Patient,
    current: ProfileEntry | Measurement,
    mine: EntryForm,
    back: str,
) -> ResponseReturnValue:
    """Both versions side by side; the person chooses. Nothing was overwritten."""
    table = "entries" if isinstance(current, ProfileEntry) else "measurements"
    deleted = current.deleted_at is not None
    mine.version.data = str(current.version)
    return render_template(
        "profile/conflict.html",
        current=current,
        mine=mine,
        deleted=deleted,
        back=back,
        kind=kind_of(current),
        edit_url=url_for("profile.edit", table=table, row_id=current.id),
    ), 409 if not htmx.is_request() else 422
