from flask import Blueprint

bp = Blueprint("enrolment", __name__)

import webapp.blueprints.enrolment.routes  # noqa: E402,F401
