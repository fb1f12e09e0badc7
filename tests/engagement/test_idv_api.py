"""The ID&V REST API (/api/v1/engagement/conversations/<id>/…) and its console (verification locks).

Answers are compared whole: a code request and a failed check must read exactly the same for
a known customer and for an unknown contact.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import include, path
from django.utils import timezone
from rest_framework.test import APIClient

from cea.accounts.services import api_token_create
from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_start
from engagement.idv import senders
from engagement.idv.models import VerificationLock
from engagement.idv.urls import urlpatterns as idv_urlpatterns
from records.audit.selectors import audit_trail
from records.customers.services import customer_create
from records.identities.services import identity_add
from records.journey.models import JourneyEvent
from tests.accounts.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("idv_env")]

# The ID&V routes alone, for checking their part of the OpenAPI schema (see the last tests).
urlpatterns = [path("api/v1/engagement/", include((idv_urlpatterns, "engagement-api")))]

FAILED = {"error": {"code": "verification_failed", "message": "Those details could not be verified."}}
LOCKED_MESSAGE = "Too many failed verification attempts: verification is paused. Try again in 30 minutes."


def _signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _with_token(user, scopes) -> APIClient:
    _, plaintext = api_token_create(user=user, name="ivr", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def _conversation(customer=None, team=None) -> Conversation:
    conversation, _ = conversation_start(channel="chat", customer=customer, team=team)
    return conversation


def _handled_by(agent, conversation: Conversation) -> Conversation:
    """The conversation, answered by ``agent`` (its handling agent)."""
    Conversation.objects.filter(pk=conversation.pk).update(agent=agent, status="active")
    conversation.refresh_from_db()
    return conversation


def _url(conversation_id: int, action: str) -> str:
    return f"/api/v1/engagement/conversations/{conversation_id}/{action}/"


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST JSON to an ID&V route; what the request sends on commit (the code's task) runs."""

    def send(client, conversation_id: int, action: str, body: dict):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(_url(conversation_id, action), body, format="json")

    return send


def _sent_code() -> str:
    return re.search(r"\b(\d{6})\b", senders.outbox[-1].text).group(1)


# --- Identify -----------------------------------------------------------------------------------


def test_identify_one_customer(post, agent, alice, team_a):
    # Given
    conversation = _handled_by(agent, _conversation(team=team_a))
    # When
    response = post(_signed_in(agent), conversation.pk, "identify", {"kind": "phone", "value": "07911 123456"})
    # Then
    assert response.status_code == 200
    assert response.json() == {
        "outcome": "identified",
        "conversation_id": conversation.pk,
        "verification_level": "identified",
        "customer_id": alice.pk,
        "match_count": 1,
        "matches": [{"customer_id": alice.pk, "kind": "phone", "display_name": "Alice Smith"}],
    }


def test_identify_leaves_out_the_customers_the_user_may_not_see(post, agent, team_a, team_b):
    # Given: an account number of a team A customer is the device id of a team B customer
    ours = customer_create(actor=None, given_name="Ann", family_name="Ours", team=team_a)
    theirs = customer_create(actor=None, given_name="Bob", family_name="Theirs", team=team_b)
    identity_add(actor=None, customer=ours, kind="account", value="ACC778899")
    identity_add(actor=None, customer=theirs, kind="device", value="ACC778899")
    conversation = _handled_by(agent, _conversation(team=team_a))
    # When
    response = post(_signed_in(agent), conversation.pk, "identify", {"value": "ACC778899"})
    # Then: the team B customer is not counted, as if they were not on file
    assert response.status_code == 200
    assert response.json() == {
        "outcome": "identified",
        "conversation_id": conversation.pk,
        "verification_level": "identified",
        "customer_id": ours.pk,
        "match_count": 1,
        "matches": [{"customer_id": ours.pk, "kind": "account", "display_name": "Ann Ours"}],
    }


def test_a_customer_of_another_team_reads_exactly_like_no_match(post, agent_b, alice, team_b):
    # Given: agent B handles two team B conversations
    crossing = _handled_by(agent_b, _conversation(team=team_b))
    nobody = _handled_by(agent_b, _conversation(team=team_b))
    client = _signed_in(agent_b)
    # When: one caller gives Alice's phone (team A), the other a number on nobody's file
    found = post(client, crossing.pk, "identify", {"kind": "phone", "value": "+447911123456"})
    unknown = post(client, nobody.pk, "identify", {"kind": "phone", "value": "+447911000999"})
    knowledge = post(client, crossing.pk, "verification/knowledge", {"account_digits": "7890"})
    # Then: the same answer; Alice is neither bound, nor verified, nor written to
    assert (found.status_code, unknown.status_code) == (200, 200)
    assert found.json() == {
        "outcome": "not_identified",
        "conversation_id": crossing.pk,
        "verification_level": "anonymous",
        "customer_id": None,
        "match_count": 0,
        "matches": [],
    }
    assert {**found.json(), "conversation_id": 0} == {**unknown.json(), "conversation_id": 0}
    assert (knowledge.status_code, knowledge.json()) == (400, FAILED)
    crossing.refresh_from_db()
    assert (crossing.customer_id, crossing.verification_level) == (None, "anonymous")
    assert (
        not JourneyEvent.objects.filter(customer=alice)
        .exclude(kind__in=["customer.created", "identity.added"])
        .exists()
    )
    assert not VerificationLock.objects.filter(customer=alice).exists()


def test_only_the_handling_agent_a_supervisor_or_a_client_may_identify(
    post, agent, supervisor, integration_user, alice, team_a
):
    # Given: agent A handles the conversation; a colleague of the same team does not
    colleague = UserFactory(username="agent.a2", role="agent", teams=[team_a])
    conversation = _handled_by(agent, _conversation(team=team_a))
    other = _handled_by(agent, _conversation(team=team_a))
    body = {"kind": "phone", "value": "+447911123456"}
    # When
    refused = post(_signed_in(colleague), conversation.pk, "identify", body)
    by_supervisor = post(_signed_in(supervisor), conversation.pk, "identify", body)
    by_client = post(_with_token(integration_user, ["verification:write"]), other.pk, "identify", body)
    # Then
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {
            "code": "forbidden",
            "message": "Only the agent handling this conversation (or a supervisor) can do this.",
        }
    }
    assert (by_supervisor.status_code, by_supervisor.json()["customer_id"]) == (200, alice.pk)
    assert (by_client.status_code, by_client.json()["customer_id"]) == (200, alice.pk)


def test_identify_nobody(post, agent, alice, team_a):
    conversation = _handled_by(agent, _conversation(team=team_a))
    response = post(_signed_in(agent), conversation.pk, "identify", {"kind": "email", "value": "who@example.com"})
    assert response.status_code == 200
    assert response.json() == {
        "outcome": "not_identified",
        "conversation_id": conversation.pk,
        "verification_level": "anonymous",
        "customer_id": None,
        "match_count": 0,
        "matches": [],
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"value": ["This field is required."]}),
        ({"kind": "fax", "value": "1"}, {"kind": ['"fax" is not a valid choice.']}),
        ({"kind": "phone", "value": "12"}, {"value": ["'12' is not a valid phone number."]}),
    ],
    ids=["no value", "unknown kind", "malformed phone"],
)
def test_identify_bad_input_is_a_400_with_the_fields(post, agent, team_a, body, fields):
    conversation = _handled_by(agent, _conversation(team=team_a))
    response = post(_signed_in(agent), conversation.pk, "identify", body)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields


# --- One-time passcodes -------------------------------------------------------------------------


def test_a_code_request_reads_the_same_for_a_known_and_an_unknown_contact(post, agent, alice, team_a):
    # Given
    client = _signed_in(agent)
    known = _handled_by(agent, _conversation(alice))
    unknown = _handled_by(agent, _conversation(team=team_a))
    # When
    for_known = post(client, known.pk, "verification/otp", {"method": "sms"})
    for_unknown = post(client, unknown.pk, "verification/otp", {"method": "sms"})
    # Then
    assert (for_known.status_code, for_unknown.status_code) == (202, 202)
    assert for_known.content == for_unknown.content
    assert for_known.json() == {
        "method": "sms",
        "message": "If the details match our records, a code has been sent by SMS to the registered phone.",
        "expires_in_seconds": 300,
    }
    assert [sms.to for sms in senders.outbox] == ["+447911123456"]


def test_the_right_code_verifies(post, agent, alice):
    # Given
    client = _signed_in(agent)
    conversation = _handled_by(agent, _conversation(alice))
    post(client, conversation.pk, "verification/otp", {"method": "sms"})
    # When
    response = post(
        client, conversation.pk, "verification/otp/check", {"code": f" {_sent_code()[:3]} {_sent_code()[3:]}"}
    )
    # Then
    assert response.status_code == 200
    assert response.json() == {
        "verified": True,
        "conversation_id": conversation.pk,
        "customer_id": alice.pk,
        "verification_level": "verified",
        "method": "otp_sms",
    }
    conversation.refresh_from_db()
    assert conversation.verification_level == "verified"
    # The audit trail names the agent who verified.
    [change] = [
        e for e in audit_trail(objs=[conversation]) if e.label == "update" and "verification_level" in e.changes
    ]
    assert (change.changes["verification_level"], change.username) == (["identified", "verified"], "agent.a")


def test_failed_checks_read_the_same_for_a_known_and_an_unknown_contact(post, agent, alice, team_a):
    # Given
    client = _signed_in(agent)
    known = _handled_by(agent, _conversation(alice))
    unknown = _handled_by(agent, _conversation(team=team_a))
    post(client, known.pk, "verification/otp", {"method": "sms"})
    post(client, unknown.pk, "verification/otp", {"method": "sms"})
    wrong = f"{(int(_sent_code()) + 1) % 10**6:06d}"
    responses = {}
    # When
    for name, conversation in (("known", known), ("unknown", unknown)):
        responses[name] = [
            post(client, conversation.pk, "verification/otp/check", {"code": wrong}),
            post(client, conversation.pk, "verification/knowledge", {"date_of_birth": "1980-02-29", "postcode": "N1"}),
            post(client, conversation.pk, "verification/knowledge", {"account_digits": "0000"}),
            post(client, conversation.pk, "verification/knowledge", {"account_digits": "7890"}),
            post(client, conversation.pk, "verification/otp", {"method": "sms"}),
        ]
    # Then: two generic failures, the third locks, then everything is refused alike
    for name in ("known", "unknown"):
        first, second, third, fourth, fifth = responses[name]
        assert [r.status_code for r in responses[name]] == [400, 400, 429, 429, 429]
        assert first.json() == second.json() == FAILED
        for locked in (third, fourth, fifth):
            body = locked.json()["error"]
            assert (body["code"], body["message"]) == ("verification_locked", LOCKED_MESSAGE)
            assert 1 <= body["retry_after_seconds"] <= 1800
    for known_response, unknown_response in zip(responses["known"], responses["unknown"], strict=True):
        known_body, unknown_body = known_response.json(), unknown_response.json()
        known_body["error"].pop("retry_after_seconds", None)
        unknown_body["error"].pop("retry_after_seconds", None)
        assert known_body == unknown_body
    assert VerificationLock.objects.get(customer=alice).failures == 3
    assert JourneyEvent.objects.filter(customer=alice, kind="idv.locked").count() == 1


@pytest.mark.parametrize(
    ("action", "body", "fields"),
    [
        ("verification/otp", {}, {"method": ["This field is required."]}),
        ("verification/otp", {"method": "pigeon"}, {"method": ['"pigeon" is not a valid choice.']}),
        ("verification/otp/check", {"code": "12345"}, {"code": ["A code is 6 digits."]}),
        ("verification/otp/check", {"code": "１２３４５６"}, {"code": ["A code is 6 digits."]}),
        (
            "verification/knowledge",
            {},
            {"date_of_birth": ["This field is required."], "postcode": ["This field is required."]},
        ),
        (
            "verification/knowledge",
            {"date_of_birth": "29/02/1980", "postcode": "SW1A 1AA"},
            {"date_of_birth": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
        ),
        ("verification/knowledge", {"account_digits": "12a4"}, {"account_digits": ["Exactly 4 digits."]}),
        (
            "verification/knowledge",
            {"account_digits": "1234", "postcode": "SW1A 1AA"},
            {"non_field_errors": ["Answer one question."]},
        ),
    ],
    ids=[
        "no method",
        "unknown method",
        "short code",
        "non-ascii digits",
        "no answers",
        "bad date",
        "letters in digits",
        "two questions",
    ],
)
def test_bad_input_is_a_400_with_the_fields_and_is_not_counted(post, agent, alice, action, body, fields):
    # Given
    conversation = _conversation(alice)
    # When
    response = post(_signed_in(agent), conversation.pk, action, body)
    # Then
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid", "message": "The request has invalid fields.", "fields": fields}
    }
    assert not VerificationLock.objects.exists()


# --- Knowledge questions ------------------------------------------------------------------------


def test_knowledge_answers_verify(post, agent, alice):
    # Given
    conversation = _handled_by(agent, _conversation(alice))
    # When
    response = post(
        _signed_in(agent),
        conversation.pk,
        "verification/knowledge",
        {"date_of_birth": "1980-02-29", "postcode": "sw1a 1aa"},
    )
    # Then
    assert response.status_code == 200
    assert response.json() == {
        "verified": True,
        "conversation_id": conversation.pk,
        "customer_id": alice.pk,
        "verification_level": "verified",
        "method": "knowledge_dob_postcode",
    }


# --- Who may ------------------------------------------------------------------------------------

ACTIONS = [
    ("identify", {"kind": "phone", "value": "+447911123456"}),
    ("verification/otp", {"method": "sms"}),
    ("verification/otp/check", {"code": "123456"}),
    ("verification/knowledge", {"account_digits": "7890"}),
]


@pytest.mark.parametrize(("action", "body"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_an_agent_of_another_team_is_refused(post, agent_b, alice, action, body):
    # Given
    conversation = _conversation(alice)
    # When
    response = post(_signed_in(agent_b), conversation.pk, action, body)
    # Then: refused before anything is looked at or counted
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "forbidden", "message": "This conversation belongs to a team you are not in."}
    }
    assert senders.outbox == []
    assert not VerificationLock.objects.exists()


@pytest.mark.parametrize(("action", "body"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_an_unknown_conversation_is_a_404(post, agent, action, body):
    response = post(_signed_in(agent), 987654321, action, body)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No conversation with id 987654321."}}


def test_signing_in_is_required(post, alice):
    response = post(APIClient(), _conversation(alice).pk, "verification/otp", {"method": "sms"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_supervisor_of_the_team_and_an_admin_may(post, supervisor, admin_user, alice):
    conversation = _conversation(alice)
    for user in (supervisor, admin_user):
        response = post(_signed_in(user), conversation.pk, "identify", {"kind": "phone", "value": "+447911123456"})
        assert response.status_code == 200


def test_an_api_token_needs_the_verification_scope(post, integration_user, alice):
    # Given
    conversation = _conversation(alice)
    allowed = _with_token(integration_user, ["verification:write"])
    refused = _with_token(integration_user, ["customers:read", "customers:write", "conversations:write"])
    # When
    ok = post(allowed, conversation.pk, "verification/knowledge", {"account_digits": "7890"})
    no = post(refused, conversation.pk, "verification/knowledge", {"account_digits": "7890"})
    # Then
    assert ok.status_code == 200
    assert ok.json()["verification_level"] == "verified"
    assert no.status_code == 403
    assert no.json() == {
        "error": {"code": "permission_denied", "message": "This API token lacks the scope 'verification:write'."}
    }


def test_an_ended_conversation_is_a_409(post, agent, alice):
    conversation = _conversation(alice)
    Conversation.objects.filter(pk=conversation.pk).update(status="ended")
    response = post(_signed_in(agent), conversation.pk, "verification/knowledge", {"account_digits": "7890"})
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "conversation_ended", "message": f"Conversation {conversation.pk} has ended."}
    }


# --- The OpenAPI schema -------------------------------------------------------------------------


def test_the_routes_are_in_the_schema_with_their_answers(client):
    # When
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    # Then
    base = "/api/v1/engagement/conversations/{conversation_id}"
    expected = {
        f"{base}/identify/": ["200", "400", "401", "403", "404", "409", "413", "429"],
        f"{base}/verification/otp/": ["202", "400", "401", "403", "404", "409", "413", "429"],
        f"{base}/verification/otp/check/": ["200", "400", "401", "403", "404", "409", "413", "429"],
        f"{base}/verification/knowledge/": ["200", "400", "401", "403", "404", "409", "413", "429"],
    }
    for route, codes in expected.items():
        assert sorted(schema["paths"][route]) == ["post"]
        assert sorted(schema["paths"][route]["post"]["responses"]) == codes


def test_the_idv_schema_validates_without_warnings(tmp_path):
    # When: the schema of these routes alone (this module is their URLconf)
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--urlconf", __name__, "--validate", "--fail-on-warn", "--file", str(target))
    # Then
    assert len(yaml.safe_load(target.read_text())["paths"]) == 4


# --- The console: verification locks -----------------------------------------------------------


@pytest.fixture
def locks(alice, team_b):
    other = customer_create(actor=None, given_name="Bea", family_name="Brown", team=team_b)
    now = timezone.now()
    ours = VerificationLock.objects.create(
        customer=alice, failures=3, last_failure_at=now, locked_until=now + dt.timedelta(minutes=30)
    )
    theirs = VerificationLock.objects.create(customer=other, failures=1, last_failure_at=now)
    return ours, theirs


def test_a_supervisor_sees_their_teams_locks_and_clears_one(client, supervisor, locks, alice):
    # Given
    ours, theirs = locks
    client.force_login(supervisor)
    # When
    listed = client.get("/admin/engagement/verificationlock/")
    cleared = client.post(
        "/admin/engagement/verificationlock/",
        {"action": "clear_locks", "_selected_action": [ours.pk]},
        follow=True,
    )
    # Then
    assert list(listed.context["cl"].result_list) == [ours]
    assert cleared.status_code == 200
    ours.refresh_from_db()
    assert (ours.failures, ours.locked_until) == (0, None)
    event = JourneyEvent.objects.get(kind="idv.unlocked")
    assert (event.customer, event.summary) == (alice, "Verification lock cleared by supervisor.a")
    # another team's lock can neither be listed nor cleared
    client.post("/admin/engagement/verificationlock/", {"action": "clear_locks", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.failures == 1


def test_a_lock_cannot_be_edited_or_added_by_hand(client, admin_user, locks):
    # Given
    ours, _ = locks
    client.force_login(admin_user)
    # When
    page = client.get(f"/admin/engagement/verificationlock/{ours.pk}/change/")
    edit = client.post(f"/admin/engagement/verificationlock/{ours.pk}/change/", {"failures": 0})
    add = client.get("/admin/engagement/verificationlock/add/")
    # Then
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert edit.status_code == 403
    assert add.status_code == 403
    ours.refresh_from_db()
    assert ours.failures == 3


def test_an_agent_cannot_open_the_locks(client, agent, locks):
    client.force_login(agent)
    response = client.get("/admin/engagement/verificationlock/")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("action", "body", "supervisor_status"),
    [
        ("verification/otp", {"method": "sms"}, 202),
        ("verification/otp/check", {"code": "123456"}, 400),
        ("verification/knowledge", {"date_of_birth": "1980-02-29", "postcode": "SW1A 1AA"}, 200),
    ],
)
def test_only_the_handling_agent_a_supervisor_or_a_client_may_verify(
    post, agent, supervisor, alice, team_a, action, body, supervisor_status
):
    # Given: agent A handles alice's conversation; a colleague of the same team does not
    colleague = UserFactory(username="agent.a2", role="agent", teams=[team_a])
    conversation = _handled_by(agent, _conversation(customer=alice, team=team_a))
    # When: the colleague, then a supervisor, asks to verify
    refused = post(_signed_in(colleague), conversation.pk, action, body)
    by_supervisor = post(_signed_in(supervisor), conversation.pk, action, body)
    # Then: the colleague is refused; the supervisor goes through to the check itself
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert by_supervisor.status_code == supervisor_status, by_supervisor.content
