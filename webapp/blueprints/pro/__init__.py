from flask import Blueprint

bp = Blueprint("pro", __name__)

from webapp.blueprints.pro import routes  # noqa: E402,F401
