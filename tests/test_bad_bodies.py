"""Bodies a browser's form never sends, and characters a title cannot hold: a clear answer,
nothing changed, never a 500 (issue: nothing answers 500)."""

from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.builders import csrf_from, login_as, make_patient
from tests.test_documents import _documents, upload
from tests.test_profile import add
from webapp import create_app
from webapp.core.extensions import db
from webapp.core.settings import Settings
from webapp.models import Account, Document, ProfileEntry


@pytest.fixture
def patient(client: FlaskClient) -> Account:
    account = make_patient()
    login_as(client, account)
    return account


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/documents/new", {"title": ["a", "b"], "category": 3, "date": None}),
        ("/profile/allergies/new", {"label": 12, "severity": ["x"]}),
        ("/settings/authenticator", {"code": [1, 2]}),
        ("/messages/new", {"patient": {"id": 1}, "subject": 5, "body": []}),
    ],
)
def test_a_json_body_on_a_form_is_refused_with_415(
    client: FlaskClient, patient: Account, path: str, body: dict[str, object]
) -> None:
    token = csrf_from(client.get("/settings/"))
    response = client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert "n'a pas la forme d'un formulaire" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert _documents() == []


def test_the_refusal_speaks_english_too(client: FlaskClient, patient: Account) -> None:
    client.set_cookie("lang", "en")
    token = csrf_from(client.get("/settings/"))
    response = client.post(
        "/documents/new", data="{}", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert "is not shaped like a form" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "title", ["Bilan\r\nSet-Cookie: x=1", "Bilan\nsanguin", "Bilan\tsanguin", "Bilan\u2028x"]
)
def test_a_title_on_two_lines_is_refused_and_kept(
    client: FlaskClient, patient: Account, title: str
) -> None:
    response = upload(client, title=title)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    page = response.get_data(as_text=True)
    assert "sur une seule ligne" in page
    assert _documents() == []


def test_a_stored_title_with_a_line_break_still_downloads(
    client: FlaskClient, patient: Account
) -> None:
    """A title written before the check (or by a register) never breaks the headers."""
    assert upload(client, title="Bilan").status_code == HTTPStatus.SEE_OTHER
    (doc,) = _documents()
    stored = db.session.get(Document, doc.id)
    assert stored is not None
    stored.title = "Bilan\r\nSet-Cookie: x=1"
    db.session.commit()
    response = client.get(f"/documents/{doc.id}/download")
    assert response.status_code == HTTPStatus.OK
    disposition = response.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.startswith('attachment; filename="BilanSet-Cookie: x=1.pdf"')


@pytest.mark.parametrize(
    ("document_id", "said"),
    [
        ("   ", "Écrivez vos directives, ou choisissez le document"),
        ("\t", "Écrivez vos directives, ou choisissez le document"),
        (" 12 ", "pas un choix valide"),  # no such document is offered
    ],
)
def test_directives_with_a_document_id_of_spaces_are_explained(
    client: FlaskClient, patient: Account, document_id: str, said: str
) -> None:
    response = add(client, "wishes", "advance_directives", {"text": "", "document_id": document_id})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert said in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(db.select(ProfileEntry)).all() == []


def test_the_sqlite_file_is_private_from_its_creation(tmp_path: Path) -> None:
    instance = tmp_path / "fresh"
    database = instance / "carnet.db"
    app = create_app(Settings.for_tests(instance, f"sqlite:///{database}"))
    with app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    assert database.stat().st_mode & 0o777 == 0o600
    assert instance.stat().st_mode & 0o777 == 0o700


def test_an_existing_sqlite_file_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "carnet.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    create_app(Settings.for_tests(tmp_path, f"sqlite:///{database}"))
    assert database.stat().st_mode & 0o777 == 0o600
