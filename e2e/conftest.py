"""A live Carnet for the browser: file SQLite in a temporary folder, one server per run.

Every test gets a fresh browser context at two sizes, a phone and a desktop, through
pytest-playwright's own `context` and `page` fixtures (so failure screenshots still work).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Playwright
from werkzeug.serving import make_server

from webapp import create_app
from webapp.core.extensions import db
from webapp.core.settings import Settings

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    exe = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not exe:
        pytest.exit("Chromium not found: apt-get install -y chromium", returncode=2)
    return {**browser_type_launch_args, "executable_path": exe}


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application under test; its database lives as long as the run."""
    folder = tmp_path_factory.mktemp("carnet-e2e")
    settings = Settings.for_tests(
        folder / "instance",
        f"sqlite:///{folder / 'carnet-e2e.db'}",
        # Every browser of the run comes from 127.0.0.1: the per-address limits would count
        # the whole suite as one visitor. Rate limits belong to the unit tests.
        rate_limits_enabled=False,
    )
    application = create_app(settings)
    with application.app_context():
        db.create_all()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free port in a daemon thread; yields its address.

    pytest's "error" warning filter is process-wide, so it reaches this thread too: a warning
    raised by the app while serving a journey becomes a 500 and fails the test.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="carnet-e2e", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright passes this to every context, so tests can `page.goto("/path")`."""
    return live_server


def phone(playwright: Playwright) -> dict[str, Any]:
    args = dict(playwright.devices["Pixel 7"])
    args.pop("default_browser_type", None)
    return args


@pytest.fixture(params=["phone", "desktop"])
def browser_context_args(
    request: pytest.FixtureRequest,
    browser_context_args: dict[str, Any],
    playwright: Playwright,
) -> dict[str, Any]:
    """Each journey runs twice: on a Pixel 7 and on a 1280×800 desktop."""
    screen = phone(playwright) if request.param == "phone" else DESKTOP
    return {
        **browser_context_args,
        **screen,
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
    }
