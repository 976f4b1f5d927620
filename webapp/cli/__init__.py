"""The `flask` commands of Carnet."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import Select, func, select

from webapp.cli import agenda as cli_agenda
from webapp.cli import backup as cli_backup
from webapp.cli import enrolment as cli_enrolment
from webapp.cli import insurer as cli_insurer
from webapp.cli import outbox as cli_outbox
from webapp.cli import registers as cli_registers
from webapp.core import clock
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import Account, Appointment, Document, Message, MessageAttachment, Professional
from webapp.services import (
    accounts,
    agenda,
    audit,
    audit_checkpoints,
    codes,
    demo,
    emergency,
    messages,
    provisional,
    storage,
)
from webapp.services.crypto import settings


def install(app: Flask) -> None:
    app.cli.add_command(demo_group)
    cli_outbox.install(app)
    cli_agenda.install(app)
    app.cli.add_command(audit_group)
    app.cli.add_command(accounts_group)
    app.cli.add_command(storage_group)
    app.cli.add_command(keys_group)

    cli_registers.install(app)
    cli_enrolment.install(app)
    cli_insurer.install(app)
    cli_backup.install(app)


@click.group("demo", cls=AppGroup)
def demo_group() -> None:
    """Demo data for development."""


@demo_group.command("load")
def demo_load() -> None:
    """Create the demo accounts (idempotent) and say how to sign in."""
    if settings().environment == "production":
        raise click.ClickException("Demo data is never loaded in production.")
    created = demo.load()
    db.session.commit()
    waiting = demo.pending_beneficiary()
    db.session.commit()
    click.echo(f"Demo data ready ({len(created)} account(s) created now).")
    url = settings().public_url
    click.echo(
        f"""
Carnet is served on {url}
Every demo account's password is: {demo.password()}

  patient.demo    patient: after the password, a 6-digit code is e-mailed;
                  read it at {url}/dev/outbox
  patient.senior  her father, born in 1958 (signs in like her): his agenda
                  shows prevention reminders due
  medecin.demo    their médecin traitant (general practice)
  cardio.demo     cardiologist
  pharma.demo     pharmacist
  dentiste.demo   dentist
  samu.demo       SAMU regulating physician
  agent.demo      counter agent

Professionals and the agent confirm with an authenticator code:
  .venv/bin/flask demo totp IDENTIFIER    prints the current one
"""
    )
    if waiting is None:
        return
    person = waiting.beneficiary
    if waiting.code is None:
        name = f"{person.first_names} {person.last_name}"
        click.echo(f"{name} (the demo person waiting to activate): record now {waiting.state}.")
        return
    click.echo(
        f"""To try activating a record, open {url}/enrolment/activate and type:
  code provisoire            {provisional.display(waiting.code)}
  numéro de sécurité sociale {person.nir}
  numéro de série Vitale     {person.vitale_serial}
  date de naissance          {person.birth_date.strftime("%d/%m/%Y")}
({person.first_names} {person.last_name}; the same code was e-mailed to {person.email}.
 A new code is issued at every `make run` while the record waits.)
"""
    )


@demo_group.command("totp")
@click.argument("identifier")
def demo_totp(identifier: str) -> None:
    """Print the current authenticator code of a demo account."""
    account = db.session.scalar(select(Account).where(Account.identifier == identifier.lower()))
    if account is None or not account.uses_totp:
        raise click.ClickException(f"{identifier} has no authenticator app.")
    click.echo(codes.current_totp(account))


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """The access history."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check every patient's HMAC chain, every checkpoint file, and the database against the
    latest checkpoint; one line per problem found, exit 1 if any."""
    checked, breaks = audit.verify_all()
    report = audit_checkpoints.verify()
    findings = [
        audit_checkpoints.Finding(f"patient {b.patient_id}", b.problem, b.seq) for b in breaks
    ]
    findings += report.findings
    for found in findings:
        row = "" if found.seq is None else f" row {found.seq}:"
        click.echo(f"{found.subject}:{row} {found.problem}")
    if report.latest is None:
        click.echo(
            "No valid checkpoint: a chain cut at its end cannot be detected"
            " (run `flask audit checkpoint` daily)."
        )
    else:
        click.echo(
            f"Compared with checkpoint {report.latest} ({report.compared} chain(s));"
            f" {report.checkpoints} checkpoint file(s) checked."
        )
    if findings:
        click.echo(
            f"{len(breaks)} of {checked} chain(s) broken, {len(report.findings)} problem(s)"
            " against the checkpoints."
        )
        sys.exit(1)
    click.echo(f"{checked} chain(s) verified, none broken.")


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the head of every chain into a new file under AUDIT_CHECKPOINT_DIR (daily, cron)."""
    try:
        written = audit_checkpoints.write()
    except (audit_checkpoints.CheckpointError, OSError) as exc:
        click.echo(f"No checkpoint written: {exc}", err=True)
        sys.exit(1)
    witnessed = audit_checkpoints.queue_witness(written)
    db.session.commit()
    click.echo(
        f"Checkpoint {written.name}: {written.chains} chain(s), SHA-256 {written.digest},"
        f" signature {written.signature}."
    )
    if witnessed:
        click.echo(f"Digest queued by e-mail to {settings().audit_witness_email}.")


@audit_group.command("emergencies")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True)
@click.option("--unreviewed", is_flag=True, help="Only the accesses nobody has reviewed yet.")
@click.option("--review", "review_id", type=int, default=None, help="Mark this access reviewed.")
@click.option("--note", default="", help="The reviewer's conclusion, with --review.")
def audit_emergencies(days: int, unreviewed: bool, review_id: int | None, note: str) -> None:
    """Every emergency access for the after-the-fact review (SPEC §4.5)."""

    if review_id is not None:
        if emergency.mark_reviewed(review_id, note) is None:
            click.echo(f"No emergency access {review_id}.", err=True)
            sys.exit(1)
        db.session.commit()
        click.echo(f"Emergency access {review_id} marked reviewed.")
        return
    lines = emergency.for_review(clock.now() - timedelta(days=days), unreviewed_only=unreviewed)
    for line in lines:
        window = line.window
        click.echo(
            "\t".join(
                [
                    str(window.id),
                    clock.to_paris(window.opened_at).isoformat(timespec="minutes"),
                    window.mode,
                    f"{line.professional} (RPPS {line.rpps}, {line.structure or '-'})",
                    f"patient {window.patient_id}",
                    window.reason_code,
                    window.justification.replace("\n", " "),
                    "reviewed" if window.reviewed_at else "to review",
                ]
            )
        )
    click.echo(f"{len(lines)} emergency access(es) in the last {days} day(s).")


@click.group("accounts", cls=AppGroup)
def accounts_group() -> None:
    """Accounts for professionals and counter agents."""


@accounts_group.command("create-professional")
@click.option("--identifier", required=True)
@click.option("--rpps", required=True, help="11 digits.")
@click.option("--first-names", default=None, help="Needed when the RPPS is not in the directory.")
@click.option("--last-name", default=None)
@click.option("--profession", default=None)
@click.option("--specialty", default=None)
@click.option("--structure", default=None)
@click.option("--city", default=None)
@click.option("--email", default=None)
@click.option("--samu-regulator", is_flag=True)
def create_professional(
    identifier: str,
    rpps: str,
    first_names: str | None,
    last_name: str | None,
    profession: str | None,
    specialty: str | None,
    structure: str | None,
    city: str | None,
    email: str | None,
    samu_regulator: bool,
) -> None:
    """Create a professional's account and print a one-time activation link (72 h).

    The professional's directory entry is used when the RPPS is known; otherwise one is
    created from the options.
    """
    if len(rpps) != 11 or not rpps.isdigit():
        raise click.ClickException("The RPPS number is 11 digits.")
    professional = db.session.scalar(select(Professional).where(Professional.rpps == rpps))
    if professional is None:
        if not (first_names and last_name and profession):
            raise click.ClickException(
                f"RPPS {rpps} is not in the directory: give --first-names, --last-name and "
                "--profession."
            )
        professional = Professional(
            rpps=rpps,
            first_names=first_names,
            last_name=last_name,
            profession=profession,
            specialty=specialty,
            structure=structure,
            city=city,
            email=email,
            samu_regulator=samu_regulator,
        )
        db.session.add(professional)
        db.session.flush()
    try:
        account = accounts.create_professional(identifier, professional)
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    _print_activation(account)


@accounts_group.command("create-agent")
@click.option("--identifier", required=True)
@click.option("--first-names", required=True)
@click.option("--last-name", required=True)
@click.option("--organisation", required=True)
@click.option("--counter", required=True)
@click.option("--email", default=None)
def create_agent(
    identifier: str,
    first_names: str,
    last_name: str,
    organisation: str,
    counter: str,
    email: str | None,
) -> None:
    """Create a counter agent's account and print a one-time activation link (72 h)."""
    try:
        account = accounts.create_agent(
            identifier,
            first_names=first_names,
            last_name=last_name,
            organisation=organisation,
            counter=counter,
            email=email,
        )
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    _print_activation(account)


@accounts_group.command("new-activation-link")
@click.argument("identifier")
def new_activation_link(identifier: str) -> None:
    """For a lost phone: close the account's app and sessions, print a new activation link."""
    account = db.session.scalar(select(Account).where(Account.identifier == identifier.lower()))
    if account is None or account.role == "patient":
        raise click.ClickException(f"No professional or agent account named {identifier}.")
    token = accounts.reset_for_new_activation(account)
    db.session.commit()
    click.echo(f"Account {account.identifier}: app and sessions closed.")
    click.echo("Give this one-time link to its owner (valid 72 hours):")
    click.echo(accounts.activation_url(token))


def _print_activation(account: Account) -> None:
    token = accounts.issue_activation(account)
    db.session.commit()
    click.echo(f"Account {account.identifier} created.")
    click.echo("Give this one-time link to its owner (valid 72 hours):")
    click.echo(accounts.activation_url(token))


@click.group("storage", cls=AppGroup)
def storage_group() -> None:
    """Encrypted files: documents and message attachments."""


@storage_group.command("sweep")
@click.option("--grace", default=3600, show_default=True, help="Keep files younger than this.")
def storage_sweep(grace: int) -> None:
    """Remove files that no document or message attachment points to (after the grace
    period)."""
    known = set(db.session.scalars(select(Document.blob_id).where(Document.blob_id.is_not(None))))
    known |= set(db.session.scalars(select(MessageAttachment.blob_id)))
    removed = storage.sweep({blob for blob in known if blob}, older_than_seconds=grace)
    click.echo(f"{len(removed)} orphan file(s) removed, {len(known)} file(s) in use.")


@click.group("keys", cls=AppGroup)
def keys_group() -> None:
    """The master key that wraps every document's key."""


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every document key under the current master key; resumable.

    In production, set the new MASTER_KEY and list the old one in MASTER_KEYS_RETIRED, then
    run this. In development, a new key is generated in instance/ first.
    """

    if settings().is_development and not _has_unrotated_rows():
        # Nothing left from an interrupted run: start a new rotation with a fresh key.
        storage.retire_development_key()
        current_app.extensions["carnet.settings"] = Settings.from_env()
    target = storage.current_key_id()
    for name, stale, label in _WRAPPED:
        done = 0
        while batch := db.session.scalars(stale(target).limit(100)).all():
            for row in batch:
                if row.key_id is None or row.wrapped_key is None:
                    continue  # an appointment without a note has nothing sealed
                row.key_id, row.wrapped_key = storage.rewrap(
                    label(row), row.key_id, row.wrapped_key
                )
                db.session.commit()  # one row at a time: an interrupted run resumes there
                done += 1
        click.echo(f"{done} {name} key(s) re-wrapped under key {target}.")


Wrapped = Document | Message | MessageAttachment | Appointment
# Every row whose data key the master key wraps: the rows not yet under `target`, and the
# label bound into the wrapping (a blob's id, or the message's own label).
_WRAPPED: tuple[tuple[str, Callable[[str], Select[Wrapped]], Callable[[Wrapped], str]], ...] = (
    (
        "document",
        lambda target: (
            select(Document)
            .where(Document.key_id != target, Document.blob_id.is_not(None))
            .order_by(Document.id)
        ),
        lambda row: str(getattr(row, "blob_id", "")),
    ),
    (
        "message",
        lambda target: select(Message).where(Message.key_id != target).order_by(Message.id),
        lambda row: messages.label_of(row.id),
    ),
    (
        "attachment",
        lambda target: (
            select(MessageAttachment)
            .where(MessageAttachment.key_id != target)
            .order_by(MessageAttachment.id)
        ),
        lambda row: str(getattr(row, "blob_id", "")),
    ),
    (
        "appointment note",
        lambda target: (
            select(Appointment)
            .where(Appointment.key_id.is_not(None), Appointment.key_id != target)
            .order_by(Appointment.id)
        ),
        lambda row: agenda.note_label(row.id),
    ),
)


def _has_unrotated_rows() -> bool:
    current = storage.current_key_id()
    return any(
        db.session.scalar(select(func.count()).select_from(stale(current).subquery()))
        for _name, stale, _label in _WRAPPED
    )
