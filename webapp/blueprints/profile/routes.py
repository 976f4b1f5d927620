"""The medical profile: a one-screen summary, a page per section, and entries added, edited,
masked and deleted in place (htmx) or as plain forms. The patient reaches her own profile at
/profile/; an authorised professional reaches a patient's at /profile/patients/<id>/.
Every view asks the policy (services.access); a refusal is a 404."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import SelectChoice  # type: ignore[attr-defined]

from webapp.blueprints.profile import bp
from webapp.blueprints.profile.forms import (
    ENTRY_FORMS,
    MEASURE_FORMS,
    MMOL_PER_G,
    EntryForm,
    MeasureForm,
    TreatmentForm,
)
from webapp.core.extensions import db
from webapp.core.security import current_account
from webapp.models import (
    Account,
    Document,
    EntryKind,
    MeasureKind,
    Measurement,
    Patient,
    ProfileEntry,
    Role,
    Section,
)
from webapp.services import access, authorisations, charts, profile, safety
from webapp.services.access import Permission, SectionOf
from webapp.services.audit import Action, record_access
from webapp.ui import htmx
from webapp.ui.paging import requested_page

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
SECTION_TITLES = {
    Section.ALLERGIES: _l("Allergies"),
    Section.TREATMENTS: _l("Traitements"),
    Section.CONDITIONS: _l("Antécédents médicaux et chirurgicaux"),
    Section.WISHES: _l("Volontés"),
    Section.PEOPLE: _l("Entourage"),
    Section.MEASUREMENTS: _l("Mesures"),
    Section.VACCINATIONS: _l("Vaccinations"),
    Section.FAMILY: _l("Antécédents familiaux"),
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
PAGE_SIZE = 25
SECTION_PATTERN = "any(" + ",".join(section.value for section in Section) + ")"
TABLES = "any(entries,measurements)"


# --- loading, deciding ------------------------------------------------------------------------


def _patient_for(patient_id: int | None) -> tuple[Account, Patient]:
    actor = current_account()
    if patient_id is None:
        return actor, access.own_patient(actor)
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        abort(404)
    # A record opened by a professional (the holder's own profile is at /profile/).
    decision = access.decide(actor, Permission.RECORD_READ, patient)
    if not decision:
        _refused(actor, patient, decision.reason)
    return actor, patient


def _refused(actor: Account, patient: Patient, reason: str) -> None:
    if actor.role == Role.PROFESSIONAL:
        record_access(patient, actor, Action.PROFILE_VIEWED, allowed=False, reason=reason)
        db.session.commit()
    abort(404)


def _kind(section: Section, raw: str | None) -> EntryKind | MeasureKind:
    kinds = SECTION_KINDS[section]
    for kind in kinds:
        if kind.value == raw:
            return kind
    return kinds[0]


def _url_args(section: Section, patient: Patient, actor: Account) -> dict[str, Any]:
    """The holder reaches her profile at /profile/…, a professional at /profile/patients/<id>/…"""
    if actor.role == Role.PATIENT:
        return {"section": section.value}
    return {"section": section.value, "patient_id": patient.id}


def _section_url(section: Section, patient: Patient, actor: Account, **args: Any) -> str:
    return url_for("profile.section", **_url_args(section, patient, actor), **args)


def _new_form(kind: EntryKind | MeasureKind, patient: Patient, **kwargs: Any) -> EntryForm:
    form_class: type[EntryForm] = (
        MEASURE_FORMS[kind] if isinstance(kind, MeasureKind) else ENTRY_FORMS[kind]
    )
    form = form_class(**kwargs)
    form.birth_date = patient.birth_date
    if kind == EntryKind.ADVANCE_DIRECTIVES:
        # Only documents this person may see: never a masked or a held one's title.
        actor = current_account()
        documents = db.session.scalars(
            access.documents_query(actor, patient)
            .where(Document.type_code == "42348-3")
            .order_by(Document.care_date.desc())
            .limit(20)
        ).all()
        form.document_id.choices = [SelectChoice("", _l("Aucun document"))] + [  # type: ignore[attr-defined]
            SelectChoice(str(doc.id), doc.title) for doc in documents
        ]
    return form


def _entry_values(form: EntryForm) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in profile.ENTRY_FIELDS:
        if hasattr(form, name):
            data = getattr(form, name).data
            if name == "document_id":
                data = int(data) if data else None
            elif isinstance(data, str):
                data = data.strip()
            elif data is None and name not in ("start_date", "end_date"):
                data = ""  # a text field missing from the POST: never NULL
            values[name] = data
    return values


# --- the summary --------------------------------------------------------------------------------


@bp.get("/")
@bp.get("/patients/<int(max=2147483647):patient_id>/")
def summary(patient_id: int | None = None) -> ResponseReturnValue:
    actor, patient = _patient_for(patient_id)
    found = profile.view(actor, patient)
    if not found.readable:
        _refused(actor, patient, "matrix")
    latest = profile.latest_measurements(actor, patient)
    team = None
    if actor.role == Role.PATIENT or Section.PEOPLE in found.readable:
        team = authorisations.access_list(patient)
    if actor.role == Role.PROFESSIONAL:
        decision = access.decide(actor, Permission.RECORD_READ, patient)
        access.note_consultation(patient, actor, Action.PROFILE_VIEWED, decision)
    # Rendered before the commit, which would expire every row loaded above (one query each).
    page = render_template(
        "profile/summary.html",
        patient=patient,
        found=found,
        latest=latest,
        bmi=_bmi(latest),
        team=team,
        titles=SECTION_TITLES,
        section_url=lambda section: _section_url(section, patient, actor),
        Section=Section,
        EntryKind=EntryKind,
        own=actor.role == Role.PATIENT,
    )
    db.session.commit()
    return page


def _bmi(latest: dict[str, Measurement]) -> float | None:
    height, weight = latest.get(MeasureKind.HEIGHT), latest.get(MeasureKind.WEIGHT)
    if height is None or weight is None or height.value <= 0:
        return None
    return round(weight.value / (height.value / 100) ** 2, 1)


# --- a section ----------------------------------------------------------------------------------


def _section_page(
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
    can_write = access.decide(actor, Permission.PROFILE_WRITE, SectionOf(patient, section))
    kind = kind or _kind(section, request.args.get("kind"))
    if form is None and can_write:
        form = _new_form(kind, patient, formdata=None)  # after a save: empty, not the one sent
    measures: list[Measurement] = []
    charted: list[Measurement] = []
    page, pages = requested_page(), 1
    if section == Section.MEASUREMENTS:
        charted = profile.measurements(actor, patient)
        measures, total = profile.measurement_page(actor, patient, page=page, size=PAGE_SIZE)
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    context = {
        "patient": patient,
        "section": section,
        "title": SECTION_TITLES[section],
        "entries": found.of(section),
        "measures": measures,
        "chart_blocks": _charts(charted) if section == Section.MEASUREMENTS else [],
        "page": page,
        "pages": pages,
        "form": form,
        "kind": kind,
        "kinds": SECTION_KINDS[section],
        "kind_add": KIND_ADD,
        "can_write": bool(can_write),
        "warnings": warnings or [],
        "section_url": _section_url(section, patient, actor),
        "url_args": _url_args(section, patient, actor),
        "add_url": _add_url(section, patient, actor, kind),
        "check_url": _check_url(section, patient, actor, kind),
        "own": actor.role == Role.PATIENT,
        "saved": saved,
        "can": _can(actor, patient),
        "summary_url": url_for("profile.summary")
        if actor.role == Role.PATIENT
        else url_for("profile.summary", patient_id=patient.id),
    }
    template = "profile/_section_body.html" if partial else "profile/section.html"
    return render_template(template, **context), status


def _can(actor: Account, patient: Patient) -> Callable[[str, ProfileEntry | Measurement], bool]:
    rights = access.entry_rights(actor, patient)

    def can(permission: str, row: ProfileEntry | Measurement) -> bool:
        return rights(Permission(permission), row)

    return can


def _add_url(section: Section, patient: Patient, actor: Account, kind: Any) -> str:
    return url_for("profile.add", **_url_args(section, patient, actor), kind=kind.value)


def _check_url(section: Section, patient: Patient, actor: Account, kind: Any) -> str:
    return url_for("profile.check", **_url_args(section, patient, actor), kind=kind.value)


@bp.get("/<" + SECTION_PATTERN + ":section>")
@bp.get("/patients/<int(max=2147483647):patient_id>/<" + SECTION_PATTERN + ":section>")
def section(section: str, patient_id: int | None = None) -> ResponseReturnValue:
    actor, patient = _patient_for(patient_id)
    chosen = Section(section)
    decision = access.decide(actor, Permission.PROFILE_READ, SectionOf(patient, chosen))
    if not decision:
        _refused(actor, patient, decision.reason)
    if actor.role == Role.PROFESSIONAL:
        access.note_consultation(patient, actor, Action.PROFILE_VIEWED, decision, detail=section)
        db.session.commit()
    return _section_page(actor, patient, chosen)


def _writable(section: str, patient_id: int | None) -> tuple[Account, Patient, Section]:
    actor, patient = _patient_for(patient_id)
    chosen = Section(section)
    decision = access.decide(actor, Permission.PROFILE_WRITE, SectionOf(patient, chosen))
    if not decision:
        _refused(actor, patient, decision.reason)
    return actor, patient, chosen


@bp.post("/<" + SECTION_PATTERN + ":section>/check")
@bp.post("/patients/<int(max=2147483647):patient_id>/<" + SECTION_PATTERN + ":section>/check")
def check(section: str, patient_id: int | None = None) -> ResponseReturnValue:
    """Inline validation of one field by the same form: its message, or nothing."""
    actor, patient, chosen = _writable(section, patient_id)
    kind = _kind(chosen, request.args.get("kind"))
    form = _new_form(kind, patient)
    form.validate()
    name = request.args.get("field", "")
    field = form._fields.get(name)  # noqa: SLF001
    errors = (
        list(field.errors) if field is not None and name not in ("csrf_token", "version") else []
    )
    return render_template("profile/_feedback.html", errors=errors)


@bp.post("/<" + SECTION_PATTERN + ":section>/new")
@bp.post("/patients/<int(max=2147483647):patient_id>/<" + SECTION_PATTERN + ":section>/new")
def add(section: str, patient_id: int | None = None) -> ResponseReturnValue:
    actor, patient, chosen = _writable(section, patient_id)
    kind = _kind(chosen, request.args.get("kind"))
    form = _new_form(kind, patient)
    partial = htmx.is_request()
    if not form.validate_on_submit():
        return _section_page(
            actor, patient, chosen, form=form, kind=kind, status=422, partial=partial
        )
    if isinstance(kind, MeasureKind):
        assert isinstance(form, MeasureForm)
        profile.add_measurement(actor, patient, kind, form.values())
    else:
        acknowledged = ""
        if isinstance(form, TreatmentForm):
            warnings = profile.safety_warnings(actor, patient, form.label.data or "")
            if warnings and not form.acknowledge.data:
                return _section_page(
                    actor,
                    patient,
                    chosen,
                    form=form,
                    kind=kind,
                    warnings=warnings,
                    status=422,
                    partial=partial,
                )
            acknowledged = "; ".join(warning.key for warning in warnings)
        profile.add_entry(
            actor,
            patient,
            chosen,
            kind,
            _entry_values(form),
            acknowledged=acknowledged,
        )
    db.session.commit()
    if partial:
        return _section_page(actor, patient, chosen, kind=kind, partial=True, saved=True)
    flash(_("C'est enregistré."), "success")
    return redirect(_section_url(chosen, patient, actor, kind=kind.value), 303)


# --- one entry: edit, delete, mask -------------------------------------------------------------


def _version(raw: str | None) -> int:
    """The version a form was opened at; anything else never matches (a conflict, not a 500)."""
    return int(raw) if raw and re.fullmatch(r"[0-9]{1,9}", raw) else -1


def _row(table: str, row_id: int) -> ProfileEntry | Measurement:
    row: ProfileEntry | Measurement | None = (
        db.session.get(ProfileEntry, row_id)
        if table == "entries"
        else db.session.get(Measurement, row_id)
    )
    if row is None:
        abort(404)
    return row


def _row_for(
    table: str, row_id: int, permission: Permission
) -> tuple[Account, Patient, ProfileEntry | Measurement]:
    actor = current_account()
    row = _row(table, row_id)
    patient = db.session.get(Patient, row.patient_id)
    assert patient is not None
    decision = access.decide(actor, permission, row)
    if not decision:
        _refused(actor, patient, decision.reason)
    return actor, patient, row


def _section_of(row: ProfileEntry | Measurement) -> Section:
    return Section(row.section) if isinstance(row, ProfileEntry) else Section.MEASUREMENTS


def _kind_of(row: ProfileEntry | Measurement) -> EntryKind | MeasureKind:
    return EntryKind(row.kind) if isinstance(row, ProfileEntry) else MeasureKind(row.kind)


def _filled_form(row: ProfileEntry | Measurement, patient: Patient) -> EntryForm:
    kind = _kind_of(row)
    if isinstance(row, Measurement):
        form = _new_form(kind, patient, formdata=None)
        assert isinstance(form, MeasureForm)
        form.measured_on.data = row.measured_on
        form.fill(row.value, row.value2, row.unit, row.fasting)
    else:
        form = _new_form(kind, patient, formdata=None, obj=row)
        if hasattr(form, "document_id"):
            form.document_id.data = str(row.document_id or "")
    form.version.data = str(row.version)
    return form


def _entry_fragment(
    actor: Account, row: ProfileEntry | Measurement, notice: str | None = None
) -> str:
    patient = db.session.get(Patient, row.patient_id)
    assert patient is not None
    return render_template(
        "profile/_row.html",
        row=row,
        can=_can(actor, patient),
        own=actor.role == Role.PATIENT,
        status=_("C'est enregistré.") if notice is None else None,
        notice=notice,
    )


@bp.route("/<" + TABLES + ":table>/<int(max=2147483647):row_id>/edit", methods=["GET", "POST"])
def edit(table: str, row_id: int) -> ResponseReturnValue:
    actor, patient, row = _row_for(table, row_id, Permission.ENTRY_EDIT)
    section = _section_of(row)
    kind = _kind_of(row)
    back = _section_url(section, patient, actor)
    if request.method == "GET":
        form = _filled_form(row, patient)
        return _edit_page(form, row, back, warnings=[])
    form = _new_form(kind, patient)
    if not form.validate_on_submit():
        return _edit_page(form, row, back, warnings=[], status=422)
    expected = _version(form.version.data)
    try:
        if isinstance(row, Measurement):
            assert isinstance(form, MeasureForm)
            profile.update_measurement(actor, row, form.values(), expected_version=expected)
        else:
            acknowledged = ""
            if isinstance(form, TreatmentForm):
                warnings = profile.safety_warnings(
                    actor, patient, form.label.data or "", exclude_id=row.id
                )
                if warnings and not form.acknowledge.data:
                    return _edit_page(form, row, back, warnings=warnings, status=422)
                acknowledged = "; ".join(warning.key for warning in warnings)
            profile.update_entry(
                actor,
                row,
                _entry_values(form),
                expected_version=expected,
                acknowledged=acknowledged,
            )
        db.session.commit()
    except profile.Conflict as conflict:
        db.session.rollback()
        return _conflict_page(actor, patient, conflict.current, form, back)
    if htmx.is_request():
        return _entry_fragment(actor, row)
    flash(_("C'est enregistré."), "success")
    return redirect(back, 303)


def _edit_page(
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
        kind=_kind_of(row),
        back=back,
        warnings=warnings,
        edit_url=url_for("profile.edit", table=table, row_id=row.id),
    ), status


def _conflict_page(
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
        kind=_kind_of(current),
        edit_url=url_for("profile.edit", table=table, row_id=current.id),
    ), 409 if not htmx.is_request() else 422


@bp.route("/<" + TABLES + ":table>/<int(max=2147483647):row_id>/delete", methods=["GET", "POST"])
def delete(table: str, row_id: int) -> ResponseReturnValue:
    actor, patient, row = _row_for(table, row_id, Permission.ENTRY_EDIT)
    back = _section_url(_section_of(row), patient, actor)
    if request.method == "GET":
        template = "profile/_delete_row.html" if htmx.is_request() else "profile/delete.html"
        return render_template(
            template,
            row=row,
            back=back,
            delete_url=url_for("profile.delete", table=table, row_id=row.id),
        )
    version = request.form.get("version", "")
    try:
        profile.delete_row(actor, row, expected_version=_version(version))
        db.session.commit()
    except profile.Conflict as conflict:
        db.session.rollback()
        notice = _(
            "Cette information a été modifiée entre-temps (voir ci-dessous) : rien n'a été "
            "supprimé. Supprimez-la à nouveau si vous le souhaitez."
        )
        if htmx.is_request():
            return _entry_fragment(actor, conflict.current, notice=notice)
        flash(notice, "warning")
        return redirect(back, 303)
    if htmx.is_request():
        return render_template("profile/_deleted_row.html", row_id=row.id, table=table)
    flash(_("C'est supprimé."), "success")
    return redirect(back, 303)


@bp.post("/<" + TABLES + ":table>/<int(max=2147483647):row_id>/<any(mask,unmask):change>")
def mask(table: str, row_id: int, change: str) -> ResponseReturnValue:
    actor, patient, row = _row_for(table, row_id, Permission.ENTRY_MASK)
    profile.set_masked(actor, row, masked=change == "mask")
    db.session.commit()
    if htmx.is_request():
        return _entry_fragment(actor, row)
    flash(
        _(
            "Cette information est masquée aux professionnels, sauf à son auteur, à votre "
            "médecin traitant et à ceux à qui vous avez donné ses droits."
        )
        if change == "mask"
        else _("Cette information est de nouveau visible des professionnels autorisés."),
        "success",
    )
    return redirect(_section_url(_section_of(row), patient, actor), 303)


# --- charts ---------------------------------------------------------------------------------------


CHART_TITLES = {
    MeasureKind.BLOOD_PRESSURE: _l("Tension artérielle"),
    MeasureKind.WEIGHT: _l("Poids"),
    MeasureKind.HEIGHT: _l("Taille"),
    MeasureKind.GLUCOSE: _l("Glycémie à jeun"),
}


def _charts(rows: list[Measurement]) -> list[dict[str, Any]]:
    from babel.numbers import format_decimal
    from flask_babel import format_date, get_locale

    def day(value: date) -> str:
        return str(format_date(value, "d MMM y"))

    def number(value: float) -> str:
        return str(format_decimal(round(value, 2), locale=str(get_locale() or "fr")))

    blocks: list[dict[str, Any]] = []
    for kind in (
        MeasureKind.BLOOD_PRESSURE,
        MeasureKind.WEIGHT,
        MeasureKind.GLUCOSE,
        MeasureKind.HEIGHT,
    ):
        mine = [row for row in rows if row.kind == kind.value]
        if kind == MeasureKind.GLUCOSE:
            mine = [row for row in mine if row.fasting]
        if not mine:
            continue
        unit = {"blood_pressure": "mmHg", "weight": "kg", "height": "cm", "glucose": "g/L"}[
            kind.value
        ]
        scale = 1 / MMOL_PER_G if kind == MeasureKind.GLUCOSE else 1.0

        def convert(value: float, scale: float = scale) -> float:
            return value * scale

        series = [
            charts.Series(
                str(_l("Systolique"))
                if kind == MeasureKind.BLOOD_PRESSURE
                else str(CHART_TITLES[kind]),
                [charts.Point(row.measured_on, convert(row.value)) for row in mine],
            )
        ]
        band = None
        if kind == MeasureKind.BLOOD_PRESSURE:
            series.append(
                charts.Series(
                    str(_l("Diastolique")),
                    [charts.Point(row.measured_on, row.value2 or 0) for row in mine],
                    style="b",
                )
            )
            band = charts.Band(60, 140, str(_l("Zone habituelle : 60 à 140 mmHg")))
        elif kind == MeasureKind.GLUCOSE:
            band = charts.Band(0.70, 1.00, str(_l("Zone normale à jeun : 0,70 à 1,00 g/L")))
        title = str(CHART_TITLES[kind])
        last = mine[-1]
        shown = (
            number(last.value) + "/" + number(last.value2 or 0)
            if kind == MeasureKind.BLOOD_PRESSURE
            else number(convert(last.value))
        )
        description = str(
            _l(
                "%(count)d mesures du %(first)s au %(last)s ; la dernière : %(value)s %(unit)s.",
                count=len(mine),
                first=day(mine[0].measured_on),
                last=day(last.measured_on),
                value=shown,
                unit=unit,
            )
        )
        svg = charts.line_chart(
            series,
            chart_id=f"chart-{kind.value}",
            title=title,
            description=description,
            unit=unit,
            band=band,
            format_day=day,
            format_value=number,
        )
        blocks.append(
            {
                "kind": kind.value,
                "title": title,
                "svg": Markup(svg),
                "unit": unit,
                "series": [s.label for s in series],
                "rows": charts.data_table_rows(series),
                "number": number,
                "day": day,
            }
        )
    return blocks
