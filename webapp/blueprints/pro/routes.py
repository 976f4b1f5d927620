"""The professional workspace (SPEC §4): find a patient, declare consent, read the record as
the matrix allows, deposit, release a held result, and emergency access.

Every view asks the policy; a patient's page is reachable only when the policy allows it, or
right after the professional proved, by NIR and name or birth date, that the patient is in
front of them (then only the ways in: declare consent, deposit, emergency).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from webapp.blueprints.counter import visit
from webapp.blueprints.pro import bp
from webapp.blueprints.pro.forms import (
    EMERGENCY_CHOICE,
    DeclareConsentForm,
    DepositForm,
    EmergencyForm,
    FindPatientForm,
    folded,
)
from webapp.core.extensions import db, limiter
from webapp.core.security import current_account, require_recent_auth
from webapp.models import AccessEvent, Account, Document, DocumentState, Patient
from webapp.models.account import RecordState
from webapp.services import (
    access,
    authorisations,
    clock,
    crypto,
    documents,
    emergency,
    profile,
    storage,
)
from webapp.services.access import Mode, Permission
from webapp.services.audit import Action, record_access
from webapp.ui import htmx
from webapp.ui.labels import CATEGORY_LABELS
from webapp.ui.paging import requested_page

PAGE_SIZE = 25
FOUND_KEY = "pro_found"  # the patients this professional identified in this session
FOUND_KEEP = 10
FOUND_SECONDS = 4 * 3600  # a consultation, or a long night in the emergency department


@bp.before_request
def _professionals_only() -> None:
    access.require(current_account(), access.Permission.PRO_WORKSPACE)


def _per_professional() -> str:
    return f"pro:{current_account().id}"


@bp.get("/")
def home() -> ResponseReturnValue:
    account = current_account()
    return render_template(
        "pro/home.html",
        identify_form=visit.IdentifyForm(),
        find_form=FindPatientForm(prefix="find"),
        recent=_recent_patients(account),
        held=_held_deposits(account),
        **visit.home_context(account),
    )


def _recent_patients(account: Account) -> list[tuple[Patient, object]]:
    """The records this professional acted on lately, newest first (two queries)."""
    last = (
        select(AccessEvent.patient_id, func.max(AccessEvent.occurred_at).label("at"))
        .where(AccessEvent.actor_account_id == account.id, AccessEvent.allowed.is_(True))
        .group_by(AccessEvent.patient_id)
        .order_by(func.max(AccessEvent.occurred_at).desc())
        .limit(10)
    ).subquery()
    rows = db.session.execute(
        select(Patient, last.c.at)
        .join(last, last.c.patient_id == Patient.id)
        .order_by(last.c.at.desc())
    ).all()
    return [(patient, at) for patient, at in rows if patient.record_state == RecordState.ACTIVE]


def _held_deposits(account: Account) -> list[tuple[Document, Patient]]:
    rows = db.session.execute(
        select(Document, Patient)
        .join(Patient, Patient.id == Document.patient_id)
        .where(
            Document.author_account_id == account.id,
            Document.state == DocumentState.CURRENT,
            Document.hidden_from_patient_until > clock.now(),
        )
        .order_by(Document.hidden_from_patient_until)
        .limit(50)
    ).all()
    return [(doc, patient) for doc, patient in rows]


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
        patient, known = _matching(form)
        if patient is not None:
            _remember(patient)
            return redirect(url_for("pro.patient", patient_id=patient.id), 303)
        if known is not None:
            # The NIR is an open record's, the name or birth date is not: the holder sees it.
            record_access(
                known, account, Action.RECORD_CONSULTED, allowed=False, reason="identity_mismatch"
            )
            db.session.commit()
        # One answer whether the NIR is unknown, the name wrong, or the record not open.
        form.nir.errors = [
            *form.nir.errors,
            _(
                "Aucun dossier ouvert ne correspond à ces informations. Vérifiez le numéro et le "
                "nom avec la carte Vitale du patient. S'il n'a pas de dossier, vous pouvez le "
                "créer avec lui ci-dessous."
            ),
        ]
    return render_template(
        "pro/home.html",
        identify_form=visit.IdentifyForm(),
        find_form=form,
        recent=_recent_patients(account),
        held=_held_deposits(account),
        **visit.home_context(account),
    ), 422


def _matching(form: FindPatientForm) -> tuple[Patient | None, Patient | None]:
    """(the patient found, or None; the open record the NIR names when the rest is wrong)."""
    nir = "".join((form.nir.data or "").split())
    patient = db.session.scalar(select(Patient).where(Patient.nir == nir))
    if patient is None or patient.record_state != RecordState.ACTIVE:
        return None, None
    name = folded(form.last_name.data or "")
    if name and name != folded(patient.last_name):
        return None, patient
    if form.birth_date.data is not None and form.birth_date.data != patient.birth_date:
        return None, patient
    return patient, None


def _found_list() -> list[int]:
    """The patients this professional identified lately: bound to the account (a cookie
    passed to a colleague proves nothing) and kept an hour at most. Not to the session row:
    re-authenticating before an emergency access replaces it."""
    kept = session.get(FOUND_KEY)
    if not isinstance(kept, dict) or kept.get("account") != current_account().id:
        return []
    if float(kept.get("until", 0)) < clock.now().timestamp():
        return []
    ids = kept.get("ids", [])
    return [pid for pid in ids if isinstance(pid, int)]


def _remember(patient: Patient) -> None:
    found = [pid for pid in _found_list() if pid != patient.id]
    session[FOUND_KEY] = {
        "account": current_account().id,
        "until": clock.now().timestamp() + FOUND_SECONDS,
        "ids": [patient.id, *found][:FOUND_KEEP],
    }


def _identified(patient: Patient) -> bool:
    return patient.id in _found_list()


def _patient(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        abort(404)
    return patient


def _refuse(patient: Patient, account: Account, reason: str, what: str) -> None:
    """Record the refusal in the patient's history, then answer 404."""
    record_access(
        patient,
        account,
        Action.RECORD_CONSULTED,
        allowed=False,
        reason=reason,
        detail=what,
    )
    db.session.commit()
    abort(404)


# --- the record --------------------------------------------------------------------------------


@bp.get("/patients/<int(max=2147483647):patient_id>")
def patient(patient_id: int) -> ResponseReturnValue:
    account = current_account()
    record = _patient(patient_id)
    decision = access.decide(account, Permission.RECORD_READ, record)
    if not decision:
        if _identified(record) and record.record_state == RecordState.ACTIVE:
            return _ways_in(account, record, decision.reason)
        _refuse(record, account, decision.reason, "record")
    visible = access.documents_query(account, record)
    counts = documents.count_by_category(visible)
    category = request.args.get("category", "")
    query = visible
    if category in CATEGORY_LABELS:
        query = query.where(Document.category == category)
    else:
        category = ""
    total = counts.get(category, 0) if category else sum(counts.values())
    page = requested_page()
    partial = htmx.is_request() and request.headers.get("HX-Target") == "record-documents"
    # Every consultation is recorded, a page of the list as much as the whole page.
    access.note_consultation(record, account, Action.RECORD_CONSULTED, decision)
    db.session.commit()
    # Loaded after the commit, which expires what the session holds: one query, not one a row.
    rows = db.session.scalars(
        query.order_by(Document.care_date.desc(), Document.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    args = {"category": category} if category else {}
    return render_template(
        "pro/_record_documents.html" if partial else "pro/record.html",
        patient=record,
        decision=decision,
        emergency_mode=access.mode_of(decision) != Mode.NORMAL.value,
        documents=rows,
        counts=counts,
        category=category,
        categories=CATEGORY_LABELS,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        args=args,
        profile=profile.view(account, record),
        my_accesses=_my_accesses(account, record),
        can_download=_download_check(account, record),
    )


def _download_check(account: Account, patient: Patient) -> Callable[[Document], bool]:
    """The policy's download decision per listed document, on one relation for the page."""
    pro = account.professional
    assert pro is not None
    link = access.relation(pro, patient)
    return lambda doc: (
        access.decide_for_professional(
            pro, account.id, Permission.DOCUMENT_DOWNLOAD, patient, doc, link
        ).allowed
    )


def _my_accesses(account: Account, patient: Patient) -> list[AccessEvent]:
    return list(
        db.session.scalars(
            select(AccessEvent)
            .where(AccessEvent.patient_id == patient.id, AccessEvent.actor_account_id == account.id)
            .order_by(AccessEvent.occurred_at.desc(), AccessEvent.id.desc())
            .limit(10)
        )
    )


def _ways_in(
    account: Account,
    patient: Patient,
    reason: str,
    consent_form: DeclareConsentForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The patient is identified but the professional may not read: the lawful ways in."""
    return render_template(
        "pro/ways_in.html",
        patient=patient,
        reason=reason,
        consent_form=consent_form or DeclareConsentForm(),
        may_declare=access.decide(account, Permission.CONSENT_DECLARE, patient).allowed,
        may_deposit=access.decide(account, Permission.DOCUMENT_CREATE, patient).allowed,
    ), status


@bp.post("/patients/<int(max=2147483647):patient_id>/consent")
def declare_consent(patient_id: int) -> ResponseReturnValue:
    account = current_account()
    record = _patient(patient_id)
    decision = access.decide(account, Permission.CONSENT_DECLARE, record)
    if not decision or not _identified(record):
        _refuse(record, account, decision.reason if not decision else "not_identified", "consent")
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
    today = clock.to_paris(clock.now()).date()
    born = patient.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age < 18


@bp.route("/patients/<int(max=2147483647):patient_id>/deposit", methods=["GET", "POST"])
def deposit(patient_id: int) -> ResponseReturnValue:
    account = current_account()
    record = _patient(patient_id)
    decision = access.decide(account, Permission.DOCUMENT_CREATE, record)
    reads = access.decide(account, Permission.RECORD_READ, record).allowed
    if not decision or not (reads or _identified(record)):
        _refuse(record, account, decision.reason if not decision else "not_identified", "deposit")
    form = DepositForm()
    if form.validate_on_submit():
        upload = form.file.data
        assert isinstance(upload, FileStorage) and form.date.data is not None
        try:
            doc = documents.add(
                account,
                record,
                stream=upload.stream,
                file_name=upload.filename or "",
                title=form.title.data or "",
                category=form.category.data or "",
                care_date=form.date.data,
                type_code=form.type_code.data,
                submission_key=form.submission.data or None,
                hold_from_patient=bool(form.hold.data),
                hidden_from_legal_reps=bool(form.hidden_from_legal_reps.data) and _minor(record),
            )
            db.session.commit()
        except documents.DuplicateSubmission:
            return redirect(url_for("pro.patient", patient_id=record.id), 303)
        except storage.StorageError as problem:
            db.session.rollback()
            from webapp.blueprints.documents.routes import _file_problem

            form.file.errors = [_file_problem(problem)]
        else:
            flash(
                _("Le document « %(title)s » est déposé dans le dossier.", title=doc.title)
                + (
                    " "
                    + _(
                        "Il reste invisible pour le patient jusqu'à ce que vous le libériez "
                        "(30 jours au plus)."
                    )
                    if form.hold.data
                    else ""
                ),
                "success",
            )
            return redirect(
                url_for("pro.patient", patient_id=record.id) if reads else url_for("pro.home"), 303
            )
    status = 422 if request.method == "POST" else 200
    return render_template(
        "pro/deposit.html", form=form, patient=record, minor=_minor(record), reads=reads
    ), status


@bp.post("/documents/<int(max=2147483647):document_id>/release")
def release(document_id: int) -> ResponseReturnValue:
    account = current_account()
    doc = access.get_document_for(account, document_id, Permission.DOCUMENT_RELEASE)
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
    record = _patient(patient_id)
    if not _identified(record) and not access.decide(account, Permission.RECORD_READ, record):
        _refuse(record, account, "not_identified", "emergency")
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
    record = _patient(patient_id)
    decision = access.decide(account, Permission.RECORD_READ, record)
    if not decision:
        _refuse(record, account, decision.reason, "emergency summary")
    parts = profile.emergency_summary(account, record)
    access.note_consultation(record, account, Action.EMERGENCY_SUMMARY_VIEWED, decision)
    db.session.commit()
    return render_template(
        "pro/emergency_summary.html",
        patient=record,
        parts=parts,
        age=_age(record.birth_date),
        emergency_mode=access.mode_of(decision) != Mode.NORMAL.value,
    )


def _age(born: date) -> int:
    today = clock.to_paris(clock.now()).date()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


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


# A patient present in the consulting room can have their record created here (SPEC §2).
visit.install(bp, "pro")
