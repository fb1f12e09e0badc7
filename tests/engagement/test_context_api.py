"""REST API of the context store: read, put with a version, patch, delete, aliases, limits, by customer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from cea.accounts.services import api_token_create
from engagement.context.models import ContextChange
from engagement.context.services import context_alias, context_read, context_write
from engagement.context.urls import urlpatterns as context_urlpatterns
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_end
from records.journey.models import JourneyEvent
from tests.api.conftest import assert_error
from tests.engagement.websockets import isolated_redis
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/engagement"


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture
def world(team_a, team_b):
    customer_a, customer_b = CustomerFactory(team=team_a), CustomerFactory(team=team_b)
    conversation_a, _ = conversation_start(channel="chat", customer=customer_a)
    conversation_b, _ = conversation_start(channel="chat", customer=customer_b)
    return customer_a, customer_b, conversation_a, conversation_b


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def with_token(user, scopes: list[str]) -> APIClient:
    _, plaintext = api_token_create(user=user, name="tests", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def write(scope: str, context_id, values: dict, **kwargs):
    return context_write(actor=None, scope=scope, context_id=context_id, values=values, **kwargs)


# --- Reading --------------------------------------------------------------------------------


def test_a_context_never_written_reads_as_empty_at_version_0(agent, world):
    customer_a, *_ = world
    # When
    response = signed_in(agent).get(f"{API}/contexts/customer/{customer_a.pk}/")
    # Then
    assert response.status_code == 200
    assert response.json() == {
        "scope": "customer",
        "id": str(customer_a.pk),
        "version": 0,
        "customer_id": None,
        "values": {},
        "expires_at": {},
    }


def test_reading_a_context_gives_values_version_and_expiry_per_key(agent, world):
    customer_a, *_ = world
    write(
        "customer", customer_a.pk, {"nba": "upgrade", "churn": 0.4}, ttl_seconds={"nba": 60}, customer_id=customer_a.pk
    )
    # When
    body = signed_in(agent).get(f"{API}/contexts/customer/{customer_a.pk}/").json()
    # Then
    assert (body["version"], body["customer_id"], body["values"]) == (
        1,
        customer_a.pk,
        {"nba": "upgrade", "churn": 0.4},
    )
    nba = datetime.fromisoformat(body["expires_at"]["nba"])
    churn = datetime.fromisoformat(body["expires_at"]["churn"])
    assert timedelta(seconds=50) < nba - timezone.now() <= timedelta(seconds=60)
    assert timedelta(hours=1, minutes=59) < churn - timezone.now() <= timedelta(hours=2)


# --- Who may call ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "contexts/customer/{customer_b}/", None),
        ("put", "contexts/customer/{customer_b}/", {"values": {"a": 1}, "expected_version": 0}),
        ("patch", "contexts/customer/{customer_b}/", {"values": {"a": 1}}),
        ("delete", "contexts/customer/{customer_b}/", None),
        ("get", "contexts/conversation/{conversation_b}/", None),
        ("patch", "contexts/conversation/{conversation_b}/", {"values": {"a": 1}}),
        ("get", "customers/{customer_b}/contexts/", None),
    ],
)
def test_an_agent_of_another_team_is_refused_with_403_and_nothing_changes(agent, world, method, url, body):
    _, customer_b, _, conversation_b = world
    before = ContextChange.objects.count()
    # When
    response = getattr(signed_in(agent), method)(
        f"{API}/" + url.format(customer_b=customer_b.pk, conversation_b=conversation_b.pk), body, format="json"
    )
    # Then
    assert_error(response, 403, "forbidden")
    assert ContextChange.objects.count() == before


@pytest.mark.parametrize("user", ["supervisor", "admin_user", "integration_user"])
def test_supervisors_of_the_team_admins_and_integration_clients_may_write(request, world, user):
    customer_a, *_ = world
    # When
    response = signed_in(request.getfixturevalue(user)).patch(
        f"{API}/contexts/customer/{customer_a.pk}/", {"values": {"by": user}}, format="json"
    )
    # Then
    assert response.status_code == 200, response.content
    assert response.json()["values"] == {"by": user}


def test_anonymous_requests_are_refused_with_401(world):
    customer_a, *_ = world
    # When
    response = APIClient().get(f"{API}/contexts/customer/{customer_a.pk}/")
    # Then
    assert_error(response, 401, "not_authenticated")


def test_unknown_objects_and_scopes_are_404(admin_user):
    client = signed_in(admin_user)
    # When
    customer = client.get(f"{API}/contexts/customer/987654/")
    conversation = client.get(f"{API}/contexts/conversation/987654/")
    scope = client.get(f"{API}/contexts/orders/1/")
    by_customer = client.get(f"{API}/customers/987654/contexts/")
    # Then
    assert assert_error(customer, 404, "not_found")["message"] == "No customer with id 987654."
    assert assert_error(conversation, 404, "not_found")["message"] == "No conversation with id 987654."
    assert (
        assert_error(scope, 404, "not_found")["message"]
        == "No context scope 'orders'; scopes are customer, conversation."
    )
    assert_error(by_customer, 404, "not_found")


def test_api_tokens_need_the_context_scopes(integration_user, world):
    customer_a, *_ = world
    url = f"{API}/contexts/customer/{customer_a.pk}/"
    reader = with_token(integration_user, ["context:read"])
    writer = with_token(integration_user, ["context:read", "context:write"])
    other = with_token(integration_user, ["customers:read"])
    # When
    read = reader.get(url)
    refused = reader.patch(url, {"values": {"a": 1}}, format="json")
    written = writer.patch(url, {"values": {"a": 1}}, format="json")
    unscoped = other.get(url)
    # Then
    assert read.status_code == 200
    assert assert_error(refused, 403)["message"] == "This API token lacks the scope 'context:write'."
    assert written.status_code == 200
    assert_error(unscoped, 403)


# --- Writing with versions ------------------------------------------------------------------


def test_put_replaces_the_context_at_the_expected_version_and_a_stale_one_is_409(agent, world):
    customer_a, *_ = world
    url = f"{API}/contexts/customer/{customer_a.pk}/"
    client = signed_in(agent)
    # When
    first = client.put(url, {"values": {"a": 1, "b": 2}, "expected_version": 0}, format="json")
    second = client.put(url, {"values": {"c": 3}, "expected_version": 1}, format="json")
    stale = client.put(url, {"values": {"d": 4}, "expected_version": 1}, format="json")
    # Then
    assert (first.status_code, first.json()["version"], first.json()["values"]) == (200, 1, {"a": 1, "b": 2})
    assert (second.status_code, second.json()["version"], second.json()["values"]) == (200, 2, {"c": 3})
    error = assert_error(stale, 409, "stale_version")
    assert error["message"] == f"The context customer/{customer_a.pk} is at version 2; reload it and retry."
    assert context_read(scope="customer", context_id=customer_a.pk).values == {"c": 3}
    change = ContextChange.objects.filter(scope="customer", context_id=str(customer_a.pk)).last()
    assert (change.version, change.source, change.actor_id, change.customer_id) == (2, "api", agent.pk, customer_a.pk)
    assert JourneyEvent.objects.filter(customer=customer_a, kind="context.changed").count() == 2


def test_put_needs_the_expected_version(agent, world):
    customer_a, *_ = world
    # When
    response = signed_in(agent).put(f"{API}/contexts/customer/{customer_a.pk}/", {"values": {"a": 1}}, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"expected_version": ["This field is required."]}


def test_patch_sets_and_removes_keys_with_ttls_per_key_and_an_optional_version(agent, world):
    customer_a, *_ = world
    url = f"{API}/contexts/customer/{customer_a.pk}/"
    client = signed_in(agent)
    write("customer", customer_a.pk, {"keep": 1, "drop": 2})
    # When
    patched = client.patch(
        url,
        {"values": {"drop": None, "otp": "pending", "note": "x"}, "ttl_seconds": 600, "key_ttl_seconds": {"otp": 30}},
        format="json",
    )
    stale = client.patch(url, {"values": {"late": True}, "expected_version": 1}, format="json")
    current = client.patch(url, {"values": {"late": True}, "expected_version": 2}, format="json")
    # Then
    body = patched.json()
    assert (patched.status_code, body["version"], body["values"]) == (
        200,
        2,
        {"keep": 1, "otp": "pending", "note": "x"},
    )
    now = timezone.now()
    assert timedelta(seconds=20) < datetime.fromisoformat(body["expires_at"]["otp"]) - now <= timedelta(seconds=30)
    assert timedelta(seconds=590) < datetime.fromisoformat(body["expires_at"]["note"]) - now <= timedelta(seconds=600)
    assert_error(stale, 409, "stale_version")
    assert (current.status_code, current.json()["version"]) == (200, 3)


def test_conversation_contexts_are_written_for_the_conversations_customer(agent, world):
    customer_a, _, conversation_a, _ = world
    # When
    response = signed_in(agent).patch(
        f"{API}/contexts/conversation/{conversation_a.pk}/", {"values": {"intent": "billing"}}, format="json"
    )
    # Then
    assert (response.status_code, response.json()["customer_id"]) == (200, customer_a.pk)
    assert JourneyEvent.objects.filter(customer=customer_a, kind="context.changed").count() == 1


def test_delete_clears_every_key_and_returns_the_new_version(agent, world):
    customer_a, *_ = world
    write("customer", customer_a.pk, {"a": 1, "b": 2})
    # When
    response = signed_in(agent).delete(f"{API}/contexts/customer/{customer_a.pk}/")
    # Then
    assert (response.status_code, response.json()["version"], response.json()["values"]) == (200, 2, {})
    assert context_read(scope="customer", context_id=customer_a.pk).values == {}


# --- Limits ---------------------------------------------------------------------------------


def test_the_limits_are_reported(agent, settings):
    settings.CEA_CONTEXT_MAX_BYTES = 4096
    # When
    response = signed_in(agent).get(f"{API}/contexts/limits/")
    # Then
    assert response.json() == {
        "default_ttl_seconds": 7200,
        "max_ttl_seconds": 2592000,
        "max_context_bytes": 4096,
        "max_value_bytes": settings.CEA_CONTEXT_MAX_VALUE_BYTES,
        "max_keys": settings.CEA_CONTEXT_MAX_KEYS,
    }


def test_writes_over_a_limit_are_400_with_the_limit_and_nothing_is_written(agent, world, settings):
    customer_a, *_ = world
    settings.CEA_CONTEXT_MAX_VALUE_BYTES = 50
    settings.CEA_CONTEXT_MAX_BYTES = 300
    settings.CEA_CONTEXT_MAX_KEYS = 3
    url = f"{API}/contexts/customer/{customer_a.pk}/"
    client = signed_in(agent)
    # When
    value = client.patch(url, {"values": {"big": "x" * 60}}, format="json")
    keys = client.patch(url, {"values": {"a": 1, "b": 2, "c": 3, "d": 4}}, format="json")
    settings.CEA_CONTEXT_MAX_KEYS = 10
    total = client.patch(url, {"values": {f"k{n}": "y" * 40 for n in range(8)}}, format="json")
    ttl = client.patch(url, {"values": {"a": 1}, "ttl_seconds": 0}, format="json")
    bad_key = client.patch(url, {"values": {"9lives": 1}}, format="json")
    # Then
    assert "the value is 62 bytes; the limit is 50" in assert_error(value, 400, "invalid")["message"]
    assert assert_error(keys, 400, "context_too_large")["message"] == "The context would hold 4 keys; the limit is 3."
    assert "; the limit is 300." in assert_error(total, 400, "context_too_large")["message"]
    assert assert_error(ttl, 400, "invalid")["fields"] == {
        "ttl_seconds": ["Ensure this value is greater than or equal to 1."]
    }
    assert "Key '9lives'" in assert_error(bad_key, 400, "invalid")["message"]
    assert context_read(scope="customer", context_id=customer_a.pk).version == 0
    assert ContextChange.objects.filter(scope="customer").count() == 0


def test_a_null_character_is_refused(agent, world):
    customer_a, *_ = world
    # When
    response = signed_in(agent).patch(
        f"{API}/contexts/customer/{customer_a.pk}/", {"values": {"a": "x\x00y"}}, format="json"
    )
    # Then
    assert assert_error(response, 400, "invalid")["fields"] == {"values": ["Null characters are not allowed."]}


# --- Aliases and customers ------------------------------------------------------------------


def test_a_context_is_read_by_its_alias_with_the_same_permissions(agent, world):
    _, _, conversation_a, conversation_b = world
    write("conversation", conversation_a.pk, {"intent": "billing"})
    context_alias(alias="call-7781", scope="conversation", context_id=conversation_a.pk)
    context_alias(alias="call-9999", scope="conversation", context_id=conversation_b.pk)
    client = signed_in(agent)
    # When
    found = client.get(f"{API}/contexts/alias/call-7781/")
    forbidden = client.get(f"{API}/contexts/alias/call-9999/")
    unknown = client.get(f"{API}/contexts/alias/call-0000/")
    # Then
    assert (found.status_code, found.json()["scope"], found.json()["id"]) == (
        200,
        "conversation",
        str(conversation_a.pk),
    )
    assert found.json()["values"] == {"intent": "billing"}
    assert_error(forbidden, 403, "forbidden")
    assert assert_error(unknown, 404, "not_found")["message"] == "No context has the alias 'call-0000'."


def test_a_customers_contexts_are_theirs_and_their_open_conversations(agent, world):
    customer_a, _, conversation_a, _ = world
    ended, _ = conversation_start(channel="voice", customer=customer_a)
    conversation_end(actor=None, conversation=ended)
    newer, _ = conversation_start(channel="email", customer=customer_a)
    write("customer", customer_a.pk, {"tier": "gold"}, customer_id=customer_a.pk)
    write("conversation", conversation_a.pk, {"intent": "billing"}, customer_id=customer_a.pk)
    # When
    response = signed_in(agent).get(f"{API}/customers/{customer_a.pk}/contexts/")
    # Then
    body = response.json()
    assert (response.status_code, body["customer"]["values"]) == (200, {"tier": "gold"})
    assert [(c["id"], c["values"]) for c in body["conversations"]] == [
        (str(newer.pk), {}),
        (str(conversation_a.pk), {"intent": "billing"}),
    ]


# --- The OpenAPI description ----------------------------------------------------------------


def test_the_context_api_is_described_without_warnings():
    # Given: only the context routes, where drf-spectacular's warnings would be this API's
    patterns = [path("api/v1/engagement/", include((context_urlpatterns, "engagement-api")))]
    GENERATOR_STATS.reset()
    # When
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    # Then
    assert not GENERATOR_STATS, "drf-spectacular warned about the context API"
    validate_schema(json.loads(json.dumps(schema, default=str)))
    assert {path: sorted(m for m in ops if m != "parameters") for path, ops in schema["paths"].items()} == {
        "/api/v1/engagement/contexts/limits/": ["get"],
        "/api/v1/engagement/contexts/alias/{alias}/": ["get"],
        "/api/v1/engagement/contexts/{scope}/{context_id}/": ["delete", "get", "patch", "put"],
        "/api/v1/engagement/customers/{customer_id}/contexts/": ["get"],
    }
    scope = next(
        p
        for p in schema["paths"]["/api/v1/engagement/contexts/{scope}/{context_id}/"]["get"]["parameters"]
        if p["name"] == "scope"
    )
    assert scope["schema"]["enum"] == ["conversation", "customer"]
