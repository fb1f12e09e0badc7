"""REST API for interactions: record a finished conversation, list with filters, read one."""

from __future__ import annotations

import datetime as dt

import pytest

from records.interactions.models import Interaction
from records.journey.models import JourneyEvent
from tests.api.conftest import assert_error, make_case, make_customer, make_interaction

pytestmark = pytest.mark.django_db

STARTED = "2024-05-06T10:00:00Z"
ANSWERED = "2024-05-06T10:01:00Z"
ENDED = "2024-05-06T10:09:30Z"


def conversation(**fields) -> dict:
    return {"channel": "chat", "started_at": STARTED, "ended_at": ENDED, **fields}


# --- Who may call --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/interactions/"), ("post", "/api/v1/interactions/"), ("get", "/api/v1/interactions/1/")],
)
def test_anonymous_requests_are_refused_with_401(anonymous, method, path):
    # When
    response = getattr(anonymous, method)(path, conversation(), format="json")
    # Then
    assert_error(response, 401, "not_authenticated")
    assert Interaction.objects.count() == 0


def test_an_agent_of_another_team_cannot_read_an_interaction(client_for, agent, world):
    # When
    response = client_for(agent).get(f"/api/v1/interactions/{world.interaction_b.pk}/")
    # Then
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "This interaction belongs to a team you are not in."


@pytest.mark.parametrize("role", ["agent_b", "admin_user"])
def test_the_agent_of_the_team_and_an_admin_read_an_interaction(client_for, request, world, role):
    # When
    response = client_for(request.getfixturevalue(role)).get(f"/api/v1/interactions/{world.interaction_b.pk}/")
    # Then
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["customer"]) == (world.interaction_b.pk, world.customer_b.pk)


def test_an_unknown_interaction_is_404(client_for, admin_user):
    # When
    response = client_for(admin_user).get("/api/v1/interactions/987654/")
    # Then
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "No interaction with id 987654."


def test_the_handling_agent_sees_an_interaction_of_another_team(client_for, agent_b, world):
    # Given: agent_b handled a conversation with team A's customer
    interaction = make_interaction(world.customer_a, agent=agent_b)
    # When
    response = client_for(agent_b).get(f"/api/v1/interactions/{interaction.pk}/")
    # Then
    assert response.status_code == 200


# --- Record --------------------------------------------------------------------------------------


def test_an_agent_records_a_conversation_with_its_transcript(client_for, agent, team_a, world):
    # When
    response = client_for(agent).post(
        "/api/v1/interactions/",
        conversation(
            customer=world.customer_a.pk,
            case=world.case_a.reference,
            direction="inbound",
            external_id="chat-123",
            answered_at=ANSWERED,
            queue="broadband",
            agent=agent.pk,
            team=team_a.pk,
            transcript=[
                {"at": "2024-05-06T10:01:05Z", "author": "customer", "author_name": "Alice", "body": "No internet"},
                {"author": "agent", "body": "Let me check the line."},
            ],
            wrap_up_code="fault",
            disposition="engineer_booked",
            wrap_up_notes="Line test failed",
            context_snapshot={"intent": "fault", "verified": True, "attempts": 2},
        ),
        format="json",
    )
    # Then
    assert response.status_code == 201, response.content
    body = response.json()
    interaction = Interaction.objects.get(pk=body["id"])
    assert {k: body[k] for k in ("customer", "case", "channel", "direction", "external_id", "queue", "team")} == {
        "customer": world.customer_a.pk,
        "case": world.case_a.pk,
        "channel": "chat",
        "direction": "inbound",
        "external_id": "chat-123",
        "queue": "broadband",
        "team": team_a.pk,
    }
    assert (body["agent"], body["agent_username"]) == (agent.pk, "agent.a")
    assert (body["started_at"], body["answered_at"], body["ended_at"]) == (STARTED, ANSWERED, ENDED)
    assert body["handle_seconds"] == 510.0
    assert body["transcript"] == [
        {"at": "2024-05-06T10:01:05Z", "author": "customer", "author_name": "Alice", "body": "No internet"},
        {"author": "agent", "body": "Let me check the line."},
    ]
    assert (body["wrap_up_code"], body["disposition"], body["wrap_up_notes"]) == (
        "fault",
        "engineer_booked",
        "Line test failed",
    )
    assert body["context_snapshot"] == {"intent": "fault", "verified": True, "attempts": 2}
    assert (body["sentiment"], body["sentiment_label"]) == (None, "")
    assert interaction.transcript[1] == {"author": "agent", "body": "Let me check the line."}
    event = JourneyEvent.objects.filter(customer=world.customer_a, kind="interaction.recorded").latest("id")
    assert (event.channel, event.summary, event.occurred_at) == (
        "chat",
        "Web chat inbound conversation (engineer_booked)",
        dt.datetime(2024, 5, 6, 10, 9, 30, tzinfo=dt.UTC),
    )
    assert event.payload == {"interaction_id": interaction.pk, "case_id": world.case_a.pk, "queue": "broadband"}


def test_an_anonymous_visitors_conversation_is_recorded_without_a_customer(client_for, agent):
    # When
    response = client_for(agent).post("/api/v1/interactions/", conversation(channel="voice"), format="json")
    # Then
    assert response.status_code == 201
    assert (response.json()["customer"], response.json()["channel"]) == (None, "voice")
    assert JourneyEvent.objects.count() == 0


def test_the_same_external_conversation_is_recorded_once(client_for, agent, world):
    # Given
    client = client_for(agent)
    first = client.post("/api/v1/interactions/", conversation(external_id="chat-9"), format="json")
    # When
    again = client.post("/api/v1/interactions/", conversation(external_id="chat-9"), format="json")
    other_channel = client.post(
        "/api/v1/interactions/", conversation(channel="email", external_id="chat-9"), format="json"
    )
    # Then
    assert first.status_code == 201
    error = assert_error(again, 409, "already_recorded")
    assert error["message"] == "The chat conversation 'chat-9' is already recorded."
    assert other_channel.status_code == 201
    assert Interaction.objects.filter(external_id="chat-9").count() == 2


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"channel": "fax"}, {"channel"}),
        ({"direction": "sideways"}, {"direction"}),
        ({"started_at": "yesterday"}, {"started_at"}),
        ({"ended_at": "2024-05-06T09:00:00Z"}, {"ended_at"}),
        ({"answered_at": "2024-05-06T11:00:00Z"}, {"answered_at"}),
        ({"transcript": [{"author": "robot", "body": "hi"}]}, {"transcript"}),
        ({"transcript": [{"author": "agent"}]}, {"transcript"}),
        ({"transcript": "hello"}, {"transcript"}),
        ({"transcript": [{"author": "agent", "body": "a\x00b"}]}, {"transcript"}),
        ({"context_snapshot": ["a"]}, {"context_snapshot"}),
        ({"context_snapshot": {"note": "a\x00b"}}, {"context_snapshot"}),
        ({"agent": 987654}, {"agent"}),
        ({"team": "blue"}, {"team"}),
        ({"customer": "alice"}, {"customer"}),
        ({"external_id": "x" * 201}, {"external_id"}),
    ],
)
def test_a_malformed_interaction_is_400_with_the_fields_and_nothing_is_written(client_for, agent, fields, errors):
    # When
    response = client_for(agent).post("/api/v1/interactions/", conversation(**fields), format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == errors
    assert Interaction.objects.count() == 0


def test_required_fields_are_named(client_for, agent):
    # When
    response = client_for(agent).post("/api/v1/interactions/", {}, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"channel", "started_at", "ended_at"}


def test_a_case_of_another_customer_is_400(client_for, agent, world):
    # Given
    other = make_customer(world.customer_a.team, given_name="Carl", family_name="Cole")
    # When
    response = client_for(agent).post(
        "/api/v1/interactions/", conversation(customer=other.pk, case=str(world.case_a.pk)), format="json"
    )
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"case": ["The case belongs to another customer."]}


def test_the_handling_agent_must_be_in_the_team_recorded(client_for, agent, agent_b, team_a, world):
    # When: team A's agent records a conversation handled by team B's agent under team A
    response = client_for(agent).post(
        "/api/v1/interactions/",
        conversation(customer=world.customer_a.pk, team=team_a.pk, agent=agent_b.pk),
        format="json",
    )
    # Then: refused, so it never shows up for an agent of another team
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"agent": [f"{agent_b} is not in the team Team A."]}
    assert Interaction.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("customer", "customer_b", 403),
        ("case", "case_b", 403),
        ("team", "team_b", 403),
        ("customer", 987654, 404),
        ("case", "CS-9999999", 404),
    ],
)
def test_an_agent_records_only_against_what_their_teams_hold(client_for, agent, world, team_b, field, value, status):
    # Given
    known = {"customer_b": world.customer_b.pk, "case_b": world.case_b.reference, "team_b": team_b.pk}
    # When
    response = client_for(agent).post(
        "/api/v1/interactions/", conversation(**{field: known.get(value, value)}), format="json"
    )
    # Then
    assert_error(response, status)
    assert Interaction.objects.count() == 2


def test_an_integration_client_records_for_any_team(token_client, integration_user, world, team_b):
    # When
    response = token_client(integration_user, scopes=["interactions:write"]).post(
        "/api/v1/interactions/", conversation(customer=world.customer_b.pk, team=team_b.pk), format="json"
    )
    # Then
    assert response.status_code == 201
    assert response.json()["team"] == team_b.pk


# --- List ----------------------------------------------------------------------------------------


@pytest.fixture
def history(team_a, agent):
    """Four team A conversations, 40, 30, 20 and 10 minutes ago."""
    alice = make_customer(team_a, given_name="Alice")
    bob = make_customer(team_a, given_name="Bob")
    case = make_case(alice)
    return {
        "alice": alice,
        "bob": bob,
        "case": case,
        "voice": make_interaction(alice, channel="voice", minutes_ago=40, queue="billing", wrap_up_code="paid"),
        "chat": make_interaction(alice, channel="chat", minutes_ago=30, case=case, agent=agent),
        "email": make_interaction(bob, channel="email", minutes_ago=20, direction="outbound"),
        "sms": make_interaction(bob, channel="sms", minutes_ago=10, queue="billing"),
    }


def listed(client, **params) -> list[str]:
    response = client.get("/api/v1/interactions/", params)
    assert response.status_code == 200, response.content
    return [interaction["channel"] for interaction in response.json()["results"]]


def test_the_list_is_newest_first_and_only_visible_interactions(client_for, agent, world, history):
    # When
    body = client_for(agent).get("/api/v1/interactions/").json()
    # Then: team B's interaction is not there
    assert body["count"] == 5
    assert sorted(i["id"] for i in body["results"]) == sorted(
        [world.interaction_a.pk, *(history[name].pk for name in ("voice", "chat", "email", "sms"))]
    )
    started = [dt.datetime.fromisoformat(i["started_at"]) for i in body["results"]]
    assert started == sorted(started, reverse=True)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["sms", "email", "chat", "voice"]),
        ({"channel": "voice"}, ["voice"]),
        ({"channel": ["sms", "email"]}, ["sms", "email"]),
        ({"direction": "outbound"}, ["email"]),
        ({"queue": "billing"}, ["sms", "voice"]),
        ({"wrap_up_code": "paid"}, ["voice"]),
        ({"ordering": "started_at"}, ["voice", "chat", "email", "sms"]),
        ({"ordering": "-ended_at"}, ["sms", "email", "chat", "voice"]),
    ],
)
def test_filters_and_ordering(client_for, agent, history, params, expected):
    assert listed(client_for(agent), **params) == expected


def test_filters_by_customer_case_agent_and_time(client_for, agent, history):
    # Given
    client = client_for(agent)
    cutoff = (history["chat"].started_at + dt.timedelta(seconds=1)).isoformat()
    # Then
    assert listed(client, customer=history["bob"].pk) == ["sms", "email"]
    assert listed(client, case=history["case"].pk) == ["chat"]
    assert listed(client, agent=agent.pk) == ["chat"]
    assert listed(client, started_after=cutoff) == ["sms", "email"]
    assert listed(client, started_before=cutoff) == ["chat", "voice"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"direction": "up"}, "direction"),
        ({"customer": "bob"}, "customer"),
        ({"started_after": "noon"}, "started_after"),
        ({"queue": "a\x00"}, "queue"),
    ],
)
def test_a_malformed_filter_is_400_with_the_field(client_for, agent, params, field):
    # When
    response = client_for(agent).get("/api/v1/interactions/", params)
    # Then
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == [field]


def test_the_list_is_paginated(client_for, agent, history):
    # When
    client = client_for(agent)
    first = client.get("/api/v1/interactions/", {"page_size": 3}).json()
    second = client.get("/api/v1/interactions/", {"page_size": 3, "page": 2}).json()
    # Then
    assert (first["count"], [i["channel"] for i in first["results"]]) == (4, ["sms", "email", "chat"])
    assert first["next"] == "http://testserver/api/v1/interactions/?page=2&page_size=3"
    assert ([i["channel"] for i in second["results"]], second["next"]) == (["voice"], None)
