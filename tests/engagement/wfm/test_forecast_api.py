"""Forecasting's REST API: reads and changes by role and team, validation, special days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engagement.wfm.forecasting.models import ForecastInterval, ForecastRun, RunKind, SpecialDay
from engagement.wfm.forecasting.services import forecast_run
from engagement.wfm.forecasting.synthetic import synthetic_history
from tests.engagement.wfm.forecast_support import MONDAY, history_write, planning_queue
from tests.support import assert_error, session_client, token_client

pytestmark = pytest.mark.django_db

BASE = "/api/v1/engagement/wfm/"
NOW = MONDAY + timedelta(days=3, hours=10)


@pytest.fixture
def queue_a(team_a):
    queue = planning_queue(queue="support", team=team_a)
    history_write(
        synthetic_history(days=3, per_day=48, peak=6, seed=2), queue="support", start=MONDAY, interval_minutes=30
    )
    forecast_run(planning_queue=queue, days_ahead=2, now=NOW)
    return queue


@pytest.fixture
def queue_b(team_b):
    queue = planning_queue(queue="sales", team=team_b)
    forecast_run(planning_queue=queue, days_ahead=1, now=NOW)
    return queue


def test_readers_list_the_queues_of_their_teams(queue_a, queue_b, supervisor, supervisor_b, admin_user):
    # When / Then
    assert [row["queue"] for row in session_client(supervisor).get(f"{BASE}forecasts/").json()] == ["support"]
    assert [row["queue"] for row in session_client(supervisor_b).get(f"{BASE}forecasts/").json()] == ["sales"]
    rows = session_client(admin_user).get(f"{BASE}forecasts/").json()
    assert sorted(row["queue"] for row in rows) == ["sales", "support"]
    support = next(row for row in rows if row["queue"] == "support")
    assert support["latest_run"]["status"] == "done"
    assert set(support["latest_run"]["methods"]) == {"interval", "day", "week", "two_weeks"}


def test_an_integration_client_reads_with_a_token(queue_a, integration_user):
    client = token_client(integration_user, scopes=["insights:read"])
    assert client.get(f"{BASE}forecasts/{queue_a.pk}/").json()["latest_run"]["planning_queue"] == queue_a.pk
    # but changes nothing, and a token without the scope reads nothing
    assert_error(client.post(f"{BASE}forecasts/{queue_a.pk}/run/"), 403)
    assert token_client(integration_user, scopes=["customers:read"]).get(f"{BASE}forecasts/").status_code == 403


def test_intervals_are_the_model_and_planned_figures(queue_a, supervisor):
    start = NOW.replace(hour=12)
    response = session_client(supervisor).get(
        f"{BASE}forecasts/{queue_a.pk}/intervals/",
        {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
    )
    assert response.status_code == 200
    rows = response.json()
    assert [row["interval_start"] for row in rows] == [
        start.isoformat().replace("+00:00", "Z"),
        (start + timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
    ]
    assert rows[0]["planned_volume"] == rows[0]["volume"] and rows[0]["volume_adjusted"] is None


def test_bad_ranges_are_refused_with_field_messages(queue_a, supervisor):
    response = session_client(supervisor).get(
        f"{BASE}forecasts/{queue_a.pk}/intervals/", {"start": NOW.isoformat(), "end": NOW.isoformat()}
    )
    assert "end" in assert_error(response, 400)["fields"]
    response = session_client(supervisor).get(f"{BASE}forecasts/{queue_a.pk}/intervals/", {"start": "soon"})
    assert {"start", "end"} <= set(assert_error(response, 400)["fields"])


def test_a_supervisor_adjusts_their_teams_forecast(queue_a, supervisor):
    start = NOW.replace(hour=14)
    body = {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat(), "volume": 12, "note": "TV ad"}
    response = session_client(supervisor).post(f"{BASE}forecasts/{queue_a.pk}/adjustments/", body, format="json")
    assert response.status_code == 200 and response.json() == {"changed": 2}
    adjusted = ForecastInterval.objects.filter(planning_queue=queue_a, volume_adjusted=12)
    assert adjusted.count() == 2 and {a.adjusted_by_id for a in adjusted} == {supervisor.pk}


def test_a_bad_adjustment_is_refused_and_writes_nothing(queue_a, supervisor):
    start = NOW.replace(hour=14)
    body = {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat(), "volume": -3}
    response = session_client(supervisor).post(f"{BASE}forecasts/{queue_a.pk}/adjustments/", body, format="json")
    assert "volume" in assert_error(response, 400)["fields"]
    body = {
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "volume": 3,
        "volume_percent": 5,
    }
    response = session_client(supervisor).post(f"{BASE}forecasts/{queue_a.pk}/adjustments/", body, format="json")
    assert "volume_percent" in assert_error(response, 400)["fields"]
    assert not ForecastInterval.objects.filter(volume_adjusted__isnull=False).exists()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "forecasts/{a}/", None),
        ("get", "forecasts/{a}/intervals/?start=2026-03-05T00:00Z&end=2026-03-06T00:00Z", None),
        ("post", "forecasts/{a}/adjustments/", {"start": "2026-03-05T14:00Z", "end": "2026-03-05T15:00Z", "volume": 1}),
        ("post", "forecasts/{a}/run/", None),
    ],
)
def test_another_teams_supervisor_and_agents_are_refused(queue_a, supervisor_b, agent, method, path, body):
    url = BASE + path.format(a=queue_a.pk)
    for user in (supervisor_b, agent):
        response = getattr(session_client(user), method)(url, body, format="json")
        assert_error(response, 403)
    assert not ForecastInterval.objects.filter(volume_adjusted__isnull=False).exists()


def test_unknown_queues_are_not_found(supervisor):
    assert_error(session_client(supervisor).get(f"{BASE}forecasts/999999/"), 404)


def test_agents_list_nothing(agent):
    assert_error(session_client(agent).get(f"{BASE}forecasts/"), 403)


def test_run_now_queues_a_manual_run(queue_a, supervisor, eager_tasks, django_capture_on_commit_callbacks):
    before = ForecastRun.objects.filter(planning_queue=queue_a).count()
    with django_capture_on_commit_callbacks(execute=True):
        response = session_client(supervisor).post(f"{BASE}forecasts/{queue_a.pk}/run/")
    assert response.status_code == 202
    latest = ForecastRun.objects.filter(planning_queue=queue_a).first()
    assert ForecastRun.objects.filter(planning_queue=queue_a).count() == before + 1
    assert (latest.kind, latest.requested_by_id, latest.status) == (RunKind.MANUAL, supervisor.pk, "done")


# --- Special days -------------------------------------------------------------------------------------


def test_a_supervisor_sets_their_queues_special_days_but_not_every_queues(queue_a, queue_b, supervisor):
    client = session_client(supervisor)
    body = {"planning_queue": queue_a.pk, "day": "2026-03-10", "name": "Promo", "volume_factor": 1.5}
    created = client.post(f"{BASE}special-days/", body, format="json")
    assert created.status_code == 201 and created.json()["volume_factor"] == 1.5
    assert_error(client.post(f"{BASE}special-days/", {**body, "planning_queue": None}, format="json"), 403)
    assert_error(client.post(f"{BASE}special-days/", {**body, "planning_queue": queue_b.pk}, format="json"), 403)
    assert_error(client.post(f"{BASE}special-days/", body, format="json"), 400)  # the same day again
    assert (
        "name" in assert_error(client.post(f"{BASE}special-days/", {**body, "name": ""}, format="json"), 400)["fields"]
    )
    assert SpecialDay.objects.count() == 1


def test_admins_set_every_queues_special_days_and_everyone_reads_them(queue_a, admin_user, supervisor, supervisor_b):
    body = {"planning_queue": None, "day": "2026-12-25", "name": "Christmas", "volume_factor": 0}
    created = session_client(admin_user).post(f"{BASE}special-days/", body, format="json")
    assert created.status_code == 201
    own = session_client(supervisor).post(
        f"{BASE}special-days/", {"planning_queue": queue_a.pk, "day": "2026-12-24", "name": "Eve"}, format="json"
    )
    assert own.status_code == 201
    # Then: team A's supervisor reads both, team B's only every queue's
    assert [d["name"] for d in session_client(supervisor).get(f"{BASE}special-days/").json()] == ["Eve", "Christmas"]
    assert [d["name"] for d in session_client(supervisor_b).get(f"{BASE}special-days/").json()] == ["Christmas"]
    assert_error(session_client(supervisor_b).get(f"{BASE}special-days/{own.json()['id']}/"), 403)
    # And a supervisor neither changes nor deletes every queue's
    christmas = created.json()["id"]
    assert_error(session_client(supervisor).delete(f"{BASE}special-days/{christmas}/"), 403)
    update = {"planning_queue": None, "day": "2026-12-25", "name": "Xmas", "volume_factor": 0.1}
    assert_error(session_client(supervisor).put(f"{BASE}special-days/{christmas}/", update, format="json"), 403)
    assert (
        session_client(admin_user).put(f"{BASE}special-days/{christmas}/", update, format="json").json()["name"]
        == "Xmas"
    )
    assert session_client(admin_user).delete(f"{BASE}special-days/{christmas}/").status_code == 204
    assert list(SpecialDay.objects.values_list("name", flat=True)) == ["Eve"]
