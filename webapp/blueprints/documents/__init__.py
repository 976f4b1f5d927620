from flask import Blueprint

bp = Blueprint("documents", __name__)

import webapp.blueprints.documents.routes  # noqa: E402,F401
