"""Secure messaging (SPEC §6): the inbox, a professional's new conversation, the thread and its
reply box, closing, archiving, attachments, and the unread badge the pages poll.

Every conversation is reached through `loaders.get_conversation_for`: its participants only;
anyone else gets a 404, written in the record's history."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from webapp import policy
from webapp.blueprints.documents.deposits import file_problem
from webapp.blueprints.messages import bp
from webapp.blueprints.messages.forms import NewConversationForm, ReplyForm, SaveAttachmentForm
from webapp.core.extensions import db
from webapp.models import Account, Conversation, MessageAttachment, Patient
from webapp.policy import Permission, loaders
from webapp.policy.relations import patient_of
from webapp.services import message_files, messages, storage, workspace
from webapp.services.audit import Action
from webapp.web import files, htmx
from webapp.web.paging import requested_page
from webapp.web.security import current_account, passive

Rights = Callable[[Permission], policy.Decision]


def _upload(field_data: object) -> messages.Upload | None:
    if isinstance(field_data, FileStorage) and field_data.filename:
        return messages.Upload(field_data.stream, field_data.filename)
    return None


def _correspondent() -> Account:
    """A patient or a professional: a counter agent has no messages (a conversation's own
    routes decide on it, and record an agent's attempt in its history)."""
    actor = current_account()
    if not (
        loaders.can(actor, Permission.DASHBOARD_PATIENT)
        or loaders.can(actor, Permission.PRO_WORKSPACE)
    ):
        abort(404)
    return actor


# --- the inbox ---------------------------------------------------------------------------------


@bp.get("/")
def index() -> ResponseReturnValue:
    actor = _correspondent()
    archived = request.args.get("archived") == "1"
    search = request.args.get("q", "")[:100]
    listing = messages.inbox(actor, archived=archived, search=search, page=requested_page())
    return render_template(
        "messages/_list.html" if htmx.target_is("conversation-list") else "messages/index.html",
        listing=listing,
        archived=archived,
        search=search,
        own=loaders.can(actor, Permission.DASHBOARD_PATIENT),  # the holder's inbox, not a desk
        args=({"archived": "1"} if archived else {}) | ({"q": search} if search else {}),
    )


@bp.get("/unread")
@passive
def unread() -> ResponseReturnValue:
    """The badge in the menu: 204 when the count the page shows is still right."""
    count = messages.unread_count(_correspondent())
    if request.args.get("seen") == str(count):
        return "", 204
    return render_template("messages/_badge.html", unread=count)


# --- a professional writes first ---------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    actor = current_account()
    loaders.require(actor, Permission.PRO_WORKSPACE)
    form = NewConversationForm()
    offered = messages.writable_patients(actor)
    # The patient asked for (the record page's link, or the form sent): anyone this
    # professional may not write to is a refused attempt, written in that record's history.
    wanted = (request.form if request.method == "POST" else request.args).get("patient", "")
    chosen = _reachable(actor, wanted)[0] if wanted else None
    if chosen is not None and all(pid != chosen.id for pid, _name in offered):
        offered.append((chosen.id, messages.patient_label(chosen)))  # beyond the list's length
    form.offer(offered)
    if request.method == "GET" and chosen is not None:
        form.patient.data = str(chosen.id)
    if form.validate_on_submit() and chosen is not None:
        patient = chosen
        try:
            conversation = messages.start(
                actor,
                patient,
                subject=form.subject.data or "",
                body=form.body.data or "",
                attachment=_upload(form.attachment.data),
                hidden_from_legal_reps=bool(form.hidden_from_legal_reps.data)
                and workspace.age(patient.birth_date) < 18,
                submission_key=form.submission_key(),
            )
            db.session.commit()
        except messages.DuplicateSubmission as duplicate:
            db.session.rollback()
            return redirect(url_for(".thread", conversation_id=duplicate.conversation.id), 303)
        except storage.StorageError as problem:
            db.session.rollback()
            form.attachment.errors = [file_problem(problem)]
        else:
            flash(_("Votre message est envoyé. Le patient en est averti."), "success")
            return redirect(url_for(".thread", conversation_id=conversation.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("messages/new.html", form=form), status


def _reachable(actor: Account, raw: str) -> tuple[Patient, policy.Decision]:
    """A patient this professional may write to; anyone else's id is a refused attempt."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        abort(404)
    return loaders.get_patient_for(
        actor,
        int(raw),
        Permission.MESSAGE_START,
        refusal=Action.CONVERSATION_REFUSED,
        what="message",
    )


# --- the thread --------------------------------------------------------------------------------


@bp.route("/<int(max=2147483647):conversation_id>", methods=["GET", "POST"])
def thread(conversation_id: int) -> ResponseReturnValue:
    actor = current_account()
    conversation, rights = loaders.get_conversation_for(
        actor, conversation_id, Permission.CONVERSATION_READ
    )
    form = ReplyForm()
    if request.method == "POST":
        sent = _reply(actor, conversation, rights, form)
        if sent is not None:
            return sent
    status = 422 if request.method == "POST" else 200
    return _thread_page(actor, conversation, rights, form, status)


def _reply(
    actor: Account, conversation: Conversation, rights: Rights, form: ReplyForm
) -> ResponseReturnValue | None:
    """Send the reply, or None when the form must be shown again with its messages."""
    may = rights(Permission.CONVERSATION_REPLY)
    if not may and may.reason == "conversation_closed":
        return _thread_page(actor, conversation, rights, form, 409)
    if not may:
        loaders.get_conversation_for(actor, conversation.id, Permission.CONVERSATION_REPLY)
    if not form.validate_on_submit():
        return None
    try:
        messages.reply(
            actor,
            conversation,
            body=form.body.data or "",
            attachment=_upload(form.attachment.data),
            submission_key=form.submission_key(),
        )
        db.session.commit()
    except storage.StorageError as problem:
        db.session.rollback()
        form.attachment.errors = [file_problem(problem)]
        return None
    flash(_("Votre message est envoyé."), "success")
    return redirect(url_for(".thread", conversation_id=conversation.id) + "#reply", 303)


def _thread_page(
    actor: Account, conversation: Conversation, rights: Rights, form: ReplyForm, status: int
) -> ResponseReturnValue:
    shown = messages.thread(actor, conversation, requested_page())
    patient = patient_of(conversation.patient_id)
    page = render_template(
        "messages/thread.html",
        conversation=conversation,
        patient=patient,
        shown=shown,
        form=form,
        save_form=SaveAttachmentForm(formdata=None),
        own=loaders.holds(actor, patient),
        can=lambda permission: rights(Permission(permission)).allowed,
        closed_refusal=status == 409,
    )
    # What was read is read. Committed once the page is rendered: a commit expires the rows
    # shown, and the template would load every message again, one query each.
    db.session.commit()
    return page, status


# --- closing, archiving -------------------------------------------------------------------------


@bp.post("/<int(max=2147483647):conversation_id>/close")
def close(conversation_id: int) -> ResponseReturnValue:
    actor = current_account()
    conversation, rights = loaders.get_conversation_for(
        actor, conversation_id, Permission.CONVERSATION_READ
    )
    may = rights(Permission.CONVERSATION_CLOSE)
    if not may and may.reason != "conversation_closed":
        loaders.get_conversation_for(actor, conversation_id, Permission.CONVERSATION_CLOSE)
    if may and messages.close(actor, conversation):
        db.session.commit()
    flash(_("La conversation est close : le patient ne peut plus y répondre."), "success")
    return redirect(url_for(".thread", conversation_id=conversation.id), 303)


@bp.post("/<int(max=2147483647):conversation_id>/<any(archive,unarchive):change>")
def archive(conversation_id: int, change: str) -> ResponseReturnValue:
    actor = current_account()
    conversation, _may = loaders.get_conversation_for(
        actor, conversation_id, Permission.CONVERSATION_ARCHIVE
    )
    messages.set_archived(actor, conversation, archived=change == "archive")
    db.session.commit()
    if change == "archive":
        flash(_("La conversation est rangée dans les archives."), "success")
        return redirect(url_for(".index"), 303)
    flash(_("La conversation est revenue dans vos messages."), "success")
    return redirect(url_for(".thread", conversation_id=conversation.id), 303)


# --- attachments --------------------------------------------------------------------------------


def _attachment_for(
    conversation_id: int, attachment_id: int, permission: Permission
) -> tuple[Conversation, MessageAttachment]:
    conversation, _may = loaders.get_conversation_for(
        current_account(), conversation_id, permission
    )
    found = message_files.attachment_in(conversation, attachment_id)
    if found is None:
        abort(404)
    return conversation, found


@bp.get("/<int(max=2147483647):conversation_id>/attachments/<int(max=2147483647):attachment_id>")
def attachment(conversation_id: int, attachment_id: int) -> ResponseReturnValue:
    _conversation, found = _attachment_for(
        conversation_id, attachment_id, Permission.CONVERSATION_READ
    )
    return files.send(
        message_files.read_attachment(found),
        title=found.original_name,
        media_type=found.media_type,
        size=found.size,
        disposition="attachment",
    )


@bp.post(
    "/<int(max=2147483647):conversation_id>/attachments/<int(max=2147483647):attachment_id>/save"
)
def save_attachment(conversation_id: int, attachment_id: int) -> ResponseReturnValue:
    actor = current_account()
    conversation, found = _attachment_for(
        conversation_id, attachment_id, Permission.ATTACHMENT_SAVE
    )
    form = SaveAttachmentForm()
    if not form.validate_on_submit():
        flash(_("Choisissez une catégorie pour ranger la pièce jointe."), "error")
        return redirect(url_for(".thread", conversation_id=conversation.id), 303)
    if found.saved_document_id is not None:
        return redirect(url_for("documents.show", document_id=found.saved_document_id), 303)
    try:
        doc = message_files.save_attachment(
            actor, conversation, found, category=form.category.data or ""
        )
    except storage.StorageError as problem:  # a file kept before today's checks, say
        db.session.rollback()
        flash(file_problem(problem), "error")
        return redirect(url_for(".thread", conversation_id=conversation.id), 303)
    db.session.commit()
    flash(_("La pièce jointe est enregistrée dans vos documents."), "success")
    return redirect(url_for("documents.show", document_id=doc.id), 303)
