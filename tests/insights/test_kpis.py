"""Every contact KPI computed by hand for a small known day, compared exactly with the series.

The contacts, all queued in the interval of T0 (09:00 UTC) in the queue "billing" (Amazon
Connect's formula, 20 s target, 5 s short abandons):

| # | customer | team | agent | kind | wait | talk | ACW | wrap-up | note |
| 1 | c1 (gold) | north | anna | voice in | 10 s (after 60 s self-service) | 300 | 30 | billing_question | repeated |
| 2 | c1 (gold) | north | ben | voice in | 30 s | 200 | 10 | billing_question | transferred once |
| 3 | c2 | south | - | chat in | abandoned after 4 s | | | | a short abandon |
| 4 | c2 | south | - | chat in | contained in self-service | | | | never queued |
| 5 | c2 | north | anna | voice out | | 100 | 0 | sale | outbound: handled, not queued |
"""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.routing.models import Queue
from insights.kpis.rollup import contact_rollup_rebuild
from insights.kpis.selectors import kpi_series
from records.interactions.models import Interaction
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0, contact, routed
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)
ALL_KPIS = [
    "offered",
    "answered",
    "handled",
    "abandoned",
    "short_abandoned",
    "abandonment_rate",
    "asa",
    "service_level",
    "aht",
    "after_contact_time",
    "transfer_rate",
    "fcr",
    "containment",
]


@pytest.fixture
def day():
    north, south = TeamFactory(name="north"), TeamFactory(name="south")
    anna = UserFactory(username="anna", teams=[north])
    ben = UserFactory(username="ben", teams=[north])
    c1 = CustomerFactory(team=north, value_tier="gold")
    c2 = CustomerFactory(team=south)
    billing = Queue.objects.create(name="billing")
    first = contact(
        customer=c1, team=north, agent=anna, wait=10, talk=300, wrap_up_code="billing_question", self_service=60
    )
    routed(first, queue=billing, queued_at=T0, acw=30)
    second_at = T0 + dt.timedelta(minutes=2)
    second = contact(
        customer=c1, team=north, agent=ben, queued_at=second_at, wait=30, talk=200, wrap_up_code="billing_question"
    )
    routed(second, queue=billing, queued_at=second_at, acw=10, transfers=1)
    contact(customer=c2, team=south, channel="chat", wait=4, answered=False)
    contact(customer=c2, team=south, channel="chat", queue="", wait=0, answered=False, contained=True)
    contact(customer=c2, team=north, agent=anna, queue="", direction="outbound", wait=0, talk=100, wrap_up_code="sale")
    contact_rollup_rebuild(now=T0 + HOUR)
    return {"north": north, "south": south, "anna": anna, "ben": ben}


def _figures(user, **arguments):
    series = kpi_series(user=user, kpis=ALL_KPIS, start=T0, end=T0 + HOUR, interval="hour", **arguments)
    return {
        tuple(row.group.values()): {
            name: (value.numerator, value.denominator, value.value) for name, value in row.values.items()
        }
        for row in series.rows
    }


def test_each_kpi_of_the_day_equals_the_hand_computation(day):
    # Given the day above, rolled up / When an admin reads every KPI for the hour
    [figures] = _figures(UserFactory(role="admin")).values()
    # Then each one is exactly what the table gives
    assert figures == {
        "offered": (3, None, 3),
        "answered": (2, None, 2),
        "handled": (3, None, 3),
        "abandoned": (1, None, 1),
        "short_abandoned": (1, None, 1),
        "abandonment_rate": (1, 3, 100 / 3),
        "asa": (40, 2, 20),
        # within 20 s of queueing: #1 answered after 10 s, #3 abandoned after 4 s; of 3 queued
        "service_level": (2, 3, 200 / 3),
        "aht": (640, 3, 640 / 3),  # talk 300 + 200 + 100, ACW 30 + 10
        "after_contact_time": (40, 3, 40 / 3),
        "transfer_rate": (1, 3, 100 / 3),
        "fcr": (2, 3, 200 / 3),  # #1 is repeated by #2 within 7 days
        "containment": (1, 4, 25),
    }


def test_grouped_by_agent_each_agent_has_their_own_figures(day):
    # Given / When grouped by agent
    figures = _figures(UserFactory(role="admin"), group_by=["agent"])
    # Then anna handled #1 and #5, ben #2, and the abandoned and contained contacts have no agent
    assert figures[(day["anna"].pk,)]["aht"] == (300 + 30 + 100, 2, 215)
    assert figures[(day["ben"].pk,)]["aht"] == (210, 1, 210)
    assert figures[(None,)]["handled"] == (0, None, 0)
    assert figures[(None,)]["containment"] == (1, 2, 50)


def test_grouped_by_channel_and_tier(day):
    # Given / When grouped by channel and customer tier
    figures = _figures(UserFactory(role="admin"), group_by=["channel", "customer_tier"])
    # Then the chats are the standard customer's, the gold customer's calls are both answered
    assert set(figures) == {("chat", "standard"), ("voice", "gold"), ("voice", "standard")}
    assert figures[("voice", "gold")]["asa"] == (40, 2, 20)
    assert figures[("chat", "standard")]["abandonment_rate"] == (1, 1, 100)


def test_a_supervisor_sees_their_teams_figures_only(day):
    # Given supervisors of north and of another team
    north_lead = UserFactory(role="supervisor", teams=[day["north"]])
    elsewhere = UserFactory(role="supervisor", teams=[TeamFactory(name="west")])
    # When each reads the hour / Then north's contacts are #1, #2 and #5 only, the other sees nothing
    [north] = _figures(north_lead).values()
    assert north["handled"] == (3, None, 3)
    assert north["offered"] == (2, None, 2)
    assert _figures(elsewhere) == {}


def test_an_agent_sees_only_their_own_figures(day):
    # Given anna / When she reads the hour
    [own] = _figures(day["anna"]).values()
    # Then only the contacts she handled count (#1 and #5)
    assert own["handled"] == (2, None, 2)
    assert own["aht"] == (430, 2, 215)


def test_filters_keep_the_rows_asked_for(day):
    # Given / When filtered to the chat channel
    [chat] = _figures(UserFactory(role="admin"), filters={"channel": ["chat"]}).values()
    # Then only #3 and #4 count
    assert chat["offered"] == (1, None, 1)
    assert chat["containment"] == (1, 2, 50)


def test_the_previous_period_comes_with_the_series_when_asked(day):
    # Given the day / When the hour after is read with its comparison
    series = kpi_series(
        user=UserFactory(role="admin"),
        kpis=["handled"],
        start=T0 + HOUR,
        end=T0 + 2 * HOUR,
        interval="hour",
        compare=True,
    )
    # Then the hour itself has no contacts and the previous one (T0's) has three
    assert series.rows == []
    assert series.previous is not None
    assert (series.previous.start, series.previous.end) == (T0, T0 + HOUR)
    assert [row.values["handled"].value for row in series.previous.rows] == [3]


def test_history_without_routing_counts_from_what_the_interaction_recorded():
    # Given imported interactions (no conversation, no work items, no "contained" in the snapshot):
    # one answered after 25 s and recorded as transferred, one abandoned after 8 s
    answered = contact(queue="North Voice", wait=25, talk=100, disposition="transferred")
    abandoned = contact(queue="North Voice", wait=8, answered=False)
    Interaction.objects.filter(pk__in=[answered.pk, abandoned.pk]).update(context_snapshot={})
    contact_rollup_rebuild(now=T0 + HOUR)
    # When the hour is read
    [figures] = _figures(UserFactory(role="admin")).values()
    # Then both queued (from their start), one abandoned within the default 20 s, one transferred
    assert figures["offered"] == (2, None, 2)
    assert figures["service_level"] == (1, 2, 50)
    assert figures["transfer_rate"] == (1, 1, 100)
    assert figures["containment"] == (0, 2, 0)
