"""`flask agenda remind`: the day's notices for appointments and prevention reminders."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup

from webapp.core import clock
from webapp.services import agenda_remind


def install(app: Flask) -> None:
    app.cli.add_command(agenda_group)


@click.group("agenda", cls=AppGroup)
def agenda_group() -> None:
    """Appointments and prevention reminders."""


@agenda_group.command("remind")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day to send for (YYYY-MM-DD); today in Paris by default.",
)
def agenda_remind_command(day: object) -> None:
    """Send the day-before and same-day notices, once each; safe to run twice or at once."""
    today: date = day.date() if hasattr(day, "date") else clock.to_paris(clock.now()).date()
    sent = agenda_remind.run(today)
    click.echo(
        f"{sent.appointments} appointment notice(s), {sent.reminders} prevention notice(s) "
        f"queued for {today.isoformat()}."
    )
