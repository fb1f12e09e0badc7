"""Local days as UTC instants, across the clocks' changes."""

from __future__ import annotations

import datetime as dt

from cea.common.days import local_day_bounds, local_days_bounds, local_midnight
from engagement.wfm.scheduling.coverage import week_bounds


def test_a_local_day_is_23_or_25_hours_when_the_clocks_change(settings):
    settings.TIME_ZONE = "Europe/London"
    # Given the days the clocks go forward and back in London
    spring = local_day_bounds(dt.date(2026, 3, 29))
    autumn = local_day_bounds(dt.date(2026, 10, 25))
    # Then their bounds are UTC instants a real 23 and 25 hours apart
    assert spring[0].tzinfo is dt.UTC and spring[1] - spring[0] == dt.timedelta(hours=23)
    assert autumn[1] - autumn[0] == dt.timedelta(hours=25)
    assert spring[0] == dt.datetime(2026, 3, 29, 0, 0, tzinfo=dt.UTC)  # GMT until 01:00
    assert autumn[0] == dt.datetime(2026, 10, 24, 23, 0, tzinfo=dt.UTC)  # BST midnight


def test_a_week_across_the_change_counts_real_hours(settings):
    settings.TIME_ZONE = "Europe/London"
    # Given the week that starts on Monday 23 March 2026 (the clocks go forward on Sunday 29th)
    start, end = week_bounds(dt.date(2026, 3, 23))
    # Then it is 167 real hours long, and ends at local midnight
    assert end - start == dt.timedelta(hours=167)
    assert (start, end) == local_days_bounds(dt.date(2026, 3, 23), 7)
    assert end == local_midnight(dt.date(2026, 3, 30))
