from flask import Blueprint

bp = Blueprint("access", __name__)

from webapp.blueprints.access import routes  # noqa: E402,F401
