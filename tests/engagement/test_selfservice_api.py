"""The self-service REST API: IVR input for the telephony platform, knowledge search, containment."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from django.core.management import call_command
from django.urls import include, path
from django.utils import timezone
from rest_framework.test import APIClient

from engagement.context.services import context_alias
from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_end, conversation_escalate
from engagement.selfservice import urls as selfservice_urls
from engagement.selfservice.services import knowledge_article_save
from engagement.selfservice.words import AGENT_CHOICE_VOICE, GREETING, HANDOVER_SAY, MAIN_MENU_VOICE_FREE
from tests.engagement.selfservice_support import (
    assert_error,
    make_customer,
    session_client,
    token_client,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("selfservice_env")]

# A URL configuration of self-service's routes alone, for a schema of just them.
urlpatterns = [path("api/v1/engagement/", include((selfservice_urls.urlpatterns, "engagement-api")))]

MAIN_MENU = (
    "For Order status, press 1. For Delivery, press 2. For Balance, press 3. For Opening hours, press 4. "
    f"{AGENT_CHOICE_VOICE} {MAIN_MENU_VOICE_FREE}"
)


@pytest.fixture
def ivr(integration_user):
    """The telephony platform, with its scoped token."""
    return token_client(integration_user, scopes=["conversations:write"])


def ivr_input(client, call_id: str, **body):
    return client.post(f"/api/v1/engagement/ivr/{call_id}/input/", body, format="json")


# --- IVR ----------------------------------------------------------------------------------------


def test_a_new_call_is_opened_identified_and_greeted(flows, ivr, team_a):
    # Given: a known caller
    customer = make_customer(team_a, phone="+442071838750")
    # When
    response = ivr_input(ivr, "CA-100", caller="+44 20 7183 8750")
    # Then
    assert response.status_code == 200, response.content
    conversation = Conversation.objects.get(channel="voice", external_id="CA-100")
    assert (conversation.customer, conversation.verification_level) == (customer, "identified")
    assert response.json() == {
        "conversation": conversation.pk,
        "call_id": "CA-100",
        "status": "self_service",
        "prompts": [GREETING, MAIN_MENU],
        "gather": True,
        "expect": {"kind": "menu", "choices": ["1", "2", "3", "4", "0"]},
        "transfer": False,
        "queue": "",
        "hangup": False,
        "replayed": False,
    }


def test_digits_then_speech_then_the_end_of_the_call(flows, ivr, django_capture_on_commit_callbacks):
    # Given
    ivr_input(ivr, "CA-1")
    # When
    asked = ivr_input(ivr, "CA-1", digits="1").json()
    with django_capture_on_commit_callbacks(execute=True):
        answered = ivr_input(ivr, "CA-1", speech="one two three four five six").json()
    # Then
    assert (asked["prompts"], asked["expect"], asked["gather"]) == (
        ["What is your order number?"],
        {"kind": "ask", "choices": []},
        True,
    )
    assert answered["prompts"] == ["Order 123456 is out for delivery.", "Goodbye!"]
    assert (answered["status"], answered["gather"], answered["expect"], answered["hangup"]) == (
        "ended",
        False,
        None,
        True,
    )


def test_zero_transfers_the_call(flows, ivr):
    # Given
    ivr_input(ivr, "CA-1", digits="1")
    # When
    body = ivr_input(ivr, "CA-1", digits="0").json()
    # Then
    assert body["prompts"] == [HANDOVER_SAY]
    assert (body["transfer"], body["queue"], body["status"], body["gather"]) == (True, "orders", "queued", False)
    # And later inputs only say where the call is
    later = ivr_input(ivr, "CA-1", digits="5").json()
    assert (later["prompts"], later["transfer"]) == ([], True)


def test_the_voice_adapters_call_is_found_by_its_alias(flows, ivr):
    # Given: a call opened by the voice adapter (external id "<source>:<call id>", alias "call:<call id>")
    conversation, _ = conversation_start(channel="voice", external_id="twilio:CA-7")
    context_alias(alias="call:CA-7", scope="conversation", context_id=conversation.pk)
    # When
    body = ivr_input(ivr, "CA-7").json()
    # Then
    assert body["conversation"] == conversation.pk
    assert Conversation.objects.filter(channel="voice").count() == 1


def test_a_redelivered_input_is_replayed(flows, ivr):
    first = ivr_input(ivr, "CA-1", digits="1", input_id="e1").json()
    again = ivr_input(ivr, "CA-1", digits="1", input_id="e1").json()
    assert (again["prompts"], again["replayed"]) == (first["prompts"], True)


@pytest.mark.parametrize(
    ("body", "field"),
    [({"digits": "12a"}, "digits"), ({"speech": "x" * 501}, "speech"), ({"digits": "1", "speech": "one"}, None)],
)
def test_bad_input_is_a_clear_400(flows, ivr, body, field):
    error = assert_error(ivr_input(ivr, "CA-1", **body), 400, "invalid")
    if field:
        assert field in error["fields"]
    else:
        assert error["fields"] == {"non_field_errors": ["Send digits or speech, not both."]}
    assert Conversation.objects.count() == 0


def test_an_input_for_an_ended_call_is_a_409(flows, ivr):
    ivr_input(ivr, "CA-1")
    conversation_end(actor=None, conversation=Conversation.objects.get())
    assert_error(ivr_input(ivr, "CA-1", digits="1"), 409, "conversation_ended")


def test_only_the_telephony_platform_or_an_admin_drives_the_ivr(flows, agent, supervisor, admin_user, integration_user):
    assert_error(ivr_input(session_client(agent), "CA-1"), 403, "forbidden")
    assert_error(ivr_input(session_client(supervisor), "CA-1"), 403, "forbidden")
    assert_error(ivr_input(token_client(integration_user, scopes=["conversations:read"]), "CA-1"), 403)
    assert ivr_input(session_client(admin_user), "CA-1").status_code == 200
    assert_error(ivr_input(APIClient(), "CA-2"), 401)


# --- Knowledge search ---------------------------------------------------------------------------


@pytest.fixture
def articles():
    hours = knowledge_article_save(title="When are you open?", body="Our hours: 8am to 8pm.", keywords="times")
    knowledge_article_save(title="Returns", body="Within 30 days.")
    knowledge_article_save(title="Opening a new account", body="Secret draft.", is_published=False)
    return hours


def test_agents_search_the_knowledge_base(articles, agent):
    # When
    response = session_client(agent).get("/api/v1/engagement/knowledge/search/", {"q": "opening hours"})
    # Then
    assert response.status_code == 200
    body = response.json()
    assert (body["query"], body["count"]) == ("opening hours", 1)
    hit = body["results"][0]
    assert {k: v for k, v in hit.items() if k != "rank"} == {
        "id": articles.pk,
        "title": "When are you open?",
        "body": "Our hours: 8am to 8pm.",
        "keywords": "times",
        "language": "english",
    }
    assert hit["rank"] > 0


def test_a_token_with_the_conversations_read_scope_searches(articles, integration_user):
    ok = token_client(integration_user, scopes=["conversations:read"]).get(
        "/api/v1/engagement/knowledge/search/", {"q": "returns", "limit": 1}
    )
    assert (ok.status_code, ok.json()["count"]) == (200, 1)
    refused = token_client(integration_user, scopes=["customers:read"]).get(
        "/api/v1/engagement/knowledge/search/", {"q": "returns"}
    )
    assert_error(refused, 403)


def test_a_search_needs_q(agent):
    error = assert_error(session_client(agent).get("/api/v1/engagement/knowledge/search/"), 400, "invalid")
    assert error["fields"] == {"q": ["This field is required."]}


# --- Containment --------------------------------------------------------------------------------


@pytest.fixture
def ended_conversations(team_a, team_b, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for visitor, team, escalate in (("a1", team_a, False), ("a2", team_a, True), ("b1", team_b, False)):
            conversation, _ = conversation_start(channel="chat", visitor=visitor, team=team)
            if escalate:
                conversation_escalate(conversation=conversation)
            conversation_end(actor=None, conversation=conversation)


def test_a_supervisor_sees_the_containment_of_their_teams(ended_conversations, supervisor):
    # When
    start = (timezone.now() - timedelta(hours=1)).isoformat()
    response = session_client(supervisor).get("/api/v1/engagement/selfservice/containment/", {"start": start})
    # Then
    assert response.status_code == 200
    body = response.json()
    assert body["channels"] == [{"channel": "chat", "ended": 2, "contained": 1, "rate": 0.5}]
    assert body["total"] == {"channel": "", "ended": 2, "contained": 1, "rate": 0.5}
    assert set(body) == {"start", "end", "channels", "total"}


def test_an_admin_sees_all_and_the_default_period_is_the_last_seven_days(ended_conversations, admin_user):
    body = session_client(admin_user).get("/api/v1/engagement/selfservice/containment/").json()
    assert body["total"] == {"channel": "", "ended": 3, "contained": 2, "rate": 0.6667}


def test_agents_do_not_see_containment(agent):
    assert_error(session_client(agent).get("/api/v1/engagement/selfservice/containment/"), 403, "forbidden")


def test_a_period_ending_before_it_starts_is_a_400(supervisor):
    now = timezone.now()
    response = session_client(supervisor).get(
        "/api/v1/engagement/selfservice/containment/",
        {"start": now.isoformat(), "end": (now - timedelta(days=1)).isoformat()},
    )
    assert assert_error(response, 400, "invalid")["fields"] == {"end": ["The end must be after the start."]}


# --- Schema -------------------------------------------------------------------------------------


def test_the_routes_are_in_the_schema_without_warnings(tmp_path):
    # When: the schema of self-service's routes alone, failing on any warning
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--urlconf", __name__, "--file", str(target))
    # Then
    paths = yaml.safe_load(target.read_text())["paths"]
    assert {route: sorted(m for m in operations if m != "parameters") for route, operations in paths.items()} == {
        "/api/v1/engagement/ivr/{call_id}/input/": ["post"],
        "/api/v1/engagement/knowledge/search/": ["get"],
        "/api/v1/engagement/selfservice/containment/": ["get"],
    }
    search = paths["/api/v1/engagement/knowledge/search/"]["get"]
    assert {p["name"] for p in search["parameters"]} == {"q", "limit"}


def test_the_routes_are_in_the_projects_schema(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    assert {
        "/api/v1/engagement/ivr/{call_id}/input/",
        "/api/v1/engagement/knowledge/search/",
        "/api/v1/engagement/selfservice/containment/",
    } <= set(schema["paths"])
