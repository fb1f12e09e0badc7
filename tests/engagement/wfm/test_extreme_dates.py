"""Dates at the ends of the calendar are a clear 400 (or the page's own fallback), never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

EXTREMES = ["9999-12-31", "0001-01-01"]
# (URL name, query parameter): every WFM read that takes a day or a week from the caller.
READS = [
    ("engagement-api:wfm-my-schedule", "week"),
    ("engagement-api:wfm-adherence-days", "start"),
    ("engagement-api:wfm-adherence-days", "end"),
    ("engagement-api:wfm-schedules", "week_start"),
    ("engagement:wfm-my-schedule", "week"),
    ("engagement:wfm-requests", "week"),
    ("engagement:wfm-schedules", "week"),
    ("engagement:wfm-adherence", "day"),
]


@pytest.mark.parametrize("raw", EXTREMES)
@pytest.mark.parametrize(("name", "param"), READS)
def test_an_extreme_date_is_refused_or_ignored_not_a_server_error(client, admin_user, agent, name, param, raw):
    # Given a signed-in administrator (who may read every WFM page) or, for one's own week, an agent
    client.force_login(agent if "my-schedule" in name else admin_user)
    # When a date at the end of the calendar is asked for
    response = client.get(reverse(name), {param: raw})
    # Then it is refused with a message, or the page falls back to today: never a server error
    assert response.status_code in (200, 400), (name, param, raw, response.status_code)


@pytest.mark.parametrize("raw", EXTREMES)
def test_an_extreme_day_on_a_forecast_or_staffing_page_is_not_a_server_error(client, admin_user, raw):
    from tests.engagement.wfm.factories import PlanningQueueFactory

    queue = PlanningQueueFactory()
    client.force_login(admin_user)
    for name in ("engagement:wfm-forecast", "engagement:wfm-staffing-requirements"):
        response = client.get(reverse(name, args=[queue.pk]), {"day": raw})
        assert response.status_code in (200, 400), (name, raw, response.status_code)
    api = reverse("engagement-api:wfm-staffing-requirements", args=[queue.pk])
    assert client.get(api, {"day": raw}).status_code in (200, 400)
