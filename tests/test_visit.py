"""The visit blueprint, registered at /counter and at /pro: each side's pages, links and guard."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.builders import (
    csrf_from,
    login_as,
    make_agent,
    make_beneficiary,
    make_patient,
    make_professional,
)
from webapp.core.extensions import db
from webapp.models import Account, AssistedEnrolment
from webapp.services import assisted

# Each side: where it lives, who works there, and what only its home page shows.
SIDES = {
    "counter": ("/counter", make_agent, ["Accueil guichet", "Mes actions du jour"]),
    "pro": (
        "/pro",
        make_professional,
        ["Ouvrir le dossier d'un patient", "Mes patients récents", "Résultats en attente"],
    ),
}


def _post_identify(client: FlaskClient, base: str, nir: str, serial: str) -> TestResponse:
    token = csrf_from(client.get(f"{base}/"))
    data = {"nir": nir, "vitale_serial": serial, "csrf_token": token}
    return client.post(f"{base}/identify", data=data)


@pytest.mark.parametrize("side", ["counter", "pro"])
class TestIdentify:
    def test_an_invalid_form_shows_the_whole_home_page_again(
        self, client: FlaskClient, side: str
    ) -> None:
        """Regression: at /pro the error page lacked the pro home's values and answered 500."""
        base, helper, home_texts = SIDES[side]
        login_as(client, helper())
        response = _post_identify(client, base, nir="", serial="")
        text = response.get_data(as_text=True)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Saisissez votre numéro de sécurité sociale." in text
        assert all(home_text in text for home_text in home_texts)
        assert f'action="{base}/identify"' in text

    def test_an_unknown_card_is_explained_on_the_home_page(
        self, client: FlaskClient, side: str
    ) -> None:
        base, helper, home_texts = SIDES[side]
        person = make_beneficiary()
        login_as(client, helper())
        response = _post_identify(client, base, nir=person.nir, serial="424242")
        text = response.get_data(as_text=True)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Aucun assuré ne correspond" in text
        assert all(home_text in text for home_text in home_texts)

    def test_a_valid_card_starts_a_visit_whose_links_stay_on_the_side(
        self, client: FlaskClient, side: str
    ) -> None:
        base, helper, _home_texts = SIDES[side]
        person = make_beneficiary()
        login_as(client, helper())
        response = _post_identify(client, base, nir=person.nir, serial=person.vitale_serial)
        assert response.status_code == HTTPStatus.SEE_OTHER
        visit = response.headers["Location"]
        assert visit.startswith(f"{base}/visits/")
        page = client.get(visit).get_data(as_text=True)
        assert person.last_name in page
        assert f'action="{visit}/inform"' in page and f'action="{visit}/end"' in page
        assert f'href="{base}/"' in page
        ended = client.post(f"{visit}/end", data={"csrf_token": csrf_from(client.get(visit))})
        assert ended.status_code == HTTPStatus.SEE_OTHER
        assert ended.headers["Location"] == f"{base}/"


# Who may not use a side: its pages answer 404, as if they did not exist.
OUTSIDERS: list[tuple[str, Callable[..., Account]]] = [
    ("/counter", make_professional),
    ("/counter", make_patient),
    ("/pro", make_agent),
    ("/pro", make_patient),
]


@pytest.mark.parametrize(("base", "outsider"), OUTSIDERS)
def test_each_side_is_404_to_everyone_but_its_helpers(
    client: FlaskClient, base: str, outsider: Callable[..., Account]
) -> None:
    person = make_beneficiary()
    login_as(client, outsider())
    token = csrf_from(client.get("/settings/"))
    data = {"nir": person.nir, "vitale_serial": person.vitale_serial, "csrf_token": token}
    assert client.post(f"{base}/identify", data=data).status_code == HTTPStatus.NOT_FOUND
    assert db.session.scalars(select(AssistedEnrolment)).all() == []  # no visit started


def test_an_agents_own_visit_is_404_on_the_professional_side(client: FlaskClient) -> None:
    """The side's guard, not only the visit's owner: an agent's visit is no /pro page."""
    agent = make_agent()
    visit = assisted.start(agent, make_beneficiary())
    db.session.commit()
    login_as(client, agent)
    assert client.get(f"/counter/visits/{visit.id}").status_code == HTTPStatus.OK
    assert client.get(f"/pro/visits/{visit.id}").status_code == HTTPStatus.NOT_FOUND
    assert client.get(f"/pro/visits/{visit.id}/letter.pdf").status_code == HTTPStatus.NOT_FOUND
