"""The patients a professional identified in this session (NIR and name or birth date), an
input of `decide` for the ways into a record. Bound to the account (a cookie passed to a
colleague proves nothing) and kept four hours at most; not to the session row, which
re-authenticating before an emergency access replaces."""

from __future__ import annotations

from flask import session

from webapp.core import clock
from webapp.models import Account, Patient

KEY = "pro_found"
KEEP = 10
SECONDS = 4 * 3600  # a consultation, or a long night in the emergency department


def _found(actor: Account) -> list[int]:
    kept = session.get(KEY)
    if not isinstance(kept, dict) or kept.get("account") != actor.id:
        return []
    if float(kept.get("until", 0)) < clock.now().timestamp():
        return []
    return [pid for pid in kept.get("ids", []) if isinstance(pid, int)]


def remember(actor: Account, patient: Patient) -> None:
    found = [pid for pid in _found(actor) if pid != patient.id]
    session[KEY] = {
        "account": actor.id,
        "until": clock.now().timestamp() + SECONDS,
        "ids": [patient.id, *found][:KEEP],
    }


def is_identified(actor: Account, patient: Patient) -> bool:
    return actor.professional is not None and patient.id in _found(actor)
