"""Alembic migrations build exactly the schema the models describe, triggers included."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import database_url
from webapp import create_app
from webapp.core.settings import Settings
from webapp.models import Base


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    url = database_url(tmp_path)
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"carnet_migr_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_matches_the_models(tmp_path: Path, empty_database: str) -> None:
    app: Flask = create_app(Settings.for_tests(tmp_path / "instance", empty_database))
    with app.app_context():
        upgrade()
        from webapp.core.extensions import db

        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, Base.metadata)
            assert differences == []
            if connection.dialect.name == "sqlite":
                triggers = (
                    connection.execute(
                        text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    )
                    .scalars()
                    .all()
                )
            else:
                triggers = (
                    connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
                    .scalars()
                    .all()
                )
        assert any("access_events" in name for name in triggers)
        db.engine.dispose()
