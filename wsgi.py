"""Entry point found by `flask` without --app, and by WSGI servers."""

from webapp import create_app

app = create_app()
