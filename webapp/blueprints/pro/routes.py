"""The professional workspace (SPEC §4): find a patient, declare consent, read the record as
the matrix allows, deposit, release a held result, and emergency access.

Every view goes through the policy's loaders; a patient's page is reachable when the policy
allows it, or right after the professional proved, by NIR and name or birth date, that the
patient is in front of them (then only the ways in: declare consent, deposit, emergency).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from webapp.blueprints.documents import deposits
from webapp.blueprints.pro import bp
from webapp.blueprints.pro.forms import (
    EMERGENCY_CHOICE,
    DeclareConsentForm,
    DepositForm,
    EmergencyForm,
    FindPatientForm,
)
from webapp.blueprints.visit.forms import IdentifyForm
from webapp.blueprints.visit.routes import home_context, register_home_page
from webapp.core.extensions import db, limiter
from webapp.models import Account, Document, Patient
from webapp.policy import Mode, Permission, identified, loaders
from webapp.services import (
    authorisations,
    catalogue,
    crypto,
    document_lists,
    documents,
    emergency,
    profile,
    workspace,
)
from webapp.services.audit import Action
from webapp.web import htmx
from webapp.web.labels import CATEGORY_LABELS
from webapp.web.paging import requested_page
from webapp.web.security import current_account, require_recent_auth


@bp.before_request
def _professionals_only() -> None:
    loaders.require(current_account(), Permission.PRO_WORKSPACE)


def _per_professional() -> str:
    return f"pro:{current_account().id}"


def render_home(
    account: Account,
    *,
    identify_form: IdentifyForm | None = None,
    find_form: FindPatientForm | None = None,
) -> str:
    return render_template(
        "pro/home.html",
        identify_form=identify_form or IdentifyForm(),
        find_form=find_form or FindPatientForm(prefix="find"),
        recent=workspace.recent_patients(account),
        held=workspace.held_deposits(account),
        **home_context(account),
    )


@bp.get("/")
def home() -> ResponseReturnValue:
    return render_home(current_account())


# --- finding a patient -------------------------------------------------------------------------


def _per_professional_and_nir() -> str:
    """Guessing a birth date for a known NIR is slowed down per professional and NIR."""
    nir = "".join((request.form.get("find-nir") or "").split())
    return f"pro-nir:{current_account().id}:{crypto.keyed_digest('find-nir', nir)[:24]}"


@bp.post("/find")
@limiter.limit("30 per minute;300 per hour", key_func=_per_professional)
@limiter.limit("10 per hour", key_func=_per_professional_and_nir)
def find() -> ResponseReturnValue:
    account = current_account()
    form = FindPatientForm(prefix="find")
    if form.validate_on_submit():
        patient = workspace.find_patient(
            account, form.nir.data or "", form.last_name.data or "", form.birth_date.data
        )
        db.session.commit()  # a wrong name for an open record stays in its history
        if patient is not None:
            identified.remember(account, patient)
            return redirect(url_for("pro.patient", patient_id=patient.id), 303)
        # One answer whether the NIR is unknown, the name wrong, or the record not open.
        form.nir.errors = [
            *form.nir.errors,
            _(
                "Aucun dossier ouvert ne correspond à ces informations. Vérifiez le numéro et le "
                "nom avec la carte Vitale du patient. S'il n'a pas de dossier, vous pouvez le "
                "créer avec lui ci-dessous."
            ),
        ]
    return render_home(account, find_form=form), 422


# --- the record --------------------------------------------------------------------------------


@bp.get("/patients/<int(max=2147483647):patient_id>")
def patient(patient_id: int) -> ResponseReturnValue:
    account = current_account()
    record, reach = loaders.get_patient_for(account, patient_id, Permission.RECORD_REACH)
    decision = loaders.decide_on_patient(account, record, Permission.RECORD_READ)
    if not decision:  # identified in this session, not (or no longer) allowed to read
        return _ways_in(account, record, decision.reason)
    # Every consultation is recorded, a page of the list as much as the whole page; the rows
    # are loaded after the commit, which would expire them (one query each).
    loaders.consult(account, record, Action.RECORD_CONSULTED, decision)
    db.session.commit()
    listing = document_lists.list_documents(
        account, record, category=request.args.get("category", ""), page=requested_page()
    )
    partial = htmx.target_is("record-documents")
    return render_template(
        "pro/_record_documents.html" if partial else "pro/record.html",
        patient=record,
        decision=decision,
        emergency_mode=decision.in_emergency,
        **listing.context(),
        categories=CATEGORY_LABELS,
        profile=profile.view(account, record),
        my_accesses=workspace.my_accesses(account, record),
        can_download=loaders.document_check(account, record, Permission.DOCUMENT_DOWNLOAD),
        can_write_message=loaders.can(account, Permission.MESSAGE_START, record),
        can_book=loaders.decide_on_patient(account, record, Permission.APPOINTMENT_CREATE).allowed,
    )


def _ways_in(
    account: Account,
    patient: Patient,
    reason: str,
    consent_form: DeclareConsentForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The patient is identified but the professional may not read: the lawful ways in, and
    what they deposited themselves (rule 7).

    A professional the patient blocked is not told so: he gets the page of any professional
    without access, word for word, and each way in then refuses him (SPEC §4.1).
    """
    if reason == "blocked_by_patient":
        pro = account.professional
        assert pro is not None
        may_declare = not catalogue.current().needs_express_grant(pro.specialty)
        may_deposit, own = True, []
    else:
        declare = loaders.decide_on_patient(account, patient, Permission.CONSENT_DECLARE)
        deposit = loaders.decide_on_patient(account, patient, Permission.DOCUMENT_CREATE)
        may_declare, may_deposit = declare.allowed, deposit.allowed
        own = list(document_lists.list_documents(account, patient).page.items)
    return render_template(
        "pro/ways_in.html",
        patient=patient,
        consent_form=consent_form or DeclareConsentForm(),
        may_declare=may_declare,
        may_deposit=may_deposit,
        own_deposits=own,
    ), status


@bp.post("/patients/<int(max=2147483647):patient_id>/consent")
def declare_consent(patient_id: int) -> ResponseReturnValue:
    account = current_account()
    record, _decision = loaders.get_patient_for(
        account, patient_id, Permission.CONSENT_DECLARE, what="consent"
    )
    form = DeclareConsentForm()
    if not form.validate_on_submit():
        return _ways_in(account, record, "no_authorisation", form, 422)
    try:
        authorisations.declare_consent(record, account)
        db.session.commit()
    except authorisations.AuthorisationError:
        db.session.rollback()
        abort(404)
    flash(
        _("Accès enregistré. Le patient en est informé et peut le retirer à tout moment."),
        "success",
    )
    return redirect(url_for("pro.patient", patient_id=record.id), 303)


# --- deposits ----------------------------------------------------------------------------------


def _minor(patient: Patient) -> bool:
    return workspace.age(patient.birth_date) < 18


@bp.route("/patients/<int(max=2147483647):patient_id>/deposit", methods=["GET", "POST"])
def deposit(patient_id: int) -> ResponseReturnValue:
    account = current_account()
    record, _decision = loaders.get_patient_for(
        account, patient_id, Permission.DOCUMENT_CREATE, what="deposit"
    )
    reads = loaders.decide_on_patient(account, record, Permission.RECORD_READ).allowed
    form = DepositForm()
    if form.validate_on_submit():
        hold = bool(form.hold.data)
        try:
            doc = deposits.deposit_from(
                form,
                account,
                record,
                type_code=form.type_code.data,
                hold_from_patient=hold,
                hidden_from_legal_reps=bool(form.hidden_from_legal_reps.data) and _minor(record),
            )
        except documents.DuplicateSubmission:
            return redirect(url_for("pro.patient", patient_id=record.id), 303)
        if doc is not None:
            db.session.commit()
            flash(_deposited(doc, hold), "success")
            return redirect(
                url_for("pro.patient", patient_id=record.id) if reads else url_for("pro.home"), 303
            )
    status = 422 if request.method == "POST" else 200
    return render_template(
        "pro/deposit.html", form=form, patient=record, minor=_minor(record), reads=reads
    ), status


def _deposited(doc: Document, held: bool) -> str:
    said = _("Le document « %(title)s » est déposé dans le dossier.", title=doc.title)
    if held:
        said += " " + _(
            "Il reste invisible pour le patient jusqu'à ce que vous le libériez (30 jours au plus)."
        )
    return said


@bp.post("/documents/<int(max=2147483647):document_id>/release")
def release(document_id: int) -> ResponseReturnValue:
    account = current_account()
    doc = loaders.get_document_for(account, document_id, Permission.DOCUMENT_RELEASE)
    if documents.release(account, doc, detail="released by the author"):
        db.session.commit()
    else:
        db.session.rollback()  # released a moment ago, by a double click or the daily run
    flash(_("Le document est maintenant visible par le patient, qui en est informé."), "success")
    return redirect(url_for("documents.show", document_id=doc.id), 303)


# --- emergency access (SPEC §4.5) ---------------------------------------------------------------


@bp.route("/patients/<int(max=2147483647):patient_id>/emergency", methods=["GET", "POST"])
@require_recent_auth
@limiter.limit("10 per hour", key_func=_per_professional, methods=["POST"])
def emergency_open(patient_id: int) -> ResponseReturnValue:
    account = current_account()
    record, _reach = loaders.get_patient_for(
        account, patient_id, Permission.RECORD_REACH, what="emergency"
    )
    pro = account.professional
    assert pro is not None
    form = EmergencyForm()
    if not pro.samu_regulator:
        form.mode.choices = [EMERGENCY_CHOICE]
    refused = None
    if request.method == "GET":
        form.mode.data = "regulation" if pro.samu_regulator else "emergency"
    elif form.validate_on_submit():
        mode = Mode(form.mode.data)
        try:
            emergency.open_window(
                account,
                record,
                mode=mode,
                reason_code=form.reason.data or "",
                justification=form.justification.data or "",
            )
        except emergency.EmergencyRefused as problem:
            db.session.commit()  # the refusal stays in the history
            refused = problem.reason
        else:
            db.session.commit()
            return redirect(url_for("pro.emergency_summary", patient_id=record.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("pro/emergency.html", form=form, patient=record, refused=refused), status


@bp.get("/patients/<int(max=2147483647):patient_id>/emergency/summary")
def emergency_summary(patient_id: int) -> ResponseReturnValue:
    account = current_account()
    record, decision = loaders.get_patient_for(
        account, patient_id, Permission.RECORD_READ, what="emergency summary"
    )
    parts = profile.emergency_summary(account, record)
    loaders.consult(account, record, Action.EMERGENCY_SUMMARY_VIEWED, decision)
    db.session.commit()
    return render_template(
        "pro/emergency_summary.html",
        patient=record,
        parts=parts,
        age=workspace.age(record.birth_date),
        emergency_mode=decision.in_emergency,
    )


@bp.post("/patients/<int(max=2147483647):patient_id>/emergency/end")
def emergency_end(patient_id: int) -> ResponseReturnValue:
    account = current_account()
    window = emergency.open_for(account, patient_id)
    if window is None:
        abort(404)
    emergency.end(account, window)
    db.session.commit()
    flash(_("L'accès en urgence est terminé."), "success")
    return redirect(url_for("pro.home"), 303)


# A patient present in the consulting room can have their record created by the visit
# blueprint, at /pro as `pro_visit` (SPEC §2); it shows this page again when the card is wrong.
register_home_page("pro", render_home)
