"""The reimbursements the insurer feeds, as their holder reads them (SPEC §8b): 24 months,
newest first, grouped by month with exact totals; the filters, whatever the query string holds;
the 24-month boundary as the clock moves; nobody but the holder; the CSV file; SQL per page;
the home page's lines; the purge of old lines and of a deleted record's."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from http import HTTPStatus
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select
from werkzeug.test import TestResponse

from tests.builders import (
    authorise,
    make_agent,
    make_patient,
    make_professional,
    make_reimbursement,
    page_text,
    page_words,
    reimbursement_values,
    signed_in,
)
from tests.test_query_counts import counting
from webapp.core import clock
from webapp.core.extensions import db
from webapp.models import AccessEvent, Account, Patient, Reimbursement
from webapp.models.account import RecordState
from webapp.policy.queries import reimbursements_shown_from
from webapp.services import lifecycle, purge, reimbursements
from webapp.services.audit import Action

# A fixed day, mid-month: the 24 months shown start on 15 March 2025.
TODAY = date(2027, 3, 15)
SHOWN_FROM = date(2025, 3, 15)
GP = ("Dr Claire Martin", "Médecin généraliste")
PHARMACY = ("Pharmacie de la Croix-Rousse", "Pharmacie")
CARDIO = ("Dr Karim Benali", "Cardiologue")


def _at(day: date) -> None:
    """The application's clock reads 10:00 in Paris on `day` (conftest resets it)."""
    moment = datetime.combine(day, time(10), clock.PARIS).astimezone(UTC)
    clock.advance((moment - clock.now()).total_seconds())


def euros(text: str) -> Decimal:
    return Decimal(text)


@dataclass
class Holder:
    account: Account
    client: FlaskClient

    @property
    def patient(self) -> Patient:
        assert self.account.patient is not None
        return self.account.patient

    def line(
        self,
        day: date,
        who: tuple[str, str],
        paid: str,
        reimbursed: str,
        label: str = "Consultation de médecine générale",
        **fields: object,
    ) -> Reimbursement:
        return make_reimbursement(
            self.account,
            care_date=day,
            professional=who[0],
            profession=who[1],
            amount_paid=euros(paid),
            amount_reimbursed=euros(reimbursed),
            act_label=label,
            **fields,
        )


@pytest.fixture
def holder(app: Flask) -> Iterator[Holder]:
    _at(TODAY)
    account = make_patient()
    yield Holder(account, signed_in(app, account))


def _march_february_december(holder: Holder) -> None:
    """Five lines in three months; 0.10 + 0.20 is where floating point would show."""
    holder.line(date(2027, 3, 2), GP, "30.00", "19.00")
    holder.line(date(2027, 3, 10), PHARMACY, "6.75", "2.89", "Lévothyroxine 75 µg (3 boîtes)")
    holder.line(date(2027, 2, 20), CARDIO, "80.00", "33.00", "Consultation de cardiologie")
    holder.line(date(2026, 12, 5), PHARMACY, "0.10", "0.03", "Pansements")
    holder.line(date(2026, 12, 5), PHARMACY, "0.20", "0.06", "Compresses")
    db.session.commit()


def _get(holder: Holder, path: str) -> TestResponse:
    response = holder.client.get(path)
    assert response.status_code == HTTPStatus.OK, path
    return response


def _labels_in_order(response: TestResponse, labels: list[str]) -> list[str]:
    """The labels found on the page, in the order the page shows them."""
    text = page_text(response)
    found = [(text.find(f">{label}<"), label) for label in labels]
    return [label for position, label in sorted(found) if position >= 0]


# --- the list ----------------------------------------------------------------------------------


class TestMonths:
    def test_months_newest_first_with_exact_totals(self, holder: Holder) -> None:
        _march_february_december(holder)
        listing = reimbursements.page_of(
            holder.account, holder.patient, reimbursements.Filters(), 1
        )
        assert [m.first_day for m in listing.months] == [
            date(2027, 3, 1),
            date(2027, 2, 1),
            date(2026, 12, 1),
        ]
        march, february, december = (m.totals for m in listing.months)
        assert (march.paid, march.reimbursed, march.remaining, march.count) == (
            Decimal("36.75"),
            Decimal("21.89"),
            Decimal("14.86"),
            2,
        )
        assert (february.paid, february.reimbursed, february.remaining) == (
            Decimal("80.00"),
            Decimal("33.00"),
            Decimal("47.00"),
        )
        assert (december.paid, december.reimbursed, december.remaining) == (
            Decimal("0.30"),
            Decimal("0.09"),
            Decimal("0.21"),
        )
        overall = listing.totals
        assert (overall.paid, overall.reimbursed, overall.remaining, overall.count) == (
            Decimal("117.05"),
            Decimal("54.98"),
            Decimal("62.07"),
            5,
        )
        # Newest first within the month too.
        assert [line.care_date.day for line in listing.months[0].lines] == [10, 2]

    def test_the_page_reads_in_french(self, holder: Holder) -> None:
        _march_february_december(holder)
        response = _get(holder, "/reimbursements/")
        words = page_words(response)
        assert words.index("Mars 2027") < words.index("Février 2027") < words.index("Décembre 2026")
        assert "Total des 24 derniers mois" in words
        assert "5 soins remboursés depuis le 15 mars 2025" in words
        # The whole list, then March's totals, then the line of 10 March.
        for amount in ("117,05", "54,98", "62,07", "36,75", "21,89", "14,86", "6,75", "2,89"):
            assert f"{amount} €" in words
        assert "10 mars 2027" in words and "code GS" in words
        assert "117,05\xa0€" in page_text(response)  # never cut between number and sign
        assert "Dr Karim Benali · Cardiologue" in words
        order = _labels_in_order(
            response,
            [
                "Lévothyroxine 75 µg (3 boîtes)",
                "Consultation de médecine générale",
                "Consultation de cardiologie",
                "Pansements",
            ],
        )
        assert order == [
            "Lévothyroxine 75 µg (3 boîtes)",
            "Consultation de médecine générale",
            "Consultation de cardiologie",
            "Pansements",
        ]

    def test_the_page_in_english(self, holder: Holder) -> None:
        _march_february_december(holder)
        holder.client.set_cookie("lang", "en")
        response = _get(holder, "/reimbursements/")
        html = page_text(response)
        assert '<html lang="en">' in html
        words = page_words(response)
        assert words.index("March 2027") < words.index("February 2027")
        assert "€117.05" in words and "€36.75" in words and "March 10, 2027" in words
        # What the insurer wrote stays French, and says so to a screen reader.
        assert '<strong lang="fr">Consultation de cardiologie</strong>' in html

    def test_a_month_split_across_pages_shows_its_full_totals(self, holder: Holder) -> None:
        rows = [
            reimbursement_values(
                holder.account,
                care_date=date(2027, 2, 1 + n % 28),
                amount_paid=Decimal("1.10"),
                amount_reimbursed=Decimal("0.70"),
            )
            for n in range(40)
        ]
        db.session.execute(insert(Reimbursement), rows)
        db.session.commit()
        first = page_words(_get(holder, "/reimbursements/"))
        second = page_words(_get(holder, "/reimbursements/?page=2"))
        for words in (first, second):
            assert "Total du mois : 40 soins" in words
            assert "44,00 €" in words and "28,00 €" in words and "16,00 €" in words
            assert "Une partie des soins de ce mois est sur une autre page" in words
        assert "Page 1 sur 2" in first and "Page 2 sur 2" in second
        assert first.count("code GS") == 25 and second.count("code GS") == 15
        # A page beyond the last shows the last.
        assert "Page 2 sur 2" in page_words(_get(holder, "/reimbursements/?page=99"))

    def test_the_menu_leads_there(self, holder: Holder) -> None:
        html = page_text(_get(holder, "/reimbursements/"))
        assert '<a href="/reimbursements/" aria-current="page">Remboursements</a>' in html
        assert '<a href="/reimbursements/" >Remboursements</a>' in page_text(_get(holder, "/"))


class TestEmpty:
    def test_the_empty_page_says_where_the_lines_come_from(self, holder: Holder) -> None:
        words = page_words(_get(holder, "/reimbursements/"))
        assert "Aucun remboursement à afficher pour l'instant" in words
        assert (
            "L'Assurance Maladie envoie à Carnet les remboursements des soins qu'elle a traités"
            in words
        )
        assert (
            "Carnet montre les 24 derniers mois. Les remboursements plus anciens sont effacés."
            in words
        )
        assert "Contactez votre caisse d'Assurance Maladie depuis votre compte ameli" in words
        # Nothing to filter or download.
        assert "Filtrer" not in words and "Télécharger" not in words


# --- the filters -------------------------------------------------------------------------------


class TestFilters:
    @pytest.fixture(autouse=True)
    def lines(self, holder: Holder) -> None:
        _march_february_december(holder)
        holder.line(date(2027, 1, 8), ("Dr Claire Martin", "Téléconsultation"), "30.00", "19.00")

    def _listing(self, holder: Holder, **wanted: str) -> reimbursements.Listing:
        filters = reimbursements.filters_from(
            [wanted["professional"]] if "professional" in wanted else [],
            [wanted["kind"]] if "kind" in wanted else [],
        )
        return reimbursements.page_of(holder.account, holder.patient, filters, 1)

    def test_by_professional_with_its_totals(self, holder: Holder) -> None:
        listing = self._listing(holder, professional="Pharmacie de la Croix-Rousse")
        assert listing.totals.count == 3
        assert listing.totals.paid == Decimal("7.05")
        assert listing.totals.reimbursed == Decimal("2.98")
        words = page_words(
            _get(holder, "/reimbursements/?professional=" + quote("Pharmacie de la Croix-Rousse"))
        )
        assert "Total de ces remboursements" in words
        assert "Seulement : Pharmacie de la Croix-Rousse. Voir tous mes remboursements" in words
        assert "7,05 €" in words
        assert "Consultation de cardiologie" not in words

    def test_by_kind(self, holder: Holder) -> None:
        listing = self._listing(holder, kind="Médecin généraliste")
        assert listing.totals.count == 1 and listing.totals.paid == Decimal("30.00")

    def test_both(self, holder: Holder) -> None:
        listing = self._listing(holder, professional="Dr Claire Martin", kind="Téléconsultation")
        assert [line.care_date for m in listing.months for line in m.lines] == [date(2027, 1, 8)]
        words = page_words(
            _get(
                holder,
                "/reimbursements/?professional=Dr+Claire+Martin&kind=T%C3%A9l%C3%A9consultation",
            )
        )
        assert "1 soin remboursé depuis le 15 mars 2025" in words

    def test_the_choices_are_her_own_values(self, holder: Holder) -> None:
        holder.line(SHOWN_FROM - timedelta(days=1), ("Dr Ancien", "Ophtalmologue"), "1.00", "0.50")
        other = make_patient()
        make_reimbursement(other, professional="Dr Autre Patient", profession="Podologue")
        db.session.commit()
        listing = self._listing(holder)
        assert listing.professionals == [
            "Dr Claire Martin",
            "Dr Karim Benali",
            "Pharmacie de la Croix-Rousse",
        ]
        assert listing.kinds == [
            "Cardiologue",
            "Médecin généraliste",
            "Pharmacie",
            "Téléconsultation",
        ]
        html = page_text(_get(holder, "/reimbursements/?kind=Pharmacie"))
        assert '<option selected value="Pharmacie">Pharmacie</option>' in html
        assert "Dr Ancien" not in html and "Podologue" not in html
        # A plain form that works without JavaScript, and its button.
        assert 'method="get" action="/reimbursements/"' in html
        assert '<button class="button secondary" type="submit">Filtrer</button>' in html

    @pytest.mark.parametrize(
        "query",
        [
            "professional=Dr+Inconnu",
            "kind=Podologue",
            "professional=Dr+Claire+Martin&professional=Dr+Karim+Benali",
            "kind=Pharmacie&kind=Pharmacie",
            "professional=" + "x" * 5000,
            "professional[]=Dr+Claire+Martin&kind=%FF%FE",
            "kind=%F0%9F%92%8A",
        ],
    )
    def test_an_unknown_or_odd_value_matches_nothing(self, holder: Holder, query: str) -> None:
        response = holder.client.get(f"/reimbursements/?{query}")
        assert response.status_code == HTTPStatus.OK
        words = page_words(response)
        if "professional[]" in query:  # an unknown name is no filter; the odd kind is one
            assert "Aucun remboursement ne correspond à ces filtres" in words
            return
        assert "Aucun remboursement ne correspond à ces filtres" in words
        assert "Voir tous mes remboursements" in words
        assert "Consultation de cardiologie" not in words
        export = holder.client.get(f"/reimbursements/export.csv?{query}")
        assert export.status_code == HTTPStatus.OK
        assert len(export.get_data(as_text=True).splitlines()) == 1  # the header alone

    def test_a_nul_byte_is_refused_before_the_page(self, holder: Holder) -> None:
        """The application refuses NUL in any query string (PostgreSQL would refuse it too)."""
        for query in ("professional=%00", "kind=Pharmacie%00"):
            for path in ("/reimbursements/", "/reimbursements/export.csv"):
                assert holder.client.get(f"{path}?{query}").status_code == HTTPStatus.BAD_REQUEST
        nul = reimbursements.filters_from(["Dr\x00"], [])
        assert nul.unmatched
        assert reimbursements.page_of(holder.account, holder.patient, nul, 1).totals.count == 0

    def test_an_empty_value_is_no_filter(self, holder: Holder) -> None:
        words = page_words(_get(holder, "/reimbursements/?professional=&kind="))
        assert "6 soins remboursés" in words and "Total des 24 derniers mois" in words


# --- the 24 months -----------------------------------------------------------------------------


class TestTwentyFourMonths:
    def test_a_line_exactly_24_months_old_is_shown_one_day_older_is_not(
        self, app: Flask, holder: Holder
    ) -> None:
        assert reimbursements_shown_from() == SHOWN_FROM
        holder.line(SHOWN_FROM, GP, "30.00", "19.00", "Le dernier jour montré")
        holder.line(SHOWN_FROM - timedelta(days=1), GP, "30.00", "19.00", "Un jour de trop")
        db.session.commit()
        words = page_words(_get(holder, "/reimbursements/"))
        assert "Le dernier jour montré" in words and "Un jour de trop" not in words
        assert "Total du mois : 1 soin" in words  # March 2025 counts the one shown
        assert "Un jour de trop" not in holder.client.get("/reimbursements/export.csv").get_data(
            as_text=True
        )
        _at(TODAY + timedelta(days=1))
        holder.client = signed_in(app, holder.account)  # a day later: a new session
        words = page_words(_get(holder, "/reimbursements/"))
        assert "Le dernier jour montré" not in words
        assert "Aucun remboursement à afficher" in words

    def test_the_day_is_the_day_in_paris(self, app: Flask, holder: Holder) -> None:
        """At 00:30 in Paris on 16 March it is still the 15th in UTC: Paris decides."""
        holder.line(SHOWN_FROM, GP, "30.00", "19.00", "Le dernier jour montré")
        db.session.commit()
        moment = datetime.combine(TODAY + timedelta(days=1), time(0, 30), clock.PARIS)
        clock.advance((moment.astimezone(UTC) - clock.now()).total_seconds())
        assert moment.astimezone(UTC).date() == SHOWN_FROM + timedelta(days=730)
        holder.client = signed_in(app, holder.account)
        assert "Le dernier jour montré" not in page_words(_get(holder, "/reimbursements/"))


# --- who sees them -----------------------------------------------------------------------------


class TestOnlyTheHolder:
    @pytest.fixture(autouse=True)
    def lines(self, holder: Holder) -> None:
        _march_february_december(holder)

    @pytest.mark.parametrize("path", ["/reimbursements/", "/reimbursements/export.csv"])
    def test_her_medecin_traitant_gets_404(self, app: Flask, holder: Holder, path: str) -> None:
        doctor = make_professional()
        authorise(doctor, holder.account, traitant=True)
        response = signed_in(app, doctor).get(path)
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert "Consultation de cardiologie" not in page_text(response)

    @pytest.mark.parametrize("path", ["/reimbursements/", "/reimbursements/export.csv"])
    def test_an_agent_gets_404(self, app: Flask, holder: Holder, path: str) -> None:
        assert signed_in(app, make_agent()).get(path).status_code == HTTPStatus.NOT_FOUND

    def test_another_patient_sees_only_her_own(self, app: Flask, holder: Holder) -> None:
        other = make_patient()
        make_reimbursement(other, act_label="Le soin de l'autre patiente")
        db.session.commit()
        client = signed_in(app, other)
        words = page_words(client.get("/reimbursements/"))
        assert "Le soin de l'autre patiente" in words
        assert "Consultation de cardiologie" not in words and "1 soin remboursé" in words
        exported = client.get("/reimbursements/export.csv").get_data(as_text=True)
        assert "Consultation de cardiologie" not in exported

    def test_anonymous_is_sent_to_sign_in(self, client: FlaskClient) -> None:
        for path in ("/reimbursements/", "/reimbursements/export.csv"):
            response = client.get(path)
            assert response.status_code == HTTPStatus.FOUND
            assert "/auth/login" in response.headers["Location"]

    def test_a_closed_record_still_shows_them_to_its_holder(self, holder: Holder) -> None:
        holder.patient.record_state = RecordState.CLOSED
        db.session.commit()
        listing = reimbursements.page_of(
            holder.account, holder.patient, reimbursements.Filters(), 1
        )
        assert listing.totals.count == 5


# --- the CSV file ------------------------------------------------------------------------------


def _csv(response: TestResponse, delimiter: str) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


class TestCsv:
    def test_french_file(self, holder: Holder) -> None:
        _march_february_december(holder)
        response = holder.client.get("/reimbursements/export.csv")
        assert response.status_code == HTTPStatus.OK
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="remboursements-2027-03-15.csv"'
        )
        rows = _csv(response, ";")
        assert rows[0] == [
            "Date des soins",
            "Acte",
            "Code de l'acte",
            "Professionnel",
            "Type de soin",
            "Montant payé (€)",
            "Montant remboursé (€)",
            "Reste à votre charge (€)",
        ]
        assert rows[1] == [
            "2027-03-10",
            "Lévothyroxine 75 µg (3 boîtes)",
            "GS",
            "Pharmacie de la Croix-Rousse",
            "Pharmacie",
            "6,75",
            "2,89",
            "3,86",
        ]
        assert [row[0] for row in rows[1:]] == [
            "2027-03-10",
            "2027-03-02",
            "2027-02-20",
            "2026-12-05",
            "2026-12-05",
        ]

    def test_english_file(self, holder: Holder) -> None:
        _march_february_december(holder)
        holder.client.set_cookie("lang", "en")
        rows = _csv(holder.client.get("/reimbursements/export.csv"), ",")
        assert len(rows[0]) == 8 and rows[0][0] == "Date of care"
        assert rows[1][5:] == ["6.75", "2.89", "3.86"]

    def test_the_filters_apply(self, holder: Holder) -> None:
        _march_february_december(holder)
        rows = _csv(holder.client.get("/reimbursements/export.csv?kind=Cardiologue"), ";")
        assert [row[3] for row in rows[1:]] == ["Dr Karim Benali"]

    @pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
    def test_no_cell_is_read_as_a_formula(self, holder: Holder, start: str) -> None:
        holder.line(
            date(2027, 3, 1),
            (f'{start}HYPERLINK("http://evil.example")', f"{start}1+1"),
            "30.00",
            "19.00",
            f"{start}cmd|' /C calc'!A0",
            act_code=f"{start}GS",
        )
        db.session.commit()
        rows = _csv(holder.client.get("/reimbursements/export.csv"), ";")
        label, code, professional, profession = rows[1][1:5]
        for cell in (label, code, professional, profession):
            assert cell.startswith("'" + start), cell
        assert rows[1][5:] == ["30,00", "19,00", "11,00"]

    def test_a_semicolon_in_a_label_stays_in_its_cell(self, holder: Holder) -> None:
        holder.line(date(2027, 3, 1), GP, "30.00", "19.00", 'Acte ; avec "guillemets"')
        db.session.commit()
        rows = _csv(holder.client.get("/reimbursements/export.csv"), ";")
        assert rows[1][1] == 'Acte ; avec "guillemets"' and len(rows[1]) == 8

    def test_the_export_is_in_her_history(self, holder: Holder) -> None:
        _march_february_december(holder)
        holder.client.get("/reimbursements/export.csv").get_data()
        events = db.session.scalars(
            select(AccessEvent).where(
                AccessEvent.patient_id == holder.patient.id,
                AccessEvent.action == Action.REIMBURSEMENTS_EXPORTED,
            )
        ).all()
        assert len(events) == 1 and events[0].allowed
        words = page_words(_get(holder, "/access/history"))
        assert "Remboursements téléchargés (fichier CSV)" in words

    def test_an_old_sign_in_confirms_first(self, holder: Holder) -> None:
        _march_february_december(holder)
        clock.advance(6 * 60)
        response = holder.client.get("/reimbursements/export.csv?kind=Pharmacie")
        assert response.status_code == HTTPStatus.SEE_OTHER
        assert "/auth/reauth" in response.headers["Location"]
        assert "export.csv" in response.headers["Location"]


# --- SQL per page ------------------------------------------------------------------------------


def _bulk(holder: Holder, count: int) -> None:
    """`count` lines over the 24 months, several a day, three professionals."""
    who = [GP, PHARMACY, CARDIO]
    rows = [
        reimbursement_values(
            holder.account,
            care_date=TODAY - timedelta(days=n % 700),
            professional=who[n % 3][0],
            profession=who[n % 3][1],
            amount_paid=Decimal("12.34"),
            amount_reimbursed=Decimal("5.67"),
        )
        for n in range(count)
    ]
    db.session.execute(insert(Reimbursement), rows)
    db.session.commit()


PATHS = [
    "/reimbursements/",
    "/reimbursements/?page=2",
    "/reimbursements/?professional=Dr+Claire+Martin&kind=M%C3%A9decin+g%C3%A9n%C3%A9raliste",
]


def _statements(app: Flask, holder: Holder, path: str) -> list[str]:
    db.session.commit()
    with counting(app) as statements:
        assert holder.client.get(path).status_code == HTTPStatus.OK
    return list(statements)


class TestQueries:
    def test_statements_per_page_do_not_grow_and_stay_within_8(
        self, app: Flask, holder: Holder
    ) -> None:
        _bulk(holder, 20)
        small = {path: len(_statements(app, holder, path)) for path in PATHS}
        _bulk(holder, 1980)
        large = {path: len(_statements(app, holder, path)) for path in PATHS}
        assert large == small
        assert max(large.values()) <= 8, large

    def test_the_file_holds_every_line_once_in_order(self, holder: Holder) -> None:
        _bulk(holder, 1203)  # more than two chunks, many lines a day
        rows = _csv(holder.client.get("/reimbursements/export.csv"), ";")[1:]
        assert len(rows) == 1203
        days = [row[0] for row in rows]
        assert days == sorted(days, reverse=True)
        total = sum(Decimal(row[6].replace(",", ".")) for row in rows)
        assert total == Decimal("5.67") * 1203

    def test_the_home_page_reads_them_in_one_statement(self, app: Flask, holder: Holder) -> None:
        _bulk(holder, 50)
        statements = _statements(app, holder, "/")
        assert sum("reimbursements" in statement for statement in statements) == 1


# --- the home page -----------------------------------------------------------------------------


class TestDashboard:
    def test_her_latest_three_lines(self, holder: Holder) -> None:
        _march_february_december(holder)
        words = page_words(_get(holder, "/"))
        assert "Mes derniers remboursements" in words
        assert "Lévothyroxine 75 µg (3 boîtes) 10 mars 2027 · remboursé 2,89 €" in words
        assert "Consultation de médecine générale 2 mars 2027 · remboursé 19,00 €" in words
        assert "Consultation de cardiologie" in words and "Pansements" not in words
        assert '<a href="/reimbursements/">Voir tous mes remboursements</a>' in page_text(
            _get(holder, "/")
        )

    def test_a_short_line_when_there_are_none(self, holder: Holder) -> None:
        words = page_words(_get(holder, "/"))
        assert "Aucun remboursement reçu de l'Assurance Maladie ces 24 derniers mois." in words


# --- the purge ---------------------------------------------------------------------------------


def _count(patient: Patient | None = None) -> int:
    query = select(func.count()).select_from(Reimbursement)
    if patient is not None:
        query = query.where(Reimbursement.patient_id == patient.id)
    return int(db.session.scalar(query) or 0)


class TestPurge:
    def test_the_daily_run_deletes_lines_older_than_24_months(
        self, app: Flask, holder: Holder
    ) -> None:
        holder.line(SHOWN_FROM, GP, "30.00", "19.00", "Le dernier jour montré")
        holder.line(SHOWN_FROM + timedelta(days=1), GP, "30.00", "19.00", "Le lendemain")
        holder.line(SHOWN_FROM - timedelta(days=1), GP, "30.00", "19.00", "Un jour de trop")
        holder.line(SHOWN_FROM - timedelta(days=400), GP, "30.00", "19.00", "Bien trop vieux")
        db.session.commit()
        assert lifecycle.run().reimbursements_purged == 2
        db.session.expire_all()
        kept = db.session.scalars(select(Reimbursement.act_label)).all()
        assert sorted(kept) == ["Le dernier jour montré", "Le lendemain"]
        assert lifecycle.run().reimbursements_purged == 0
        _at(TODAY + timedelta(days=1))
        result = app.test_cli_runner().invoke(args=["lifecycle", "run"])
        assert result.exit_code == 0
        assert "reimbursement lines older than 24 months deleted: 1" in result.output
        db.session.expire_all()
        assert db.session.scalars(select(Reimbursement.act_label)).all() == ["Le lendemain"]

    def test_a_deleted_record_loses_its_lines_not_another_ones(self, holder: Holder) -> None:
        _march_february_december(holder)
        other = make_patient()
        make_reimbursement(other)
        db.session.commit()
        patient = holder.patient
        purge.purge_record(patient)
        db.session.commit()
        assert _count(patient) == 0
        assert other.patient is not None and _count(other.patient) == 1

    def test_the_run_deletes_an_expressly_deleted_record_with_its_lines(
        self, holder: Holder
    ) -> None:
        _march_february_december(holder)
        patient = holder.patient
        lifecycle.transition(patient, RecordState.CLOSED, actor=None)
        lifecycle.request_deletion(patient, actor=None)
        db.session.commit()
        assert lifecycle.run().deleted == 1
        assert _count(patient) == 0
