"""Secure messaging between professionals and patients (SPEC §6)."""

from flask import Blueprint

bp = Blueprint("messages", __name__)

import webapp.blueprints.messages.routes  # noqa: E402,F401
