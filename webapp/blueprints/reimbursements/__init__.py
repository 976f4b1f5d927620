"""The patient's reimbursement history, as the insurer feeds it (SPEC §8b)."""

from flask import Blueprint

bp = Blueprint("reimbursements", __name__)

import webapp.blueprints.reimbursements.routes  # noqa: E402,F401
