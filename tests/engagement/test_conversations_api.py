"""The conversation API: list, detail, messages after an id, reply, end, attachments; roles and teams."""

from __future__ import annotations

import datetime as dt
import json
import re
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from cea.common.errors import PermissionDenied
from engagement.adapters.urls import urlpatterns as adapter_routes
from engagement.conversations.models import Attachment, Conversation, Message
from engagement.conversations.services import conversation_group, conversation_start, message_add
from engagement.conversations.urls import urlpatterns as conversation_routes
from engagement.orchestration import conversation_end
from records.interactions.models import Interaction
from tests.accounts.factories import UserFactory
from tests.engagement.adapter_support import assert_error, isolate_redis, make_customer, session_client, token_client

pytestmark = pytest.mark.django_db

BASE = "/api/v1/engagement/conversations/"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield from isolate_redis(settings)


def say(conversation, body: str, *, minute: int, author_kind: str = "customer") -> Message:
    message, _ = message_add(
        conversation=conversation,
        direction="outbound" if author_kind == "agent" else "inbound",
        author_kind=author_kind,
        body=body,
        sent_at=dt.datetime(2025, 3, 14, 10, minute, tzinfo=dt.UTC),
    )
    return message


@pytest.fixture
def world(team_a, team_b):
    """A chat and an SMS conversation of a team A customer, a voice call of a team B customer."""
    alice = make_customer(team_a, given_name="Alice", family_name="Smith", email="alice@example.com")
    bruno = make_customer(team_b, given_name="Bruno", family_name="Bianchi", email="bruno@example.org")
    chat, _ = conversation_start(channel="chat", external_id="chat-1", customer=alice, queue="Web chat")
    sms, _ = conversation_start(
        channel="sms", external_id="gw:+447911123456:1", customer=alice, queue="SMS", subject="Broadband down"
    )
    call, _ = conversation_start(channel="voice", external_id="tel:CA1", customer=bruno, queue="Billing")
    messages = [say(chat, "Hi, is my order shipped?", minute=0), say(chat, "Order 10455", minute=1)]
    say(call, "Call ringing", minute=2, author_kind="system")
    return SimpleNamespace(alice=alice, bruno=bruno, chat=chat, sms=sms, call=call, messages=messages)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Who sees what -----------------------------------------------------------------------------------


def test_agents_and_supervisors_list_their_teams_conversations_admins_all(
    world, agent, agent_b, supervisor, admin_user, integration_user
):
    # When
    listed = {
        "agent": ids(session_client(agent).get(BASE)),
        "agent_b": ids(session_client(agent_b).get(BASE)),
        "supervisor": ids(session_client(supervisor).get(BASE)),
        "admin": ids(session_client(admin_user).get(BASE)),
        "integration": ids(token_client(integration_user, scopes=["conversations:read"]).get(BASE)),
    }
    # Then: newest first
    team_a = [world.sms.pk, world.chat.pk]
    assert listed == {
        "agent": team_a,
        "agent_b": [world.call.pk],
        "supervisor": team_a,
        "admin": [world.call.pk, *team_a],
        "integration": [world.call.pk, *team_a],
    }


def test_the_list_filters_by_status_channel_and_queue(world, admin_user):
    # Given
    client = session_client(admin_user)
    conversation_end(actor=None, conversation=world.sms)
    # When / Then
    assert ids(client.get(BASE, {"status": "ended"})) == [world.sms.pk]
    assert ids(client.get(BASE, {"channel": ["chat", "voice"]})) == [world.call.pk, world.chat.pk]
    assert ids(client.get(BASE, {"queue": "Billing"})) == [world.call.pk]
    assert ids(client.get(BASE, {"status": "self_service", "channel": "chat"})) == [world.chat.pk]


def test_an_unknown_filter_value_is_400(world, admin_user):
    # When
    response = session_client(admin_user).get(BASE, {"status": "asleep"})
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"status"}


def test_the_detail_shows_the_conversation(world, agent):
    # When
    response = session_client(agent).get(f"{BASE}{world.sms.pk}/")
    # Then
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("id", "channel", "status", "customer", "customer_name", "queue", "subject")} == {
        "id": world.sms.pk,
        "channel": "sms",
        "status": "self_service",
        "customer": world.alice.pk,
        "customer_name": "Alice Smith",
        "queue": "SMS",
        "subject": "Broadband down",
    }
    assert "visitor" not in body


ENDPOINTS = [
    ("get", "{id}/", None),
    ("get", "{id}/messages/", None),
    ("post", "{id}/reply/", {"body": "Hello"}),
    ("post", "{id}/end/", {"wrap_up_code": "resolved"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_agent_of_another_team_is_refused_with_403_and_nothing_changes(world, agent, method, path, body):
    # When
    response = getattr(session_client(agent), method)(BASE + path.format(id=world.call.pk), body, format="json")
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "This conversation belongs to a team you are not in."
    world.call.refresh_from_db()
    assert (world.call.status, world.call.messages.count(), Interaction.objects.count()) == ("self_service", 1, 0)


@pytest.mark.parametrize("key", ["987654", "abc", "²"])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_an_unknown_conversation_is_404(world, admin_user, method, path, body, key):
    # When
    response = getattr(session_client(admin_user), method)(BASE + path.format(id=key), body, format="json")
    # Then
    error = assert_error(response, 404, "not_found")
    assert error["message"] == f"No conversation with id {key}."


@pytest.mark.parametrize(("method", "path", "body"), [("get", "", None), *ENDPOINTS])
def test_anonymous_requests_are_401(world, method, path, body):
    # When
    response = getattr(APIClient(), method)(BASE + path.format(id=world.chat.pk), body, format="json")
    # Then
    assert_error(response, 401, "not_authenticated")


def test_a_read_token_reads_but_cannot_reply_or_end(world, integration_user):
    # Given
    client = token_client(integration_user, scopes=["conversations:read"])
    # When
    read = client.get(f"{BASE}{world.chat.pk}/messages/")
    reply = client.post(f"{BASE}{world.chat.pk}/reply/", {"body": "Hi"}, format="json")
    end = client.post(f"{BASE}{world.chat.pk}/end/", {}, format="json")
    # Then
    assert read.status_code == 200
    assert assert_error(reply, 403)["message"] == "This API token lacks the scope 'conversations:write'."
    assert_error(end, 403)
    assert world.chat.messages.count() == 2


def test_a_token_without_conversation_scopes_cannot_list(world, integration_user):
    # When
    response = token_client(integration_user, scopes=["customers:read"]).get(BASE)
    # Then
    assert assert_error(response, 403)["message"] == "This API token lacks the scope 'conversations:read'."


# --- Messages after an id -------------------------------------------------------------------------------


def test_a_reconnecting_client_gets_the_messages_after_the_last_id_it_saw(world, agent):
    # Given
    client = session_client(agent)
    first, second = world.messages
    third = say(world.chat, "Are you there?", minute=5)
    # When
    everything = client.get(f"{BASE}{world.chat.pk}/messages/").json()
    missed = client.get(f"{BASE}{world.chat.pk}/messages/", {"after": first.pk}).json()
    paged = client.get(f"{BASE}{world.chat.pk}/messages/", {"after": 0, "limit": 2}).json()
    up_to_date = client.get(f"{BASE}{world.chat.pk}/messages/", {"after": third.pk}).json()
    # Then
    assert [m["id"] for m in everything["results"]] == [first.pk, second.pk, third.pk]
    assert [m["body"] for m in missed["results"]] == ["Order 10455", "Are you there?"]
    assert ([m["id"] for m in paged["results"]], paged["has_more"]) == ([first.pk, second.pk], True)
    assert up_to_date == {"results": [], "has_more": False}
    assert everything["results"][0] == {
        "id": first.pk,
        "conversation": world.chat.pk,
        "channel": "chat",
        "external_id": "",
        "direction": "inbound",
        "author_kind": "customer",
        "author": None,
        "author_name": "",
        "body": "Hi, is my order shipped?",
        "payload": {},
        "internal": False,
        "sent_at": "2025-03-14T10:00:00Z",
        "created_at": everything["results"][0]["created_at"],
        "attachments": [],
        # insights' scorer (VADER, English): a neutral question
        "sentiment": 0.0,
        "sentiment_status": "scored",
        "sentiment_language": "en",
        "sentiment_note": "",
    }


def test_internal_messages_reach_agents_but_never_integration_clients(world, agent, integration_user):
    """A supervisor's whisper is for the agent: a channel back-end (which relays to the customer) never gets it."""
    # Given
    whisper, _ = message_add(
        conversation=world.chat, direction="outbound", author_kind="agent", body="Offer the refund", internal=True
    )
    # When
    seen_by_agent = session_client(agent).get(f"{BASE}{world.chat.pk}/messages/").json()["results"]
    seen_by_client = (
        token_client(integration_user, scopes=["conversations:read"])
        .get(f"{BASE}{world.chat.pk}/messages/")
        .json()["results"]
    )
    # Then
    assert [(m["id"], m["internal"]) for m in seen_by_agent][-1] == (whisper.pk, True)
    assert [m["id"] for m in seen_by_client] == [message.pk for message in world.messages]


@pytest.mark.parametrize(("query", "field"), [({"after": "-1"}, "after"), ({"limit": "501"}, "limit")])
def test_bad_paging_is_400(world, agent, query, field):
    # When
    response = session_client(agent).get(f"{BASE}{world.chat.pk}/messages/", query)
    # Then
    assert set(assert_error(response, 400, "invalid")["fields"]) == {field}


# --- Reply ------------------------------------------------------------------------------------------------


def test_a_chat_reply_is_pushed_live_to_the_conversation(world, agent, django_capture_on_commit_callbacks):
    # Given: someone (the visitor's widget) follows the conversation
    layer = get_channel_layer()
    follower = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(conversation_group(conversation_id=world.chat.pk), follower)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        response = session_client(agent).post(
            f"{BASE}{world.chat.pk}/reply/", {"body": "Yes, it left our depot today."}, format="json"
        )
    # Then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["direction"], body["author_kind"], body["author"], body["author_name"], body["payload"]) == (
        "outbound",
        "agent",
        agent.pk,
        str(agent),
        {"delivery": "live"},
    )
    pushed = async_to_sync(layer.receive)(follower)
    assert pushed["type"] == "conversation.message"
    assert (pushed["message"]["id"], pushed["message"]["body"]) == (body["id"], "Yes, it left our depot today.")
    async_to_sync(layer.group_discard)(conversation_group(conversation_id=world.chat.pk), follower)


def test_an_sms_reply_is_recorded_but_not_sent(world, agent):
    # When
    response = session_client(agent).post(f"{BASE}{world.sms.pk}/reply/", {"body": "An engineer is on the way."})
    # Then
    assert response.status_code == 201
    assert response.json()["payload"] == {
        "delivery": "not_sent",
        "reason": "No SMS source to reply through: the customer did not write in through one.",
        "sms": {"encoding": "GSM-7", "characters": 26, "units": 26, "segments": 1, "remaining": 134},
    }
    assert world.sms.messages.get().body == "An engineer is on the way."


def test_a_retried_reply_with_a_client_id_is_one_message(world, agent):
    # When
    client = session_client(agent)
    responses = [
        client.post(f"{BASE}{world.chat.pk}/reply/", {"body": "On it", "client_message_id": "d-1"}) for _ in range(100)
    ]
    # Then
    assert [r.status_code for r in responses] == [201] + [200] * 99
    assert world.chat.messages.filter(direction="outbound").count() == 1


def test_replies_that_cannot_be_made_are_refused(world, agent, agent_b):
    # Given
    conversation_end(actor=None, conversation=world.chat)
    # When
    to_ended = session_client(agent).post(f"{BASE}{world.chat.pk}/reply/", {"body": "Hello?"})
    to_call = session_client(agent_b).post(f"{BASE}{world.call.pk}/reply/", {"body": "Hello?"})
    blank = session_client(agent).post(f"{BASE}{world.sms.pk}/reply/", {"body": "   "})
    # Then
    assert assert_error(to_ended, 409, "conversation_ended")["message"] == f"Conversation {world.chat.pk} has ended."
    assert assert_error(to_call, 409, "no_text_replies")["message"] == (
        f"Conversation {world.call.pk} is a phone call: replies are spoken, there is no text to send."
    )
    assert set(assert_error(blank, 400, "invalid")["fields"]) == {"body"}
    assert Message.objects.filter(direction="outbound").count() == 0


# --- End -----------------------------------------------------------------------------------------------------


def test_ending_records_the_wrap_up_in_an_interaction(world, agent):
    # Given: the agent is handling the chat
    Conversation.objects.filter(pk=world.chat.pk).update(agent=agent, status="active")
    # When
    response = session_client(agent).post(
        f"{BASE}{world.chat.pk}/end/",
        {"wrap_up_code": "order-status", "disposition": "resolved", "notes": "Shipped today, tracking sent."},
        format="json",
    )
    again = session_client(agent).post(f"{BASE}{world.chat.pk}/end/", {"wrap_up_code": "other"}, format="json")
    # Then
    assert response.status_code == 200, response.content
    interaction = Interaction.objects.get()
    assert (response.json()["status"], response.json()["interaction"]) == ("ended", interaction.pk)
    assert (interaction.wrap_up_code, interaction.disposition, interaction.wrap_up_notes) == (
        "order-status",
        "resolved",
        "Shipped today, tracking sent.",
    )
    assert (interaction.channel, interaction.customer_id) == ("chat", world.alice.pk)
    assert [entry["body"] for entry in interaction.transcript] == ["Hi, is my order shipped?", "Order 10455"]
    assert again.status_code == 200
    assert Interaction.objects.get().wrap_up_code == "order-status"


def test_only_the_handling_agent_or_a_supervisor_ends_a_live_conversation(world, agent, supervisor, team_a):
    # Given: agent A is handling the chat; a colleague of the same team is not
    colleague = UserFactory(username="agent.a2", role="agent", teams=[team_a])
    Conversation.objects.filter(pk=world.chat.pk).update(agent=agent, status="active")
    url = f"{BASE}{world.chat.pk}/end/"
    # When
    refused = session_client(colleague).post(url, {"wrap_up_code": "resolved"}, format="json")
    # Then: refused, nothing ended or recorded
    error = assert_error(refused, 403, "forbidden")
    assert error["message"] == "Only the agent handling this conversation (or a supervisor) can do this."
    assert Conversation.objects.get(pk=world.chat.pk).status == "active"
    assert Interaction.objects.count() == 0
    # and the service refuses the same way, whatever interface calls it
    with pytest.raises(PermissionDenied):
        conversation_end(actor=colleague, conversation=world.chat)
    # When: the team's supervisor ends it
    ended = session_client(supervisor).post(url, {"wrap_up_code": "resolved"}, format="json")
    # Then
    assert (ended.status_code, ended.json()["status"]) == (200, "ended")
    assert Interaction.objects.get().agent_id == agent.pk


# --- Attachments --------------------------------------------------------------------------------------------


@pytest.fixture
def attachment(world):
    message = say(world.sms, "Photo of the router", minute=3)
    return Attachment.objects.create(
        message=message,
        filename="router.jpg",
        content_type="image/jpeg",
        size=4,
        sha256="0" * 64,
        file=ContentFile(b"\xff\xd8\xff\xe0", name="router.jpg"),
    )


def test_an_attachment_is_listed_with_its_message_and_downloaded(world, agent, attachment):
    # When
    listed = session_client(agent).get(f"{BASE}{world.sms.pk}/messages/").json()["results"][0]["attachments"]
    download = session_client(agent).get(listed[0]["url"])
    # Then
    assert listed == [
        {
            "id": attachment.pk,
            "filename": "router.jpg",
            "content_type": "image/jpeg",
            "size": 4,
            "sha256": "0" * 64,
            "url": f"{BASE}{world.sms.pk}/attachments/{attachment.pk}/",
        }
    ]
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\xff\xd8\xff\xe0"
    assert download["Content-Type"] == "image/jpeg"
    assert download["Content-Disposition"] == 'attachment; filename="router.jpg"'


def test_attachments_are_permission_checked_through_their_conversation(world, agent_b, admin_user, attachment):
    # When
    other_team = session_client(agent_b).get(f"{BASE}{world.sms.pk}/attachments/{attachment.pk}/")
    wrong_conversation = session_client(admin_user).get(f"{BASE}{world.chat.pk}/attachments/{attachment.pk}/")
    # Then
    assert_error(other_team, 403)
    error = assert_error(wrong_conversation, 404, "not_found")
    assert error["message"] == f"No attachment {attachment.pk} in conversation {world.chat.pk}."


# --- OpenAPI -------------------------------------------------------------------------------------------------


def test_every_adapter_and_conversation_route_is_in_the_schema():
    # Given: the routes of this part, as /api/v1/engagement/... paths with their methods
    methods = ("get", "post", "put", "patch", "delete")
    expected = {
        "/api/v1/engagement/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(route.pattern)): sorted(
            m for m in methods if hasattr(route.callback.view_class, m)
        )
        for route in [*adapter_routes, *conversation_routes]
    }
    # When
    schema = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)
    # Then
    documented = {path: sorted(m for m in schema["paths"].get(path, {}) if m in methods) for path in expected}
    assert documented == expected
    # with Twilio's, Vonage's, WhatsApp's and Messenger's own webhooks, WhatsApp's templates, the push
    # devices and receipts, the agents' draft attachments and the signed media links
    assert len(expected) == 24
