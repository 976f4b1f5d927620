"""The insurer's API (SPEC §8b): bearer tokens, JSON in and out, never a cookie."""

from flask import Blueprint

from webapp.core.extensions import csrf

# The largest body the API reads (JSON batches, a certificate with its form); 10,000
# reimbursement lines fit.
BODY_LIMIT = 5 * 1024 * 1024

bp = Blueprint("api", __name__)
# No cookie ever authenticates the API (a bearer token does): a forged cross-site request
# carries no token, so there is nothing for a CSRF token to protect.
csrf.exempt(bp)

import webapp.blueprints.api.routes  # noqa: E402,F401
