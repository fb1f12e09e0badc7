"""Forecasting's pages: who sees which queue, what the page says about the baselines, its forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from engagement.wfm.forecasting.models import ForecastInterval, ForecastRun, SpecialDay
from engagement.wfm.forecasting.services import forecast_run
from engagement.wfm.forecasting.synthetic import synthetic_history
from tests.engagement.wfm.forecast_support import MONDAY, history_write, planning_queue

pytestmark = pytest.mark.django_db

NOW = MONDAY + timedelta(days=42, hours=10)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def small_queue(team_a):
    queue = planning_queue(queue="support", team=team_a)
    history_write(
        synthetic_history(days=3, per_day=48, peak=6, seed=2), queue="support", start=MONDAY, interval_minutes=30
    )
    forecast_run(planning_queue=queue, days_ahead=2, now=MONDAY + timedelta(days=3, hours=10))
    return queue


def test_the_list_shows_the_supervisors_queues_only(small_queue, team_b, supervisor, supervisor_b):
    planning_queue(queue="sales", team=team_b)
    page = signed_in(supervisor).get("/wfm/forecasts/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "support" in text and "sales" not in text
    assert "Not enough history to backtest" in text  # three days are not enough
    assert "support" not in signed_in(supervisor_b).get("/wfm/forecasts/").content.decode()


def test_agents_are_refused_and_strangers_sent_to_sign_in(small_queue, agent, client):
    assert signed_in(agent).get("/wfm/forecasts/").status_code == 403
    assert signed_in(agent).get(f"/wfm/forecasts/{small_queue.pk}/").status_code == 403
    assert client.get("/wfm/forecasts/").status_code == 302


def test_another_teams_queue_is_refused(small_queue, supervisor_b):
    assert signed_in(supervisor_b).get(f"/wfm/forecasts/{small_queue.pk}/").status_code == 403
    response = signed_in(supervisor_b).post(
        f"/wfm/forecasts/{small_queue.pk}/adjust/",
        {"day": "2026-03-05", "start_time": "12:00", "end_time": "13:00", "volume": "4"},
    )
    assert response.status_code == 403
    assert not ForecastInterval.objects.filter(volume_adjusted__isnull=False).exists()


def test_the_queue_page_has_the_chart_its_table_and_the_forms(small_queue, supervisor):
    page = signed_in(supervisor).get(f"/wfm/forecasts/{small_queue.pk}/?day=2026-03-05")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="forecast-chart"' in text and "<polyline" in text
    assert text.count('<tr><th scope="row">Thu ') == 48  # every half hour of the day in the table
    assert 'data-testid="adjust-form"' in text and 'data-testid="run-now"' in text


def test_an_adjustment_from_the_page(small_queue, supervisor):
    response = signed_in(supervisor).post(
        f"/wfm/forecasts/{small_queue.pk}/adjust/",
        {"day": "2026-03-05", "start_time": "12:00", "end_time": "13:00", "volume_percent": "200", "note": "mailing"},
    )
    assert response.status_code == 303
    adjusted = ForecastInterval.objects.filter(planning_queue=small_queue, volume_adjusted__isnull=False)
    assert adjusted.count() == 2
    assert all(a.volume_adjusted == pytest.approx(2 * a.volume) for a in adjusted)
    page = signed_in(supervisor).get(f"/wfm/forecasts/{small_queue.pk}/?day=2026-03-05").content.decode()
    assert page.count(" *</td>") == 2


def test_a_bad_adjustment_shows_its_field_errors(small_queue, supervisor):
    response = signed_in(supervisor).post(
        f"/wfm/forecasts/{small_queue.pk}/adjust/",
        {"day": "2026-03-05", "start_time": "12:00", "end_time": "13:00"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "volume" in response.content.decode()
    assert not ForecastInterval.objects.filter(volume_adjusted__isnull=False).exists()


def test_special_days_from_the_page(small_queue, supervisor, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = signed_in(supervisor).post(
            f"/wfm/forecasts/{small_queue.pk}/special-days/",
            {"day": "2026-03-06", "name": "Open day", "volume_factor": "1.3", "aht_factor": "1"},
        )
        assert response.status_code == 303
        refused = signed_in(supervisor).post(
            f"/wfm/forecasts/{small_queue.pk}/special-days/",
            {"day": "2026-03-07", "name": "All", "volume_factor": "0", "aht_factor": "1", "every_queue": "on"},
        )
        assert refused.status_code == 403
        assert (
            signed_in(admin_user)
            .post(
                f"/wfm/forecasts/{small_queue.pk}/special-days/",
                {
                    "day": "2026-03-07",
                    "name": "All closed",
                    "volume_factor": "0",
                    "aht_factor": "1",
                    "every_queue": "on",
                },
            )
            .status_code
            == 303
        )
    assert sorted(SpecialDay.objects.values_list("name", "planning_queue_id")) == [
        ("All closed", None),
        ("Open day", small_queue.pk),
    ]
    every = SpecialDay.objects.get(name="All closed")
    assert (
        signed_in(supervisor).post(f"/wfm/forecasts/{small_queue.pk}/special-days/{every.pk}/delete/").status_code
        == 403
    )


def test_run_now_from_the_page(small_queue, supervisor, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(supervisor).post(f"/wfm/forecasts/{small_queue.pk}/run/")
    assert response.status_code == 303 and response["Location"].endswith("?queued=1")
    assert ForecastRun.objects.filter(planning_queue=small_queue, kind="manual", status="done").count() == 1


def test_a_forecast_that_does_not_beat_the_baselines_says_so(team_a, supervisor):
    # Given: six weeks of pure noise
    queue = planning_queue(queue="noise", team=team_a)
    history = synthetic_history(days=42, per_day=48, peak=9, seed=4, shaped=False)
    history_write(history, queue="noise", start=MONDAY, interval_minutes=30)
    run = forecast_run(planning_queue=queue, days_ahead=1, now=NOW)
    assert run.beats_baselines is False
    # When / Then: both pages say it plainly
    text = signed_in(supervisor).get(f"/wfm/forecasts/{queue.pk}/").content.decode()
    assert "this forecast does not beat the baselines" in text
    assert "this forecast does not beat the baselines" in signed_in(supervisor).get("/wfm/forecasts/").content.decode()


def test_a_forecast_that_beats_the_baselines_says_where(team_a, supervisor):
    # Given: six weeks with daily and weekly shapes and busy and quiet days that come in runs
    queue = planning_queue(queue="shaped", team=team_a)
    history = synthetic_history(days=42, per_day=48, peak=25, seed=3, day_level_sd=0.15)
    history_write(history, queue="shaped", start=MONDAY, interval_minutes=30)
    run = forecast_run(planning_queue=queue, days_ahead=1, now=NOW)
    # Then
    assert run.beats_baselines is True, run.methods
    text = signed_in(supervisor).get(f"/wfm/forecasts/{queue.pk}/").content.decode()
    assert "Yes, at: 1 interval ahead" in text
