"""`flask enrolment …` and `flask lifecycle …`: the insurer's campaign and the timed transitions."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.models import Patient
from webapp.models.account import RecordState
from webapp.services import enrolment, lifecycle


def install(app: Flask) -> None:
    app.cli.add_command(enrolment_group)
    app.cli.add_command(lifecycle_group)


@click.group("enrolment", cls=AppGroup)
def enrolment_group() -> None:
    """Provisional codes for the people on the register."""


@enrolment_group.command("send-codes")
@click.option("--limit", type=int, default=None, help="At most this many people in this run.")
def send_codes(limit: int | None) -> None:
    """Send a code to everyone on the register without a record (e-mail, else letter)."""
    emails, letters = enrolment.send_campaign(limit=limit)
    click.echo(f"Codes sent: {emails} by e-mail, {letters} by letter (queued in the outbox).")
    click.echo("Run `flask outbox work` (or keep it running) to deliver them.")


@click.group("lifecycle", cls=AppGroup)
def lifecycle_group() -> None:
    """The life of records: timed transitions, suspension."""


@lifecycle_group.command("run")
def run() -> None:
    """Open, close and delete what is due. Idempotent; run it daily from cron."""
    report = lifecycle.run()
    for line in report.lines():
        click.echo(line)


def _patient(nir: str) -> Patient:
    found = db.session.scalar(select(Patient).where(Patient.nir == nir.replace(" ", "")))
    if found is None:
        raise click.ClickException("No record for this NIR.")
    return found


@lifecycle_group.command("suspend")
@click.argument("nir")
def suspend(nir: str) -> None:
    """Suspend a record after a serious malfunction or fraudulent use (closes in six weeks)."""
    patient = _patient(nir)
    try:
        lifecycle.transition(patient, RecordState.SUSPENDED, actor=None, detail="operator")
    except lifecycle.InvalidTransition as exc:
        raise click.ClickException(f"Cannot suspend: {exc}") from exc
    lifecycle.notify_person(patient, "record_suspended")
    db.session.commit()
    click.echo("Record suspended; the holder is told and has six weeks to object.")


@lifecycle_group.command("lift")
@click.argument("nir")
def lift(nir: str) -> None:
    """Lift a suspension (the holder objected and was right)."""
    patient = _patient(nir)
    try:
        lifecycle.transition(patient, RecordState.ACTIVE, actor=None, detail="operator")
    except lifecycle.InvalidTransition as exc:
        raise click.ClickException(f"Cannot lift: {exc}") from exc
    db.session.commit()
    click.echo("Suspension lifted.")
