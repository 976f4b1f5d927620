"""Every route: who may reach it, and the headers every answer carries."""

from __future__ import annotations

import io
import re
from http import HTTPStatus

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, Rule

from tests.builders import (
    authorise,
    csrf_from,
    login_as,
    make_agent,
    make_patient,
    make_professional,
    pdf_file,
)
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Conversation, Document, MessageAttachment
from webapp.services import messages
from webapp.services.audit import Action

# The only endpoints an anonymous visitor may reach. Adding one here is a decision.
PUBLIC = {
    "static",
    "main.home",
    "main.healthz",
    "main.preferences",
    "auth.login",
    "auth.verify",
    "auth.resend",
    "auth.enrol",
    "auth.activate",
    "auth.open_activation_link",
    "auth.logout",
    # A forgotten password: the person cannot sign in, by definition.
    "auth.forgot",
    "auth.forgot_code",
    "auth.forgot_password",
    "dev.outbox",
    "dev.outbox_letter",
    # Getting a record: the person has no account yet.
    "enrolment.activate",
    "enrolment.check_field",
    "enrolment.choice",
    "enrolment.oppose",
    "enrolment.opposed",
    "enrolment.contacts",
    "enrolment.check_contacts",
    "enrolment.account",
    "enrolment.emergency",
    "enrolment.done",
    "enrolment.lost_code",
    "enrolment.closed",
    # A calendar application reads the agenda with its secret token alone.
    "agenda.feed_ics",
}
# The insurer's API: neither public nor behind the sign-in page. Each view checks its own
# bearer token (401 JSON, never a redirect); a cookie opens none of them. The OpenAPI
# document alone needs no token.
API = {
    "api.reimbursements_feed",
    "api.beneficiaries_feed",
    "api.vaccination_certificates",
    "api.openapi",
}
API_DOCUMENT = "api.openapi"


def _path(rule: Rule, **values: object) -> str:
    """A concrete URL for a rule, with placeholder values for its arguments."""
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), path)
    for name in rule.arguments - set(values):
        converter = rule._converters[name]  # noqa: SLF001
        kind = type(converter).__name__
        value = "1" if kind == "IntegerConverter" else "placeholder"
        if kind == "AnyConverter":
            value = sorted(converter.items)[0]  # type: ignore[attr-defined]
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    return path


def _rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def test_public_list_names_real_endpoints(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert PUBLIC - endpoints <= {"dev.outbox", "dev.outbox_letter"}


def test_every_private_route_refuses_an_anonymous_visitor(app: Flask) -> None:
    checked = 0
    for rule in _rules(app):
        if rule.endpoint in PUBLIC or rule.endpoint in API:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            client = app.test_client()
            response = client.open(_path(rule), method=method)
            assert response.status_code == HTTPStatus.FOUND, (rule.rule, method)
            assert response.headers["Location"].startswith("/auth/login"), rule.rule
            htmx = client.open(_path(rule), method=method, headers={"HX-Request": "true"})
            assert htmx.status_code == HTTPStatus.UNAUTHORIZED, (rule.rule, method)
            assert htmx.headers["HX-Redirect"].startswith("/auth/login"), rule.rule
            checked += 1
    assert checked >= 10


def test_public_views_are_marked_in_code_not_just_listed(app: Flask) -> None:
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "carnet_public", False) is (rule.endpoint in PUBLIC), rule.endpoint


def test_api_routes_are_listed_and_marked(app: Flask) -> None:
    """A route under /api/ is in API and carries `carnet_api` (its own bearer check), and
    nothing else does: a new API route that forgets its check fails here."""
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        under_api = rule.rule.startswith("/api/")
        assert (rule.endpoint in API) is under_api, rule.rule
        assert getattr(view, "carnet_api", False) is under_api, rule.rule
    assert API <= {rule.endpoint for rule in _rules(app)}


def _api_refusals(app: Flask, client: FlaskClient) -> int:
    checked = 0
    for rule in _rules(app):
        if rule.endpoint not in API or rule.endpoint == API_DOCUMENT:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(_path(rule), method=method, json={})
            assert response.status_code == HTTPStatus.UNAUTHORIZED, (rule.rule, method)
            assert response.mimetype == "application/json", rule.rule
            assert response.get_json()["error"] == "unauthorised", rule.rule
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), rule.rule
            checked += 1
    return checked


def test_every_api_route_refuses_an_anonymous_caller(app: Flask, client: FlaskClient) -> None:
    assert _api_refusals(app, client) >= 3
    assert client.get("/api/insurer/openapi.json").status_code == HTTPStatus.OK


def test_no_api_route_takes_a_signed_in_patients_cookie(app: Flask, client: FlaskClient) -> None:
    login_as(client, make_patient())
    assert _api_refusals(app, client) >= 3


ROLE_PAGES = {
    "patient": {"/": 200, "/access/history": 200, "/pro/": 404, "/counter/": 404},
    "professional": {"/access/history": 404, "/pro/": 200, "/counter/": 404},
    "agent": {"/access/history": 404, "/pro/": 404, "/counter/": 200},
}


@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_each_role_reaches_only_its_pages(client: FlaskClient, role: str) -> None:
    builder = {"patient": make_patient, "professional": make_professional, "agent": make_agent}
    login_as(client, builder[role]())
    for path, expected in ROLE_PAGES[role].items():
        assert client.get(path).status_code == expected, path


def _assert_security_headers(response: object, path: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ):
        assert directive in csp, (path, directive)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    if not path.startswith("/static/"):
        assert headers["Cache-Control"] == "no-store", path


def _get_paths(app: Flask) -> list[str]:
    return [
        _path(rule)
        for rule in _rules(app)
        if "GET" in (rule.methods or set()) and not rule.arguments
    ]


def test_headers_on_every_route_anonymous(app: Flask, client: FlaskClient) -> None:
    paths = [*_get_paths(app), "/no-such-page", "/static/app.css"]
    for path in paths:
        response = client.get(path)
        _assert_security_headers(response, path)
        response.close()
    for rule in _rules(app):
        if "POST" in (rule.methods or set()):
            _assert_security_headers(client.post(_path(rule)), rule.rule)


@pytest.mark.parametrize("role", ["patient", "professional", "agent"])
def test_headers_on_every_route_signed_in(app: Flask, client: FlaskClient, role: str) -> None:
    builder = {"patient": make_patient, "professional": make_professional, "agent": make_agent}
    login_as(client, builder[role]())
    for path in _get_paths(app):
        response = client.get(path)
        assert response.status_code < 500, path
        _assert_security_headers(response, path)


def test_no_hsts_in_testing_but_in_production(app: Flask, client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_healthz_checks_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("intruder", ["other_patient", "agent", "unauthorised_professional"])
def test_every_document_route_is_404_to_anyone_but_its_readers(
    app: Flask, client: FlaskClient, intruder: str
) -> None:
    from tests.builders import make_document

    holder = make_patient()
    doc = make_document(holder)
    account = {
        "other_patient": make_patient,
        "agent": make_agent,
        "unauthorised_professional": make_professional,
    }[intruder]()
    login_as(client, account)
    token_page = client.get("/settings/")
    from tests.builders import csrf_from

    checked = 0
    for rule in _rules(app):
        if "document_id" not in rule.arguments:
            continue
        path = re.sub(r"<[^>]*document_id>", str(doc.id), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": csrf_from(token_page)} if method == "POST" else None
            response = client.open(path, method=method, data=data)
            assert response.status_code == HTTPStatus.NOT_FOUND, (rule.rule, method)
            checked += 1
    assert checked >= 9


def _conversation_with_attachment() -> tuple[Account, int, int]:
    """A patient, and a conversation her professional started with a PDF attached."""
    holder = make_patient()
    pro = make_professional()
    authorise(pro, holder)
    assert holder.patient is not None
    pdf = pdf_file("Bilan")
    conversation = messages.start(
        pro,
        holder.patient,
        subject="Vos résultats",
        body="Tout est normal.",
        attachment=messages.Upload(io.BytesIO(pdf), "bilan.pdf"),
    )
    db.session.commit()
    attachment_id = db.session.scalars(select(MessageAttachment.id)).one()
    return holder, conversation.id, attachment_id


def _conversation_routes(app: Flask) -> list[Rule]:
    return [rule for rule in _rules(app) if "conversation_id" in rule.arguments]


def test_the_conversation_routes_are_the_messaging_ones(app: Flask) -> None:
    routes = _conversation_routes(app)
    assert {rule.endpoint for rule in routes} >= {
        "messages.thread",
        "messages.close",
        "messages.archive",
        "messages.attachment",
        "messages.save_attachment",
    }
    assert all(rule.rule.startswith("/messages/") for rule in routes)


@pytest.mark.parametrize(
    "intruder", ["other_patient", "agent", "unauthorised_professional", "authorised_professional"]
)
def test_every_conversation_route_is_404_to_anyone_but_its_participants(
    app: Flask, client: FlaskClient, intruder: str
) -> None:
    """Another patient, an agent, a professional who is not taking part (even one the patient
    authorised): every method of every conversation route answers 404, and nothing changes."""
    holder, conversation_id, attachment_id = _conversation_with_attachment()
    account = {
        "other_patient": make_patient,
        "agent": make_agent,
        "unauthorised_professional": make_professional,
        "authorised_professional": make_professional,
    }[intruder]()
    if intruder == "authorised_professional":
        authorise(account, holder)
    login_as(client, account)
    token = csrf_from(client.get("/settings/"))
    checked = 0
    for rule in _conversation_routes(app):
        values = {"conversation_id": conversation_id, "attachment_id": attachment_id}
        for path in _every_path(rule, **{k: v for k, v in values.items() if k in rule.arguments}):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                data = (
                    {"csrf_token": token, "body": "Intrusion", "category": "biologie"}
                    if method == "POST"
                    else None
                )
                response = client.open(path, method=method, data=data)
                assert response.status_code == HTTPStatus.NOT_FOUND, (path, method)
                checked += 1
    assert checked >= 7  # thread (GET, POST), close, archive, unarchive, attachment, save
    db.session.expire_all()
    conversation = db.session.get(Conversation, conversation_id)
    assert conversation is not None
    assert (conversation.message_count, conversation.closed_at, conversation.archived_at) == (
        1,
        None,
        None,
    )
    assert db.session.scalar(select(func.count(Document.id))) == 0


# Blueprints an agent may use; every other one holds medical content or acts on a record.
AGENT_BLUEPRINTS = {"counter", "counter_visit", "auth", "settings", "main", "enrolment", "dev"}


def test_an_agent_reaches_no_medical_route_at_all(app: Flask, client: FlaskClient) -> None:
    """Denylist by default: a new blueprint is closed to agents unless listed above."""
    from tests.builders import csrf_from, make_document

    holder = make_patient()
    doc = make_document(holder)
    agent = make_agent()
    login_as(client, agent)
    token = csrf_from(client.get("/counter/"))
    checked = 0
    for rule in _rules(app):
        blueprint = rule.endpoint.split(".")[0]
        if rule.endpoint == "static" or blueprint in AGENT_BLUEPRINTS or rule.endpoint in API:
            continue  # the API answers its own 401 to any cookie (test above)
        path = _path(rule, document_id=doc.id) if "document_id" in rule.arguments else _path(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method == "POST" else None
            response = client.open(path, method=method, data=data)
            assert response.status_code == HTTPStatus.NOT_FOUND, (rule.rule, method)
            checked += 1
    assert checked >= 15


def _every_path(rule: Rule, **values: object) -> list[str]:
    """Concrete URLs for a rule: the given values, and every choice of each `any(...)`."""
    choices: list[dict[str, object]] = [dict(values)]
    for name in sorted(rule.arguments - set(values)):
        converter = rule._converters[name]  # noqa: SLF001
        if isinstance(converter, AnyConverter):
            choices = [{**chosen, name: item} for chosen in choices for item in converter.items]
    return sorted({_path(rule, **chosen) for chosen in choices})


def _patient_routes(app: Flask) -> list[Rule]:
    return [rule for rule in _rules(app) if "patient_id" in rule.arguments]


def test_the_patient_routes_are_the_professional_workspace(app: Flask) -> None:
    routes = _patient_routes(app)
    assert {rule.endpoint for rule in routes} >= {
        "pro.patient",
        "pro.declare_consent",
        "pro.deposit",
        "pro.emergency_open",
        "pro.emergency_summary",
        "pro.emergency_end",
    }
    # The professional workspace, and a patient's medical profile as a professional opens it.
    assert all(rule.rule.startswith(("/pro/patients/", "/profile/patients/")) for rule in routes)


@pytest.mark.parametrize(
    "intruder", ["unauthorised_professional", "holder", "other_patient", "agent"]
)
def test_every_patient_route_is_404_to_anyone_but_its_readers(
    app: Flask, client: FlaskClient, intruder: str
) -> None:
    """A professional who neither is authorised nor identified the patient, the patient
    herself, another patient and an agent: every method of every route answers 404.

    Right after sign-in the sign-in is recent, so `require_recent_auth` lets the request
    through to the policy instead of asking to re-authenticate.
    """
    holder = make_patient()
    assert holder.patient is not None
    account = {
        "unauthorised_professional": make_professional,
        "holder": lambda: holder,
        "other_patient": make_patient,
        "agent": make_agent,
    }[intruder]()
    login_as(client, account)
    token = csrf_from(client.get("/settings/"))
    checked = 0
    for rule in _patient_routes(app):
        for path in _every_path(rule, patient_id=holder.patient.id):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                data = {"csrf_token": token} if method == "POST" else None
                response = client.open(path, method=method, data=data)
                assert response.status_code == HTTPStatus.NOT_FOUND, (path, method)
                checked += 1
    assert checked >= 8


@pytest.mark.parametrize("intruder", ["professional", "agent"])
def test_every_access_route_about_a_professional_is_404_to_non_patients(
    app: Flask, client: FlaskClient, intruder: str
) -> None:
    """Granting, revoking, blocking... are the holder's: a professional (even the one
    concerned) and an agent get 404 on every one of them."""
    concerned = make_professional()
    assert concerned.professional is not None
    account = concerned if intruder == "professional" else make_agent()
    login_as(client, account)
    token = csrf_from(client.get("/settings/"))
    checked = 0
    for rule in _rules(app):
        if not rule.rule.startswith("/access/") or "professional_id" not in rule.arguments:
            continue
        for path in _every_path(rule, professional_id=concerned.professional.id):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                data = {"csrf_token": token} if method == "POST" else None
                response = client.open(path, method=method, data=data)
                assert response.status_code == HTTPStatus.NOT_FOUND, (path, method)
                checked += 1
    assert checked >= 14  # grant (GET, POST) and six changes (GET, POST)


def test_a_refused_look_at_a_record_is_in_its_history(app: Flask, client: FlaskClient) -> None:
    holder = make_patient()
    assert holder.patient is not None
    pro = make_professional()
    login_as(client, pro)
    assert client.get(f"/pro/patients/{holder.patient.id}").status_code == HTTPStatus.NOT_FOUND
    events = db.session.scalars(
        select(AccessEvent).where(AccessEvent.patient_id == holder.patient.id)
    ).all()
    assert [
        (event.actor_account_id, event.actor_kind, event.action, event.allowed, event.reason)
        for event in events
    ] == [(pro.id, "professional", Action.RECORD_CONSULTED, False, "no_authorisation")]
    authorise(pro, holder)  # the same request, once let in, is answered and recorded as such
    assert client.get(f"/pro/patients/{holder.patient.id}").status_code == HTTPStatus.OK
    allowed = db.session.scalars(
        select(AccessEvent.allowed)
        .where(AccessEvent.patient_id == holder.patient.id)
        .order_by(AccessEvent.seq)
    ).all()
    assert allowed == [False, True]
