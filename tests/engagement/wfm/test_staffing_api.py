"""The staffing and planning-queue APIs (/api/v1/engagement/wfm/…): answers, bad input, roles and teams."""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.staffing.erlang import StaffingInput, required_agents
from engagement.wfm.staffing.services import requirements_compute
from tests.accounts.factories import UserFactory
from tests.engagement.wfm.factories import PlanningQueueFactory, forecast_day
from tests.records.factories import InteractionFactory
from tests.support import assert_error, session_client, token_client

pytestmark = pytest.mark.django_db

BASE = "/api/v1/engagement/wfm/"
CALCULATE = f"{BASE}staffing/calculate/"


def test_the_calculator_answers_with_the_requirement_and_its_neighbours(supervisor):
    # given 120 contacts of 4 minutes in 15 minutes, 80% in 20 s, 85% occupancy, 30% shrinkage
    body = {"volume": 120, "aht_seconds": 240, "max_occupancy_percent": 85, "shrinkage_percent": 30}
    # when a supervisor asks
    response = session_client(supervisor).post(CALCULATE, body, format="json")
    # then the agents Erlang C gives, with shrinkage, and three agents either side
    assert response.status_code == 200, response.content
    answer = response.json()
    expected = required_agents(StaffingInput(volume=120, aht_seconds=240, max_occupancy=0.85))
    assert answer["agents"] == expected.agents
    assert answer["traffic_erlangs"] == pytest.approx(32)
    assert answer["agents_with_shrinkage"] == pytest.approx(expected.agents / 0.7)
    assert answer["service_level"] == pytest.approx(expected.service_level)
    assert [row["agents"] for row in answer["neighbours"]] == list(range(expected.agents - 3, expected.agents + 4))
    assert [row["meets_target"] for row in answer["neighbours"]] == [False] * 3 + [True] * 4


def test_erlang_a_through_the_api(admin_user):
    body = {"volume": 300, "aht_seconds": 300, "model": "erlang_a", "patience_seconds": 120}
    answer = session_client(admin_user).post(CALCULATE, body, format="json").json()
    assert answer["abandon_rate"] > 0
    assert answer["service_level"] >= 0.8
    below = answer["neighbours"][2]
    assert below["agents"] == answer["agents"] - 1 and below["service_level"] < 0.8


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"volume": -1, "aht_seconds": 240}, "volume"),
        ({"volume": 10, "aht_seconds": 0}, "aht_seconds"),
        ({"volume": 10, "aht_seconds": 240, "target_kind": "asa"}, "asa_seconds"),
        ({"volume": 10, "aht_seconds": 240, "model": "erlang_a"}, "patience_seconds"),
        ({"volume": 10, "aht_seconds": 240, "service_level_percent": "eighty"}, "service_level_percent"),
        ({"volume": 10, "aht_seconds": 240, "model": "magic"}, "model"),
    ],
)
def test_bad_calculator_input_is_refused_with_field_messages(supervisor, body, field):
    response = session_client(supervisor).post(CALCULATE, body, format="json")
    error = assert_error(response, 400)
    assert field in error["fields"]


def test_agents_are_refused_and_a_client_reads_with_its_token(agent, integration_user):
    body = {"volume": 10, "aht_seconds": 240}
    assert_error(session_client(agent).post(CALCULATE, body, format="json"), 403)
    assert (
        token_client(integration_user, scopes=("insights:read",)).post(CALCULATE, body, format="json").status_code
        == 200
    )
    assert_error(token_client(integration_user, scopes=("customers:read",)).post(CALCULATE, body, format="json"), 403)


def _day_of_requirements(queue: PlanningQueue) -> None:
    start = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)  # 09:00 in London (summer time)
    forecast_day(queue, start, [30, 60, 90])
    requirements_compute(planning_queue=queue, start=start, end=start + dt.timedelta(hours=1))


def test_a_queues_requirements_for_a_day(supervisor, team_a):
    # given a team A queue with three intervals on 1 June
    queue = PlanningQueueFactory(team=team_a)
    _day_of_requirements(queue)
    # when its supervisor reads the day
    response = session_client(supervisor).get(f"{BASE}staffing/planning-queues/{queue.pk}/requirements/?day=2026-06-01")
    # then the three intervals and the day's totals
    assert response.status_code == 200, response.content
    answer = response.json()
    assert [row["volume"] for row in answer["requirements"]] == [30, 60, 90]
    assert answer["totals"]["volume"] == 180
    assert answer["totals"]["peak_agents"] == answer["requirements"][2]["agents"]
    # and the next day is empty, a malformed day refused
    client = session_client(supervisor)
    assert (
        client.get(f"{BASE}staffing/planning-queues/{queue.pk}/requirements/?day=2026-06-02").json()["requirements"]
        == []
    )
    assert (
        "day"
        in assert_error(client.get(f"{BASE}staffing/planning-queues/{queue.pk}/requirements/?day=june"), 400)["fields"]
    )


def test_another_teams_requirements_are_refused(supervisor, team_b, agent):
    queue = PlanningQueueFactory(team=team_b)
    _day_of_requirements(queue)
    url = f"{BASE}staffing/planning-queues/{queue.pk}/requirements/?day=2026-06-01"
    assert_error(session_client(supervisor).get(url), 403)
    assert_error(session_client(agent).get(url), 403)
    assert_error(
        session_client(supervisor).get(f"{BASE}staffing/planning-queues/999999/requirements/?day=2026-06-01"), 404
    )


def test_planning_queues_list_detail_and_change_by_team(supervisor, team_a, team_b, integration_user, agent):
    # given one queue of each team
    mine = PlanningQueueFactory(team=team_a, queue="support")
    theirs = PlanningQueueFactory(team=team_b, queue="sales")
    client = session_client(supervisor)
    # the supervisor lists and opens only theirs; a client reads all; an agent nothing
    assert [row["queue"] for row in client.get(f"{BASE}planning-queues/").json()] == ["support"]
    assert client.get(f"{BASE}planning-queues/{mine.pk}/").json()["team_name"] == "Team A"
    assert_error(client.get(f"{BASE}planning-queues/{theirs.pk}/"), 403)
    reader = token_client(integration_user, scopes=("insights:read",))
    assert [row["queue"] for row in reader.get(f"{BASE}planning-queues/").json()] == ["sales", "support"]
    assert_error(session_client(agent).get(f"{BASE}planning-queues/"), 403)
    # the supervisor changes theirs; not the other team's; a client changes nothing
    changed = client.patch(
        f"{BASE}planning-queues/{mine.pk}/", {"shrinkage_percent": 25, "model": "chat"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["shrinkage_percent"], changed.json()["model"]) == (25, "chat")
    assert_error(client.patch(f"{BASE}planning-queues/{theirs.pk}/", {"shrinkage_percent": 25}, format="json"), 403)
    assert_error(client.patch(f"{BASE}planning-queues/{mine.pk}/", {"team": team_b.pk}, format="json"), 403)
    assert_error(
        token_client(integration_user, scopes=("insights:read",)).patch(
            f"{BASE}planning-queues/{mine.pk}/", {"shrinkage_percent": 5}, format="json"
        ),
        403,
    )
    # bad input: field messages, nothing written
    bad = client.patch(f"{BASE}planning-queues/{mine.pk}/", {"model": "erlang_a"}, format="json")
    assert assert_error(bad, 400)["fields"]
    assert (
        "shrinkage_percent"
        in assert_error(
            client.patch(f"{BASE}planning-queues/{mine.pk}/", {"shrinkage_percent": 99}, format="json"), 400
        )["fields"]
    )
    mine.refresh_from_db()
    assert (mine.model, mine.shrinkage_percent) == ("chat", 25)


def test_discovery_is_for_admins(admin_user, supervisor, team_a):
    for _ in range(5):
        InteractionFactory(queue="support", channel="voice", team=team_a)
    assert_error(session_client(supervisor).post(f"{BASE}planning-queues/discover/", {}, format="json"), 403)
    response = session_client(admin_user).post(f"{BASE}planning-queues/discover/", {}, format="json")
    assert response.status_code == 201, response.content
    assert [(row["queue"], row["channel"], row["team"]) for row in response.json()] == [("support", "voice", team_a.pk)]
    assert_error(
        session_client(UserFactory(role="admin")).post(
            f"{BASE}planning-queues/discover/", {"min_contacts_per_day": -1}, format="json"
        ),
        400,
    )
