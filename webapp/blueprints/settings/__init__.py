from flask import Blueprint

bp = Blueprint("settings", __name__)

from webapp.blueprints.settings import export, paper, routes  # noqa: E402,F401
