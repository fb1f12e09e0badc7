"""Engagement metrics: the figures against the facts worked out by hand, the scope by role and team,
the filters, bad queries, the page and its CSV exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from insights.journeys.assignment import stages_rebuild
from insights.metrics.selectors import engagement_metrics
from records.customers.models import Customer
from records.journey.models import JourneyEvent
from tests.accounts.factories import UserFactory
from tests.insights.journey_support import ensure_default_stages
from tests.records.factories import CustomerFactory, InteractionFactory
from tests.support import assert_error, session_client, token_client

UTC = dt.UTC


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def customer(team, created: str, persona: str = "") -> Customer:
    person = CustomerFactory(team=team, persona=persona)
    Customer.objects.filter(pk=person.pk).update(created_at=at(created))
    return person


def contact(person: Customer, day: str, channel: str = "chat", hour: int = 12) -> None:
    InteractionFactory(
        customer=person, channel=channel, started_at=at(day, hour), ended_at=at(day, hour) + dt.timedelta(minutes=5)
    )


def order(person: Customer, day: str, amount) -> None:
    JourneyEvent.objects.create(
        customer=person,
        occurred_at=at(day),
        source_system="shop",
        kind="order.placed",
        summary="Order",
        payload={"amount": amount},
    )


@pytest.fixture
def facts(team_a, team_b):
    """Five customers of team A and one of team B, January to March 2026 (docs/journeys.md's rules):

    A: customer since 15 Dec, chats 10 Jan, calls 5 Mar (persona saver), orders 120.50 on 10 Feb
    B: customer since 20 Jan, chats 25 Jan (saver)
    C: customer since 3 Feb, no contact
    D: customer since 1 Sep 2025, last contact 1 Oct 2025 (digital), orders 30 on 12 Feb
    E: customer since 1 Oct 2025, chats 15 Nov 2025: lapses 13 Feb 2026 (15 Nov + 90 days)
    F (team B): customer since 1 Jan, chats 2 Jan
    """
    a = customer(team_a, "2025-12-15", "saver")
    contact(a, "2026-01-10")
    contact(a, "2026-03-05", "voice")
    order(a, "2026-02-10", 120.5)
    b = customer(team_a, "2026-01-20", "saver")
    contact(b, "2026-01-25")
    customer(team_a, "2026-02-03")
    d = customer(team_a, "2025-09-01", "digital")
    contact(d, "2025-10-01")
    order(d, "2026-02-12", 30)
    order(d, "2026-02-13", "thirty")  # not a number: not revenue
    order(d, "2026-04-02", 1000)  # after the range
    e = customer(team_a, "2025-10-01")
    contact(e, "2025-11-15")
    f = customer(team_b, "2026-01-01")
    contact(f, "2026-01-02")
    return {"a": a, "b": b, "f": f}


def rates(figures) -> list[tuple[int, int]]:
    return [(rate.part, rate.whole) for rate in figures]


def test_the_figures_are_those_worked_out_by_hand(facts, team_a):
    # Given the facts above (team A)
    # When the metrics of January to March 2026 are read
    metrics = engagement_metrics(team_ids=frozenset({team_a.pk}), first=dt.date(2026, 1, 1), last=dt.date(2026, 3, 31))

    # Then each month has its engaged of the customers by its end, its lapsed of those active at its start
    assert [m.month for m in metrics.months] == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    assert rates(m.engagement for m in metrics.months) == [(2, 4), (0, 5), (1, 5)]
    # Active at 1 Jan: A (joined 15 Dec), E (15 Nov); 1 Feb: A, B, E; 1 Mar: A, B, C. E lapses 13 Feb.
    assert rates(m.churn for m in metrics.months) == [(0, 2), (1, 3), (0, 3)]
    # And by persona and channel over the range
    assert [(g.key, g.engagement.part, g.engagement.whole) for g in metrics.by_persona] == [
        ("", 0, 2),
        ("digital", 0, 1),
        ("saver", 2, 2),
    ]
    assert [(g.key, g.engagement.part, g.engagement.whole) for g in metrics.by_channel] == [
        ("chat", 2, 5),
        ("voice", 1, 5),
    ]
    # And the cohorts of January (B) and February (C): retention month by month, none lapsed by 1 April
    assert [(c.month, c.size, c.retained, c.lapsed) for c in metrics.cohorts] == [
        (dt.date(2026, 1, 1), 1, [1, 0, 0], 0),
        (dt.date(2026, 2, 1), 1, [0, 0], 0),
    ]
    assert metrics.cohorts[0].retention == [1.0, 0.0, 0.0]
    # And the lifetime value: 150.50 over 8 active customer-months, churn 1/8, so 8 months' worth
    value = metrics.lifetime_value
    assert value.revenue == Decimal("150.5")
    assert value.active_customer_months == 8
    assert value.monthly_churn == pytest.approx(1 / 8)
    assert value.monthly_value == pytest.approx(150.5 / 8)
    assert value.estimate == pytest.approx(150.5)
    assert value.reason == ""


def test_filters_by_persona_and_channel(facts, team_a):
    # Given the facts above
    team = frozenset({team_a.pk})
    first, last = dt.date(2026, 1, 1), dt.date(2026, 3, 1)

    # When only savers, only voice contacts, or only customers without a persona are counted
    savers = engagement_metrics(team_ids=team, first=first, last=last, persona="saver")
    voice = engagement_metrics(team_ids=team, first=first, last=last, channel="voice")
    nobody = engagement_metrics(team_ids=team, first=first, last=last, persona="")

    # Then each counts its own
    assert rates(m.engagement for m in savers.months) == [(2, 2), (0, 2), (1, 2)]
    assert rates(m.engagement for m in voice.months) == [(0, 4), (0, 5), (1, 5)]
    assert rates(m.engagement for m in nobody.months) == [(0, 1), (0, 2), (0, 2)]


def test_months_are_local_calendar_months(settings, team_a):
    # Given a contact at 23:30 UTC on 31 January, which is 1 February in Paris
    settings.TIME_ZONE = "Europe/Paris"
    person = customer(team_a, "2025-12-01")
    contact(person, "2026-01-31", hour=23)

    # When the metrics are read in Paris time
    metrics = engagement_metrics(team_ids=frozenset({team_a.pk}), first=dt.date(2026, 1, 1), last=dt.date(2026, 2, 1))

    # Then the contact counts in February
    assert rates(m.engagement for m in metrics.months) == [(0, 1), (1, 1)]


def test_no_revenue_means_no_lifetime_value_and_says_why(team_a):
    # Given a customer who lapses in February and no order
    person = customer(team_a, "2025-10-01")
    contact(person, "2025-11-15")

    # When the metrics are read
    value = engagement_metrics(team_ids=None, first=dt.date(2026, 1, 1), last=dt.date(2026, 3, 1)).lifetime_value

    # Then there is no estimate, and the reason is given
    assert value.estimate is None
    assert value.reason.startswith("No revenue recorded")


API = "/api/v1/insights/metrics/engagement/?first=2026-01&last=2026-03"


def test_supervisors_read_their_teams_customers_admins_and_clients_all(facts, supervisor, admin_user, integration_user):
    # Given a supervisor of team A, an admin and an integration client's token with insights:read
    # When each asks for the metrics
    mine = session_client(supervisor).get(API)
    everyone = session_client(admin_user).get(API)
    client = token_client(integration_user, scopes=["insights:read"]).get(API)

    # Then the supervisor counts team A's customers only, the admin and the client team B's too
    assert mine.status_code == 200, mine.content
    assert mine.json()["months"][0]["engagement"] == {"part": 2, "whole": 4, "value": 0.5}
    assert everyone.json()["months"][0]["engagement"] == {"part": 3, "whole": 5, "value": 0.6}
    assert client.json()["months"][0]["engagement"] == everyone.json()["months"][0]["engagement"]
    assert mine.json()["cohorts"][0] == {
        "month": "2026-01",
        "size": 1,
        "retained": [1, 0, 0],
        "retention": [1.0, 0.0, 0.0],
        "churn": {"part": 0, "whole": 1, "value": 0.0},
    }


def test_agents_and_tokens_without_the_scope_are_refused(facts, agent, integration_user):
    # Given an agent and a token without insights:read
    # When they ask
    # Then both are refused
    assert_error(session_client(agent).get(API), 403, "forbidden")
    assert_error(token_client(integration_user, scopes=["interactions:read"]).get(API), 403)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("first=2026-13", "first"),
        ("first=January", "first"),
        ("first=2026-03&last=2026-01", "last"),
        ("first=2020-01&last=2026-01", "first"),
        ("channel=pigeon", "channel"),
    ],
)
def test_a_bad_query_is_refused_with_the_field_named(db, admin_user, query, field):
    # Given an admin
    # When the query is not valid
    response = session_client(admin_user).get(f"/api/v1/insights/metrics/engagement/?{query}")

    # Then it is a 400 naming the field
    error = assert_error(response, 400)
    assert field in error["fields"]


def test_the_page_shows_the_tables_and_exports_them(facts, supervisor, client):
    # Given a supervisor signed in
    client.force_login(supervisor)

    # When they open the page and export its months and cohorts
    page = client.get("/insights/metrics/?first=2026-01&last=2026-03")
    months = client.get("/insights/metrics/engagement.csv?first=2026-01&last=2026-03&table=months")
    cohorts = client.get("/insights/metrics/engagement.csv?first=2026-01&last=2026-03&table=cohorts")

    # Then the page holds the tables (the charts' twins) and the personas to pick
    assert page.status_code == 200
    html = page.content.decode()
    for testid in ("metrics-months", "metrics-cohorts", "metrics-personas", "metrics-channels", "metrics-clv"):
        assert f'data-testid="{testid}"' in html
    assert '<option value="saver"' in html
    # And the exports are the same figures
    rows = list(csv.reader(io.StringIO(months.content.decode())))
    assert rows[0] == ["month", "customers", "engaged", "engagement rate", "active at start", "lapsed", "churn rate"]
    assert rows[1:] == [
        ["2026-01", "4", "2", "0.5", "2", "0", "0.0"],
        ["2026-02", "5", "0", "0.0", "3", "1", "0.3333333333333333"],
        ["2026-03", "5", "1", "0.2", "3", "0", "0.0"],
    ]
    assert months["Content-Disposition"] == 'attachment; filename="engagement-months-2026-01-to-2026-03.csv"'
    assert list(csv.reader(io.StringIO(cohorts.content.decode())))[1] == [
        "2026-01",
        "1",
        "0",
        "0.0",
        "1.0",
        "0.0",
        "0.0",
    ]


def test_the_page_refuses_agents_and_explains_a_bad_selection(facts, agent, supervisor, client):
    # Given an agent, then a supervisor
    client.force_login(agent)
    refused = client.get("/insights/metrics/")
    client.force_login(supervisor)

    # When the supervisor asks for a month that does not exist, or an unknown table
    bad = client.get("/insights/metrics/?first=2026-13")
    unknown = client.get("/insights/metrics/engagement.csv?table=everything")

    # Then the agent is refused, the page says what is wrong, and the export is a 400
    assert refused.status_code == 403
    assert bad.status_code == 200 and "as YYYY-MM" in bad.content.decode()
    assert unknown.status_code == 400


def test_stages_give_conversion_drop_off_and_say_surveys_are_missing(facts, team_a, settings):
    # Given A asks for a quote on 5 Jan and orders on 10 Feb, B asks for a quote on 26 Jan, D orders
    # on 12 Feb (and 2 Apr): stages assigned from those events, lapsing 90 days after the last
    settings.CEA_JOURNEY_STAGE_LAG_SECONDS = 0
    ensure_default_stages()
    for person, day in ((facts["a"], "2026-01-05"), (facts["b"], "2026-01-26")):
        JourneyEvent.objects.create(
            customer=person, occurred_at=at(day), source_system="shop", kind="quote.requested", summary="Quote"
        )
    stages_rebuild()

    # When the metrics are read for team A
    metrics = engagement_metrics(team_ids=frozenset({team_a.pk}), first=dt.date(2026, 1, 1), last=dt.date(2026, 3, 1))

    # Then consideration: 2 entered, A moved on to purchase, B lapsed; purchase: A and D, both lapsed
    stages = {stage.key: stage for stage in metrics.stages}
    assert (stages["consideration"].entered, stages["consideration"].moved_forward) == (2, 1)
    assert (stages["consideration"].conversion, stages["consideration"].drop_off) == (0.5, 0.5)
    assert (stages["purchase"].entered, stages["purchase"].conversion, stages["purchase"].drop_off) == (2, 0.0, 1.0)
    assert stages["lapsed"].current == 3
    # And satisfaction and effort wait for surveys
    assert metrics.surveys is False
    row = session_client_stage_row(team_a, "consideration")
    assert row == {"key": "consideration", "entered": 2, "conversion": 0.5, "satisfaction": None, "effort": None}


def session_client_stage_row(team, key: str) -> dict:
    admin = UserFactory(username="metrics.admin", role="admin")
    body = session_client(admin).get(API).json()
    stage = next(stage for stage in body["stages"] if stage["key"] == key)
    return {name: stage[name] for name in ("key", "entered", "conversion", "satisfaction", "effort")}
