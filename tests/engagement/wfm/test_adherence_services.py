"""Adherence services: exceptions open after N minutes out and close when the agent is back, the sweep
and a presence change keep them, and each day's figures are rebuilt."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cea.common.days import local_day_bounds
from engagement.routing.models import Presence
from engagement.routing.presence import presence_set
from engagement.wfm.adherence import tasks
from engagement.wfm.adherence.engine import figures, segments
from engagement.wfm.adherence.models import AdherenceDay, AdherenceException
from engagement.wfm.adherence.selectors import timelines
from engagement.wfm.adherence.services import adherence_days_rebuild, adherence_sweep
from tests.engagement.factories import AgentProfileFactory
from tests.engagement.wfm.adherence_support import presence_history, published_shift

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_defaults")]

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 3, 3)  # a Tuesday (GMT)


def local(hour: int, minute: int = 0, *, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


@pytest.fixture
def ann(team_a):
    return AgentProfileFactory(username="ann", teams=[team_a])


@pytest.fixture
def day_shift(ann, team_a):
    """Ann's shift 9:00–17:00: work to 12, lunch to 13, work to 17."""
    return published_shift(
        ann, team=team_a, starts_at=local(9), activities=[("work", 180), ("lunch", 60), ("work", 240)]
    )


def test_an_agent_out_longer_than_the_threshold_gets_one_exception(settings, ann, day_shift):
    # Given: Ann logged in at 9:00 and went offline at 10:00
    settings.CEA_ADHERENCE_EXCEPTION_MINUTES = 5
    presence_history(ann, [("available", "", local(9)), ("offline", "", local(10))])
    # When: the sweep runs at 10:03 — out for 3 minutes
    early = adherence_sweep(now=local(10, 3))
    # Then: nothing yet
    assert early == {"agents": 1, "opened": 0, "closed": 0}
    assert not AdherenceException.objects.exists()
    # When: it runs at 10:06 and again at 10:07
    adherence_sweep(now=local(10, 6))
    again = adherence_sweep(now=local(10, 7))
    # Then: one exception, open, from 10:00, for work while offline
    exception = AdherenceException.objects.get()
    assert (exception.scheduled, exception.actual, exception.started_at, exception.ended_at) == (
        "work",
        "offline",
        local(10),
        None,
    )
    assert exception.shift_id == day_shift.pk
    assert again["opened"] == 0


def test_the_exception_closes_when_the_agent_is_back_at_the_time_they_came_back(ann, day_shift):
    # Given: an open exception from 10:00
    presence_history(ann, [("available", "", local(9)), ("offline", "", local(10))])
    adherence_sweep(now=local(10, 10))
    # When: Ann is back at 10:20 and the sweep runs at 10:21
    presence_history(ann, [("available", "", local(9)), ("offline", "", local(10)), ("available", "", local(10, 20))])
    result = adherence_sweep(now=local(10, 21))
    # Then
    assert result["closed"] == 1
    assert AdherenceException.objects.get().ended_at == local(10, 20)


def test_an_exception_stays_one_across_a_change_of_scheduled_activity(ann, day_shift):
    # Given: offline from 11:50, through the start of lunch
    presence_history(ann, [("available", "", local(9)), ("offline", "", local(11, 50))])
    # When
    adherence_sweep(now=local(11, 58))
    adherence_sweep(now=local(12, 10))
    # Then: still the one exception from 11:50
    assert list(AdherenceException.objects.values_list("started_at", "ended_at")) == [(local(11, 50), None)]


def test_the_end_of_the_shift_closes_an_exception(ann, day_shift):
    presence_history(ann, [("available", "", local(9)), ("offline", "", local(16, 30))])
    adherence_sweep(now=local(16, 40))
    adherence_sweep(now=local(17, 10))
    assert AdherenceException.objects.get().ended_at == local(17)


def test_an_agent_without_a_published_shift_is_not_swept(ann, team_a):
    # Given: a draft shift only, and Ann offline all along
    published_shift(ann, team=team_a, starts_at=local(9), activities=[("work", 480)], status="draft")
    presence_history(ann, [("offline", "", local(8))])
    # When
    result = adherence_sweep(now=local(10))
    # Then
    assert result == {"agents": 0, "opened": 0, "closed": 0}


def test_a_presence_change_updates_adherence_at_once(ann, day_shift, eager_tasks, django_capture_on_commit_callbacks):
    # Given: Ann on a shift around now, offline for 10 minutes, her exception open
    now = datetime.now(tz=LONDON)
    day_shift.delete()
    published_shift(ann, team=ann.user.teams.first(), starts_at=now - timedelta(hours=1), activities=[("work", 240)])
    presence_history(ann, [("available", "", now - timedelta(hours=1)), ("offline", "", now - timedelta(minutes=10))])
    adherence_sweep()
    assert AdherenceException.objects.filter(ended_at__isnull=True).count() == 1
    # When: she becomes available (the hook sends the agent's task on commit; tasks run eagerly)
    with django_capture_on_commit_callbacks(execute=True):
        presence_set(actor=ann.user, agent_user=ann.user, presence=Presence.AVAILABLE)
    # Then: the exception closed when she came back
    exception = AdherenceException.objects.get()
    assert exception.ended_at is not None
    assert exception.ended_at >= now


def test_the_day_rebuild_matches_the_engine_and_is_idempotent(settings, ann, day_shift, team_a, team_b):
    # Given: 20 minutes late, lunch 30 minutes long; Bo on team B, on time all day; Cy not scheduled
    settings.CEA_ADHERENCE_EXCEPTION_MINUTES = 5
    presence_history(
        ann,
        [
            ("offline", "", local(7)),
            ("available", "", local(9, 20)),
            ("away", "lunch", local(12)),
            ("available", "", local(13, 30)),
            ("offline", "", local(17)),
        ],
    )
    bo = AgentProfileFactory(username="bo", teams=[team_b])
    published_shift(bo, team=team_b, starts_at=local(8), activities=[("work", 240)])
    presence_history(bo, [("available", "", local(8)), ("offline", "", local(12))])
    cy = AgentProfileFactory(username="cy", teams=[team_a])
    presence_history(cy, [("available", "", local(9))])
    # When
    written = adherence_days_rebuild(day=DAY, now=local(23))
    written_again = adherence_days_rebuild(day=DAY, now=local(23))
    # Then: one row each for Ann and Bo, and the figures are the engine's over the day
    assert (written, written_again) == (2, 2)
    ann_day = AdherenceDay.objects.get(agent=ann)
    assert (ann_day.team_id, ann_day.scheduled_seconds, ann_day.in_adherence_seconds) == (team_a.pk, 28800, 25800)
    assert (ann_day.scheduled_work_seconds, ann_day.worked_seconds, ann_day.exceptions) == (25200, 22200, 2)
    start, end = local_day_bounds(DAY)
    line = timelines(agent_ids=[ann.pk], start=start, end=end)[ann.pk]
    assert ann_day.adherence == figures(segments(line.scheduled, line.presence, start=start, end=end)).adherence
    bo_day = AdherenceDay.objects.get(agent=bo)
    assert (bo_day.team_id, bo_day.adherence, bo_day.conformance) == (team_b.pk, 1.0, 1.0)
    assert not AdherenceDay.objects.filter(agent=cy).exists()


def test_the_day_rebuild_measures_today_only_up_to_now_and_drops_unscheduled_agents(ann, day_shift):
    # Given: Ann on time; a row of hers exists from an earlier rebuild
    presence_history(ann, [("available", "", local(9))])
    # When: rebuilt at 10:00
    adherence_days_rebuild(day=DAY, now=local(10))
    # Then: one hour measured so far
    assert AdherenceDay.objects.get(agent=ann).scheduled_seconds == 3600
    # When: her shift is deleted and the day rebuilt
    day_shift.delete()
    assert adherence_days_rebuild(day=DAY, now=local(23)) == 0
    # Then
    assert not AdherenceDay.objects.exists()
    # and a day not begun writes nothing
    assert adherence_days_rebuild(day=DAY + timedelta(days=1), now=local(23)) == 0


def test_a_night_shift_counts_on_both_local_days(ann, team_a):
    # Given: a shift 22:00–06:00 across midnight, worked throughout
    published_shift(ann, team=team_a, starts_at=local(22), activities=[("work", 480)])
    presence_history(ann, [("available", "", local(22)), ("offline", "", local(6, day=DAY + timedelta(days=1)))])
    # When
    adherence_days_rebuild(day=DAY, now=local(12, day=DAY + timedelta(days=2)))
    adherence_days_rebuild(day=DAY + timedelta(days=1), now=local(12, day=DAY + timedelta(days=2)))
    # Then
    assert list(AdherenceDay.objects.order_by("day").values_list("day", "scheduled_seconds", "worked_seconds")) == [
        (DAY, 7200, 7200),
        (DAY + timedelta(days=1), 21600, 21600),
    ]


def test_the_rollup_task_rebuilds_yesterday_and_today(ann, team_a):
    # Given: a shift yesterday (local)
    yesterday = timezone.localdate() - timedelta(days=1)
    published_shift(ann, team=team_a, starts_at=local(9, day=yesterday), activities=[("work", 60)])
    presence_history(ann, [("available", "", local(9, day=yesterday))])
    # When
    result = tasks.rollup()
    # Then
    assert result[str(yesterday)] == 1
    assert AdherenceDay.objects.get(agent=ann, day=yesterday).adherence == 1.0


def test_a_local_day_is_23_hours_when_the_clocks_go_forward(settings):
    settings.TIME_ZONE = "Europe/London"
    start, end = local_day_bounds(date(2026, 3, 29))
    assert (end - start) == timedelta(hours=23)
    assert local_day_bounds(date(2026, 10, 25))[1] - local_day_bounds(date(2026, 10, 25))[0] == timedelta(hours=25)


def test_a_shift_without_activities_or_with_gaps_is_work(ann, team_a):
    # Given: a shift 9–13 with only a break 11:00–11:15 recorded (the rest is work), and Ann available throughout
    shift = published_shift(ann, team=team_a, starts_at=local(9), activities=[("work", 240)])
    shift.activities.all().delete()
    shift.activities.create(kind="break", starts_at=local(11), ends_at=local(11, 15))
    presence_history(ann, [("available", "", local(9)), ("offline", "", local(13))])
    # When
    adherence_days_rebuild(day=DAY, now=local(23))
    # Then: 4 h scheduled, 3 h 45 to work; the break not taken is 15 minutes out
    day = AdherenceDay.objects.get(agent=ann)
    assert (day.scheduled_seconds, day.scheduled_work_seconds) == (14400, 13500)
    assert (day.in_adherence_seconds, day.worked_seconds, day.exceptions) == (13500, 14400, 1)


def test_presence_under_a_superseded_schedule_is_not_measured(ann, team_a):
    published_shift(ann, team=team_a, starts_at=local(9), activities=[("work", 60)], status="superseded")
    presence_history(ann, [("offline", "", local(8))])
    assert adherence_days_rebuild(day=DAY, now=local(23)) == 0
    assert adherence_sweep(now=local(9, 30))["agents"] == 0
