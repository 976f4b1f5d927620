"""Words shown for codes stored in the database, in the visitor's language."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice  # type: ignore[attr-defined]

from webapp.models.document import Category
from webapp.models.profile import Section
from webapp.services import catalogue
from webapp.services.audit import Action, ActorKind

ACTION_LABELS = {
    Action.SIGN_IN: _l("Connexion"),
    Action.SIGN_IN_REFUSED: _l("Connexion refusée (mauvais mot de passe)"),
    Action.SECOND_FACTOR_REFUSED: _l("Code de connexion refusé"),
    Action.RECOVERY_CODE_USED: _l("Code de secours utilisé"),
    Action.PASSWORD_RESET: _l("Nouveau mot de passe choisi (mot de passe oublié)"),
    Action.PASSWORD_RESET_REFUSED: _l("Mot de passe oublié : vérification refusée"),
    Action.SIGN_OUT: _l("Déconnexion"),
    Action.SESSION_ENDED: _l("Session fermée à distance"),
    Action.SIGN_OUT_EVERYWHERE: _l("Déconnexion de tous les appareils"),
    Action.REAUTHENTICATED: _l("Identité confirmée pour une action sensible"),
    Action.AUTHENTICATOR_ENROLLED: _l("Application d'authentification reliée"),
    Action.AUTHENTICATOR_REMOVED: _l("Application d'authentification retirée"),
    Action.HISTORY_EXPORTED: _l("Historique téléchargé"),
    Action.DOCUMENT_VIEWED: _l("Document consulté"),
    Action.DOCUMENT_DOWNLOADED: _l("Document téléchargé"),
    Action.DOCUMENT_DEPOSITED: _l("Document ajouté"),
    Action.DOCUMENT_REPLACED: _l("Nouvelle version d'un document"),
    Action.DOCUMENT_MASKED: _l("Document masqué aux professionnels"),
    Action.DOCUMENT_UNMASKED: _l("Document de nouveau visible des professionnels"),
    Action.DOCUMENT_DELETED: _l("Document supprimé"),
    Action.DOCUMENT_REFUSED: _l("Accès à un document refusé"),
    Action.MESSAGE_SENT: _l("Message envoyé"),
    Action.CONVERSATION_READ: _l("Conversation lue"),
    Action.CONVERSATION_CLOSED: _l("Conversation close"),
    Action.CONVERSATION_ARCHIVED: _l("Conversation archivée"),
    Action.CONVERSATION_UNARCHIVED: _l("Conversation sortie des archives"),
    Action.CONVERSATION_REFUSED: _l("Accès à une conversation refusé"),
    Action.ATTACHMENT_SAVED: _l("Pièce jointe enregistrée dans les documents"),
    Action.APPOINTMENT_CREATED: _l("Rendez-vous ajouté"),
    Action.APPOINTMENT_CHANGED: _l("Rendez-vous modifié"),
    Action.APPOINTMENT_CANCELLED: _l("Rendez-vous annulé"),
    Action.APPOINTMENT_REFUSED: _l("Accès à un rendez-vous refusé"),
    Action.REMINDER_UPDATED: _l("Rappel de prévention mis à jour"),
    Action.FEED_CREATED: _l("Lien d'abonnement au calendrier créé"),
    Action.FEED_REVOKED: _l("Lien d'abonnement au calendrier supprimé"),
    Action.FEED_READ: _l("Agenda lu par votre application de calendrier"),
    Action.REIMBURSEMENTS_RECEIVED: _l("Remboursements transmis par l'Assurance Maladie"),
    Action.REIMBURSEMENTS_EXPORTED: _l("Remboursements téléchargés (fichier CSV)"),
    Action.CERTIFICATE_DEPOSITED: _l("Certificat de vaccination déposé par l'Assurance Maladie"),
    Action.BENEFICIARY_UPDATED: _l("Données administratives mises à jour par l'Assurance Maladie"),
    Action.RECORD_EXPORTED: _l("Dossier complet téléchargé (archive ZIP)"),
    Action.PAPER_COPY_DOWNLOADED: _l("Copie papier du dossier téléchargée (PDF)"),
    Action.PAPER_COPY_REQUESTED: _l("Copie papier du dossier demandée par courrier"),
    Action.RECORD_PENDING: _l("Code provisoire envoyé : dossier en attente d'ouverture"),
    Action.RECORD_OPENED: _l("Dossier ouvert"),
    Action.RECORD_REOPENED: _l("Dossier rouvert"),
    Action.RECORD_OPPOSED: _l("Opposition à la création du dossier"),
    Action.RECORD_CLOSED: _l("Dossier fermé"),
    Action.RECORD_SUSPENDED: _l("Dossier suspendu"),
    Action.RECORD_SUSPENSION_LIFTED: _l("Suspension du dossier levée"),
    Action.RECORD_DELETED: _l("Contenu du dossier supprimé"),
    Action.DELETION_REQUESTED: _l("Suppression du dossier demandée"),
    Action.CODE_ISSUED: _l("Code provisoire envoyé"),
    Action.CODE_REFUSED: _l("Code provisoire refusé (informations incorrectes)"),
    Action.ONLINE_ACCESS_OPENED: _l("Accès en ligne activé"),
    Action.EMERGENCY_SETTINGS_CHANGED: _l("Réglages de l'accès en urgence modifiés"),
    Action.COUNTER_IDENTIFIED: _l("Identification au guichet (carte Vitale)"),
    Action.COUNTER_CONSENT: _l("Information donnée et consentement oral recueilli"),
    Action.RECORD_CONSULTED: _l("Dossier consulté"),
    Action.AUTHORISATION_GRANTED: _l("Accès autorisé"),
    Action.CONSENT_DECLARED: _l(
        "Accès déclaré par le professionnel (votre accord en consultation)"
    ),
    Action.AUTHORISATION_REVOKED: _l("Accès retiré"),
    Action.PROFESSIONAL_BLOCKED: _l("Professionnel bloqué"),
    Action.PROFESSIONAL_UNBLOCKED: _l("Professionnel débloqué"),
    Action.TRAITANT_DECLARED: _l("Médecin traitant déclaré"),
    Action.TRAITANT_RIGHTS_GIVEN: _l("Droits du médecin traitant donnés"),
    Action.TRAITANT_RIGHTS_REMOVED: _l("Droits du médecin traitant retirés"),
    Action.EMERGENCY_OPENED: _l("Accès en urgence ouvert"),
    Action.EMERGENCY_REFUSED: _l("Accès en urgence refusé"),
    Action.EMERGENCY_ENDED: _l("Accès en urgence terminé"),
    Action.EMERGENCY_SUMMARY_VIEWED: _l("Résumé d'urgence consulté"),
    Action.DOCUMENT_RELEASED: _l("Document rendu visible pour vous"),
    Action.HOLD_NOTICE_SENT: _l("Vous avez été prévenu d'une mise à jour de votre dossier"),
    Action.PROFILE_ENTRY_ADDED: _l("Profil médical : information ajoutée"),
    Action.PROFILE_ENTRY_CHANGED: _l("Profil médical : information modifiée"),
    Action.PROFILE_ENTRY_DELETED: _l("Profil médical : information supprimée"),
    Action.PROFILE_ENTRY_MASKED: _l("Profil médical : information masquée aux professionnels"),
    Action.PROFILE_ENTRY_UNMASKED: _l("Profil médical : information de nouveau visible"),
    Action.PROFILE_VIEWED: _l("Profil médical consulté"),
    Action.SAFETY_WARNING_ACKNOWLEDGED: _l("Alerte de sécurité lue et confirmée"),
}
ACTOR_LABELS = {
    ActorKind.PATIENT: _l("Vous"),
    ActorKind.PROFESSIONAL: _l("Un professionnel de santé"),
    ActorKind.AGENT: _l("Un agent d'accueil"),
    ActorKind.SYSTEM: _l("Carnet (automatique)"),
    ActorKind.INSURER: _l("Assurance Maladie"),
    ActorKind.UNKNOWN: _l("Personne non identifiée"),
    ActorKind.OTHER_PATIENT: _l("Le compte d'un autre usager"),
}

# The profile's sections, as its pages, the paper copy and the history name them.
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

CATEGORY_LABELS = {
    Category.SUMMARY: _l("Ma santé en résumé"),
    Category.PRESCRIPTIONS: _l("Ordonnances et soins"),
    Category.IMAGING: _l("Radio, écho, scanner, IRM"),
    Category.LABORATORY: _l("Résultats de biologie"),
    Category.REPORTS: _l("Comptes rendus"),
    Category.PREVENTION: _l("Prévention et dépistages"),
    Category.CERTIFICATES: _l("Certificats médicaux"),
    Category.ADMINISTRATIVE: _l("Pièces administratives"),
    Category.OTHER: _l("Autres documents"),
}


FILE_KINDS = {
    "application/pdf": _l("PDF"),
    "image/jpeg": _l("Photo (JPEG)"),
    "image/png": _l("Image (PNG)"),
    "image/tiff": _l("Image (TIFF)"),
    "application/rtf": _l("Texte mis en forme (RTF)"),
    "text/plain": _l("Texte"),
}


def file_kind(media_type: str) -> str:
    label = FILE_KINDS.get(media_type)
    return str(label) if label is not None else media_type


def category_label(code: str) -> str:
    label = CATEGORY_LABELS.get(code)  # type: ignore[call-overload]
    return str(label) if label is not None else code


def _english() -> bool:

    locale = get_locale()
    return locale is not None and locale.language == "en"


def specialty_label(code: str) -> str:
    """Professions and specialties are reference data (webapp/data), labelled in both languages."""

    found = catalogue.current().specialties.get(code)
    if found is None:
        return code.replace("_", " ")
    return found.label_en if _english() else found.label_fr


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)  # type: ignore[call-overload]
    return str(label) if label is not None else code


def actor_label(code: str) -> str:
    label = ACTOR_LABELS.get(code)  # type: ignore[call-overload]
    return str(label) if label is not None else code


def profession_label(code: str) -> str:

    found = catalogue.current().professions.get(code)
    if found is None:
        return code.replace("_", " ")
    return found[1] if _english() else found[0]


RECORD_STATE_LABELS = {
    None: _l("Pas de dossier"),
    "pending": _l("En attente d'ouverture (code provisoire envoyé)"),
    "active": _l("Ouvert"),
    "opposed": _l("Opposition à la création"),
    "closed": _l("Fermé (archivé)"),
    "deleted": _l("Supprimé"),
    "suspended": _l("Suspendu"),
}


def record_state_label(code: str | None) -> str:
    label = RECORD_STATE_LABELS.get(code)
    return str(label) if label is not None else str(code)


def type_label(code: str) -> str:
    """A document type of the value set, in the visitor's language."""

    found = catalogue.current().types.get(code)
    if found is None:
        return code
    return found.label_en if _english() else found.label_fr


SEVERITY_LABELS = {
    "mild": _l("légère"),
    "moderate": _l("modérée"),
    "severe": _l("sévère"),
}


def severity_label(code: str) -> str:
    label = SEVERITY_LABELS.get(code)
    return str(label) if label is not None else code


# The answers to "don d'organes", as the form offers them and the pages show them.
ORGAN_CHOICES = [
    SelectChoice("favorable", _l("Favorable au don de mes organes et tissus")),
    SelectChoice("partial", _l("Favorable, avec des restrictions")),
    SelectChoice("refusal", _l("Opposé(e) au don (inscrit(e) au registre national des refus)")),
    SelectChoice("undecided", _l("Je n'ai pas encore décidé")),
]
