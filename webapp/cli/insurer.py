"""`flask insurer …`: the API's tokens, and reimbursement files fed by hand (SPEC §8b)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from pydantic import ValidationError

from webapp.core import clock
from webapp.core.extensions import db
from webapp.services.insurer import Refused, reimbursements, tokens
from webapp.services.insurer.schemas import Problem, ReimbursementLine, problems_from

COLUMNS = (
    "line_id",
    "nir",
    "date",
    "act_code",
    "act_label",
    "professional",
    "profession",
    "amount_paid",
    "amount_reimbursed",
)


def install(app: Flask) -> None:
    app.cli.add_command(insurer_group)


@click.group("insurer", cls=AppGroup)
def insurer_group() -> None:
    """The insurer's feed: API tokens and reimbursement files."""


@insurer_group.group("token", cls=AppGroup)
def token_group() -> None:
    """Bearer tokens of the insurer's systems."""


@token_group.command("create")
@click.argument("name")
def token_create(name: str) -> None:
    """Create a token and print it once: only its SHA-256 is kept."""
    try:
        _row, secret = tokens.create(name)
    except tokens.TokenError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Token {name} created. It is shown only now; give it to the insurer's system:")
    click.echo(secret)


@token_group.command("list")
def token_list() -> None:
    """Every token: name, created, last used, revoked (Paris time)."""
    rows = tokens.listed()
    click.echo("name\tcreated\tlast used\trevoked")
    for row in rows:
        click.echo(
            "\t".join(
                [row.name, _when(row.created_at), _when(row.last_used_at), _when(row.revoked_at)]
            )
        )
    click.echo(f"{len(rows)} token(s).")


@token_group.command("revoke")
@click.argument("name")
def token_revoke(name: str) -> None:
    """Revoke a token at once: its next call answers 401."""
    try:
        tokens.revoke(name)
    except tokens.TokenError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Token {name} revoked.")


def _when(moment: datetime | None) -> str:
    return clock.to_paris(moment).isoformat(timespec="minutes") if moment else "-"


@insurer_group.command("import-reimbursements")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_reimbursements(file: Path) -> None:
    """Store the lines of a CSV file (UTF-8, header row, ISO dates); all of them or none, with
    the API's checks. Bad lines are reported by number (the header is line 1)."""
    with file.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
        lines, problems = _read(stream)
    try:
        outcome = reimbursements.receive(lines, token=None, problems=problems)
    except Refused as refused:
        db.session.rollback()
        for problem in refused.problems:
            click.echo(f"{file.name}: {_located(problem)}", err=True)
        click.echo(f"{len(refused.problems)} error(s): nothing was imported.", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"Reimbursements: {outcome.created} created, {outcome.unchanged} unchanged, "
        f"{outcome.expired} expired (older than 24 months, not stored)."
    )


def _read(stream: Iterator[str]) -> tuple[dict[int, ReimbursementLine], list[Problem]]:
    """The valid lines by line number, and the problems of the others."""
    lines: dict[int, ReimbursementLine] = {}
    problems: list[Problem] = []
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
        if header is None or [cell.strip() for cell in header] != list(COLUMNS):
            expected = ",".join(COLUMNS)
            return {}, [Problem(1, None, "header", f"the header must be exactly {expected}")]
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines are skipped, as in the registers' imports
            _check(reader.line_num, cells, lines, problems)
    except csv.Error as exc:
        problems.append(Problem(reader.line_num, None, "unreadable", f"unreadable CSV ({exc})"))
    return lines, problems


def _check(
    number: int, cells: list[str], lines: dict[int, ReimbursementLine], problems: list[Problem]
) -> None:
    if len(cells) != len(COLUMNS):
        message = f"expected {len(COLUMNS)} fields, found {len(cells)}"
        problems.append(Problem(number, None, "fields", message))
        return
    try:
        lines[number] = ReimbursementLine.model_validate(dict(zip(COLUMNS, cells, strict=True)))
    except ValidationError as exc:
        problems += [
            Problem(number, problem.field, problem.code, problem.message)
            for problem in problems_from(exc)
        ]


def _located(problem: Problem) -> str:
    place = f"line {problem.index}" if problem.index is not None else "file"
    field = f" {problem.field}:" if problem.field else ""
    return f"{place}:{field} {problem.message} ({problem.code})"
