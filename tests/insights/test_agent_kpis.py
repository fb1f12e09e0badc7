"""Occupancy, utilisation and conversations per agent-hour, by hand, with two chats at once.

Anna (north) is available 09:00–09:45 and away 09:45–10:00. She answers chat A at 09:05 (ends
09:20, wrapped up 09:22) and chat B at 09:10 (ends and wrapped up 09:25): she is on contacts
09:05–09:25, 20 minutes of wall clock (the two chats overlap and count once), idle 25 minutes.
- occupancy = 20 ÷ (20 + 25) = 44.4 %; utilisation = 20 ÷ 60 logged in = 33.3 %;
- conversations per agent-hour = 2 answered ÷ 1 hour logged in = 2.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cea.common.errors import ValidationFailed
from engagement.routing.models import PresenceChange, Queue
from insights.kpis.models import AgentRollup
from insights.kpis.rollup import contact_rollup_rebuild
from insights.kpis.selectors import kpi_series
from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import AgentProfileFactory
from tests.insights.factories import T0, contact, routed

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
AGENT_KPIS = ["occupancy", "utilisation", "conversations_per_agent_hour"]


@pytest.fixture
def anna():
    north = TeamFactory(name="north")
    user = UserFactory(username="anna", teams=[north])
    profile = AgentProfileFactory(user=user)
    PresenceChange.objects.create(agent=profile, presence="available", started_at=T0, ended_at=T0 + 45 * MINUTE)
    PresenceChange.objects.create(agent=profile, presence="away", started_at=T0 + 45 * MINUTE, ended_at=T0 + HOUR)
    PresenceChange.objects.create(agent=profile, presence="offline", started_at=T0 + HOUR)
    queue = Queue.objects.create(name="chat")
    chat_a = contact(
        queue="chat",
        channel="chat",
        agent=user,
        team=north,
        queued_at=T0 + 5 * MINUTE - 10 * dt.timedelta(seconds=1),
        wait=10,
        talk=15 * 60,
    )
    routed(chat_a, queue=queue, queued_at=chat_a.started_at, acw=120)
    chat_b = contact(
        queue="chat",
        channel="chat",
        agent=user,
        team=north,
        queued_at=T0 + 10 * MINUTE - 10 * dt.timedelta(seconds=1),
        wait=10,
        talk=15 * 60,
    )
    routed(chat_b, queue=queue, queued_at=chat_b.started_at, acw=0)
    contact_rollup_rebuild(now=T0 + 2 * HOUR)
    return user


def test_the_agents_quarter_hours_are_as_computed_by_hand(anna):
    # Given / When the agent rollup is read
    rows = list(
        AgentRollup.objects.filter(agent_id=anna.pk, interval_start__lt=T0 + HOUR)
        .order_by("interval_start")
        .values_list(
            "logged_in_seconds", "available_seconds", "on_contact_seconds", "idle_seconds", "away_seconds", "handled"
        )
    )
    # Then each quarter hour holds its share
    assert rows == [
        (900, 900, 600, 300, 0, 2),
        (900, 900, 600, 300, 0, 0),
        (900, 900, 0, 900, 0, 0),
        (900, 0, 0, 0, 900, 0),
    ]


def test_occupancy_utilisation_and_conversations_per_agent_hour(anna):
    # Given / When the hour is read by agent
    series = kpi_series(
        user=UserFactory(role="admin"), kpis=AGENT_KPIS, start=T0, end=T0 + HOUR, interval="hour", group_by=["agent"]
    )
    # Then the figures are the hand computation's, exactly
    [row] = series.rows
    assert row.group == {"agent": anna.pk}
    occupancy, utilisation, rate = (row.values[name] for name in AGENT_KPIS)
    assert (occupancy.numerator, occupancy.denominator, occupancy.value) == (1200, 2700, 1200 * 100 / 2700)
    assert (utilisation.numerator, utilisation.denominator, utilisation.value) == (1200, 3600, 1200 * 100 / 3600)
    assert (rate.numerator, rate.denominator, rate.value) == (2, 3600, 2.0)


def test_an_agent_sees_their_own_time_and_another_agent_sees_none(anna):
    # Given anna and another agent / When each reads the hour
    own = kpi_series(user=anna, kpis=["occupancy"], start=T0, end=T0 + HOUR, interval="hour")
    other = kpi_series(user=UserFactory(), kpis=["occupancy"], start=T0, end=T0 + HOUR, interval="hour")
    # Then anna has her figure, the other agent nothing
    assert [row.values["occupancy"].numerator for row in own.rows] == [1200]
    assert other.rows == []


def test_agent_kpis_refuse_contact_only_groupings(anna):
    # Given / When occupancy is asked by queue / Then the request is refused with the reason
    with pytest.raises(ValidationFailed) as refused:
        kpi_series(user=anna, kpis=["occupancy"], start=T0, end=T0 + HOUR, group_by=["queue"])
    assert "team and agent only" in str(refused.value.fields["group_by"])


def test_without_presence_occupancy_and_utilisation_have_no_figure():
    # Given carl, who answered a 5-minute call at T0 but has no presence recorded (never logged in)
    north = TeamFactory(name="north")
    carl = UserFactory(username="carl", teams=[north])
    contact(agent=carl, team=north, wait=0, talk=300)
    contact_rollup_rebuild(now=T0 + 2 * HOUR)
    # When the hour is read
    series = kpi_series(user=UserFactory(role="admin"), kpis=AGENT_KPIS, start=T0, end=T0 + HOUR, interval="hour")
    # Then his contact time is on record, but none of it logged in: each ratio's denominator is 0, no value
    [row] = series.rows
    occupancy, utilisation, rate = (row.values[name] for name in AGENT_KPIS)
    assert (occupancy.numerator, occupancy.denominator, occupancy.value) == (0, 0, None)
    assert (utilisation.numerator, utilisation.denominator, utilisation.value) == (0, 0, None)
    assert (rate.numerator, rate.denominator, rate.value) == (1, 0, None)
    assert AgentRollup.objects.get(agent_id=carl.pk).on_contact_seconds == 300


def test_contact_time_outside_logged_in_time_does_not_count(anna):
    # Given anna's hour, and a 10-minute call she took at 10:30 after she went offline at 10:00
    contact(agent=anna, team=anna.teams.get(), queued_at=T0 + 90 * MINUTE, wait=0, talk=600)
    contact_rollup_rebuild(now=T0 + 2 * HOUR)
    # When her two hours are read
    series = kpi_series(user=anna, kpis=["occupancy", "utilisation"], start=T0, end=T0 + 2 * HOUR, interval="day")
    # Then only the 20 minutes on chats while logged in count
    [row] = series.rows
    assert (row.values["occupancy"].numerator, row.values["occupancy"].denominator) == (1200, 2700)
    assert (row.values["utilisation"].numerator, row.values["utilisation"].denominator) == (1200, 3600)
