"""The access history in words: what happened, why it was refused, and the detail of each
event, in the visitor's language.

The rows hold codes and identifiers written in no language ("document:read",
"allergies/allergy", "email:agent"); a few hold words in the language of the request that
wrote them (a device). Every one is read back here, so that no raw code and no sentence in
the other language reaches the page. A detail that is not a known code is a name (a
professional, a counter): it is shown as it is.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from webapp.models import AccessEvent
from webapp.services.audit import Action
from webapp.web.labels import SECTION_TITLES, action_label

# Refused attempts, said in one phrase (the action's own words would read "consulté refusé").
REFUSED_LABELS = {
    Action.RECORD_CONSULTED: _l("Tentative de consultation du dossier, refusée"),
    Action.PROFILE_VIEWED: _l("Tentative de consultation du profil médical, refusée"),
    Action.EMERGENCY_SUMMARY_VIEWED: _l("Tentative de lecture du résumé d'urgence, refusée"),
    Action.DOCUMENT_VIEWED: _l("Tentative de consultation d'un document, refusée"),
    Action.DOCUMENT_DOWNLOADED: _l("Tentative de téléchargement d'un document, refusée"),
}

REASON_LABELS = {
    "no_authorisation": _l("pas d'autorisation de votre part"),
    "blocked_by_patient": _l("un professionnel que vous avez bloqué"),
    "matrix": _l("sa profession n'a pas accès à ces informations"),
    "masked": _l("un document que vous avez masqué aux professionnels"),
    "held_for_announcement": _l("un document réservé à une consultation d'annonce"),
    "opposed_emergency": _l("votre opposition à l'accès en urgence"),
    "opposed_regulation": _l("votre opposition à l'accès du médecin régulateur du SAMU"),
    "not_regulator": _l("un accès réservé aux médecins régulateurs du SAMU"),
    "express_grant_only": _l("un accès possible seulement avec votre accord exprès"),
    "identity_mismatch": _l("un nom ou une date de naissance inexacts"),
    "record_not_active": _l("un dossier qui n'était pas ouvert"),
    "not_identified": _l("une personne pas identifiée en consultation"),
    "mode_not_open": _l("un accès en urgence, en lecture seule"),
    "emergency_read_only": _l("un accès en urgence, en lecture seule"),
}

# What a refused professional was trying to do (`loaders.refuse(..., what=...)`), and the
# permission a refused item names (`document:read`).
ATTEMPTS = {
    "consent": _l("déclarer votre accord"),
    "deposit": _l("déposer un document"),
    "emergency": _l("ouvrir un accès en urgence"),
    "emergency summary": _l("lire le résumé d'urgence"),
    "appointment": _l("ajouter un rendez-vous"),
    "message": _l("vous écrire"),
    "document:read": _l("lire un document"),
    "document:download": _l("télécharger un document"),
    "document:replace": _l("remplacer un document"),
    "document:delete": _l("supprimer un document"),
    "document:mask": _l("masquer un document"),
    "document:release": _l("rendre un document visible"),
    "entry:read": _l("lire une information du profil médical"),
    "entry:edit": _l("modifier une information du profil médical"),
    "entry:mask": _l("masquer une information du profil médical"),
    "conversation:read": _l("lire une conversation"),
    "conversation:reply": _l("répondre dans une conversation"),
    "conversation:close": _l("clore une conversation"),
    "conversation:archive": _l("archiver une conversation"),
    "attachment:save": _l("enregistrer une pièce jointe"),
    "appointment:read": _l("lire un rendez-vous"),
    "appointment:edit": _l("modifier un rendez-vous"),
    "appointment:cancel": _l("annuler un rendez-vous"),
}

KINDS = {
    "surgery": _l("intervention chirurgicale"),
    "blood_group": _l("groupe sanguin"),
    "advance_directives": _l("directives anticipées"),
    "organ_donation": _l("don d'organes"),
    "trusted_person": _l("personne de confiance"),
    "emergency_contact": _l("personne à prévenir"),
    "blood_pressure": _l("tension artérielle"),
    "weight": _l("poids"),
    "height": _l("taille"),
    "glucose": _l("glycémie"),
}

CHANNELS = {
    "email": _l("par e-mail"),
    "sms": _l("par SMS"),
    "letter": _l("par courrier"),
    "print": _l("dans une lettre remise en main propre"),
}

ISSUERS = {
    "agent": _l("au guichet"),
    "professional": _l("par un professionnel de santé"),
    "self_service": _l("à votre demande"),
    "campaign": _l("par l'Assurance Maladie"),
}

FIXED = {
    "held from the patient until an announcement consultation": _l(
        "Vous le verrez après en avoir parlé avec un professionnel de santé."
    ),
    "30 days after the deposit": _l("Automatiquement, 30 jours après son dépôt."),
    "released by the author": _l("Par le professionnel qui l'a déposé."),
    "six weeks without opposition": _l("Six semaines sans opposition."),
    "suspension without objection": _l("Après une suspension restée sans réponse."),
    "operator": _l("Par l'Assurance Maladie."),
    "online": _l("En ligne."),
    "counter": _l("Au guichet."),
    "moved": _l("Nouvelle date ou nouvelle heure."),
}

REMINDER_STATES = {
    "done": _l("Noté comme fait."),
    "postponed": _l("Reporté."),
    "dismissed": _l("Retiré de la liste."),
    "restored": _l("Remis dans la liste."),
}

_KIND_WORDS = {
    "téléphone": "téléphone",
    "phone": "téléphone",
    "tablette": "tablette",
    "tablet": "tablette",
    "ordinateur": "ordinateur",
    "computer": "ordinateur",
}
_DEVICE = re.compile(r"^(?P<browser>.+) (?:sur|on) (?P<system>.+) \((?P<kind>[^()]+)\)$")
_UNKNOWN = {
    "navigateur inconnu": "navigateur inconnu",
    "unknown browser": "navigateur inconnu",
    "système inconnu": "système inconnu",
    "unknown system": "système inconnu",
}
# A code the history wrote for itself: never shown as it is.
_CODE = re.compile(r"^[a-z_]+(?:[:/;][a-z_]+)*$|^conversation \d+$")


def event_label(event: AccessEvent) -> str:
    """The action, and for a refused one a single phrase that says so once."""
    if event.allowed:
        return action_label(event.action)
    refused = REFUSED_LABELS.get(event.action)  # type: ignore[call-overload]
    if refused is not None:
        return str(refused)
    label = action_label(event.action)
    if "refus" in label.lower() or "refus" in event.action:
        return label
    return _("%(action)s : refusé", action=label)


def refusal_reason(event: AccessEvent) -> str:
    """Why an attempt was refused, in plain words; empty when the label says it already."""
    if event.allowed:
        return ""
    found = REASON_LABELS.get(event.reason)
    return str(found) if found is not None else ""


def _device(text: str) -> str:
    """A device as the sign-in wrote it, in the language of that request, said again now."""
    if text in ("Appareil inconnu", "Unknown device"):
        return _("Appareil inconnu")
    found = _DEVICE.match(text)
    if found is None or found["kind"] not in _KIND_WORDS:
        return text
    browser, system = found["browser"], found["system"]
    return _(
        "%(browser)s sur %(system)s (%(kind)s)",
        browser=_(_UNKNOWN[browser]) if browser in _UNKNOWN else browser,
        system=_(_UNKNOWN[system]) if system in _UNKNOWN else system,
        kind=_(_KIND_WORDS[found["kind"]]),
    )


def _emergency_settings(text: str) -> str:
    """The two emergency settings ("emergency:opposed;regulation:allowed") in words."""
    parts = dict(part.split(":", 1) for part in text.split(";") if ":" in part)
    emergency = parts.get("emergency") == "opposed"
    regulation = parts.get("regulation") == "opposed"
    return "{} {}".format(
        _("Accès en urgence : refusé.") if emergency else _("Accès en urgence : accepté."),
        _("Médecin régulateur du SAMU : refusé.")
        if regulation
        else _("Médecin régulateur du SAMU : accepté."),
    )


def _profile(text: str) -> str:
    """The section of "allergies/allergy" or "measurements/weight", and the kind when it says
    more than the section's name."""
    section, _sep, kind = text.partition("/")
    if section not in SECTION_TITLES:
        return ""
    words = str(SECTION_TITLES[section])  # type: ignore[index]
    if kind in KINDS:
        words = f"{words} : {KINDS[kind]}"
    return words


def _code_issued(text: str) -> str:
    channel, _sep, issuer = text.partition(":")
    parts = [str(CHANNELS[channel])] if channel in CHANNELS else []
    if issuer in ISSUERS:
        parts.append(str(ISSUERS[issuer]))
    return _("Envoyé %(how)s.", how=", ".join(parts)) if parts else ""


def _counter(text: str) -> str:
    """Where ("Organisation, counter · purpose,control,…"), and that everything was said."""
    where, _sep, items = text.partition(" · ")
    if not items:
        return where
    return _("%(where)s. Le dossier vous a été présenté en entier.", where=where)


PROFILE_ACTIONS = {
    Action.PROFILE_ENTRY_ADDED,
    Action.PROFILE_ENTRY_CHANGED,
    Action.PROFILE_ENTRY_DELETED,
    Action.PROFILE_ENTRY_MASKED,
    Action.PROFILE_ENTRY_UNMASKED,
    Action.PROFILE_VIEWED,
}
COUNTER_ACTIONS = {
    Action.COUNTER_CONSENT,
    Action.RECORD_OPENED,
    Action.RECORD_REOPENED,
    Action.RECORD_OPPOSED,
    Action.RECORD_PENDING,
}


def _counted(action: str, text: str) -> str | None:
    """The details that hold a number: messages read, a version, versions deleted."""
    if action == Action.CONVERSATION_READ and (found := re.fullmatch(r"(\d+) new", text)):
        count = int(found[1])
        return ngettext("%(num)d nouveau message lu.", "%(num)d nouveaux messages lus.", count)
    if action == Action.DOCUMENT_REPLACED and (found := re.fullmatch(r"version (\d+)", text)):
        return _("Version %(n)s.", n=found[1])
    if action == Action.DOCUMENT_DELETED and (found := re.fullmatch(r"(\d+) version\(s\)", text)):
        count = int(found[1])
        return ngettext("%(num)d version supprimée.", "%(num)d versions supprimées.", count)
    if action == Action.REIMBURSEMENTS_RECEIVED and (found := re.fullmatch(r"(\d+) lines?", text)):
        count = int(found[1])
        return ngettext(
            "%(num)d soin remboursé ajouté.", "%(num)d soins remboursés ajoutés.", count
        )
    return None


def event_detail(event: AccessEvent) -> str:
    """The event's detail in the visitor's language; empty when it holds only codes."""
    text, action = event.detail.strip(), event.action
    if not text:
        return ""
    if text in FIXED:
        return str(FIXED[text])
    if not event.allowed and text in ATTEMPTS:
        return _("Pour %(what)s.", what=ATTEMPTS[text])
    if action in (Action.SIGN_IN, Action.REAUTHENTICATED):
        return _device(text)
    if action == Action.EMERGENCY_SETTINGS_CHANGED:
        return _emergency_settings(text)
    if action == Action.CODE_ISSUED:
        return _code_issued(text)
    if action in PROFILE_ACTIONS:
        return _profile(text)
    if action == Action.REMINDER_UPDATED:
        return str(REMINDER_STATES.get(text, ""))
    counted = _counted(action, text)
    if counted is not None:
        return counted
    if action in COUNTER_ACTIONS and " · " in text:
        return _counter(text)
    if _CODE.match(text):
        return ""
    return text
