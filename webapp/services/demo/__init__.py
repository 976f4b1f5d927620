"""Demo data of SPEC §11 (development only): the accounts, the demo patient's professionals,
her documents in the nine categories, her profile and measurements, her conversations, her
appointments, two years of reimbursements; her father's profile, appointments and a few
reimbursements, with the prevention reminders of his age.

The data are files of `webapp/data/demo/` (`accounts.toml`, `documents.toml`,
`profile.toml`, `measurements.csv`, `messages.toml`, `agenda.toml`, `reimbursements.csv`),
checked when read
(`DemoDataError` names the file and the entry); `load` writes what is missing, `files` makes
the documents' PDF, PNG and text, `replay` writes her conversations through the messaging
service.
"""

from webapp.services.demo.data import DemoDataError
from webapp.services.demo.load import PendingDemo, load, password, pending_beneficiary, with_key
from webapp.services.demo.record import DemoDocument, Holder, record

__all__ = [
    "DemoDataError",
    "DemoDocument",
    "Holder",
    "PendingDemo",
    "load",
    "password",
    "pending_beneficiary",
    "record",
    "with_key",
]
