"""What the patient decides about professionals: the rules of services.authorisations, and
the /access/ pages where the patient grants, revokes, blocks and chooses a médecin traitant."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from http import HTTPStatus

import pytest
from babel.dates import format_datetime
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.builders import (
    authorise,
    csrf_from,
    login_as,
    make_agent,
    make_document,
    make_patient,
    make_professional,
    page_text,
)
from webapp import policy
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Authorisation, Patient, Professional
from webapp.policy import Permission
from webapp.services import authorisations
from webapp.services.audit import Action
from webapp.services.authorisations import AuthorisationError


def _patient(account: Account) -> Patient:
    assert account.patient is not None
    return account.patient


def _pro(account: Account) -> Professional:
    assert account.professional is not None
    return account.professional


def _words(response: TestResponse) -> str:
    """The page as read: no tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def _checked(page: str, name: str, value: str) -> bool:
    """Whether the radio button `name` = `value` is selected on the page."""
    found = re.search(
        rf'<input(?=[^>]*\bchecked\b)(?=[^>]*name="{name}")(?=[^>]*value="{value}")[^>]*>', page
    )
    return found is not None


def _events(patient: Account, action: str | None = None) -> list[AccessEvent]:
    db.session.expire_all()
    query = select(AccessEvent).where(AccessEvent.patient_id == _patient(patient).id)
    if action is not None:
        query = query.where(AccessEvent.action == action)
    return list(db.session.scalars(query.order_by(AccessEvent.seq)))


def _rows(patient: Account, pro: Account) -> list[Authorisation]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Authorisation)
            .where(
                Authorisation.patient_id == _patient(patient).id,
                Authorisation.professional_id == _pro(pro).id,
            )
            .order_by(Authorisation.id)
        )
    )


def _live(patient: Account, pro: Account) -> list[Authorisation]:
    return [row for row in _rows(patient, pro) if row.revoked_at is None]


def _entry(
    last_name: str,
    *,
    first_names: str = "Claire",
    profession: str = "medecin",
    specialty: str | None = "medecine_generale",
    city: str | None = "Lyon",
    structure: str | None = "Cabinet du Parc",
) -> Professional:
    """A directory entry without an account, as the RPPS import creates them."""
    entry = Professional(
        rpps=f"{abs(hash((last_name, first_names, city))) % 10**11:011d}",
        last_name=last_name,
        first_names=first_names,
        profession=profession,
        specialty=specialty,
        structure=structure,
        city=city,
        samu_regulator=False,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def _settings_said(event: AccessEvent) -> tuple[str, str]:
    """The two choices an EMERGENCY_SETTINGS_CHANGED event records (in its reason or detail)."""
    said = re.findall(r"(emergency|regulation): ?(opposed|allowed)", event.reason + event.detail)
    found = dict(said)
    return found.get("emergency", ""), found.get("regulation", "")


# --- the service rules ---------------------------------------------------------------------


class TestGrant:
    def test_a_new_grant_replaces_the_earlier_one(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        first = authorisations.grant(
            _patient(holder), _pro(pro), actor=holder, until=clock.now() + timedelta(days=2)
        )
        db.session.commit()
        second = authorisations.grant(_patient(holder), _pro(pro), actor=holder, until=None)
        db.session.commit()
        rows = _rows(holder, pro)
        assert [row.id for row in rows] == [first.id, second.id]
        assert rows[0].revoked_at is not None
        assert rows[1].revoked_at is None and rows[1].until is None
        assert rows[1].granted_by == "patient" and rows[1].granted_by_account_id == holder.id
        assert len(authorisations.access_list(_patient(holder)).authorised) == 1

    def test_a_blocked_professional_cannot_be_granted(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        authorisations.block(_patient(holder), _pro(pro), actor=holder)
        db.session.commit()
        with pytest.raises(AuthorisationError) as raised:
            authorisations.grant(_patient(holder), _pro(pro), actor=holder, until=None)
        assert raised.value.code == "blocked"
        assert not any(row.kind == "authorised" for row in _live(holder, pro))

    @pytest.mark.parametrize("specialty", ["medecine_du_travail", "medecin_sapeur_pompier"])
    def test_an_express_grant_is_needed_for_occupational_and_fire_doctors(
        self, app: Flask, specialty: str
    ) -> None:
        holder, pro = make_patient(), make_professional(specialty=specialty)
        with pytest.raises(AuthorisationError) as raised:
            authorisations.grant(_patient(holder), _pro(pro), actor=holder, until=None)
        assert raised.value.code == "express_needed"
        assert _rows(holder, pro) == []
        row = authorisations.grant(
            _patient(holder), _pro(pro), actor=holder, until=None, express=True
        )
        db.session.commit()
        assert row.express is True
        (event,) = _events(holder, Action.AUTHORISATION_GRANTED)
        assert event.allowed and event.resource_id == str(_pro(pro).id)

    def test_a_general_practitioner_needs_no_express_grant(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        row = authorisations.grant(_patient(holder), _pro(pro), actor=holder, until=None)
        assert row.express is False

    @pytest.mark.parametrize("offset", [timedelta(0), timedelta(days=-1)])
    def test_an_end_date_not_in_the_future_is_refused(self, app: Flask, offset: timedelta) -> None:
        holder, pro = make_patient(), make_professional()
        with pytest.raises(AuthorisationError) as raised:
            authorisations.grant(
                _patient(holder), _pro(pro), actor=holder, until=clock.now() + offset
            )
        assert raised.value.code == "until_past"
        assert _rows(holder, pro) == []
        assert _events(holder, Action.AUTHORISATION_GRANTED) == []

    def test_the_grant_is_recorded_in_the_history(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        until = clock.now() + timedelta(days=10)
        authorisations.grant(_patient(holder), _pro(pro), actor=holder, until=until)
        db.session.commit()
        (event,) = _events(holder, Action.AUTHORISATION_GRANTED)
        assert event.resource_type == "professional"
        assert event.resource_id == str(_pro(pro).id)
        assert _pro(pro).display_name in event.detail
        assert event.actor_account_id == holder.id and event.actor_kind == "patient"

    def test_an_expired_grant_is_no_longer_in_force(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        authorisations.grant(
            _patient(holder), _pro(pro), actor=holder, until=clock.now() + timedelta(days=1)
        )
        db.session.commit()
        assert policy.decide(pro, Permission.RECORD_READ, _patient(holder))
        clock.advance(86400 + 60)
        assert authorisations.access_list(_patient(holder)).authorised == []
        assert not policy.decide(pro, Permission.RECORD_READ, _patient(holder))


class TestDefaults:
    def test_a_pharmacist_is_authorised_for_three_days_by_default(self, app: Flask) -> None:
        pharmacist = make_professional(profession="pharmacien", specialty=None)
        until = authorisations.default_until(_pro(pharmacist))
        assert until is not None
        assert abs((until - clock.now()) - timedelta(days=3)) < timedelta(seconds=5)

    @pytest.mark.parametrize(
        ("profession", "specialty"),
        [("medecin", "medecine_generale"), ("infirmier", None), ("chirurgien_dentiste", None)],
    )
    def test_other_professions_have_no_default_end(
        self, app: Flask, profession: str, specialty: str | None
    ) -> None:
        pro = make_professional(profession=profession, specialty=specialty)
        assert authorisations.default_until(_pro(pro)) is None


class TestTraitant:
    def test_declaring_a_traitant_moves_the_title_from_the_earlier_one(self, app: Flask) -> None:
        holder = make_patient()
        first, second = make_professional(), make_professional()
        authorisations.declare_traitant(_patient(holder), _pro(first), actor=holder)
        db.session.commit()
        authorisations.declare_traitant(_patient(holder), _pro(second), actor=holder)
        db.session.commit()
        (old,) = _live(holder, first)
        (new,) = _live(holder, second)
        assert (old.is_medecin_traitant, old.traitant_rights) == (False, False)
        assert (new.is_medecin_traitant, new.traitant_rights) == (True, True)
        listing = authorisations.access_list(_patient(holder))
        assert listing.traitant is not None and listing.traitant.id == new.id
        assert len(listing.authorised) == 2  # the earlier one stays an authorised physician
        assert len(_events(holder, Action.TRAITANT_DECLARED)) == 2

    def test_the_traitant_is_permanent(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        authorisations.grant(
            _patient(holder), _pro(pro), actor=holder, until=clock.now() + timedelta(days=5)
        )
        authorisations.declare_traitant(_patient(holder), _pro(pro), actor=holder)
        db.session.commit()
        (row,) = _live(holder, pro)
        assert row.until is None and row.is_medecin_traitant
        with pytest.raises(AuthorisationError) as raised:
            authorisations.grant(
                _patient(holder), _pro(pro), actor=holder, until=clock.now() + timedelta(days=5)
            )
        assert raised.value.code == "traitant_is_permanent"

    def test_a_new_permanent_grant_keeps_the_traitant_title(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        authorisations.declare_traitant(_patient(holder), _pro(pro), actor=holder)
        authorisations.grant(_patient(holder), _pro(pro), actor=holder, until=None)
        db.session.commit()
        (row,) = _live(holder, pro)
        assert row.is_medecin_traitant and row.traitant_rights

    @pytest.mark.parametrize(
        ("profession", "specialty"),
        [("pharmacien", None), ("infirmier", None), ("medecin", "medecine_du_travail")],
    )
    def test_only_a_physician_can_be_the_traitant(
        self, app: Flask, profession: str, specialty: str | None
    ) -> None:
        holder = make_patient()
        pro = make_professional(profession=profession, specialty=specialty)
        with pytest.raises(AuthorisationError) as raised:
            authorisations.declare_traitant(_patient(holder), _pro(pro), actor=holder)
        assert raised.value.code == "traitant_physician_only"
        assert _rows(holder, pro) == []

    def test_a_blocked_physician_cannot_be_the_traitant(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        authorisations.block(_patient(holder), _pro(pro), actor=holder)
        with pytest.raises(AuthorisationError) as raised:
            authorisations.declare_traitant(_patient(holder), _pro(pro), actor=holder)
        assert raised.value.code == "blocked"

    def test_traitant_rights_are_given_and_taken_back(self, app: Flask) -> None:
        holder = make_patient()
        nurse = make_professional(profession="infirmier", specialty=None)
        authorise(nurse, holder)
        masked = make_document(holder, type_code="18748-4", category="imagerie")
        masked.masked_from_pros = True
        db.session.commit()
        assert not policy.decide(nurse, Permission.DOCUMENT_READ, masked)
        authorisations.set_traitant_rights(_patient(holder), _pro(nurse), actor=holder, given=True)
        db.session.commit()
        (row,) = _live(holder, nurse)
        assert row.traitant_rights and not row.is_medecin_traitant
        assert policy.decide(nurse, Permission.DOCUMENT_READ, masked)
        authorisations.set_traitant_rights(_patient(holder), _pro(nurse), actor=holder, given=False)
        db.session.commit()
        (row,) = _live(holder, nurse)
        assert not row.traitant_rights
        assert not policy.decide(nurse, Permission.DOCUMENT_READ, masked)
        actions = [e.action for e in _events(holder)]
        assert actions.count(Action.TRAITANT_RIGHTS_GIVEN) == 1
        assert actions.count(Action.TRAITANT_RIGHTS_REMOVED) == 1

    def test_traitant_rights_need_an_authorisation_and_are_not_for_the_traitant(
        self, app: Flask
    ) -> None:
        holder, stranger, traitant = make_patient(), make_professional(), make_professional()
        with pytest.raises(AuthorisationError) as raised:
            authorisations.set_traitant_rights(
                _patient(holder), _pro(stranger), actor=holder, given=True
            )
        assert raised.value.code == "not_authorised"
        authorisations.declare_traitant(_patient(holder), _pro(traitant), actor=holder)
        with pytest.raises(AuthorisationError) as raised:
            authorisations.set_traitant_rights(
                _patient(holder), _pro(traitant), actor=holder, given=False
            )
        assert raised.value.code == "is_traitant"

    def test_an_occupational_physician_never_gets_traitant_rights(self, app: Flask) -> None:
        holder = make_patient()
        pro = make_professional(specialty="medecine_du_travail")
        authorisations.grant(_patient(holder), _pro(pro), actor=holder, until=None, express=True)
        with pytest.raises(AuthorisationError) as raised:
            authorisations.set_traitant_rights(
                _patient(holder), _pro(pro), actor=holder, given=True
            )
        assert raised.value.code == "express_limited"


class TestRevokeBlock:
    def test_revoking_ends_the_access_at_once(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        authorise(pro, holder)
        assert policy.decide(pro, Permission.RECORD_READ, _patient(holder))
        authorisations.revoke(_patient(holder), _pro(pro), actor=holder)
        db.session.commit()
        assert _live(holder, pro) == []
        assert not policy.decide(pro, Permission.RECORD_READ, _patient(holder))
        assert len(_events(holder, Action.AUTHORISATION_REVOKED)) == 1

    def test_revoking_someone_without_access_is_refused(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        with pytest.raises(AuthorisationError) as raised:
            authorisations.revoke(_patient(holder), _pro(pro), actor=holder)
        assert raised.value.code == "not_authorised"
        assert _events(holder, Action.AUTHORISATION_REVOKED) == []

    def test_blocking_ends_the_authorisation_and_unblocking_does_not_restore_it(
        self, app: Flask
    ) -> None:
        holder, pro = make_patient(), make_professional()
        authorise(pro, holder)
        authorisations.block(_patient(holder), _pro(pro), actor=holder)
        authorisations.block(_patient(holder), _pro(pro), actor=holder)  # twice: one row
        db.session.commit()
        listing = authorisations.access_list(_patient(holder))
        assert listing.authorised == [] and len(listing.blocked) == 1
        assert len(_events(holder, Action.PROFESSIONAL_BLOCKED)) == 1
        authorisations.unblock(_patient(holder), _pro(pro), actor=holder)
        db.session.commit()
        listing = authorisations.access_list(_patient(holder))
        assert listing.authorised == [] and listing.blocked == []
        assert not policy.decide(pro, Permission.RECORD_READ, _patient(holder))
        with pytest.raises(AuthorisationError) as raised:
            authorisations.unblock(_patient(holder), _pro(pro), actor=holder)
        assert raised.value.code == "not_blocked"


class TestConsentService:
    def test_a_declared_consent_lasts_the_profession_default(self, app: Flask) -> None:
        holder = make_patient()
        pharmacist = make_professional(profession="pharmacien", specialty=None)
        row = authorisations.declare_consent(_patient(holder), pharmacist)
        db.session.commit()
        assert row.granted_by == "professional" and row.granted_by_account_id == pharmacist.id
        assert row.until is not None
        assert abs((row.until - clock.now()) - timedelta(days=3)) < timedelta(seconds=5)

    def test_a_declared_consent_does_not_replace_an_authorisation(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        existing = authorise(pro, holder)
        row = authorisations.declare_consent(_patient(holder), pro)
        assert row.id == existing.id
        assert _events(holder, Action.CONSENT_DECLARED) == []

    def test_a_blocked_professional_cannot_declare_consent(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        authorisations.block(_patient(holder), _pro(pro), actor=holder)
        with pytest.raises(AuthorisationError):
            authorisations.declare_consent(_patient(holder), pro)


class TestEmergencySettings:
    def test_a_change_is_recorded_only_when_something_changed(self, app: Flask) -> None:
        holder = make_patient()
        record = _patient(holder)
        same = authorisations.set_emergency_settings(
            record, actor=holder, oppose_emergency=False, oppose_regulation=False
        )
        assert same is False
        assert _events(holder, Action.EMERGENCY_SETTINGS_CHANGED) == []
        changed = authorisations.set_emergency_settings(
            record, actor=holder, oppose_emergency=True, oppose_regulation=False
        )
        db.session.commit()
        assert changed is True
        (event,) = _events(holder, Action.EMERGENCY_SETTINGS_CHANGED)
        assert _settings_said(event) == ("opposed", "allowed")
        again = authorisations.set_emergency_settings(
            record, actor=holder, oppose_emergency=True, oppose_regulation=False
        )
        assert again is False
        assert len(_events(holder, Action.EMERGENCY_SETTINGS_CHANGED)) == 1
        db.session.refresh(record)
        assert record.oppose_emergency_access and not record.oppose_regulation_access


# --- the patient's pages --------------------------------------------------------------------


@pytest.fixture
def holder(client: FlaskClient) -> Account:
    account = make_patient()
    login_as(client, account)
    return account


def _when(value: datetime) -> str:
    return format_datetime(value, "d MMMM y 'à' HH:mm", tzinfo=clock.PARIS, locale="fr")


class TestList:
    def test_the_list_says_who_what_where_since_until_and_by_whom(
        self, client: FlaskClient, holder: Account
    ) -> None:
        doctor = make_professional(first_names="Hélène")
        pharmacist = make_professional(profession="pharmacien", specialty=None)
        _pro(pharmacist).structure = "Pharmacie de la Gare"
        db.session.commit()
        by_patient = authorise(doctor, holder)
        until = clock.now() + timedelta(days=3)
        by_pro = authorise(pharmacist, holder, granted_by="professional", until=until)
        page = page_text(client.get("/access/"))
        assert "Professionnels autorisés (2)" in _words(client.get("/access/"))
        assert _pro(doctor).display_name in page and _pro(pharmacist).display_name in page
        assert "Médecin · Médecine générale" in page and "Pharmacien" in page
        assert "Cabinet Test, Lyon" in page and "Pharmacie de la Gare, Lyon" in page
        assert _when(by_patient.since) in page and _when(by_pro.since) in page
        assert _when(until) in page
        assert "jusqu'à ce que vous retiriez l'accès" in page
        assert "le professionnel, qui a déclaré votre accord en consultation" in page
        assert "<dd>vous</dd>" in page

    def test_the_traitant_and_blocked_professionals_are_marked(
        self, client: FlaskClient, holder: Account
    ) -> None:
        traitant, blocked = make_professional(), make_professional()
        authorise(traitant, holder, traitant=True)
        authorise(blocked, holder, kind="blocked")
        page = page_text(client.get("/access/"))
        assert "Médecin traitant</span>" in page
        assert "Professionnels bloqués" in page and _pro(blocked).display_name in page
        assert f"/access/{_pro(blocked).id}/unblock" in page

    def test_an_empty_list_says_so(self, client: FlaskClient, holder: Account) -> None:
        page = page_text(client.get("/access/"))
        assert "Personne pour l'instant" in page
        assert "Professionnels bloqués" not in page

    def test_another_patients_authorisations_are_not_shown(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional()
        authorise(pro, make_patient())
        page = page_text(client.get("/access/"))
        assert _pro(pro).display_name not in page


class TestDirectorySearch:
    def test_a_name_is_found_whatever_its_accents_and_case(
        self, client: FlaskClient, holder: Account
    ) -> None:
        found = _entry("Lefèvre", first_names="Héloïse")
        _entry("Marchand")
        for query in ("lefevre", "LEFÈVRE", "heloise lefevre", "Lefevre"):
            page = page_text(client.get("/access/find", query_string={"q": query}))
            assert "Dr Héloïse Lefèvre" in page, query
            assert "Marchand" not in page
            assert f"/access/grant/{found.id}" in page
        assert "1 professionnel trouvé" in page

    def test_search_by_profession(self, client: FlaskClient, holder: Account) -> None:
        _entry("Durand", profession="pharmacien", specialty=None)
        _entry("Dupont")
        page = page_text(client.get("/access/find", query_string={"profession": "pharmacien"}))
        assert "Durand" in page and "Dupont" not in page

    def test_search_by_city(self, client: FlaskClient, holder: Account) -> None:
        _entry("Roux", city="Besançon")
        _entry("Blanc", city="Clermont-Ferrand")
        _entry("Noir", city="Lyon")
        page = page_text(client.get("/access/find", query_string={"city": "besancon"}))
        assert "Roux" in page and "Blanc" not in page and "Noir" not in page
        page = page_text(client.get("/access/find", query_string={"city": "clermont"}))
        assert "Blanc" in page and "Roux" not in page

    def test_nothing_found_is_explained(self, client: FlaskClient, holder: Account) -> None:
        _entry("Roux")
        page = page_text(client.get("/access/find", query_string={"q": "zzzz"}))
        assert "Aucun professionnel ne correspond" in page

    def test_htmx_gets_the_results_only_and_a_plain_get_the_whole_page(
        self, client: FlaskClient, holder: Account
    ) -> None:
        _entry("Lefèvre")
        partial = client.get(
            "/access/find",
            query_string={"q": "lefevre"},
            headers={"HX-Request": "true", "HX-Target": "directory-results"},
        )
        assert partial.status_code == HTTPStatus.OK
        body = page_text(partial)
        assert "Lefèvre" in body and "<html" not in body and "<h1>" not in body
        full = client.get("/access/find", query_string={"q": "lefevre"})
        body = page_text(full)
        assert "<html" in body and "Chercher un professionnel dans l'annuaire" in body
        assert "Lefèvre" in body
        other_target = page_text(
            client.get(
                "/access/find",
                query_string={"q": "lefevre"},
                headers={"HX-Request": "true", "HX-Target": "main"},
            )
        )
        assert "<html" in other_target


def _grant_page(client: FlaskClient, pro: Professional) -> TestResponse:
    return client.get(f"/access/grant/{pro.id}")


def _post_grant(client: FlaskClient, pro: Professional, **data: str) -> TestResponse:
    token = csrf_from(_grant_page(client, pro))
    return client.post(f"/access/grant/{pro.id}", data={"csrf_token": token, **data})


class TestGrantPage:
    def test_a_pharmacist_is_proposed_three_days(
        self, client: FlaskClient, holder: Account
    ) -> None:
        """SPEC §4.2: the profession's usual duration, said in words and chosen first."""
        pharmacist = _entry("Durand", profession="pharmacien", specialty=None)
        page = page_text(_grant_page(client, pharmacist))
        assert _checked(page, "duration", "default")
        assert "Pendant 3 jours, jusqu'au" in page
        assert "la durée habituelle pour un pharmacien" in page

    def test_the_usual_duration_is_reckoned_when_the_form_is_sent(
        self, client: FlaskClient, holder: Account
    ) -> None:
        """Without a date typed and without script, "default" means 3 days from the grant."""
        pharmacist = make_professional(profession="pharmacien", specialty=None)
        token = csrf_from(_grant_page(client, _pro(pharmacist)))
        clock.advance(180)  # the page was read three minutes before it was sent
        sent = clock.now()
        response = client.post(
            f"/access/grant/{_pro(pharmacist).id}",
            data={"csrf_token": token, "duration": "default"},
        )
        assert response.status_code == HTTPStatus.SEE_OTHER
        (row,) = _live(holder, pharmacist)
        assert row.until is not None
        assert abs(row.until - (sent + timedelta(days=3))) < timedelta(seconds=30)

    def test_other_professions_have_no_usual_duration_to_offer(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional()
        page = page_text(_grant_page(client, _pro(pro)))
        assert _checked(page, "duration", "permanent")
        assert 'value="default"' not in page
        refused = _post_grant(client, _pro(pro), duration="default")
        assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert _rows(holder, pro) == []

    def test_the_two_buttons_stand_apart(self, client: FlaskClient, holder: Account) -> None:
        page = page_text(_grant_page(client, _pro(make_professional())))
        assert re.search(r'<div class="actions">\s*<button class="button primary"', page)

    def test_granting_until_revoked(self, client: FlaskClient, holder: Account) -> None:
        pro = make_professional()
        response = _post_grant(client, _pro(pro), duration="permanent")
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == "/access/"
        (row,) = _live(holder, pro)
        assert row.until is None and row.granted_by == "patient"
        assert len(_events(holder, Action.AUTHORISATION_GRANTED)) == 1
        assert "peut maintenant consulter votre dossier" in page_text(client.get("/access/"))

    def test_granting_until_a_date(self, client: FlaskClient, holder: Account) -> None:
        pro = make_professional()
        day = (clock.to_paris(clock.now()) + timedelta(days=20)).date()
        response = _post_grant(client, _pro(pro), duration="until", until=day.isoformat())
        assert response.status_code == HTTPStatus.SEE_OTHER
        (row,) = _live(holder, pro)
        assert row.until is not None and clock.to_paris(row.until).date() == day

    def test_a_date_in_the_past_keeps_the_input_and_explains(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional()
        response = _post_grant(client, _pro(pro), duration="until", until="2020-01-01")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        page = page_text(response)
        assert "Choisissez une date de fin après aujourd'hui." in page
        assert 'value="2020-01-01"' in page
        assert _rows(holder, pro) == []

    def test_a_missing_end_date_is_explained(self, client: FlaskClient, holder: Account) -> None:
        pro = make_professional()
        response = _post_grant(client, _pro(pro), duration="until")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Indiquez la date de fin de l'accès." in page_text(response)
        assert _rows(holder, pro) == []

    def test_an_occupational_physician_needs_the_express_box(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional(specialty="medecine_du_travail")
        page = page_text(_grant_page(client, _pro(pro)))
        assert "Un accès qui demande votre accord exprès" in page
        refused = _post_grant(client, _pro(pro), duration="permanent")
        assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "accepte expressément" in page_text(refused)
        assert _checked(page_text(refused), "duration", "permanent")
        assert _rows(holder, pro) == []
        done = _post_grant(client, _pro(pro), duration="permanent", express="y")
        assert done.status_code == HTTPStatus.SEE_OTHER
        (row,) = _live(holder, pro)
        assert row.express is True

    def test_a_blocked_professional_is_refused_with_a_message(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional()
        authorise(pro, holder, kind="blocked")
        response = _post_grant(client, _pro(pro), duration="permanent")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Vous avez bloqué ce professionnel" in page_text(response)
        assert [row.kind for row in _live(holder, pro)] == ["blocked"]

    def test_an_unknown_professional_is_404(self, client: FlaskClient, holder: Account) -> None:
        assert client.get("/access/grant/999999").status_code == HTTPStatus.NOT_FOUND
        assert client.get("/access/999999/revoke").status_code == HTTPStatus.NOT_FOUND

    def test_without_the_csrf_token_nothing_is_granted(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional()
        response = client.post(f"/access/grant/{_pro(pro).id}", data={"duration": "permanent"})
        assert response.status_code == HTTPStatus.BAD_REQUEST  # the CSRF check, before any form
        assert _rows(holder, pro) == []


class TestRecentAuth:
    @pytest.mark.parametrize(
        "path", ["/access/grant/{id}", "/access/{id}/revoke", "/access/emergency"]
    )
    def test_a_stale_sign_in_is_sent_to_confirm_first(
        self, client: FlaskClient, holder: Account, path: str
    ) -> None:
        pro = make_professional()
        authorise(pro, holder)
        url = path.format(id=_pro(pro).id)
        token = csrf_from(client.get("/access/"))
        clock.advance(6 * 60)
        for response in (client.get(url), client.post(url, data={"csrf_token": token})):
            assert response.status_code == HTTPStatus.SEE_OTHER
            assert response.headers["Location"].startswith("/auth/reauth")
        assert len(_live(holder, pro)) == 1
        assert [e.action for e in _events(holder)].count(Action.AUTHORISATION_REVOKED) == 0

    def test_the_list_itself_needs_no_recent_sign_in(
        self, client: FlaskClient, holder: Account
    ) -> None:
        clock.advance(6 * 60)
        assert client.get("/access/").status_code == HTTPStatus.OK


def _change(client: FlaskClient, pro: Professional, change: str) -> TestResponse:
    page = client.get(f"/access/{pro.id}/{change}")
    assert page.status_code == HTTPStatus.OK
    return client.post(f"/access/{pro.id}/{change}", data={"csrf_token": csrf_from(page)})


class TestChanges:
    @pytest.mark.parametrize(
        ("change", "setup", "action"),
        [
            ("revoke", "authorised", Action.AUTHORISATION_REVOKED),
            ("block", "authorised", Action.PROFESSIONAL_BLOCKED),
            ("unblock", "blocked", Action.PROFESSIONAL_UNBLOCKED),
            ("traitant", "authorised", Action.TRAITANT_DECLARED),
            ("give_rights", "authorised", Action.TRAITANT_RIGHTS_GIVEN),
            ("remove_rights", "rights", Action.TRAITANT_RIGHTS_REMOVED),
        ],
    )
    def test_every_change_writes_its_history_row(
        self, client: FlaskClient, holder: Account, change: str, setup: str, action: str
    ) -> None:
        pro = make_professional()
        if setup == "rights":
            authorise(pro, holder, traitant_rights=True)
        else:
            authorise(pro, holder, kind=setup)
        before = len(_events(holder, action))
        response = _change(client, _pro(pro), change)
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert response.headers["Location"] == "/access/"
        events = _events(holder, action)
        assert len(events) == before + 1
        assert events[-1].actor_account_id == holder.id
        assert events[-1].resource_id == str(_pro(pro).id)
        assert _pro(pro).display_name in page_text(client.get("/access/"))  # in the flash at least

    def test_the_confirmation_page_changes_nothing(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional()
        authorise(pro, holder)
        page = page_text(client.get(f"/access/{_pro(pro).id}/block"))
        assert f"Bloquer {_pro(pro).display_name} ?" in page and "Confirmer" in page
        assert [row.kind for row in _live(holder, pro)] == ["authorised"]
        assert _events(holder, Action.PROFESSIONAL_BLOCKED) == []

    def test_a_change_the_rules_forbid_is_explained(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional()
        response = _change(client, _pro(pro), "revoke")
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert "Ce professionnel n'a plus accès à votre dossier." in page_text(
            client.get("/access/")
        )
        assert _events(holder, Action.AUTHORISATION_REVOKED) == []

    def test_a_pharmacist_cannot_be_declared_traitant(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pharmacist = make_professional(profession="pharmacien", specialty=None)
        authorise(pharmacist, holder)
        _change(client, _pro(pharmacist), "traitant")
        assert "Seul un médecin peut être votre médecin traitant." in page_text(
            client.get("/access/")
        )
        (row,) = _live(holder, pharmacist)
        assert not row.is_medecin_traitant

    def test_without_the_csrf_token_nothing_changes(
        self, client: FlaskClient, holder: Account
    ) -> None:
        pro = make_professional()
        authorise(pro, holder)
        client.post(f"/access/{_pro(pro).id}/revoke", data={})
        assert len(_live(holder, pro)) == 1
        assert _events(holder, Action.AUTHORISATION_REVOKED) == []


class TestEmergencySettingsPage:
    def _post(self, client: FlaskClient, emergency: str, regulation: str) -> TestResponse:
        page = client.get("/access/emergency")
        return client.post(
            "/access/emergency",
            data={
                "emergency": emergency,
                "regulation": regulation,
                "csrf_token": csrf_from(page),
            },
        )

    def test_a_change_is_saved_and_recorded(self, client: FlaskClient, holder: Account) -> None:
        response = self._post(client, "allow", "oppose")
        assert response.status_code == HTTPStatus.SEE_OTHER
        db.session.expire_all()
        record = _patient(holder)
        assert not record.oppose_emergency_access and record.oppose_regulation_access
        (event,) = _events(holder, Action.EMERGENCY_SETTINGS_CHANGED)
        assert _settings_said(event) == ("allowed", "opposed")
        page = page_text(client.get("/access/"))
        assert "Vos choix pour les urgences sont enregistrés." in page
        assert "Vous vous opposez à l'accès du médecin régulateur du SAMU." in page
        form = page_text(client.get("/access/emergency"))
        assert _checked(form, "regulation", "oppose") and _checked(form, "emergency", "allow")

    def test_the_same_choices_record_nothing(self, client: FlaskClient, holder: Account) -> None:
        self._post(client, "allow", "allow")
        assert _events(holder, Action.EMERGENCY_SETTINGS_CHANGED) == []
        assert "Rien n'a changé" in page_text(client.get("/access/"))

    def test_a_missing_answer_is_422(self, client: FlaskClient, holder: Account) -> None:
        response = self._post(client, "oppose", "")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "Choisissez une réponse." in page_text(response)
        db.session.expire_all()
        assert not _patient(holder).oppose_emergency_access


class TestRevokedProfessional:
    def test_the_next_request_is_refused_htmx_included(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        authorise(pro, holder)
        doc = make_document(holder, type_code="11502-2")
        patient_client, pro_client = app.test_client(), app.test_client()
        login_as(patient_client, holder)
        login_as(pro_client, pro)
        record = f"/pro/patients/{_patient(holder).id}"
        assert pro_client.get(record).status_code == HTTPStatus.OK
        assert pro_client.get(f"/documents/{doc.id}").status_code == HTTPStatus.OK
        assert _change(patient_client, _pro(pro), "revoke").status_code == HTTPStatus.SEE_OTHER
        assert pro_client.get(record).status_code == HTTPStatus.NOT_FOUND
        assert pro_client.get(f"/documents/{doc.id}").status_code == HTTPStatus.NOT_FOUND
        swap = pro_client.get(
            record, headers={"HX-Request": "true", "HX-Target": "record-documents"}
        )
        assert swap.status_code == HTTPStatus.NOT_FOUND
        assert swap.headers.get("HX-Refresh") == "true"
        refused = [e for e in _events(holder, Action.RECORD_CONSULTED) if not e.allowed]
        assert len(refused) == 2 and {e.reason for e in refused} == {"no_authorisation"}

    def test_a_blocked_professional_is_refused_at_once(self, app: Flask) -> None:
        holder, pro = make_patient(), make_professional()
        authorise(pro, holder)
        patient_client, pro_client = app.test_client(), app.test_client()
        login_as(patient_client, holder)
        login_as(pro_client, pro)
        record = f"/pro/patients/{_patient(holder).id}"
        assert pro_client.get(record).status_code == HTTPStatus.OK
        _change(patient_client, _pro(pro), "block")
        assert pro_client.get(record).status_code == HTTPStatus.NOT_FOUND
        (event,) = [e for e in _events(holder, Action.RECORD_CONSULTED) if not e.allowed]
        assert event.reason == "blocked_by_patient"


ACCESS_PAGES = [
    "/access/",
    "/access/find?q=martin",
    "/access/grant/{id}",
    "/access/{id}/revoke",
    "/access/emergency",
]


@pytest.mark.parametrize("role", ["agent", "professional"])
@pytest.mark.parametrize("path", ACCESS_PAGES)
def test_an_agent_or_a_professional_gets_404_on_access_pages(
    client: FlaskClient, role: str, path: str
) -> None:
    target = make_professional()
    actor = make_agent() if role == "agent" else make_professional()
    login_as(client, actor)
    response = client.get(path.format(id=_pro(target).id))
    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("role", ["agent", "professional"])
def test_an_agent_or_a_professional_cannot_post_a_change(client: FlaskClient, role: str) -> None:
    holder, target = make_patient(), make_professional()
    authorise(target, holder)
    actor = make_agent() if role == "agent" else make_professional()
    login_as(client, actor)
    token = csrf_from(client.get("/pro/" if role == "professional" else "/counter/"))
    response = client.post(f"/access/{_pro(target).id}/revoke", data={"csrf_token": token})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert len(_live(holder, target)) == 1
