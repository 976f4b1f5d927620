"""`flask beneficiaries …`, `flask directory …`: the registers the insurer and the RPPS feed."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from webapp.core.extensions import db
from webapp.services import beneficiaries, directory


def install(app: Flask) -> None:
    """Registers the command groups."""
    app.cli.add_command(beneficiaries_group)
    app.cli.add_command(directory_group)


@click.group("beneficiaries", cls=AppGroup)
def beneficiaries_group() -> None:
    """The beneficiary register (Assurance Maladie)."""


@beneficiaries_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def beneficiaries_import(file: Path) -> None:
    """Upsert the register from a CSV file (UTF-8); all lines are applied or none."""
    with file.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
        report = beneficiaries.import_csv(stream)
    if not report.ok:
        db.session.rollback()
        for error in report.errors:
            click.echo(f"{file.name}: {error}", err=True)
        click.echo(f"{len(report.errors)} error(s): nothing was imported.", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"Beneficiaries: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged."
    )


@click.group("directory", cls=AppGroup)
def directory_group() -> None:
    """The directory of health professionals (RPPS)."""


@directory_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_import(file: Path) -> None:
    """Upsert the directory from a CSV file (UTF-8); all lines are applied or none."""
    with file.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
        report = directory.import_csv(stream)
    if not report.ok:
        db.session.rollback()
        for error in report.errors:
            click.echo(f"{file.name}: {error}", err=True)
        click.echo(f"{len(report.errors)} error(s): nothing was imported.", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"Directory: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged."
    )
