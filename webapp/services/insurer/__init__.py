"""What the insurer's systems feed (SPEC §8b): their tokens, reimbursement lines, the
beneficiary register and vaccination certificates. The API (blueprints/api) and the CLI
(`flask insurer …`) call the same services with the same models (`schemas`)."""

from webapp.services.insurer import certificates, register, reimbursements, schemas, tokens
from webapp.services.insurer.records import Refused

__all__ = ["Refused", "certificates", "register", "reimbursements", "schemas", "tokens"]
