"""The schedule API (/api/v1/engagement/wfm/schedules/…) and pages (/wfm/schedules/…): what each role
and team may read and change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from engagement.wfm.scheduling.models import Schedule, ScheduleStatus, Shift
from engagement.wfm.scheduling.services import schedule_generate
from tests.engagement.wfm.schedule_support import WEEK, day_template, planning_queue, requirement, rostered
from tests.support import assert_error, session_client, token_client

pytestmark = pytest.mark.django_db

API = "/api/v1/engagement/wfm/schedules/"
PAGES = "/wfm/schedules/"


@pytest.fixture(autouse=True)
def _london(settings):
    settings.TIME_ZONE = "Europe/London"


@pytest.fixture
def team_a_week(team_a, supervisor):
    """Team A's draft week: one agent, one queue needing one agent 09:00–17:00 on Monday."""
    queue = planning_queue(team_a)
    requirement(queue, 1.0, days=[0])
    day_template()
    rostered(team_a, "ada", max_days_week=1)
    return schedule_generate(user=supervisor, team=team_a, week_start=WEEK, time_limit_seconds=5)


@pytest.fixture
def team_b_week(team_b, admin_user):
    return Schedule.objects.create(team=team_b, week_start=WEEK, status=ScheduleStatus.DRAFT)


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- API ------------------------------------------------------------------------------------------------


def test_the_list_is_the_callers_teams(
    team_a_week, team_b_week, supervisor, supervisor_b, admin_user, integration_user
):
    def ids(client) -> list[int]:
        response = client.get(API)
        assert response.status_code == 200
        return [row["id"] for row in response.json()]

    assert ids(session_client(supervisor)) == [team_a_week.pk]
    assert ids(session_client(supervisor_b)) == [team_b_week.pk]
    assert sorted(ids(session_client(admin_user))) == sorted([team_a_week.pk, team_b_week.pk])
    assert sorted(ids(token_client(integration_user, scopes=("insights:read",)))) == sorted(
        [team_a_week.pk, team_b_week.pk]
    )


def test_the_list_filters_by_team_and_week(team_a_week, team_b_week, admin_user):
    # Given two teams' schedules, read by an admin
    client = session_client(admin_user)
    # When the list is filtered by a team, by a week, and by a team that has none
    by_team = client.get(API, {"team": team_b_week.team_id})
    by_week = client.get(API, {"week_start": (team_a_week.week_start + dt.timedelta(days=7)).isoformat()})
    unknown = client.get(API, {"team": 999999})
    # Then each answers with the schedules that match, and a bad team is a 400 with its field
    assert [row["id"] for row in by_team.json()] == [team_b_week.pk]
    assert (by_week.status_code, by_week.json(), unknown.json()) == (200, [], [])
    refused = client.get(API, {"team": "first"})
    assert refused.status_code == 400 and "team" in refused.json()["error"]["fields"]


def test_the_detail_has_shifts_activities_and_coverage(team_a_week, supervisor):
    response = session_client(supervisor).get(f"{API}{team_a_week.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["solver_status"], body["under_minutes"]) == ("draft", "optimal", 30.0)
    [shift] = body["shifts"]
    assert [activity["kind"] for activity in shift["activities"]] == ["work", "lunch", "work"]
    assert len(body["coverage"]) == 32
    assert sum(row["unmet_agents"] for row in body["coverage"]) == 2.0  # lunch: two quarter-hours


def test_another_teams_schedule_is_refused(team_a_week, supervisor_b, agent):
    assert_error(session_client(supervisor_b).get(f"{API}{team_a_week.pk}/"), 403)
    assert_error(session_client(supervisor_b).post(f"{API}{team_a_week.pk}/publish/"), 403)
    assert_error(session_client(agent).get(f"{API}{team_a_week.pk}/"), 403)
    assert_error(session_client(supervisor_b).get(f"{API}999999/"), 404)
    team_a_week.refresh_from_db()
    assert team_a_week.status == ScheduleStatus.DRAFT


def test_generate_and_publish_over_the_api(team_a, supervisor):
    queue = planning_queue(team_a)
    requirement(queue, 1.0, days=[0, 1])
    day_template()
    rostered(team_a, "ada")
    client = session_client(supervisor)

    created = client.post(
        f"{API}generate/", {"team": team_a.pk, "week_start": "2026-03-02", "time_limit_seconds": 5}, format="json"
    )
    assert created.status_code == 201
    schedule_id = created.json()["id"]
    assert len(created.json()["shifts"]) == 2

    published = client.post(f"{API}{schedule_id}/publish/")
    assert (published.status_code, published.json()["status"]) == (200, "published")
    assert_error(client.post(f"{API}{schedule_id}/publish/"), 409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"team": None, "week_start": "2026-03-03"}, "week_start"),
        ({"team": None, "week_start": "2026-03-02", "time_limit_seconds": 0}, "time_limit_seconds"),
        ({"team": None, "week_start": "2026-03-02", "time_limit_seconds": "5"}, "time_limit_seconds"),
        ({"week_start": "2026-03-02"}, "team"),
    ],
)
def test_generate_refuses_bad_input_with_field_messages(admin_user, body, field):
    response = session_client(admin_user).post(f"{API}generate/", body, format="json")

    error = assert_error(response, 400)
    assert field in error["fields"]
    assert Schedule.objects.count() == 0


def test_generate_is_refused_for_other_teams_agents_and_clients(team_a, team_b, supervisor, agent, integration_user):
    body = {"team": team_b.pk, "week_start": "2026-03-02", "time_limit_seconds": 5}
    assert_error(session_client(supervisor).post(f"{API}generate/", body, format="json"), 403)
    assert_error(session_client(agent).post(f"{API}generate/", {**body, "team": team_a.pk}, format="json"), 403)
    client = token_client(integration_user, scopes=("insights:read",))
    assert_error(client.post(f"{API}generate/", {**body, "team": team_a.pk}, format="json"), 403)
    assert_error(session_client(supervisor).post(f"{API}generate/", {**body, "team": 999999}, format="json"), 404)
    assert Schedule.objects.count() == 0


# --- Pages ----------------------------------------------------------------------------------------------


def test_the_schedule_page_shows_the_grid_coverage_unmet_and_publish(team_a_week, supervisor):
    response = page_client(supervisor).get(f"{PAGES}{team_a_week.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    shift = Shift.objects.get(schedule=team_a_week)
    assert f'data-testid="agent-week-{shift.agent_id}"' in html
    assert "09:00–17:00" in html
    assert 'data-testid="coverage-1"' in html
    assert 'data-testid="schedule-publish"' in html
    assert html.count("<td>support (Voice)</td>") == 2  # the lunch's two quarter-hours, unmet


def test_publishing_from_the_page(team_a_week, supervisor):
    response = page_client(supervisor).post(f"{PAGES}{team_a_week.pk}/publish/")

    assert response.status_code == 302
    team_a_week.refresh_from_db()
    assert team_a_week.status == ScheduleStatus.PUBLISHED


def test_generating_from_the_page(team_a, supervisor):
    queue = planning_queue(team_a)
    requirement(queue, 1.0, days=[0])
    day_template()
    rostered(team_a, "ada")

    response = page_client(supervisor).post(
        PAGES, {"team": team_a.pk, "week_start": "2026-03-02", "time_limit_seconds": "5"}
    )

    schedule = Schedule.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{PAGES}{schedule.pk}/"
    assert (schedule.team_id, schedule.status) == (team_a.pk, ScheduleStatus.DRAFT)


def test_the_page_form_says_what_is_wrong(team_a, supervisor):
    response = page_client(supervisor).post(
        PAGES, {"team": team_a.pk, "week_start": "2026-03-04", "time_limit_seconds": "5"}
    )

    assert response.status_code == 400
    assert "A week starts on a Monday." in response.content.decode()
    assert Schedule.objects.count() == 0


def test_pages_refuse_other_teams_and_agents(team_a_week, team_b, supervisor, supervisor_b, agent):
    assert page_client(supervisor_b).get(f"{PAGES}{team_a_week.pk}/").status_code == 403
    assert page_client(supervisor_b).post(f"{PAGES}{team_a_week.pk}/publish/").status_code == 403
    assert page_client(agent).get(PAGES).status_code == 403
    assert page_client(agent).get(f"{PAGES}{team_a_week.pk}/").status_code == 403
    other = {"team": team_b.pk, "week_start": "2026-03-02", "time_limit_seconds": "5"}
    assert page_client(supervisor).post(PAGES, other).status_code == 403
    team_a_week.refresh_from_db()
    assert team_a_week.status == ScheduleStatus.DRAFT
    assert Schedule.objects.count() == 1


def test_the_list_page_lists_the_supervisors_teams_only(team_a_week, team_b_week, supervisor):
    html = page_client(supervisor).get(PAGES).content.decode()

    assert f'data-testid="schedule-{team_a_week.pk}"' in html
    assert f'data-testid="schedule-{team_b_week.pk}"' not in html
    assert "Team B" not in html


def test_pages_send_anonymous_users_to_sign_in(team_a_week):
    assert Client().get(f"{PAGES}{team_a_week.pk}/").status_code == 302
