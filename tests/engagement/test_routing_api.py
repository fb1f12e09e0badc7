"""The routing REST API: presence, offers, transfer, wrap-up, queue statistics and codes."""

from __future__ import annotations

import pytest

from cea.common.channels import Channel
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_escalate
from engagement.routing.models import Offer, OfferStatus, PresenceChange, WorkItem, WorkStatus
from records.interactions.models import Interaction
from tests.engagement.routing_support import eager_celery
from tests.support import assert_error, session_client, token_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("routing_env")]


@pytest.fixture(autouse=True)
def _eager():
    yield from eager_celery()


def _available(user):
    response = session_client(user).post("/api/v1/engagement/agents/me/presence/", {"presence": "available"})
    assert response.status_code == 200, response.content
    return response


def _waiting_chat(team, visitor="v1"):
    conversation, _ = conversation_start(channel=Channel.CHAT, visitor=visitor, team=team)
    return conversation_escalate(conversation=conversation, queue="general")


def test_an_agent_sets_presence_and_the_change_is_recorded(agent):
    # Given an agent, offline by default
    client = session_client(agent)
    assert client.get("/api/v1/engagement/agents/me/presence/").json()["presence"] == "offline"
    # When they go on a break with a reason
    response = client.post("/api/v1/engagement/agents/me/presence/", {"presence": "away", "reason": "lunch"})
    # Then the presence and its reason are shown and a timestamped change is recorded
    assert (response.json()["presence"], response.json()["reason"]) == ("away", "lunch")
    change = PresenceChange.objects.get(agent__user=agent, ended_at__isnull=True)
    assert (change.presence, change.reason.code, change.cause) == ("away", "lunch", "agent")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"presence": "away"}, "reason"),
        ({"presence": "away", "reason": "missed_offer"}, "reason"),
        ({"presence": "away", "reason": "nap"}, "reason"),
        ({"presence": "available", "reason": "lunch"}, "reason"),
        ({"presence": "dancing"}, "presence"),
    ],
)
def test_bad_presence_gets_a_clear_error_and_changes_nothing(agent, payload, field):
    # Given an agent
    client = session_client(agent)
    # When they send a presence the rules refuse (a system reason code included)
    response = client.post("/api/v1/engagement/agents/me/presence/", payload)
    # Then 400 names the field, and nothing changed
    error = assert_error(response, 400)
    assert field in error["fields"]
    assert not PresenceChange.objects.filter(agent__user=agent).exists()


def test_an_integration_client_takes_no_work(integration_user):
    # Given an integration client with a conversations token
    client = token_client(integration_user)
    # When it asks for a presence / offers
    # Then it is refused
    assert_error(client.get("/api/v1/engagement/agents/me/presence/"), 403)
    assert_error(client.get("/api/v1/engagement/agents/me/offers/"), 403)


def test_an_offer_is_listed_accepted_and_wrapped_up_into_records(agent, team_a):
    # Given an available agent and a chat waiting in the general queue
    _available(agent)
    conversation = _waiting_chat(team_a)
    client = session_client(agent)
    # When the agent lists the offers and accepts the one they have
    [offer] = client.get("/api/v1/engagement/agents/me/offers/").json()
    assert offer["conversation"] == conversation.pk
    accepted = client.post(f"/api/v1/engagement/offers/{offer['id']}/accept/")
    # Then the work is theirs
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == WorkStatus.ASSIGNED
    # When they wrap it up with a code and notes
    wrapped = client.post(
        f"/api/v1/engagement/conversations/{conversation.pk}/wrap-up/",
        {"wrap_up_code": "resolved", "notes": "Refund explained", "disposition": "refund"},
    )
    # Then the work is done and the interaction is in records with the wrap-up
    assert wrapped.json()["status"] == WorkStatus.DONE
    interaction = Interaction.objects.get(external_id=f"conversation-{conversation.pk}")
    assert (interaction.agent, interaction.wrap_up_code, interaction.wrap_up_notes, interaction.disposition) == (
        agent,
        "resolved",
        "Refund explained",
        "refund",
    )


def test_another_agents_offer_cannot_be_taken(agent, team_a):
    # Given an offer to one agent
    from tests.accounts.factories import UserFactory

    _available(agent)
    _waiting_chat(team_a)
    offer = Offer.objects.get()
    colleague = UserFactory(username="colleague", role="agent", teams=[team_a])
    # When a colleague tries to accept or reject it
    client = session_client(colleague)
    # Then they are refused and the offer is still pending
    assert_error(client.post(f"/api/v1/engagement/offers/{offer.pk}/accept/"), 403)
    assert_error(client.post(f"/api/v1/engagement/offers/{offer.pk}/reject/"), 403)
    assert_error(client.post("/api/v1/engagement/offers/999999/accept/"), 404)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.PENDING


def test_a_rejected_offer_cannot_then_be_accepted(agent, team_a):
    # Given an agent who rejected an offer
    _available(agent)
    _waiting_chat(team_a)
    offer = Offer.objects.get()
    client = session_client(agent)
    assert client.post(f"/api/v1/engagement/offers/{offer.pk}/reject/", {"reason": "on a call"}).status_code == 200
    # When they try to accept it after all
    response = client.post(f"/api/v1/engagement/offers/{offer.pk}/accept/")
    # Then it is a conflict, and the item waits for someone else
    assert_error(response, 409, "offer_rejected")
    assert WorkItem.objects.get().status == WorkStatus.WAITING


def test_transfer_input_is_checked(agent, team_a):
    # Given an agent handling a chat
    _available(agent)
    conversation = _waiting_chat(team_a)
    client = session_client(agent)
    client.post(f"/api/v1/engagement/offers/{Offer.objects.get().pk}/accept/")
    url = f"/api/v1/engagement/conversations/{conversation.pk}/transfer/"
    # When the transfer names both targets, none, an unknown queue or an unknown agent
    # Then each gets a clear error and the conversation stays with the agent
    assert_error(client.post(url, {"to_queue": "general", "to_agent": agent.pk}), 400)
    assert_error(client.post(url, {}), 400)
    assert_error(client.post(url, {"to_queue": "nowhere"}), 404)
    assert_error(client.post(url, {"to_agent": 999999}), 404)
    assert WorkItem.objects.get().status == WorkStatus.ASSIGNED


def test_wrap_up_needs_a_known_code(agent, team_a):
    # Given an agent handling a chat
    _available(agent)
    conversation = _waiting_chat(team_a)
    client = session_client(agent)
    client.post(f"/api/v1/engagement/offers/{Offer.objects.get().pk}/accept/")
    # When they wrap up with an unknown code
    response = client.post(f"/api/v1/engagement/conversations/{conversation.pk}/wrap-up/", {"wrap_up_code": "made-up"})
    # Then 400, and the conversation is still open with the agent
    assert "wrap_up_code" in assert_error(response, 400)["fields"]
    conversation.refresh_from_db()
    assert conversation.status == "active"


def test_queue_statistics_are_for_supervisors(agent, supervisor, team_a):
    # Given a chat waiting and no agent available
    _waiting_chat(team_a)
    # When a supervisor and an agent ask for the queue statistics
    stats = session_client(supervisor).get("/api/v1/engagement/queues/")
    # Then the supervisor sees the waiting chat; the agent is refused
    general = next(row for row in stats.json() if row["name"] == "general")
    assert (general["waiting"], general["offered"]) == (1, 0)
    assert general["oldest_wait_seconds"] is not None
    assert_error(session_client(agent).get("/api/v1/engagement/queues/"), 403)


def test_reason_codes_offered_to_agents_leave_out_system_codes(agent):
    # Given the default codes
    # When an agent lists the reason and wrap-up codes
    reasons = [row["code"] for row in session_client(agent).get("/api/v1/engagement/reason-codes/").json()]
    wrap_ups = [row["code"] for row in session_client(agent).get("/api/v1/engagement/wrap-up-codes/").json()]
    # Then the system's own reason (missed offer) is not among them
    assert "lunch" in reasons and "missed_offer" not in reasons
    assert "resolved" in wrap_ups


def test_a_wrap_up_that_committed_is_not_answered_with_404(supervisor, team_a):
    # Given a customer's chat that never reached an agent's queue (self-service is still on it)
    conversation, _ = conversation_start(channel=Channel.CHAT, visitor="v1", team=team_a)
    # When a supervisor wraps it up through the API
    response = session_client(supervisor).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/wrap-up/", {"wrap_up_code": "resolved", "notes": "Spam"}
    )
    # Then the answer says it is done (there is no work item to show), as it is: ended and in records
    assert (response.status_code, response.content) == (204, b"")
    conversation.refresh_from_db()
    assert conversation.status == "ended"
    interaction = Interaction.objects.get(pk=conversation.interaction_id)
    assert (interaction.wrap_up_code, interaction.wrap_up_notes) == ("resolved", "Spam")
    assert not WorkItem.objects.filter(conversation=conversation).exists()
