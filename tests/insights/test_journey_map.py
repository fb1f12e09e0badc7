"""The journey map: figures against a plain Python computation, access by role and team, the API, history."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import Counter

import pytest
from django.utils import timezone

from insights.journeys.assignment import stages_refresh
from insights.journeys.models import StageVisit
from records.customers.models import Customer
from records.journey.services import journey_record
from tests.accounts.factories import TeamFactory, UserFactory
from tests.records.factories import CustomerFactory, InteractionFactory
from tests.support import session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_stages")]

T0 = timezone.now() - dt.timedelta(days=20)
URL = "/api/v1/insights/journeys/"


@pytest.fixture(autouse=True)
def no_lag(settings):
    settings.CEA_JOURNEY_STAGE_LAG_SECONDS = 0


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


STORIES = {
    # persona: list of customers' event lists (kind, hour)
    "digital-native": [
        [("customer.created", 0), ("order.placed", 5), ("case.created", 9), ("case.resolved", 20)],
        [("customer.created", 1), ("order.placed", 3)],
        [("customer.created", 2), ("case.created", 4), ("customer.created", 8)],
    ],
    "": [[("customer.created", 0), ("order.placed", 50)]],
}


@pytest.fixture
def journeys():
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    customers = []
    for persona, stories in STORIES.items():
        for story in stories:
            customer = CustomerFactory(team=north, persona=persona)
            for kind, hours in story:
                journey_record(customer=customer, kind=kind, summary=kind, occurred_at=at(hours))
            customers.append(customer)
    first = customers[0]
    Customer.objects.filter(pk=first.pk).update(scores={"sentiment": 0.4})
    Customer.objects.filter(pk=customers[1].pk).update(scores={"sentiment": "high"})
    InteractionFactory(customer=first, channel="phone", started_at=at(6), ended_at=at(6.1), sentiment=-0.5)
    InteractionFactory(customer=first, channel="chat", started_at=at(10), ended_at=at(10.1), sentiment=0.5)
    InteractionFactory(customer=first, channel="chat", started_at=at(11), ended_at=at(11.1), sentiment=None)
    south_customer = CustomerFactory(team=south, persona="digital-native")
    journey_record(customer=south_customer, kind="customer.created", summary="x", occurred_at=at(0))
    stages_refresh(now=timezone.now())
    return {"north": north, "south": south, "customers": customers, "south_customer": south_customer}


def expected(customer_ids: set[int]):
    """The figures by plain Python over the stored visits."""
    visits = [
        v for v in StageVisit.objects.order_by("customer_id", "entered_at", "id") if v.customer_id in customer_ids
    ]
    entered = Counter(v.stage_key for v in visits)
    current = Counter(v.stage_key for v in visits if v.left_at is None)
    flows: Counter[tuple[str, str]] = Counter()
    for a, b in itertools.pairwise(visits):
        if a.customer_id == b.customer_id:
            flows[(a.stage_key, b.stage_key)] += 1
    medians = {
        key: statistics.median(
            (v.left_at - v.entered_at).total_seconds() for v in visits if v.stage_key == key and v.left_at
        )
        for key in entered
        if any(v.left_at for v in visits if v.stage_key == key)
    }
    return entered, current, flows, medians


def test_the_map_matches_a_plain_computation(journeys):
    # Given the north supervisor
    supervisor = UserFactory(role="supervisor", teams=[journeys["north"]])
    ids = {c.pk for c in journeys["customers"] if c.persona == "digital-native"}
    # When they read the digital natives' map
    body = session_client(supervisor).get(URL, {"persona": "digital-native"}).json()
    # Then every figure is the plain computation's
    entered, current, flows, medians = expected(ids)
    stages = {s["key"]: s for s in body["stages"]}
    assert {k: s["entered"] for k, s in stages.items() if s["entered"]} == dict(entered)
    assert {k: s["current"] for k, s in stages.items() if s["current"]} == dict(current)
    assert {(f["from_stage"], f["to_stage"]): f["visits"] for f in body["flows"]} == dict(flows)
    assert {k: s["median_seconds_in_stage"] for k, s in stages.items() if s["median_seconds_in_stage"]} == medians
    # awareness → purchase twice and → service once: all forward; service → loyalty forward
    assert (stages["awareness"]["moved_forward"], stages["awareness"]["entered"]) == (3, 4)
    assert stages["service"]["moved_back"] == 1  # the third customer: service → awareness
    assert stages["purchase"]["conversion"] == 0.5
    # And contacts count in the stage they happened in, with sentiment and effectiveness
    purchase_channels = {c["channel"]: c for c in stages["purchase"]["channels"]}
    assert purchase_channels["phone"]["contacts"] == 1
    assert purchase_channels["phone"]["effectiveness"] == 1.0  # purchase → service is forward
    service_channels = {c["channel"]: c for c in stages["service"]["channels"]}
    assert service_channels["chat"]["contacts"] == 2 and service_channels["chat"]["sentiment"] == 0.5
    assert stages["loyalty"]["customer_sentiment_score"] == 0.4  # the first customer's score, there now
    assert stages["purchase"]["customer_sentiment_score"] is None  # the second's is not a number
    assert body["satisfaction_and_effort"] == "no surveys yet"
    assert body["personas"] == [{"persona": "", "customers": 1}, {"persona": "digital-native", "customers": 3}]


def test_no_persona_and_all(journeys):
    admin = session_client(UserFactory(role="admin"))
    none = {s["key"]: s["entered"] for s in admin.get(URL, {"persona": "-"}).json()["stages"]}
    assert (none["awareness"], none["purchase"]) == (1, 1)
    everyone = {s["key"]: s["entered"] for s in admin.get(URL).json()["stages"]}
    assert everyone["awareness"] == 6  # 4 + 1 + the south customer


def test_supervisors_see_their_teams_customers_only_and_agents_none(journeys):
    south = UserFactory(role="supervisor", teams=[journeys["south"]])
    body = session_client(south).get(URL).json()
    assert {s["key"]: s["entered"] for s in body["stages"] if s["entered"]} == {"awareness": 1}
    agent = UserFactory(role="agent", teams=[journeys["north"]])
    assert session_client(agent).get(URL).status_code == 403
    assert session_client(agent).get("/insights/journeys/").status_code == 403


def test_tokens_need_insights_read(journeys):
    client_user = UserFactory(role="integration")
    assert token_client(client_user, scopes=["insights:read"]).get(URL).status_code == 200
    assert token_client(client_user, scopes=["customers:read"]).get(URL).status_code == 403


def test_the_page_shows_stages_flows_and_no_surveys(journeys):
    supervisor = UserFactory(role="supervisor", teams=[journeys["north"]])
    html = session_client(supervisor).get("/insights/journeys/", {"persona": "digital-native"}).content.decode()
    assert html.count('data-testid="journey-stage"') == 8
    assert 'data-testid="journey-flow-chart"' in html and "no surveys yet" in html
    assert html.count('data-testid="journey-flow"') == 5  # distinct moves of the three customers


def test_a_customers_stage_history_is_checked_on_the_customer(journeys):
    first = journeys["customers"][0]
    north_agent = UserFactory(role="agent", teams=[journeys["north"]])
    south_agent = UserFactory(role="agent", teams=[journeys["south"]])
    url = f"{URL}customers/{first.pk}/stages/"
    body = session_client(north_agent).get(url).json()
    assert [v["stage"] for v in body["visits"]] == ["loyalty", "service", "purchase", "awareness"]
    assert body["stage"] == "loyalty"
    assert session_client(south_agent).get(url).status_code == 403
    assert session_client(north_agent).get(f"{URL}customers/999999/stages/").status_code == 404
    fragment = session_client(north_agent).get(f"/insights/journeys/customers/{first.pk}/stages/")
    assert fragment.content.decode().count('data-testid="customer-stage-visit"') == 4
    assert session_client(south_agent).get(f"/insights/journeys/customers/{first.pk}/stages/").status_code == 403


def test_a_bad_persona_parameter_is_a_400(journeys):
    admin = session_client(UserFactory(role="admin"))
    assert admin.get(URL, {"persona": "x" * 51}).status_code == 400
