"""`flask backup create|verify|restore DIR`: a consistent copy of the database and the blobs."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from webapp.services import backup


def install(app: Flask) -> None:
    """Registers the command group."""
    app.cli.add_command(backup_group)


_FOLDER = click.Path(file_okay=False, path_type=Path)


@click.group("backup", cls=AppGroup)
def backup_group() -> None:
    """Back up and restore the database and the encrypted files (never the keys)."""


@backup_group.command("create")
@click.argument("directory", type=_FOLDER)
def backup_create(directory: Path) -> None:
    """Write a backup into DIRECTORY (new or empty), while the site keeps serving."""
    try:
        manifest = backup.create(directory)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    blobs = len(manifest.files) - 1
    click.echo(
        f"Backup written to {directory}: the {manifest.engine} database and {blobs} file(s)."
    )
    click.echo(f"Migration head {manifest.migration_head or 'unknown'}.")
    click.echo(
        f"It needs master key {manifest.keys.master} and audit key {manifest.keys.audit}; "
        "keep the keys apart from the backups."
    )
    for blob_id in manifest.missing_blobs:
        click.echo(f"Note: file {blob_id} was deleted while the backup ran (its row is kept).")


@backup_group.command("verify")
@click.argument("directory", type=_FOLDER)
def backup_verify(directory: Path) -> None:
    """Recompute every checksum against the manifest; exit 1 on any difference."""
    result = backup.verify(directory)
    for problem in result.problems:
        click.echo(problem)
    if not result.ok:
        click.echo(f"{len(result.problems)} problem(s): {directory} is not a sound backup.")
        sys.exit(1)
    assert result.manifest is not None
    click.echo(f"{len(result.manifest.files)} file(s) verified, none altered, missing or extra.")


@backup_group.command("restore")
@click.argument("directory", type=_FOLDER)
def backup_restore(directory: Path) -> None:
    """Restore a verified backup into an empty database and an empty blob folder."""
    try:
        restored = backup.restore(directory)
    except backup.BackupError as exc:
        click.echo(str(exc), err=True)
        click.echo("Nothing was restored.", err=True)
        sys.exit(1)
    manifest = restored.manifest
    click.echo(
        f"Restored the backup of {manifest.created_at}: the {manifest.engine} database "
        f"and {len(manifest.files) - 1} file(s)."
    )
    for warning in restored.key_warnings:
        click.echo(f"Warning: {warning}")
    click.echo(
        f"""Now check:
  flask db upgrade     if this code is newer than migration {manifest.migration_head or "?"}
  flask audit verify   every history chain must verify with this instance's audit key
Open a few documents: they need the same master key as the backed-up instance."""
    )
