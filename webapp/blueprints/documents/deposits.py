"""A file sent with a document form becomes a document: the one path for the patient's own
uploads and a professional's deposits, with the same checks and the same plain messages."""

from __future__ import annotations

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from webapp.blueprints.documents.forms import DocumentForm
from webapp.core.extensions import db
from webapp.models import Account, Document, Patient
from webapp.services import documents, file_safety, storage


def deposit_from(
    form: DocumentForm,
    actor: Account,
    patient: Patient,
    *,
    type_code: str | None = None,
    hold_from_patient: bool = False,
    hidden_from_legal_reps: bool = False,
) -> Document | None:
    """Store the form's file as a new document of the record (the caller commits). When the
    file is refused, the form's file field says why and nothing is kept. A repeated submission
    raises documents.DuplicateSubmission with the document the first one made."""
    upload = form.file.data
    assert isinstance(upload, FileStorage) and form.date.data is not None
    try:
        return documents.add(
            actor,
            patient,
            stream=upload.stream,
            file_name=upload.filename or "",
            title=form.title.data or "",
            category=form.category.data or "",
            care_date=form.date.data,
            submission_key=form.submission.data or None,
            type_code=type_code,
            hold_from_patient=hold_from_patient,
            hidden_from_legal_reps=hidden_from_legal_reps,
        )
    except storage.StorageError as problem:
        db.session.rollback()
        form.file.errors = [file_problem(problem)]
        return None


def file_problem(problem: storage.StorageError) -> str:
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
    if isinstance(problem, file_safety.Refused):
        return _content_problem(problem)
    return _("Ce fichier n'a pas pu être enregistré. Réessayez.")


def _content_problem(problem: file_safety.Refused) -> str:
    """Why a file of an accepted type was refused, and what the person can do instead."""
    if isinstance(problem, file_safety.TooManyPixels):
        return _(
            "Cette image est trop grande : %(count)s millions de pixels au plus. Envoyez-la "
            "en taille réduite (sur un téléphone, choisissez « taille moyenne » à l'envoi).",
            count=problem.limit // 1_000_000,
        )
    if isinstance(problem, file_safety.ActiveContent):
        return _(
            "Ce PDF contient un programme, un script ou un fichier caché : il est refusé par "
            "sécurité. Ouvrez-le, imprimez-le en PDF (« Imprimer », puis « Enregistrer en "
            "PDF ») et envoyez cette copie."
        )
    if isinstance(problem, file_safety.PasswordProtected):
        return _(
            "Ce PDF est protégé par un mot de passe. Enregistrez-en une copie sans mot de "
            "passe, puis envoyez cette copie."
        )
    if isinstance(problem, file_safety.TooComplex):
        return _(
            "Ce fichier est trop complexe pour être vérifié. Imprimez-le en PDF, ou envoyez "
            "une photo du document."
        )
    return _(
        "Ce fichier est abîmé ou incomplet : il ne s'ouvre pas correctement. Enregistrez-le "
        "à nouveau, ou prenez une nouvelle photo du document, puis réessayez."
    )
