"""The supervisor's tools over the REST API (/api/v1/engagement/supervision/…): roles and teams, each action."""

from __future__ import annotations

import pytest

from engagement.context.models import ContextScope
from engagement.context.services import context_write
from engagement.routing.models import Presence, WorkStatus
from engagement.supervision.models import SupervisionKind, SupervisorAction
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import fresh, waiting
from tests.support import assert_error, make_customer, session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

BASE = "/api/v1/engagement/supervision/"


# --- The live list --------------------------------------------------------------------------------


def test_the_live_list_shows_state_queue_agent_wait_and_sentiment(handled, supervisor, support, team_a):
    # Given: one chat with the agent (its sentiment in the live context), one still waiting
    context_write(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=handled.conversation_id,
        values={"sentiment": -0.6, "sentiment_label": "negative"},
    )
    waiting_item = waiting(support, customer=make_customer(team_a), age_seconds=30)
    # When
    response = session_client(supervisor).get(f"{BASE}conversations/")
    # Then: the waiting one first
    assert response.status_code == 200
    rows = response.json()
    assert [(row["id"], row["status"], row["queue"], row["work_item"]) for row in rows] == [
        (waiting_item.conversation_id, "queued", "support", waiting_item.pk),
        (handled.conversation_id, "active", "support", handled.pk),
    ]
    queued, active = rows
    assert (queued["agent"], queued["sentiment"], queued["wait_seconds"] >= 30) == ("", None, True)
    assert (active["agent"], active["sentiment"], active["sentiment_label"]) == (
        handled.agent.user.get_full_name(),
        -0.6,
        "negative",
    )


def test_the_live_list_is_the_teams_own(handled, supervisor_b, admin_user):
    assert session_client(supervisor_b).get(f"{BASE}conversations/").json() == []
    assert [row["id"] for row in session_client(admin_user).get(f"{BASE}conversations/").json()] == [
        handled.conversation_id
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "conversations/", None),
        ("post", "conversations/{conversation}/monitor/", {}),
        ("post", "conversations/{conversation}/whisper/", {"body": "psst"}),
        ("post", "conversations/{conversation}/barge-in/", {}),
        ("post", "conversations/{conversation}/say/", {"body": "Hello"}),
        ("post", "agents/{agent}/presence/", {"presence": "busy"}),
        ("post", "work/{work}/requeue/", {}),
    ],
)
def test_agents_and_integration_clients_are_refused_with_403(handled, agent, integration_user, method, path, body):
    url = BASE + path.format(conversation=handled.conversation_id, agent=agent.pk, work=handled.pk)
    for client in (session_client(agent), token_client(integration_user)):
        response = getattr(client, method)(url, body, format="json")
        assert_error(response, 403)
    assert SupervisorAction.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("conversations/{conversation}/monitor/", {}),
        ("conversations/{conversation}/whisper/", {"body": "psst"}),
        ("conversations/{conversation}/barge-in/", {}),
        ("conversations/{conversation}/say/", {"body": "Hello"}),
        ("agents/{agent}/presence/", {"presence": "busy"}),
        ("work/{work}/requeue/", {}),
        ("work/{work}/move/", {"to_queue": "support"}),
    ],
)
def test_a_supervisor_of_another_team_is_refused_with_403(handled, agent, supervisor_b, path, body):
    url = BASE + path.format(conversation=handled.conversation_id, agent=agent.pk, work=handled.pk)
    assert_error(session_client(supervisor_b).post(url, body, format="json"), 403)
    assert SupervisorAction.objects.count() == 0
    assert fresh(handled).status == WorkStatus.ASSIGNED


def test_unknown_objects_are_404(supervisor):
    client = session_client(supervisor)
    assert_error(client.post(f"{BASE}conversations/999999/monitor/", {}, format="json"), 404)
    assert_error(client.post(f"{BASE}agents/999999/presence/", {"presence": "busy"}, format="json"), 404)
    assert_error(client.post(f"{BASE}work/999999/requeue/", {}, format="json"), 404)


# --- The actions ----------------------------------------------------------------------------------


def test_monitor_whisper_barge_in_and_say(handled, supervisor):
    # Given
    client = token_client(supervisor)
    url = f"{BASE}conversations/{handled.conversation_id}/"
    # When
    monitor = client.post(f"{url}monitor/", {}, format="json")
    whisper = client.post(f"{url}whisper/", {"body": "Offer the refund"}, format="json")
    too_early = client.post(f"{url}say/", {"body": "Hello"}, format="json")
    barge_in = client.post(f"{url}barge-in/", {}, format="json")
    said = client.post(f"{url}say/", {"body": "Hello", "client_message_id": "s-1"}, format="json")
    again = client.post(f"{url}say/", {"body": "Hello", "client_message_id": "s-1"}, format="json")
    # Then
    assert (monitor.status_code, monitor.json()["kind"]) == (201, "monitor")
    assert (whisper.status_code, whisper.json()["internal"], whisper.json()["body"]) == (201, True, "Offer the refund")
    assert_error(too_early, 409, "not_joined")
    assert (barge_in.status_code, barge_in.json()["kind"]) == (200, "barge_in")
    assert (said.status_code, said.json()["internal"], again.status_code) == (201, False, 200)
    assert sorted(SupervisorAction.objects.values_list("kind", flat=True)) == sorted(
        [SupervisionKind.MONITOR, SupervisionKind.WHISPER, SupervisionKind.BARGE_IN]
    )


def test_presence_is_set_for_an_agent_with_a_reason(handled, supervisor, agent):
    # When
    missing = session_client(supervisor).post(f"{BASE}agents/{agent.pk}/presence/", {"presence": "away"}, format="json")
    response = session_client(supervisor).post(
        f"{BASE}agents/{agent.pk}/presence/", {"presence": "away", "reason": "break", "note": "Overdue"}, format="json"
    )
    # Then
    assert_error(missing, 400)
    assert response.status_code == 200
    assert (response.json()["presence"], response.json()["reason"]) == ("away", "break")
    assert fresh(agent.routing_profile).presence == Presence.AWAY


def test_work_is_moved_and_requeued(support, supervisor, team_a, agent):
    # Given: waiting work, and a second queue of the team
    item = waiting(support, customer=make_customer(team_a))
    QueueFactory(name="billing", team=team_a)
    client = session_client(supervisor)
    # When
    unknown = client.post(f"{BASE}work/{item.pk}/move/", {"to_queue": "nowhere"}, format="json")
    moved = client.post(f"{BASE}work/{item.pk}/move/", {"to_queue": "billing"}, format="json")
    requeue_waiting = client.post(f"{BASE}work/{item.pk}/requeue/", {}, format="json")
    # Then
    assert_error(unknown, 404)
    assert (moved.status_code, moved.json()["queue"], moved.json()["status"]) == (200, "billing", "waiting")
    assert_error(requeue_waiting, 409, "not_requeueable")


def test_assigned_work_is_requeued(handled, supervisor):
    response = session_client(supervisor).post(
        f"{BASE}work/{handled.pk}/requeue/", {"note": "Specialist"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["note"], response.json()["queue"]) == (
        "waiting",
        "Specialist",
        "support",
    )
    assert fresh(handled).status == WorkStatus.TRANSFERRED
