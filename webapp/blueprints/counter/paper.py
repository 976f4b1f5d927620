"""At the counter, a request for a postal paper copy of the record (SPEC §2, §8).

The agent only records the request: the copy is made as the holder reads her record
(services/paper.py) and goes to the print spool, addressed to the postal address on the
insurer's register. Nothing of it comes back in the response: the agent sees a sentence.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.blueprints.counter import bp
from webapp.core.extensions import db, limiter
from webapp.services import assisted, paper
from webapp.web.security import current_account

REFUSALS = {
    "no_record": _l("Cette personne n'a pas de dossier : il n'y a rien à copier."),
    "not_open": _l(
        "Ce dossier n'est pas ouvert : une copie papier ne peut pas être demandée maintenant."
    ),
    "no_address": _l(
        "L'Assurance Maladie ne connaît pas d'adresse postale pour cette personne : elle doit "
        "d'abord la déclarer à sa caisse."
    ),
    "no_holder_account": _l(
        "Cette personne n'a pas encore activé son accès en ligne : la copie papier ne peut pas "
        "encore être préparée. Remettez-lui d'abord un code provisoire."
    ),
}


def _per_helper() -> str:
    return f"helper:{current_account().id}"


@bp.post("/visits/<int(max=2147483647):visit_id>/paper-copy")
@limiter.limit("30 per hour")
@limiter.limit("20 per hour", key_func=_per_helper)
def paper_copy(visit_id: int) -> ResponseReturnValue:
    agent = current_account()
    visit = assisted.load(visit_id, agent)
    if visit is None:
        abort(404)
    back = redirect(url_for("counter_visit.visit", visit_id=visit.id, _anchor="paper"), 303)
    if request.form.get("confirm") != "yes":
        flash(_("Cochez la case pour confirmer la demande de la personne."), "error")
        return back
    try:
        spooled = paper.request_by_post(visit.beneficiary, agent)
    except paper.PaperRefused as refused:
        db.session.rollback()
        flash(str(REFUSALS[refused.reason]), "error")
        return back
    except OSError:  # the print spool is full or unreachable: nothing was recorded
        db.session.rollback()
        flash(
            _(
                "Le courrier n'a pas pu être préparé et rien n'a été enregistré. Réessayez dans "
                "quelques minutes ; si cela recommence, signalez-le à votre support."
            ),
            "error",
        )
        return back
    try:
        db.session.commit()
    except BaseException:
        spooled.unlink(missing_ok=True)  # no letter leaves without its line in the history
        raise
    flash(
        _(
            "La demande est enregistrée : la copie partira par courrier à l'adresse connue de "
            "l'Assurance Maladie."
        ),
        "success",
    )
    return back
