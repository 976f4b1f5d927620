"""`flask beneficiaries …`, `flask directory …`: the registers the insurer and the RPPS feed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from webapp.core.extensions import db
from webapp.services import beneficiaries, directory
from webapp.services.csvimport import ImportReport


def install(app: Flask) -> None:
    """Registers the command groups."""
    app.cli.add_command(beneficiaries_group)
    app.cli.add_command(directory_group)


@click.group("beneficiaries", cls=AppGroup)
def beneficiaries_group() -> None:
    """The beneficiary register (Assurance Maladie)."""


def _import(file: Path, register: Callable[[Iterable[str]], ImportReport], name: str) -> None:
    """All lines are applied or none; bad lines are reported by number."""
    with file.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
        report = register(stream)
    if not report.ok:
        db.session.rollback()
        for error in report.errors:
            click.echo(f"{file.name}: {error}", err=True)
        click.echo(f"{len(report.errors)} error(s): nothing was imported.", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"{name}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged."
    )


@beneficiaries_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def beneficiaries_import(file: Path) -> None:
    """Upsert the register from a CSV file (UTF-8); all lines are applied or none."""
    _import(file, beneficiaries.import_csv, "Beneficiaries")


@click.group("directory", cls=AppGroup)
def directory_group() -> None:
    """The directory of health professionals (RPPS)."""


@directory_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_import(file: Path) -> None:
    """Upsert the directory from a CSV file (UTF-8); all lines are applied or none."""
    _import(file, directory.import_csv, "Directory")
