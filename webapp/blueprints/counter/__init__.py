from flask import Blueprint

bp = Blueprint("counter", __name__)

from webapp.blueprints.counter import paper, routes  # noqa: E402,F401
