"""The agenda (SPEC §7): appointments, prevention reminders, the private calendar feed."""

from flask import Blueprint

bp = Blueprint("agenda", __name__)

import webapp.blueprints.agenda.feed  # noqa: E402,F401
import webapp.blueprints.agenda.reminders  # noqa: E402,F401
import webapp.blueprints.agenda.routes  # noqa: E402,F401
