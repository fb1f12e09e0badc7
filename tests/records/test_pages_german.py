"""The pages in German: the browser's Accept-Language picks the catalog (locale/de), English stays the
default. The customer 360° page, a report, the wallboard and the sign-in page, their headings German
and none left in English; a plural from the catalog's plural forms."""

from __future__ import annotations

import re

import pytest

from insights.kpis.rollup import contact_rollup_rebuild
from records.cases.services import case_create
from records.customers.models import Customer
from records.customers.services import customer_create
from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import waiting
from tests.insights.factories import T0, contact
from tests.support import isolated_redis
from tests.translation_support import GERMAN, compiled_catalogs

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def german_catalog():
    yield from compiled_catalogs()


@pytest.fixture
def wallboard_env(settings, routing_defaults):
    """The wallboard's own Redis keys and channel layer, and routing's default rows (as in tests/insights)."""
    yield from isolated_redis(settings)


def _headings(page: str) -> list[str]:
    """The text of every h1/h2/th/dt/legend/caption/summary, tags stripped."""
    found = re.findall(r"<(h1|h2|th|dt|legend|caption|summary)\b[^>]*>(.*?)</\1>", page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", text).split()) for _, text in found]


@pytest.fixture
def customer_page(agent, team_a):
    customer = customer_create(actor=agent, given_name="Greta", family_name="Berg", team=team_a, email="g@example.de")
    case_create(actor=agent, customer=customer, subject="Router fällt aus", category="technical")
    return customer


def test_the_customer_360_page_speaks_german(client, agent, customer_page):
    # Given an agent whose browser asks for German
    client.force_login(agent)
    # When they open a customer
    response = client.get(f"/customers/{customer_page.pk}/", **GERMAN)
    # Then the page, its navigation and its choice labels are German
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="de">' in page
    headings = _headings(page)
    for german in ("Identitäten", "Einwilligung", "Offene Vorgänge 1 insgesamt", "Letzte Interaktionen 0 insgesamt"):
        assert german in headings
    for german in ("Journey-Phase", "Rechtliche Aufbewahrungen", "Journey", "E-Mail", "Telefon", "Vorgang", "Kanal"):
        assert german in headings
    assert ">Kunden</a>" in page
    assert ">Abmelden</button>" in page
    assert ">Technische Störung</option>" in page  # a category of the new case form
    assert ">Betreff:</label>" in page  # its subject
    assert ">Neu</span>" in page  # CaseStatus.NEW
    # And none of the English headings is left
    for english in ("Identities", "Consent", "Open cases", "Recent interactions", "Journey stage", "Legal holds"):
        assert not any(heading.startswith(english) for heading in headings), english
    for english in (">Customers</a>", ">Sign out</button>", "No interactions yet.", "Add identifier", "New case"):
        assert english not in page


def test_the_customer_360_page_is_english_by_default(client, agent, customer_page):
    # Given an agent whose browser states no language
    client.force_login(agent)
    # When they open a customer
    response = client.get(f"/customers/{customer_page.pk}/")
    # Then the page is in English
    page = response.content.decode()
    assert '<html lang="en-gb">' in page
    assert "Open cases 1 in all" in _headings(page)
    assert ">Sign out</button>" in page
    assert "Offene Vorgänge" not in page


@pytest.mark.parametrize(
    ("contacts", "german", "english"),
    [(1, "über 1 Kontakt;", "over 1 contact;"), (3, "über 3 Kontakte;", "over 3 contacts;")],
)
def test_the_sentiment_trend_counts_its_contacts_in_the_plural_of_each_language(
    client, agent, customer_page, contacts, german, english
):
    # Given a customer whose sentiment trend is over one contact, or several
    Customer.objects.filter(pk=customer_page.pk).update(scores={"sentiment_trend": 0.25, "sentiment_trend_n": contacts})
    client.force_login(agent)
    # When the page is read in German and in English
    in_german = client.get(f"/customers/{customer_page.pk}/", **GERMAN).content.decode()
    in_english = client.get(f"/customers/{customer_page.pk}/").content.decode()
    # Then each says it in its own singular or plural, the figure with its own decimal mark
    assert german in " ".join(in_german.split())
    assert "0,25" in in_german
    assert english in " ".join(in_english.split())
    assert "0.25" in in_english


def test_a_report_speaks_german(client):
    # Given a supervisor with a day of contacts, their browser asking for German
    north = TeamFactory(name="north")
    anna = UserFactory(username="anna", teams=[north])
    contact(team=north, agent=anna, wait=10, talk=120, queue="billing")
    contact_rollup_rebuild(now=T0)
    supervisor = UserFactory(username="sup.north", role="supervisor", teams=[north])
    client.force_login(supervisor)
    # When they show the contacts handled by day
    response = client.get(
        "/insights/reports/",
        {"kpis": ["handled"], "start": "2026-03-02", "end": "2026-03-02", "interval": "day"},
        **GERMAN,
    )
    # Then the report, its form and its KPI are German
    page = response.content.decode()
    assert response.status_code == 200
    headings = _headings(page)
    assert "Berichte" in headings
    assert "Kennzahlen" in headings
    assert "Bearbeitete Kontakte" in headings  # the KPI's column
    assert "So werden diese Zahlen berechnet" in headings
    assert ">Gruppieren nach</label>" in page
    assert ">Anzeigen</button>" in page
    assert "Nur Geschäftszeiten" in page  # the form's label
    # And none of the English headings is left
    for english in ("Reports", "KPIs", "Contacts handled", "How these figures are computed", "Interval"):
        assert english not in headings
    for english in (">Group by</label>", ">Show</button>", "Business hours only", "Export CSV"):
        assert english not in page


@pytest.mark.usefixtures("wallboard_env")
def test_the_wallboard_speaks_german(client, supervisor, team_a):
    # Given a queue of the supervisor's team with a contact waiting, their browser asking for German
    waiting(QueueFactory(name="billing", label="Billing", team=team_a))
    client.force_login(supervisor)
    # When they open the team's wallboard
    response = client.get(f"/insights/wallboard/{team_a.pk}/", **GERMAN)
    # Then its headings are German
    page = response.content.decode()
    assert response.status_code == 200
    headings = _headings(page)
    for german in ("Warteschlange", "Wartend", "Längste Wartezeit", "Servicelevel", "Angenommen", "Abgebrochen"):
        assert german in headings
    for german in ("Verfügbar", "Beschäftigt", "Nachbearbeitung", "Abwesend", "Agenten von Team A (0)"):
        assert german in headings
    assert "Live-Wallboard" in page
    assert ">Vollbild</button>" in page
    assert "15 Min.:" in page
    # And none of the English headings is left
    for english in ("Queue", "Waiting", "Longest wait", "Service level", "Available", "Busy", "Agents of Team A"):
        assert not any(heading.startswith(english) for heading in headings), english
    for english in (">Full screen</button>", "live wallboard", "15 min:"):
        assert english not in page


def test_the_sign_in_page_speaks_german(client):
    # Given a browser asking for German
    # When it opens the sign-in page, and signs in with a wrong password
    page = client.get("/accounts/login/", **GERMAN).content.decode()
    refused = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"}, **GERMAN)
    # Then both are German, the pause in the plural
    assert "Bei CEA anmelden" in _headings(page)
    assert ">Benutzername <input" in page
    assert ">Passwort <input" in page
    assert ">Anmelden</button>" in page
    assert "Sign in to CEA" not in page
    assert "Username" not in page
    error = " ".join(refused.content.decode().split())
    assert "Benutzername und Passwort stimmen nicht überein." in error
    assert re.search(r"wird die Anmeldung für \d+ Minuten pausiert", error)
    assert "did not match" not in error


def test_the_sign_in_page_is_english_by_default(client):
    # Given a browser that states no language
    # When it opens the sign-in page
    page = client.get("/accounts/login/").content.decode()
    # Then it is in English
    assert "Sign in to CEA" in _headings(page)
    assert ">Username <input" in page
    assert "Bei CEA anmelden" not in page
