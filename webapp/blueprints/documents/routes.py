from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from webapp import policy
from webapp.blueprints.documents import bp, deposits
from webapp.blueprints.documents.forms import DocumentForm, ReplaceForm
from webapp.core.extensions import db
from webapp.models import Document
from webapp.policy import Permission, explain, loaders
from webapp.services import document_lists, documents, storage
from webapp.web import files, htmx
from webapp.web.labels import CATEGORY_LABELS
from webapp.web.paging import requested_page
from webapp.web.security import current_account


@bp.get("/")
def index() -> ResponseReturnValue:
    actor = current_account()
    patient = loaders.own_patient(actor)
    listing = document_lists.list_documents(
        actor,
        patient,
        category=request.args.get("category", ""),
        search=request.args.get("q", ""),
        sort=request.args.get("sort", "care"),
        page=requested_page(),
    )
    partial = htmx.target_is("document-results")
    return render_template(
        "documents/_results.html" if partial else "documents/index.html",
        **listing.context(),
        held=document_lists.held_count(patient),
        categories=CATEGORY_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    actor = current_account()
    patient = loaders.own_patient(actor)
    loaders.require(actor, Permission.DOCUMENT_CREATE, patient)
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            doc = deposits.deposit_from(form, actor, patient)
        except documents.DuplicateSubmission as duplicate:
            return redirect(url_for("documents.show", document_id=duplicate.existing.id), 303)
        if doc is not None:
            db.session.commit()
            flash(
                _("Le document « %(title)s » est ajouté à votre dossier.", title=doc.title),
                "success",
            )
            return redirect(url_for("documents.show", document_id=doc.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("documents/new.html", form=form), status


@bp.get("/<int(max=2147483647):document_id>")
def show(document_id: int) -> ResponseReturnValue:
    actor = current_account()
    doc = loaders.get_document_for(actor, document_id, Permission.DOCUMENT_READ)
    db.session.commit()
    return render_template(
        "documents/show.html",
        doc=doc,
        versions=documents.versions_of(doc),
        viewers=explain.who_can_see(doc) if actor.patient is not None else [],
        can=lambda permission: policy.decide(actor, permission, doc).allowed,
        Permission=Permission,
    )


def _send(doc: Document, disposition: str) -> Response:
    return files.send(
        documents.content(doc),
        title=doc.title,
        media_type=doc.media_type,
        size=doc.size,
        disposition=disposition,
    )


@bp.get("/<int(max=2147483647):document_id>/file")
def view_file(document_id: int) -> ResponseReturnValue:
    doc = loaders.get_document_for(current_account(), document_id, Permission.DOCUMENT_READ)
    db.session.commit()
    inline = doc.media_type in ("application/pdf", "image/jpeg", "image/png", "text/plain")
    return _send(doc, "inline" if inline else "attachment")


@bp.get("/<int(max=2147483647):document_id>/download")
def download(document_id: int) -> ResponseReturnValue:
    doc = loaders.get_document_for(current_account(), document_id, Permission.DOCUMENT_DOWNLOAD)
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
    doc = loaders.get_document_for(actor, document_id, Permission.DOCUMENT_MASK)
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
    doc = loaders.get_document_for(actor, document_id, Permission.DOCUMENT_DELETE)
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
    doc = loaders.get_document_for(actor, document_id, Permission.DOCUMENT_REPLACE)
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
            form.file.errors = [deposits.file_problem(problem)]
        else:
            flash(
                _("La nouvelle version est enregistrée ; l'ancienne reste consultable."), "success"
            )
            return redirect(url_for("documents.show", document_id=new_version.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("documents/replace.html", form=form, doc=doc), status
