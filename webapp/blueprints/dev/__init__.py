from flask import Blueprint

bp = Blueprint("dev", __name__)

from webapp.blueprints.dev import routes  # noqa: E402,F401
