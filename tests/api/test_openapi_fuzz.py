"""Property-based fuzzing of the whole OpenAPI description against the app, in-process.

Schemathesis generates requests from ``/api/schema/`` for every operation (examples, coverage
and fuzzing phases; valid and invalid data) and runs every check on each answer: no server
error, only documented status codes and content types, bodies that match their schema, invalid
data refused with a 4xx and valid data not refused with a 400. Each operation runs as an admin's
integration token with every scope and as a team supervisor's token, against a seeded team.
The seed is fixed (``derandomize``) and the examples bounded, so a run is repeatable.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.transport.serialization import serialize_binary

from cea.accounts.models import ApiScope
from cea.accounts.services import api_token_create
from cea.wsgi import application
from engagement.conversations.services import conversation_start, message_add
from records.cases.services import case_create
from records.interactions.services import interaction_record
from tests.records.factories import SlaPolicyFactory
from tests.support import isolated_redis, make_customer

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
# Strings without NUL: PostgreSQL cannot store one and every CharField refuses it (a 400 the
# schema does not spell out on each string).
schema.config.generation.update(allow_x00=False, deterministic=True)


@schemathesis.serializer("message/rfc822")
def _raw_email(ctx, value) -> bytes:
    """The inbound-email operation also takes the message itself as its body: send the bytes."""
    return serialize_binary(value)


# Which seeded object a path parameter of that name names, when a valid request names a real one.
PATH_OBJECTS = {
    "customer_id": "customer",
    "case_id": "case",
    "interaction_id": "interaction",
    "identity_id": "identity",
    "conversation_id": "conversation",
}
# Which seeded object a reference in a valid body names: that it exists is not a schema's to say.
BODY_OBJECTS = {
    "customer": "customer",
    "team": "team",
    "assignee": "member",
    "agent": "member",
    "sla_policy": "sla_policy",
    "interaction_id": "interaction",
    "merged_id": "other_customer",
    "to_agent": "member",
}

# What the schema cannot say, by operation: the check left out and why. Each is a rule against
# the clock or the database, or one JSON Schema has no words for; everything else the schema
# states (patterns, cross-field rules as anyOf/oneOf, strings that are strings).
KNOWN_GAPS = {
    # Workforce: an ASA target needs its seconds and Erlang A a patience (cross-field), and traffic no
    # staffing up to 100,000 agents meets is refused.
    ("POST", "/api/v1/engagement/wfm/staffing/calculate/"): (
        positive_data_acceptance,
        "target and model need their companion fields",
    ),
    ("PATCH", "/api/v1/engagement/wfm/planning-queues/{planning_queue_id}/"): (
        positive_data_acceptance,
        "target and model need their companion fields",
    ),
    # A phone is valid by libphonenumber's metadata for its region, an email by Django's
    # EmailValidator; neither is a regular expression. (The language is a pattern now.)
    ("POST", "/api/v1/customers/"): (positive_data_acceptance, "phone and email are no patterns"),
    ("PATCH", "/api/v1/customers/{customer_id}/"): (positive_data_acceptance, "phone and email are no patterns"),
    ("POST", "/api/v1/customers/{customer_id}/consents/"): (positive_data_acceptance, "given_at not in the future"),
    # Per kind; and a phone or an email (as above) is no pattern.
    ("POST", "/api/v1/customers/{customer_id}/identities/"): (positive_data_acceptance, "value's form depends on kind"),
    ("POST", "/api/v1/engagement/conversations/{conversation_id}/identify/"): (
        positive_data_acceptance,
        "value's form depends on kind",
    ),
    ("POST", "/api/v1/lookup/"): (positive_data_acceptance, "value's form depends on kind"),
    # An SMS is at most 1,600 characters, an email 20,000: the limit depends on the channel.
    ("POST", "/api/v1/engagement/conversations/outbound/"): (
        positive_data_acceptance,
        "text's length limit depends on channel",
    ),
    ("POST", "/api/v1/engagement/app/messages/"): (
        positive_data_acceptance,
        "customer_identifier's form depends on identifier_kind",
    ),
    ("POST", "/api/v1/engagement/branches/check-ins/"): (
        positive_data_acceptance,
        "customer_identifier's form depends on identifier_kind",
    ),
    # A push registration names an active push source, and its address (token or subscription, session or
    # device) is the one that source's provider and channel take.
    ("POST", "/api/v1/engagement/push/devices/"): (
        positive_data_acceptance,
        "source must be an active push source; the address's form depends on its provider",
    ),
    # Six digits is the form; only the code that was sent verifies (a wrong one is a 400 failure).
    ("POST", "/api/v1/engagement/conversations/{conversation_id}/verification/otp/check/"): (
        positive_data_acceptance,
        "only the code sent verifies",
    ),
    ("POST", "/api/v1/engagement/conversations/{conversation_id}/verification/knowledge/"): (
        positive_data_acceptance,
        "which facts are required depends on the customer",
    ),
    # JSON Schema does not look inside base64.
    ("POST", "/api/v1/engagement/email/inbound/"): (positive_data_acceptance, "raw must decode to a non-blank message"),
    ("POST", "/api/v1/engagement/agents/me/presence/"): (
        positive_data_acceptance,
        "away's reason must be an active reason code",
    ),
    ("GET", "/api/v1/engagement/selfservice/containment/"): (positive_data_acceptance, "end after start"),
    # Workforce days are 1900-01-01 to 2999-12-31 (cea.common.days), which a JSON Schema date cannot say.
    ("GET", "/api/v1/engagement/wfm/my-schedule/"): (positive_data_acceptance, "a day from 1900 to 2999"),
    ("GET", "/api/v1/engagement/wfm/schedules/"): (positive_data_acceptance, "a day from 1900 to 2999"),
    ("POST", "/api/v1/engagement/wfm/schedules/generate/"): (positive_data_acceptance, "a Monday from 1900 to 2999"),
    ("POST", "/api/v1/engagement/wfm/special-days/"): (positive_data_acceptance, "a day from 1900 to 2999"),
    ("GET", "/api/v1/engagement/wfm/staffing/planning-queues/{planning_queue_id}/requirements/"): (
        positive_data_acceptance,
        "a day from 1900 to 2999",
    ),
    # Canned responses: a variable in the text must be one of the known names (checked on save).
    ("POST", "/api/v1/engagement/canned-responses/"): (positive_data_acceptance, "variables must be known names"),
    ("PATCH", "/api/v1/engagement/canned-responses/{canned_id}/"): (
        positive_data_acceptance,
        "variables must be known names",
    ),
    ("GET", "/api/v1/engagement/conversations/search/"): (
        positive_data_acceptance,
        negative_data_rejection,
        "date_to not before date_from; a 'null' date is sent as no parameter at all, which is valid",
    ),
    ("GET", "/api/v1/insights/kpis/"): (positive_data_acceptance, "end after start, within the range limits"),
    # A strategy's fields depend on each other (the trigger's, the action's parameters, the context weights' keys).
    ("POST", "/api/v1/insights/strategies/dry-run/"): (
        positive_data_acceptance,
        "a strategy's fields depend on its trigger and action kinds",
    ),
    ("GET", "/api/v1/insights/metrics/engagement/"): (positive_data_acceptance, "last not before first, 36 months"),
    ("GET", "/api/v1/insights/sentiment/"): (positive_data_acceptance, "end not before start, within 366 days"),
    ("GET", "/api/v1/insights/compliance/"): (positive_data_acceptance, "end not before start, within 366 days"),
    # A rule's phrase, when a regular expression, must compile and not match empty text.
    ("POST", "/api/v1/insights/compliance/rules/"): (positive_data_acceptance, "a regex phrase must compile"),
    ("GET", "/api/v1/insights/surveys/"): (positive_data_acceptance, "start not after end, at most 366 days"),
    ("GET", "/api/v1/engagement/wfm/adherence/days/"): (
        positive_data_acceptance,
        "start not after end, 366 days, from 1900 to 2999",
    ),
    ("POST", "/api/v1/interactions/"): (positive_data_acceptance, "ended_at not before started_at"),
    # Business hours: a day's ranges must not overlap and each closes after it opens, a closure ends on or
    # after its first day, the time zone is in the IANA database, the name is not taken; the spans'
    # range is forward and bounded.
    ("POST", "/api/v1/engagement/business-hours/"): (positive_data_acceptance, "ranges, closures and time zone"),
    ("PUT", "/api/v1/engagement/business-hours/{name}/"): (positive_data_acceptance, "ranges, closures and time zone"),
    ("GET", "/api/v1/engagement/queues/{name}/hours/"): (positive_data_acceptance, "end after start, within 92 days"),
    ("PUT", "/api/v1/engagement/queues/{name}/hours/"): (positive_data_acceptance, "a schedule that exists"),
    # An opaque cursor is valid only if this API gave it out (its next_cursor).
    ("GET", "/api/v1/customers/{customer_id}/timeline/"): (positive_data_acceptance, "a cursor the API gave out"),
    # The SSRF guard refuses hosts that resolve to private addresses: DNS, not the uri format.
    ("POST", "/api/v1/engagement/backoffice/tasks/"): (positive_data_acceptance, "a team, or a customer with one"),
    ("POST", "/api/v1/integration/webhooks/"): (
        positive_data_acceptance,
        "url: Django's URLValidator is stricter than the uri format",
    ),
}

WORLD: SimpleNamespace | None = None


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield from isolated_redis(settings)


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    # The WSGI handler closes the connection after each request (as Django's test client does
    # not), which would end the test's transaction: keep it open, as the test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["admin-integration-token", "supervisor-token"])
def caller(request, team_a, supervisor, admin_user):
    """The ``Authorization`` header of the user the operation is called as."""
    user = admin_user if request.param.startswith("admin") else supervisor
    _, plaintext = api_token_create(user=user, name="fuzz", scopes=list(ApiScope.values), expires_at=None)
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def world(team_a, team_b, supervisor):
    """Customers (one with no email and no team), a case, an interaction and a conversation in team A."""
    global WORLD
    alice = make_customer(team_a, given_name="Alice", family_name="Smith", email="alice@example.com")
    alison = make_customer(team_a, given_name="Alison", family_name="Smith")
    make_customer(None, given_name="Nobody", family_name="Teamless")
    make_customer(team_b, given_name="Bruno", family_name="Bianchi", email="bruno@example.org")
    case = case_create(actor=None, customer=alice, subject="Router keeps dropping")
    ended_at = dt.datetime(2025, 3, 14, 10, 30, tzinfo=dt.UTC)
    interaction = interaction_record(
        actor=None, customer=alice, channel="chat", started_at=ended_at - dt.timedelta(minutes=5), ended_at=ended_at
    )
    conversation, _ = conversation_start(channel="chat", external_id="chat-1", customer=alice, queue="Web chat")
    message_add(
        conversation=conversation,
        direction="inbound",
        author_kind="customer",
        body="Is my order shipped?",
        sent_at=ended_at,
    )
    WORLD = SimpleNamespace(
        customer=alice,
        other_customer=alison,
        team=team_a,
        member=supervisor,
        sla_policy=SlaPolicyFactory(),
        case=case,
        interaction=interaction,
        identity=alice.identities.first(),
        conversation=conversation,
    )
    yield WORLD
    WORLD = None


def _aim_at_seeded_objects(case) -> None:
    """Half of the valid requests name the seeded objects, so operations reach real rows."""
    if WORLD is None or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    for name, value in (case.path_parameters or {}).items():
        attribute = PATH_OBJECTS.get(name)
        if attribute and isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = getattr(WORLD, attribute).pk
    if isinstance(case.body, dict):
        for name, value in case.body.items():
            attribute = BODY_OBJECTS.get(name)
            if attribute and isinstance(value, int) and not isinstance(value, bool):
                case.body[name] = getattr(WORLD, attribute).pk


@schema.parametrize()
@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_keeps_its_contract(case, caller, world):
    # Given a seeded team and a caller; when the generated request is sent
    _aim_at_seeded_objects(case)
    # Then every check passes: no 5xx, documented statuses and bodies, invalid data refused
    known = KNOWN_GAPS.get((case.operation.method.upper(), case.operation.path), ())
    case.call_and_validate(headers=caller, excluded_checks=[check for check in known if callable(check)])
