"""The in-person enrolment visit. One blueprint registered twice by `create_app`:
`counter_visit` at /counter for counter agents, `pro_visit` at /pro for professionals."""

from flask import Blueprint

bp = Blueprint("visit", __name__)

from webapp.blueprints.visit import routes  # noqa: E402,F401
