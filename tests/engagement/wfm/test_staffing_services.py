"""requirements_compute: a planning queue's requirement per interval from its forecast."""

from __future__ import annotations

import datetime as dt

import pytest

from cea.common.days import local_day_bounds
from cea.common.errors import ValidationFailed
from engagement.wfm.staffing.erlang import StaffingInput, erlang_a, required_agents
from engagement.wfm.staffing.models import StaffingRequirement
from engagement.wfm.staffing.selectors import requirement_day_totals, requirements_between
from engagement.wfm.staffing.services import requirements_compute
from tests.engagement.wfm.factories import PlanningQueueFactory, forecast_day

pytestmark = pytest.mark.django_db

MONDAY_9 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_requirements_follow_the_forecast_and_the_queue_settings():
    # given a voice queue (80% in 20 s, occupancy at most 85%, 30% shrinkage) with four forecast intervals
    queue = PlanningQueueFactory(max_occupancy_percent=85, shrinkage_percent=30)
    forecast_day(queue, MONDAY_9, [0, 40, 120, 400])
    # when its requirement is computed for the hour
    written = requirements_compute(planning_queue=queue, start=MONDAY_9, end=MONDAY_9 + dt.timedelta(hours=1))
    # then one row per interval, the agents Erlang C gives, and agents with shrinkage n / 0.7
    assert written == 4
    rows = list(StaffingRequirement.objects.filter(planning_queue=queue).order_by("interval_start"))
    expected = [
        required_agents(StaffingInput(volume=volume, aht_seconds=300, max_occupancy=0.85)).agents
        for volume in (0, 40, 120, 400)
    ]
    assert [row.agents for row in rows] == expected
    assert expected[0] == 0 and expected[1] < expected[2] < expected[3]
    assert [row.agents_with_shrinkage for row in rows] == pytest.approx([n / 0.7 for n in expected])
    assert all(row.service_level >= 0.8 and row.occupancy <= 0.85 for row in rows[1:])
    assert rows[0].service_level is None


def test_a_planners_adjustment_wins_and_a_rerun_updates_in_place():
    # given two intervals, the second adjusted by a planner to 200 contacts of 240 s
    queue = PlanningQueueFactory()
    _first, second = forecast_day(queue, MONDAY_9, [60, 60])
    end = MONDAY_9 + dt.timedelta(minutes=30)
    requirements_compute(planning_queue=queue, start=MONDAY_9, end=end)
    second.volume_adjusted, second.aht_adjusted = 200, 240
    second.save()
    # when computed again
    requirements_compute(planning_queue=queue, start=MONDAY_9, end=end)
    # then still two rows; the second from the adjusted figures
    rows = list(requirements_between(planning_queue=queue, start=MONDAY_9, end=end))
    assert [(row.volume, row.aht_seconds) for row in rows] == [(60, 300), (200, 240)]
    assert rows[1].agents == required_agents(StaffingInput(volume=200, aht_seconds=240, max_occupancy=0.85)).agents


def test_stale_rows_in_the_range_are_deleted_and_others_kept():
    # given requirements for 09:00–09:30 and 10:00, then the 09:15 forecast removed
    queue = PlanningQueueFactory()
    intervals = forecast_day(queue, MONDAY_9, [50, 50, 50, 50, 50])
    requirements_compute(planning_queue=queue, start=MONDAY_9, end=MONDAY_9 + dt.timedelta(hours=2))
    intervals[1].delete()
    # when only 09:00–10:00 is computed again
    written = requirements_compute(planning_queue=queue, start=MONDAY_9, end=MONDAY_9 + dt.timedelta(hours=1))
    # then 09:15 is gone, 10:00 (outside the range) kept
    assert written == 3
    starts = list(
        StaffingRequirement.objects.filter(planning_queue=queue)
        .order_by("interval_start")
        .values_list("interval_start", flat=True)
    )
    assert [start.strftime("%H:%M") for start in starts] == ["09:00", "09:30", "09:45", "10:00"]


def test_erlang_a_and_chat_queues_use_their_models():
    # given an Erlang A voice queue (patience 120 s) and a chat queue at concurrency 2
    voice = PlanningQueueFactory(model="erlang_a", patience_seconds=120, max_occupancy_percent=100)
    chat = PlanningQueueFactory(channel="chat", model="chat", concurrency=2, max_occupancy_percent=100)
    forecast_day(voice, MONDAY_9, [300])
    forecast_day(chat, MONDAY_9, [90], aht=600)
    end = MONDAY_9 + dt.timedelta(minutes=15)
    # when computed
    requirements_compute(planning_queue=voice, start=MONDAY_9, end=end)
    requirements_compute(planning_queue=chat, start=MONDAY_9, end=end)
    # then Erlang A's row carries its abandonment, and meets 80% where one agent fewer would not
    voice_row = StaffingRequirement.objects.get(planning_queue=voice)
    assert voice_row.abandon_rate is not None and 0 < voice_row.abandon_rate < 0.2
    assert voice_row.service_level >= 0.8
    assert erlang_a(300 / 900, 300, 120, voice_row.agents - 1, 20).service_level < 0.8
    # and chat needs half the sessions' agents, rounded up
    sessions = required_agents(StaffingInput(volume=90, aht_seconds=600)).agents
    assert StaffingRequirement.objects.get(planning_queue=chat).agents == -(-sessions // 2)


def test_the_range_must_be_forward():
    queue = PlanningQueueFactory()
    with pytest.raises(ValidationFailed) as refusal:
        requirements_compute(planning_queue=queue, start=MONDAY_9, end=MONDAY_9)
    assert refusal.value.fields == {"end": ["Must be after the start."]}


def test_a_local_day_and_its_totals(settings):
    # given London: the day the clocks go forward has 23 hours
    settings.TIME_ZONE = "Europe/London"
    start, end = local_day_bounds(dt.date(2026, 3, 29))
    assert (end - start) == dt.timedelta(hours=23)
    # and a day's totals: contacts, agent-hours (15-minute intervals), peak
    queue = PlanningQueueFactory(shrinkage_percent=20)
    forecast_day(queue, MONDAY_9, [40, 80])
    requirements_compute(planning_queue=queue, start=MONDAY_9, end=MONDAY_9 + dt.timedelta(minutes=30))
    rows = list(requirements_between(planning_queue=queue, start=MONDAY_9, end=MONDAY_9 + dt.timedelta(hours=1)))
    totals = requirement_day_totals(rows, 15)
    assert totals["volume"] == 120
    assert totals["agent_hours"] == (rows[0].agents + rows[1].agents) / 4
    assert totals["agent_hours_with_shrinkage"] == pytest.approx(totals["agent_hours"] / 0.8)
    assert totals["peak_agents"] == rows[1].agents
