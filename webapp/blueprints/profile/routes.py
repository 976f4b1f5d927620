"""The medical profile: a one-screen summary, a page per section, and entries added, edited,
masked and deleted in place (htmx) or as plain forms. The patient reaches her own profile at
/profile/; an authorised professional reaches a patient's at /profile/patients/<id>/.
Every view asks the policy (services.access); a refusal is a 404."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from webapp import policy
from webapp.blueprints.profile import bp, pages
from webapp.blueprints.profile.forms import (
    MeasureForm,
    TreatmentForm,
)
from webapp.core.extensions import db
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
from webapp.services import authorisations, profile
from webapp.services.audit import Action
from webapp.web import htmx
from webapp.web.labels import SECTION_TITLES
from webapp.web.security import current_account

SECTION_PATTERN = "any(" + ",".join(section.value for section in Section) + ")"
TABLES = "any(entries,measurements)"


# --- loading, deciding ------------------------------------------------------------------------


def _patient_for(patient_id: int | None) -> tuple[Account, Patient, policy.Decision | None]:
    """The holder's own profile at /profile/ (no decision to record), a patient's opened by a
    professional at /profile/patients/<id>/ (the decision that let them in)."""
    actor = current_account()
    if patient_id is None:
        return actor, loaders.own_patient(actor), None
    patient, decision = loaders.get_patient_for(
        actor, patient_id, Permission.RECORD_READ, refusal=Action.PROFILE_VIEWED
    )
    return actor, patient, decision


def _section_for(
    section: str, patient_id: int | None, permission: Permission
) -> tuple[Account, Patient, Section, policy.Decision]:
    actor, patient, _opened = _patient_for(patient_id)
    chosen = Section(section)
    decision = policy.decide(actor, permission, SectionOf(patient, chosen))
    if not decision:
        loaders.refuse(actor, patient, decision, refusal=Action.PROFILE_VIEWED)
    return actor, patient, chosen, decision


# --- the summary --------------------------------------------------------------------------------


@bp.get("/")
@bp.get("/patients/<int(max=2147483647):patient_id>/")
def summary(patient_id: int | None = None) -> ResponseReturnValue:
    actor, patient, opened = _patient_for(patient_id)
    found = profile.view(actor, patient)
    if not found.readable:
        loaders.refuse(
            actor, patient, policy.Decision(False, "matrix"), refusal=Action.PROFILE_VIEWED
        )
    latest = profile.latest_measurements(actor, patient)
    own = loaders.holds(actor, patient)
    team = authorisations.access_list(patient) if own or Section.PEOPLE in found.readable else None
    if opened is not None:
        loaders.consult(actor, patient, Action.PROFILE_VIEWED, opened)
    # Rendered before the commit, which would expire every row loaded above (one query each).
    page = render_template(
        "profile/summary.html",
        patient=patient,
        found=found,
        latest=latest,
        bmi=pages.bmi(latest),
        team=team,
        titles=SECTION_TITLES,
        section_url=lambda section: pages.section_url(section, patient, actor),
        Section=Section,
        EntryKind=EntryKind,
        own=own,
    )
    db.session.commit()
    return page


# --- a section ----------------------------------------------------------------------------------


@bp.get("/<" + SECTION_PATTERN + ":section>")
@bp.get("/patients/<int(max=2147483647):patient_id>/<" + SECTION_PATTERN + ":section>")
def section(section: str, patient_id: int | None = None) -> ResponseReturnValue:
    actor, patient, chosen, decision = _section_for(section, patient_id, Permission.PROFILE_READ)
    loaders.consult(actor, patient, Action.PROFILE_VIEWED, decision, detail=section)
    db.session.commit()
    return pages.section_page(actor, patient, chosen)


def _writable(section: str, patient_id: int | None) -> tuple[Account, Patient, Section]:
    actor, patient, chosen, _decision = _section_for(section, patient_id, Permission.PROFILE_WRITE)
    return actor, patient, chosen


@bp.post("/<" + SECTION_PATTERN + ":section>/check")
@bp.post("/patients/<int(max=2147483647):patient_id>/<" + SECTION_PATTERN + ":section>/check")
def check(section: str, patient_id: int | None = None) -> ResponseReturnValue:
    """Inline validation of one field by the same form: its message, or nothing."""
    actor, patient, chosen = _writable(section, patient_id)
    kind = pages.kind_for(chosen, request.args.get("kind"))
    form = pages.new_form(kind, patient)
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
    kind = pages.kind_for(chosen, request.args.get("kind"))
    form = pages.new_form(kind, patient)
    partial = htmx.is_request()
    if not form.validate_on_submit():
        return pages.section_page(
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
                return pages.section_page(
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
            pages.entry_values(form),
            acknowledged=acknowledged,
        )
    db.session.commit()
    if partial:
        return pages.section_page(actor, patient, chosen, kind=kind, partial=True, saved=True)
    flash(_("C'est enregistré."), "success")
    return redirect(pages.section_url(chosen, patient, actor, kind=kind.value), 303)


# --- one entry: edit, delete, mask -------------------------------------------------------------


def _row_for(
    table: str, row_id: int, permission: Permission
) -> tuple[Account, Patient, ProfileEntry | Measurement]:
    actor = current_account()
    patient, row = loaders.get_entry_for(actor, table, row_id, permission)
    return actor, patient, row


@bp.route("/<" + TABLES + ":table>/<int(max=2147483647):row_id>/edit", methods=["GET", "POST"])
def edit(table: str, row_id: int) -> ResponseReturnValue:
    actor, patient, row = _row_for(table, row_id, Permission.ENTRY_EDIT)
    section = pages.section_of(row)
    kind = pages.kind_of(row)
    back = pages.section_url(section, patient, actor)
    if request.method == "GET":
        form = pages.filled_form(row, patient)
        return pages.edit_page(form, row, back, warnings=[])
    form = pages.new_form(kind, patient)
    if not form.validate_on_submit():
        return pages.edit_page(form, row, back, warnings=[], status=422)
    expected = pages.version_of(form.version.data)
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
                    return pages.edit_page(form, row, back, warnings=warnings, status=422)
                acknowledged = "; ".join(warning.key for warning in warnings)
            profile.update_entry(
                actor,
                row,
                pages.entry_values(form),
                expected_version=expected,
                acknowledged=acknowledged,
            )
        db.session.commit()
    except profile.Conflict as conflict:
        db.session.rollback()
        return pages.conflict_page(actor, patient, conflict.current, form, back)
    if htmx.is_request():
        return pages.entry_fragment(actor, row)
    flash(_("C'est enregistré."), "success")
    return redirect(back, 303)


@bp.route("/<" + TABLES + ":table>/<int(max=2147483647):row_id>/delete", methods=["GET", "POST"])
def delete(table: str, row_id: int) -> ResponseReturnValue:
    actor, patient, row = _row_for(table, row_id, Permission.ENTRY_EDIT)
    back = pages.section_url(pages.section_of(row), patient, actor)
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
        profile.delete_row(actor, row, expected_version=pages.version_of(version))
        db.session.commit()
    except profile.Conflict as conflict:
        db.session.rollback()
        notice = _(
            "Cette information a été modifiée entre-temps (voir ci-dessous) : rien n'a été "
            "supprimé. Supprimez-la à nouveau si vous le souhaitez."
        )
        if htmx.is_request():
            return pages.entry_fragment(actor, conflict.current, notice=notice)
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
        return pages.entry_fragment(actor, row)
    flash(
        _(
            "Cette information est masquée aux professionnels, sauf à son auteur, à votre "
            "médecin traitant et à ceux à qui vous avez donné ses droits."
        )
        if change == "mask"
        else _("Cette information est de nouveau visible des professionnels autorisés."),
        "success",
    )
    return redirect(pages.section_url(pages.section_of(row), patient, actor), 303)
