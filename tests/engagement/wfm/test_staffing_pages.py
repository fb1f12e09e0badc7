"""The /wfm/ pages of planning and staffing: the landing page, the calculator, a queue's requirement
per day, the console — by role and team."""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.staffing.erlang import StaffingInput, required_agents
from engagement.wfm.staffing.services import requirements_compute
from tests.engagement.wfm.factories import PlanningQueueFactory, forecast_day

pytestmark = pytest.mark.django_db

FIRST_JUNE_9 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 in London


@pytest.fixture(autouse=True)
def _london(settings):
    """Days and interval times are local: London's, as in the demo."""
    settings.TIME_ZONE = "Europe/London"


def test_the_landing_page_lists_the_supervisors_queues_only(client, supervisor, team_a, team_b):
    mine = PlanningQueueFactory(team=team_a, queue="support", label="Support line")
    theirs = PlanningQueueFactory(team=team_b, queue="sales", label="Sales line")
    client.force_login(supervisor)
    page = client.get("/wfm/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-testid="wfm-planning-queue-{mine.pk}"' in html and "Support line" in html
    assert f'data-testid="wfm-planning-queue-{theirs.pk}"' not in html and "Sales line" not in html
    assert 'data-testid="nav-wfm"' in html
    # And every part of WFM is one click away: the queue's forecast, the schedules, requests and adherence
    assert f'href="/wfm/forecasts/{mine.pk}/"' in html
    for link in ("/wfm/forecasts/", "/wfm/staffing/", "/wfm/schedules/", "/wfm/requests/", "/wfm/adherence/"):
        assert f'href="{link}"' in html, link


def test_agents_are_refused_every_page_and_see_no_link(client, agent, team_a):
    queue = PlanningQueueFactory(team=team_a)
    client.force_login(agent)
    for url in ("/wfm/", "/wfm/staffing/", f"/wfm/staffing/queues/{queue.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/wfm/staffing/", {"volume": 10, "aht_seconds": 200}).status_code == 403
    assert 'data-testid="nav-wfm"' not in client.get("/wfm/").content.decode()


def test_signed_out_users_go_to_sign_in(client):
    response = client.get("/wfm/staffing/")
    assert response.status_code == 302 and "login" in response["Location"]


def _form(**overrides) -> dict:
    form = {
        "volume": "120",
        "aht_seconds": "240",
        "interval_minutes": "15",
        "model": "erlang_c",
        "target_kind": "service_level",
        "service_level_percent": "80",
        "service_level_seconds": "20",
        "concurrency": "1",
        "max_occupancy_percent": "85",
        "shrinkage_percent": "30",
    }
    return {**form, **overrides}


def test_the_calculator_answers_in_place(client, supervisor):
    client.force_login(supervisor)
    # when the form is sent by htmx
    response = client.post("/wfm/staffing/", _form(), HTTP_HX_REQUEST="true")
    # then the result fragment: the agents Erlang C gives and the neighbours' table
    html = response.content.decode()
    expected = required_agents(StaffingInput(volume=120, aht_seconds=240, max_occupancy=0.85)).agents
    assert response.status_code == 200
    assert f'<strong data-testid="wfm-agents">{expected}</strong>' in html
    assert 'data-testid="wfm-neighbours"' in html
    assert "<html" not in html
    # and sent without htmx, the whole page
    assert "<html" in client.post("/wfm/staffing/", _form()).content.decode()


def test_the_calculator_says_what_is_wrong(client, supervisor):
    client.force_login(supervisor)
    response = client.post("/wfm/staffing/", _form(model="erlang_a", volume="-3"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="wfm-calculator-errors"' in html
    assert "volume:" in html
    assert "wfm-agents" not in html


def test_the_calculator_starts_from_a_queues_busiest_interval(client, supervisor, team_a, team_b):
    queue = PlanningQueueFactory(team=team_a, model="erlang_a", patience_seconds=90, shrinkage_percent=25)
    forecast_day(queue, FIRST_JUNE_9, [30, 75.5, 40], aht=210)
    client.force_login(supervisor)
    html = client.get(f"/wfm/staffing/?planning_queue={queue.pk}&day=2026-06-01").content.decode()
    assert 'name="volume" value="75.5"' in html
    assert 'name="patience_seconds" value="90"' in html
    assert 'data-testid="wfm-calculator-busiest">Busiest interval: 2026-06-01 09:15' in html
    # another team's queue is refused
    other = PlanningQueueFactory(team=team_b)
    assert client.get(f"/wfm/staffing/?planning_queue={other.pk}").status_code == 403


def test_a_queues_requirement_page(client, supervisor, team_a, team_b):
    queue = PlanningQueueFactory(team=team_a)
    forecast_day(queue, FIRST_JUNE_9, [30, 60])
    requirements_compute(planning_queue=queue, start=FIRST_JUNE_9, end=FIRST_JUNE_9 + dt.timedelta(hours=1))
    client.force_login(supervisor)
    html = client.get(f"/wfm/staffing/queues/{queue.pk}/?day=2026-06-01").content.decode()
    assert 'data-testid="wfm-requirement-chart"' in html
    assert '<th scope="row">09:00</th>' in html and '<th scope="row">09:15</th>' in html
    assert (
        'data-testid="wfm-requirements-empty"'
        in client.get(f"/wfm/staffing/queues/{queue.pk}/?day=2026-06-02").content.decode()
    )
    other = PlanningQueueFactory(team=team_b)
    assert client.get(f"/wfm/staffing/queues/{other.pk}/").status_code == 403
    assert client.get("/wfm/staffing/queues/999999/").status_code == 404


def _console_form(**overrides) -> dict:
    form = {
        "label": "",
        "interval_minutes": "15",
        "target_kind": "service_level",
        "service_level_percent": "80",
        "service_level_seconds": "20",
        "model": "erlang_c",
        "concurrency": "1",
        "max_occupancy_percent": "85",
        "shrinkage_percent": "30",
        "is_active": "on",
    }
    return {**form, **overrides}


def test_the_console_scopes_planning_queues_to_the_supervisors_teams(client, supervisor, team_a, team_b):
    mine = PlanningQueueFactory(team=team_a, queue="support")
    theirs = PlanningQueueFactory(team=team_b, queue="sales")
    client.force_login(supervisor)
    listing = client.get("/admin/engagement/planningqueue/").content.decode()
    assert "support" in listing and "sales" not in listing
    assert client.get(f"/admin/engagement/planningqueue/{theirs.pk}/change/").status_code == 302  # not in scope
    # a change through the service: Erlang A without patience is refused with the form's error
    refused = client.post(
        f"/admin/engagement/planningqueue/{mine.pk}/change/", _console_form(team=team_a.pk, model="erlang_a")
    )
    assert refused.status_code == 200 and "patience" in refused.content.decode().lower()
    saved = client.post(
        f"/admin/engagement/planningqueue/{mine.pk}/change/", _console_form(team=team_a.pk, shrinkage_percent="22")
    )
    assert saved.status_code == 302
    mine.refresh_from_db()
    assert mine.shrinkage_percent == 22
    # adding one for another team is refused (team B is not a choice), for their own team saved
    other_team = client.post(
        "/admin/engagement/planningqueue/add/", _console_form(queue="billing", channel="voice", team=team_b.pk)
    )
    assert other_team.status_code == 200 and not PlanningQueue.objects.filter(queue="billing").exists()
    added = client.post(
        "/admin/engagement/planningqueue/add/", _console_form(queue="billing", channel="chat", team=team_a.pk)
    )
    assert added.status_code == 302
    assert PlanningQueue.objects.get(queue="billing").team == team_a
