"""What the policy's reshaping changed for people, seen through the pages.

Rule 7 (SPEC §4.1): an author without authorisation still sees what they deposited, in the
list as well as by its page; and the ways into a record follow "identified in this session",
an input of `decide`, not a check in the route.
"""

from __future__ import annotations

from http import HTTPStatus

from flask.testing import FlaskClient

from tests.builders import authorise, make_document, make_patient, page_text
from tests.test_workspace import _documents, _events, _patient, deposit, identify, pro
from webapp.models import Account
from webapp.services.audit import Action

__all__ = ["pro"]  # the fixture, logged in as a professional


class TestAuthorWithoutAuthorisation:
    def test_the_ways_in_list_what_the_professional_deposited_and_nothing_else(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        make_document(holder, title="Bilan du patient lui-même")
        record_url = identify(client, holder)
        assert deposit(client, _patient(holder).id, title="Mon compte rendu").status_code == (
            HTTPStatus.SEE_OTHER
        )
        page = page_text(client.get(record_url))
        assert "Vos dépôts dans ce dossier" in page
        assert "Mon compte rendu" in page
        assert "Bilan du patient lui-même" not in page
        mine = _documents(holder)[-1]
        assert client.get(f"/documents/{mine.id}").status_code == HTTPStatus.OK

    def test_a_revoked_author_still_finds_the_deposit_listed(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        grant = authorise(pro, holder)
        record_url = identify(client, holder)
        deposit(client, _patient(holder).id, title="Échographie cardiaque")
        # Authorised: the record.
        assert "Échographie cardiaque" in page_text(client.get(record_url))
        grant.revoked_at = grant.since
        page = page_text(client.get(record_url))
        assert "Vous n'avez pas encore accès" in page
        assert "Échographie cardiaque" in page  # the ways in, with the author's own deposit


class TestIdentifiedInThisSession:
    def test_an_unidentified_unauthorised_professional_gets_404_and_the_refusal_is_recorded(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        patient_id = _patient(holder).id
        for url in (
            f"/pro/patients/{patient_id}",
            f"/pro/patients/{patient_id}/deposit",
            f"/pro/patients/{patient_id}/emergency/summary",
        ):
            assert client.get(url).status_code == HTTPStatus.NOT_FOUND, url
        refused = [e for e in _events(holder, Action.RECORD_CONSULTED) if not e.allowed]
        assert [e.reason for e in refused] == ["no_authorisation"] * 3
        assert [e.detail for e in refused] == ["", "deposit", "emergency summary"]

    def test_an_authorised_professional_deposits_without_identifying_again(
        self, client: FlaskClient, pro: Account
    ) -> None:
        holder = make_patient()
        authorise(pro, holder)
        response = deposit(client, _patient(holder).id)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == f"/pro/patients/{_patient(holder).id}"
