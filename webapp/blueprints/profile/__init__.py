from flask import Blueprint

bp = Blueprint("profile", __name__)

import webapp.blueprints.profile.routes  # noqa: E402,F401
