"""`flask outbox …`: deliver the queue, see how it stands, send failed messages again, and
queue the daily digest."""

from __future__ import annotations

import os
import socket
import time

import click
from flask import Flask
from flask.cli import AppGroup

from webapp.core import clock
from webapp.core.extensions import db
from webapp.services import notify, outbox_view


def install(app: Flask) -> None:
    app.cli.add_command(outbox_group)


@click.group("outbox", cls=AppGroup)
def outbox_group() -> None:
    """Deliver queued e-mails and SMS."""


@outbox_group.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due, then stop.")
@click.option("--interval", default=3.0, show_default=True, help="Seconds between rounds.")
def outbox_work(once: bool, interval: float) -> None:
    """Deliver due messages with retries and backoff; safe to run in several processes."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    while True:
        try:
            count = notify.deliver_due(worker)
        except Exception as exc:  # noqa: BLE001 - a worker must survive a database hiccup
            db.session.rollback()
            click.echo(f"outbox: round failed ({type(exc).__name__}); retrying", err=True)
            count = 0
        finally:
            db.session.remove()
        if count:
            click.echo(f"outbox: {count} message(s) delivered")
        if once:
            return
        time.sleep(interval)


@outbox_group.command("status")
def outbox_status() -> None:
    """How the queue stands: waiting, the oldest waiting, failed, sent in the last 24 hours."""
    found = outbox_view.status()
    oldest = (
        f"{int((clock.now() - found.oldest_pending).total_seconds())} s ago"
        if found.oldest_pending is not None
        else "none"
    )
    click.echo(f"pending: {found.pending} (oldest queued {oldest})")
    click.echo(f"failed: {found.failed}")
    click.echo(f"sent in the last 24 hours: {found.sent_last_day}")


@outbox_group.command("retry")
@click.argument("message_id", required=False, type=int)
@click.option("--failed", "every_failed", is_flag=True, help="Every failed message.")
def outbox_retry(message_id: int | None, every_failed: bool) -> None:
    """Send a failed message again (ID), or every failed one (--failed)."""
    if (message_id is None) == (not every_failed):
        raise click.UsageError("Give a message ID or --failed, not both.")
    again, wiped = outbox_view.retry(None if every_failed else [message_id or 0])
    db.session.commit()
    click.echo(f"{again} message(s) queued again.")
    if wiped:
        click.echo(f"{wiped} one-time code(s) left: their text is wiped; ask for a new code.")


@outbox_group.command("digest")
def outbox_digest() -> None:
    """Queue today's digest for every person who chose one (run once a day; never twice)."""
    today = clock.to_paris(clock.now()).date()
    count = notify.send_digests(today)
    click.echo(f"{count} daily digest(s) queued for {today.isoformat()}.")
