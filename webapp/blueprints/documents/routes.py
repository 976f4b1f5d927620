from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select
from werkzeug.datastructures import FileStorage

from webapp.blueprints.documents import bp
from webapp.blueprints.documents.forms import DocumentForm, ReplaceForm
from webapp.core.extensions import db
from webapp.core.security import current_account
from webapp.models import Document
from webapp.services import access, documents, filetypes, storage
from webapp.services.access import Permission
from webapp.ui import htmx
from webapp.ui.labels import CATEGORY_LABELS
from webapp.ui.paging import requested_page

PAGE_SIZE = 25
SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "care": (Document.care_date.desc(), Document.id.desc()),
    "deposit": (Document.deposited_at.desc(), Document.id.desc()),
}


@bp.get("/")
def index() -> ResponseReturnValue:
    actor = current_account()
    patient = access.own_patient(actor)
    visible = access.documents_query(actor, patient)
    counts = documents.count_by_category(visible)
    category = request.args.get("category", "")
    search = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "care") if request.args.get("sort") in SORTS else "care"
    query = visible
    if category in CATEGORY_LABELS:
        query = query.where(Document.category == category)
    else:
        category = ""
    if search:
        pattern = "%" + search.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(func.lower(Document.title).like(func.lower(pattern)))
    if search:
        total = int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    else:  # the counts per category already say it
        total = counts.get(category, 0) if category else sum(counts.values())
    page = requested_page()
    rows = db.session.scalars(
        query.order_by(*SORTS[sort]).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    held = _held_count(actor)
    template = (
        "documents/_results.html"
        if htmx.is_request() and request.headers.get("HX-Target") == "document-results"
        else "documents/index.html"
    )
    args = {k: v for k, v in {"category": category, "q": search, "sort": sort}.items() if v}
    return render_template(
        template,
        documents=rows,
        counts=counts,
        category=category,
        search=search,
        sort=sort,
        total=total,
        page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        args=args,
        held=held,
        categories=CATEGORY_LABELS,
    )


def _held_count(actor: object) -> int:
    from webapp.models import DocumentState
    from webapp.services import clock

    account = current_account()
    patient = access.own_patient(account)
    return int(
        db.session.scalar(
            select(func.count()).where(
                Document.patient_id == patient.id,
                Document.state == DocumentState.CURRENT,
                Document.hidden_from_patient_until > clock.now(),
            )
        )
        or 0
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    actor = current_account()
    patient = access.own_patient(actor)
    access.require(actor, Permission.DOCUMENT_CREATE, patient)
    form = DocumentForm()
    if form.validate_on_submit():
        upload = form.file.data
        assert isinstance(upload, FileStorage) and form.date.data is not None
        try:
            doc = documents.add(
                actor,
                patient,
                stream=upload.stream,
                file_name=upload.filename or "",
                title=form.title.data or "",
                category=form.category.data or "",
                care_date=form.date.data,
                submission_key=form.submission.data or None,
            )
            db.session.commit()
        except documents.DuplicateSubmission as duplicate:
            return redirect(url_for("documents.show", document_id=duplicate.existing.id), 303)
        except storage.StorageError as problem:
            db.session.rollback()
            form.file.errors = [_file_problem(problem)]
        else:
            flash(
                _("Le document « %(title)s » est ajouté à votre dossier.", title=doc.title),
                "success",
            )
            return redirect(url_for("documents.show", document_id=doc.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("documents/new.html", form=form), status


def _file_problem(problem: storage.StorageError) -> str:
    if isinstance(problem, storage.EmptyFile):
        return _("Ce fichier est vide. Choisissez le bon fichier.")
    if isinstance(problem, storage.TooLarge):
        return _(
            "Ce fichier dépasse %(size)s Mo. Choisissez un fichier plus petit, ou une photo "
            "moins lourde.",
            size=problem.limit // (1024 * 1024),
        )
    if isinstance(problem, storage.UnsupportedType):
        return _(
            "Ce type de fichier n'est pas accepté. Envoyez un PDF, une photo (JPEG, PNG, "
            "TIFF), un RTF ou un texte."
        )
    return _("Ce fichier n'a pas pu être enregistré. Réessayez.")


@bp.get("/<int(max=2147483647):document_id>")
def show(document_id: int) -> ResponseReturnValue:
    actor = current_account()
    doc = access.get_document_for(actor, document_id, Permission.DOCUMENT_READ)
    db.session.commit()
    return render_template(
        "documents/show.html",
        doc=doc,
        versions=documents.versions_of(doc),
        viewers=access.who_can_see(doc) if actor.patient is not None else [],
        can=lambda permission: access.decide(actor, permission, doc).allowed,
        Permission=Permission,
    )


def _send(doc: Document, disposition: str) -> Response:
    extension = filetypes.EXTENSIONS.get(doc.media_type, "")
    base = doc.title.strip() or "document"
    name = base if base.lower().endswith(extension) else base + extension
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    response = Response(documents.content(doc), mimetype=doc.media_type, direct_passthrough=True)
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["Content-Length"] = str(doc.size)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int(max=2147483647):document_id>/file")
def view_file(document_id: int) -> ResponseReturnValue:
    doc = access.get_document_for(current_account(), document_id, Permission.DOCUMENT_READ)
    db.session.commit()
    inline = doc.media_type in ("application/pdf", "image/jpeg", "image/png", "text/plain")
    return _send(doc, "inline" if inline else "attachment")


@bp.get("/<int(max=2147483647):document_id>/download")
def download(document_id: int) -> ResponseReturnValue:
    doc = access.get_document_for(current_account(), document_id, Permission.DOCUMENT_DOWNLOAD)
    db.session.commit()
    return _send(doc, "attachment")


@bp.post("/<int(max=2147483647):document_id>/mask")
def mask(document_id: int) -> ResponseReturnValue:
    return _set_mask(document_id, masked=True)


@bp.post("/<int(max=2147483647):document_id>/unmask")
def unmask(document_id: int) -> ResponseReturnValue:
    return _set_mask(document_id, masked=False)


def _set_mask(document_id: int, *, masked: bool) -> ResponseReturnValue:
    actor = current_account()
    doc = access.get_document_for(actor, document_id, Permission.DOCUMENT_MASK)
    documents.set_masked(actor, doc, masked=masked)
    db.session.commit()
    if masked:
        flash(
            _(
                "Le document est masqué aux professionnels, sauf à son auteur, à votre "
                "médecin traitant et à ceux à qui vous avez donné ses droits."
            ),
            "success",
        )
    else:
        flash(
            _("Le document est de nouveau visible des professionnels que vous avez autorisés."),
            "success",
        )
    return redirect(url_for("documents.show", document_id=doc.id), 303)


@bp.route("/<int(max=2147483647):document_id>/delete", methods=["GET", "POST"])
def delete(document_id: int) -> ResponseReturnValue:
    actor = current_account()
    doc = access.get_document_for(actor, document_id, Permission.DOCUMENT_DELETE)
    if request.method == "GET":
        db.session.commit()
        return render_template("documents/delete.html", doc=doc)
    title = doc.title
    blobs = documents.delete(actor, doc)
    db.session.commit()
    documents.destroy_files(blobs)
    flash(
        _("Le document « %(title)s » est supprimé. Son fichier est détruit.", title=title),
        "success",
    )
    return redirect(url_for("documents.index"), 303)


@bp.route("/<int(max=2147483647):document_id>/replace", methods=["GET", "POST"])
def replace(document_id: int) -> ResponseReturnValue:
    actor = current_account()
    doc = access.get_document_for(actor, document_id, Permission.DOCUMENT_REPLACE)
    form = ReplaceForm()
    if form.validate_on_submit():
        upload = form.file.data
        assert isinstance(upload, FileStorage)
        try:
            new_version = documents.replace(
                actor, doc, stream=upload.stream, file_name=upload.filename or ""
            )
            db.session.commit()
        except documents.ReplacedMeanwhile:
            db.session.rollback()
            flash(
                _(
                    "Ce document vient d'être modifié dans une autre fenêtre : voici sa "
                    "version actuelle. Rien n'a été remplacé."
                ),
                "warning",
            )
            return redirect(url_for("documents.show", document_id=doc.id), 303)
        except storage.StorageError as problem:
            db.session.rollback()
            form.file.errors = [_file_problem(problem)]
        else:
            flash(
                _("La nouvelle version est enregistrée ; l'ancienne reste consultable."), "success"
            )
            return redirect(url_for("documents.show", document_id=new_version.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("documents/replace.html", form=form, doc=doc), status
