"""The adherence engine, pure: segments, adherence and conformance, activity mapping, exceptions, live state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engagement.wfm.adherence.engine import (
    IN,
    NOT_SCHEDULED,
    OFF,
    OUT,
    PresenceSpan,
    Scheduled,
    activity_of,
    figures,
    live_state,
    out_runs,
    segments,
)

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hour: int, minute: int = 0, *, day: int = 0) -> datetime:
    return DAY + timedelta(days=day, hours=hour, minutes=minute)


def shift_9_to_17() -> list[Scheduled]:
    """Work 9–12, lunch 12–13, work 13–15, break 15–15:15, work 15:15–17 (shift 1)."""
    return [
        Scheduled("work", at(9), at(12), 1),
        Scheduled("lunch", at(12), at(13), 1),
        Scheduled("work", at(13), at(15), 1),
        Scheduled("break", at(15), at(15, 15), 1),
        Scheduled("work", at(15, 15), at(17), 1),
    ]


@pytest.mark.parametrize(
    ("presence", "reason", "activity"),
    [
        ("available", "", "work"),
        ("busy", "", "work"),
        ("after_contact", "", "work"),
        ("away", "break", "break"),
        ("away", "lunch", "lunch"),
        ("away", "training", "training"),
        ("away", "meeting", "meeting"),
        ("away", "coaching", "coaching"),
        ("away", "missed_offer", "away"),
        ("offline", "", "off"),
    ],
)
def test_presence_maps_to_the_activity_it_stands_for(presence, reason, activity):
    assert activity_of(presence, reason) == activity


def test_a_perfect_day_is_100_percent_adherent_and_conformant():
    # Given: presence that follows the schedule exactly
    presence = [
        PresenceSpan("available", at(9), at(12)),
        PresenceSpan("away", at(12), at(13), "lunch"),
        PresenceSpan("busy", at(13), at(15)),
        PresenceSpan("away", at(15), at(15, 15), "break"),
        PresenceSpan("after_contact", at(15, 15), at(17)),
        PresenceSpan("offline", at(17), None),
    ]
    # When
    result = figures(segments(shift_9_to_17(), presence, start=at(0), end=at(24)))
    # Then: 8 h scheduled, all in adherence; 6 h 45 scheduled to work, all worked
    assert (result.scheduled_seconds, result.in_adherence_seconds) == (8 * 3600, 8 * 3600)
    assert (result.scheduled_work_seconds, result.worked_seconds) == (6.75 * 3600, 6.75 * 3600)
    assert (result.adherence, result.conformance) == (1.0, 1.0)


def test_late_start_and_long_lunch_lower_adherence_and_conformance():
    # Given: logged in 20 minutes late, lunch 12:00–13:30 (30 minutes long)
    presence = [
        PresenceSpan("offline", at(0), at(9, 20)),
        PresenceSpan("available", at(9, 20), at(12)),
        PresenceSpan("away", at(12), at(13, 30), "lunch"),
        PresenceSpan("available", at(13, 30), at(15)),
        PresenceSpan("away", at(15), at(15, 15), "break"),
        PresenceSpan("available", at(15, 15), at(17)),
    ]
    # When
    pieces = segments(shift_9_to_17(), presence, start=at(0), end=at(17))
    result = figures(pieces)
    # Then: out 20 + 30 minutes of 480
    assert result.scheduled_seconds == 480 * 60
    assert result.in_adherence_seconds == 430 * 60
    assert result.adherence == pytest.approx(430 / 480)
    # worked 405 − 50 minutes of 405 scheduled to work
    assert (result.scheduled_work_seconds, result.worked_seconds) == (405 * 60, 355 * 60)
    # and the two stretches out are the exceptions longer than 5 minutes
    runs = out_runs(pieces, minimum=timedelta(minutes=5))
    assert [(run.start, run.end, run.scheduled, run.actual) for run in runs] == [
        (at(9), at(9, 20), "work", "offline"),
        (at(13), at(13, 30), "work", "away:lunch"),
    ]


def test_no_schedule_is_not_measured():
    # Given: an agent working all day without a shift
    pieces = segments([], [PresenceSpan("available", at(8), at(18))], start=at(0), end=at(24))
    # When
    result = figures(pieces)
    # Then: nothing scheduled, so no percentages, and no exception; the work still counts as worked
    assert (result.adherence, result.conformance) == (None, None)
    assert result.worked_seconds == 10 * 3600
    assert {piece.status for piece in pieces} == {NOT_SCHEDULED}
    assert out_runs(pieces) == []


def test_working_outside_the_shift_raises_conformance_above_100_percent_but_not_adherence():
    # Given: a 2-hour shift of work; the agent works an hour more after it
    scheduled = [Scheduled("work", at(9), at(11), 7)]
    presence = [PresenceSpan("available", at(9), at(12))]
    # When
    result = figures(segments(scheduled, presence, start=at(0), end=at(24)))
    # Then
    assert result.adherence == 1.0
    assert result.conformance == 1.5


def test_a_shift_across_midnight_counts_on_each_day_its_part():
    # Given: a night shift 22:00–06:00 (work, with a break 02:00–02:30), the agent on it throughout
    scheduled = [
        Scheduled("work", at(22), at(2, day=1), 3),
        Scheduled("break", at(2, day=1), at(2, 30, day=1), 3),
        Scheduled("work", at(2, 30, day=1), at(6, day=1), 3),
    ]
    presence = [
        PresenceSpan("available", at(22), at(2, day=1)),
        PresenceSpan("available", at(2, day=1), at(2, 30, day=1)),  # worked through the break
        PresenceSpan("available", at(2, 30, day=1), at(6, day=1)),
    ]
    # When: each day's window is measured apart
    first = figures(segments(scheduled, presence, start=at(0), end=at(0, day=1)))
    second = figures(segments(scheduled, presence, start=at(0, day=1), end=at(0, day=2)))
    # Then: 2 h on the first day, 6 h on the second, where the break was not taken
    assert (first.scheduled_seconds, first.in_adherence_seconds, first.worked_seconds) == (7200, 7200, 7200)
    assert second.scheduled_seconds == 6 * 3600
    assert second.in_adherence_seconds == 5.5 * 3600
    assert (second.scheduled_work_seconds, second.worked_seconds) == (5.5 * 3600, 6 * 3600)


def test_an_open_presence_span_lasts_until_the_window_ends_and_no_further():
    # Given: available since 9:00 and still so; it is 10:30
    scheduled = shift_9_to_17()
    presence = [PresenceSpan("available", at(9), None)]
    # When
    pieces = segments(scheduled, presence, start=at(0), end=at(10, 30))
    # Then: 1.5 h scheduled so far, all in
    assert figures(pieces).scheduled_seconds == 5400
    assert pieces[-1].end == at(10, 30)
    assert (pieces[-1].scheduled, pieces[-1].actual, pieces[-1].status) == ("work", "work", IN)


def test_no_presence_known_is_off():
    pieces = segments([Scheduled("work", at(9), at(10), 1)], [], start=at(0), end=at(24))
    work = [piece for piece in pieces if piece.scheduled == "work"]
    assert [(piece.actual, piece.status) for piece in work] == [(OFF, OUT)]


def test_training_is_worked_when_scheduled_and_an_unscheduled_absence_when_not():
    # Given: training scheduled 10–11; the agent goes to training 10–11 and again 11–11:30 on work time
    scheduled = [
        Scheduled("work", at(9), at(10), 1),
        Scheduled("training", at(10), at(11), 1),
        Scheduled("work", at(11), at(12), 1),
    ]
    presence = [
        PresenceSpan("available", at(9), at(10)),
        PresenceSpan("away", at(10), at(11, 30), "training"),
        PresenceSpan("available", at(11, 30), at(12)),
    ]
    # When
    result = figures(segments(scheduled, presence, start=at(0), end=at(12)))
    # Then: out 30 minutes; worked 2.5 h of 3 scheduled to work (training on work time is not work)
    assert (result.scheduled_seconds, result.in_adherence_seconds) == (3 * 3600, 2.5 * 3600)
    assert (result.scheduled_work_seconds, result.worked_seconds) == (3 * 3600, 2.5 * 3600)


def test_an_unknown_away_reason_matches_nothing_scheduled():
    scheduled = [Scheduled("break", at(10), at(10, 15), 1)]
    presence = [PresenceSpan("away", at(10), at(10, 15), "missed_offer")]
    pieces = segments(scheduled, presence, start=at(10), end=at(10, 15))
    assert [(piece.actual, piece.status) for piece in pieces] == [("away", OUT)]


def test_out_runs_join_across_a_change_of_scheduled_activity_and_drop_short_ones():
    # Given: offline from 11:50 to 13:05 (work, then lunch, then work again) and a 3-minute lapse later
    presence = [
        PresenceSpan("available", at(9), at(11, 50)),
        PresenceSpan("offline", at(11, 50), at(13, 5)),
        PresenceSpan("available", at(13, 5), at(14)),
        PresenceSpan("away", at(14), at(14, 3), "break"),
        PresenceSpan("available", at(14, 3), at(15)),
        PresenceSpan("away", at(15), at(15, 15), "break"),
        PresenceSpan("available", at(15, 15), at(17)),
    ]
    pieces = segments(shift_9_to_17(), presence, start=at(9), end=at(17))
    # When
    runs = out_runs(pieces, minimum=timedelta(minutes=5))
    # Then: one run 11:50–13:05 named by how it began; the 3-minute break is too short
    assert [(run.start, run.end, run.scheduled, run.actual, run.seconds) for run in runs] == [
        (at(11, 50), at(13, 5), "work", "offline", 75 * 60)
    ]
    assert len(out_runs(pieces)) == 2


def test_live_state_says_since_when_the_agent_is_out_through_changes_of_activity():
    # Given: offline since 11:50; at 12:20 the schedule says lunch
    presence = [PresenceSpan("available", at(9), at(11, 50)), PresenceSpan("offline", at(11, 50), None)]
    pieces = segments(shift_9_to_17(), presence, start=at(0), end=at(12, 20))
    # When
    state = live_state(pieces, now=at(12, 20), day_start=at(0))
    # Then
    assert (state.scheduled, state.actual, state.status, state.since, state.shift_id) == (
        "lunch",
        "off",
        OUT,
        at(11, 50),
        1,
    )
    assert state.today.scheduled_seconds == (3 * 60 + 20) * 60
    assert state.today.in_adherence_seconds == (2 * 60 + 50) * 60


def test_live_state_in_adherence_since_the_current_activity_began():
    presence = [PresenceSpan("available", at(8), None)]
    pieces = segments(shift_9_to_17(), presence, start=at(0), end=at(10))
    state = live_state(pieces, now=at(10), day_start=at(0))
    assert (state.scheduled, state.actual, state.status, state.since) == ("work", "work", IN, at(9))


def test_live_state_without_anything_is_not_scheduled():
    state = live_state([], now=at(10), day_start=at(0))
    assert (state.status, state.since, state.today.adherence) == (NOT_SCHEDULED, None, None)


def test_an_empty_or_reversed_window_has_no_segments():
    assert segments(shift_9_to_17(), [], start=at(10), end=at(10)) == []
    assert segments(shift_9_to_17(), [], start=at(11), end=at(10)) == []


def test_durations_across_a_clock_change_are_real_durations():
    # Given: a shift 00:00–04:00 local on the night the clocks go forward in London (01:00 → 02:00),
    # given in local time: three real hours
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    start, end = datetime(2026, 3, 29, 0, tzinfo=london), datetime(2026, 3, 29, 4, tzinfo=london)
    # When
    result = figures(
        segments([Scheduled("work", start, end, 1)], [PresenceSpan("available", start)], start=start, end=end)
    )
    # Then
    assert (result.scheduled_seconds, result.worked_seconds) == (3 * 3600, 3 * 3600)
