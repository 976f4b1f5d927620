from flask import Blueprint

bp = Blueprint("auth", __name__)

from webapp.blueprints.auth import forgot, routes  # noqa: E402,F401
