"""Fixtures of engagement's tests (those every test of the suite needs are in tests/conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.idv import senders
from engagement.routing import engine
from engagement.routing.offers import offer_accept
from records.customers.services import customer_create
from tests.accounts.factories import UserFactory
from tests.engagement.factories import QueueFactory, RoutableAgentFactory
from tests.engagement.routing_support import fresh, pending_offer, waiting
from tests.engagement.selfservice_support import make_flows, order_lookup, register_lookup
from tests.support import isolated_redis, make_customer


@pytest.fixture
def idv_env(settings, eager_tasks):
    """What an ID&V test stands on: its own Redis keys (attempts and locks are counted there),
    codes sent by the in-memory SMS sender to an empty outbox, three failures lock for 30 minutes,
    codes live 5 minutes, and the code's task runs in process. Use it with
    ``pytest.mark.usefixtures("idv_env")``."""
    settings.CEA_SMS_SENDER = "engagement.idv.senders.LocmemSmsSender"
    settings.CEA_IDV_MAX_FAILURES = 3
    settings.CEA_IDV_LOCK_MINUTES = 30
    settings.CEA_IDV_CODE_TTL_SECONDS = 300
    senders.outbox.clear()
    yield from isolated_redis(settings)
    senders.outbox.clear()


@pytest.fixture
def alice(team_a):
    """The ID&V tests' customer of team A, made through the service (her identities exist), her
    details written as a person types them: phone +447911123456, email alice@example.com, born
    29 February 1980, postcode SW1A 1AA, account GB1234567890."""
    return customer_create(
        actor=None,
        given_name="Alice",
        family_name="Smith",
        team=team_a,
        phone="07911 123456",
        email="alice@example.com",
        date_of_birth=dt.date(1980, 2, 29),
        postcode="SW1A 1AA",
        identities=[{"kind": "account", "value": "GB12 3456 7890"}],
    )


@pytest.fixture
def routing_env(settings, routing_defaults):
    """What a routing or desk test stands on: its own Redis keys (contexts are read for priority)
    and the default channel loads, codes and queue. Use it with ``pytest.mark.usefixtures("routing_env")``."""
    yield from isolated_redis(settings)


@pytest.fixture
def selfservice_env(settings):
    """What a self-service test (chat, IVR, API) stands on: its own Redis keys, where each
    conversation's context keeps its self-service state. Use it with
    ``pytest.mark.usefixtures("selfservice_env")``."""
    yield from isolated_redis(settings)


@pytest.fixture
def flows(monkeypatch) -> dict:
    """The self-service flows of ``selfservice_support.make_flows`` (order status, delivery,
    balance, opening hours), their order look-up ``test_order`` registered for the test."""
    register_lookup(monkeypatch, "test_order", order_lookup, database=True)
    return make_flows()


# --- The supervisor's tools (test_supervision*.py) ------------------------------------------------


@pytest.fixture
def support(team_a):
    """Team A's support queue."""
    return QueueFactory(name="support", label="Support", team=team_a)


@pytest.fixture
def supervisor_b(team_b):
    """A supervisor of team B only."""
    return UserFactory(username="supervisor.b", role="supervisor", teams=[team_b], first_name="Bea", last_name="Boss")


@pytest.fixture
def handled(support, agent, team_a):
    """Ada Lovelace's (team A) web chat in the support queue, which ``agent`` accepted."""
    RoutableAgentFactory(user=agent, idle_minutes=60)
    item = waiting(
        support, customer=make_customer(team_a, given_name="Ada", family_name="Lovelace"), visitor="visitor-handled"
    )
    engine.dispatch_queue(support.pk)
    offer_accept(actor=agent, offer_id=pending_offer(item).pk)
    return fresh(item)
