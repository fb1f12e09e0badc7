"""The aggregated customer view against real back-ends on loopback: parallel calls, timeouts, the
overall deadline, the cache, the circuit breaker and partial answers with their reasons."""

from __future__ import annotations

import json
import threading
import time

import pytest

from integration.aggregation import breaker
from integration.aggregation.aggregate import cache_key, customer_aggregate
from integration.connectors.base import BaseConnector, register_kind
from integration.connectors.models import Connector
from tests.integration.aggregate_support import BALANCE, connector_to, holding, link
from tests.support import isolated_redis, make_customer

pytestmark = pytest.mark.django_db

ORDER = holding("order", "123456", name="Router", status="Shipped")


@register_kind
class BatchOnlyConnector(BaseConnector):
    """A kind that loads extracts but answers no live look-ups."""

    kind = "batch_only"


@pytest.fixture(autouse=True)
def _redis(settings):
    settings.CEA_BREAKER_FAILURES = 2
    settings.CEA_BREAKER_COOLDOWN_SECONDS = 30
    yield from isolated_redis(settings)


def statuses(aggregate) -> dict[str, str]:
    return {part.connector: part.status for part in aggregate.parts}


def wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


def test_every_linked_system_answers_and_the_others_say_not_linked(backends):
    # Given: billing and orders know the customer; the CRM does not; an inactive one is ignored
    customer = make_customer()
    billing, orders, crm = backends("billing"), backends("orders"), backends("crm")
    billing.records["B-1"] = {"customer": {"external_id": "B-1"}, "holdings": [BALANCE]}
    orders.records["O-9"] = {"holdings": [ORDER]}
    for backend in (billing, orders, crm):
        connector_to(backend)
    connector_to(backends("archive"), is_active=False)
    link(customer, "billing", "B-1")
    link(customer, "orders", "O-9")
    # When
    aggregate = customer_aggregate(customer)
    # Then
    assert statuses(aggregate) == {"billing": "ok", "crm": "not_linked", "orders": "ok"}
    assert aggregate.complete is True
    assert aggregate.part("billing").holdings == [BALANCE]
    assert aggregate.part("billing").data == {"customer": {"external_id": "B-1"}, "holdings": [BALANCE]}
    assert aggregate.part("orders").external_id == "O-9"
    assert aggregate.part("crm").message == "crm has no record of this customer."
    assert (billing.calls, orders.calls, crm.calls) == (1, 1, 0)


def test_the_back_ends_are_asked_at_the_same_time(backends):
    # Given: three systems that answer only while all three are being asked at once
    customer = make_customer()
    rendezvous = threading.Barrier(3)
    for name in ("billing", "orders", "crm"):
        backend = backends(name)
        backend.records["C-1"] = {"holdings": []}
        backend.mode, backend.barrier = "rendezvous", rendezvous
        connector_to(backend, timeout_seconds=5.0)
        link(customer, name, "C-1")
    # When
    aggregate = customer_aggregate(customer, deadline=8.0)
    # Then: asked one after the other, the first would have been alone at the barrier
    assert statuses(aggregate) == {"billing": "ok", "crm": "ok", "orders": "ok"}


def test_a_slow_system_times_out_while_the_others_arrive(backends):
    # Given
    customer = make_customer()
    billing, orders, legacy = backends("billing"), backends("orders"), backends("legacy")
    billing.records["B-1"] = {"holdings": [BALANCE]}
    orders.records["O-9"] = {"holdings": [ORDER]}
    legacy.records["L-3"] = {"holdings": []}
    legacy.set("slow")
    connector_to(billing)
    connector_to(orders)
    connector_to(legacy, timeout_seconds=0.3)
    link(customer, "billing", "B-1")
    link(customer, "orders", "O-9")
    link(customer, "legacy", "L-3")
    # When
    aggregate = customer_aggregate(customer, deadline=5.0)
    # Then
    assert statuses(aggregate) == {"billing": "ok", "legacy": "timeout", "orders": "ok"}
    assert aggregate.complete is False
    slow = aggregate.part("legacy")
    assert (slow.message, slow.data, slow.permanent) == ("No answer within 0.3 s.", None, False)
    assert aggregate.part("billing").holdings == [BALANCE]


def test_the_overall_deadline_cuts_a_call_its_own_timeout_would_allow(backends):
    # Given: a connector allowed 5 s, and an answer wanted within 1.5 s (room for billing's own
    # answer on a busy machine)
    customer = make_customer()
    billing, legacy = backends("billing"), backends("legacy")
    billing.records["B-1"] = {"holdings": [BALANCE]}
    legacy.set("slow")
    connector_to(billing)
    connector_to(legacy, timeout_seconds=5.0)
    link(customer, "billing", "B-1")
    link(customer, "legacy", "L-3")
    # When
    aggregate = customer_aggregate(customer, deadline=1.5)
    # Then
    assert statuses(aggregate) == {"billing": "ok", "legacy": "timeout"}
    assert aggregate.part("legacy").message == "No answer before the deadline (1.5 s)."


def test_errors_are_reported_without_secrets(backends, monkeypatch):
    # Given: billing is down (its error names the URL, which carries the API key) and orders
    # refuses the customer number (a permanent error)
    monkeypatch.setenv("CEA_CONNECTOR_BILLING_API_KEY", "s3cr3t-key")
    customer = make_customer()
    billing, orders = backends("billing"), backends("orders")
    billing.set("down")
    orders.set("refusing")
    connector_to(billing, credential_env="CEA_CONNECTOR_BILLING_API_KEY")
    connector_to(orders)
    link(customer, "billing", "B-1")
    link(customer, "orders", "O-9")
    # When
    aggregate = customer_aggregate(customer)
    # Then
    down, refusing = aggregate.part("billing"), aggregate.part("orders")
    assert (down.status, down.permanent) == ("error", False)
    assert down.message == f"billing answered 503 for {billing.url}/customers/B-1?api_key=***."
    assert "s3cr3t" not in json.dumps([vars(part) for part in aggregate.parts])
    assert (refusing.status, refusing.permanent) == ("error", True)
    assert refusing.message == "orders refused: customer number malformed (400)."


def test_a_connector_without_live_look_ups_or_of_an_unknown_kind_says_so(backends):
    # Given
    customer = make_customer()
    Connector.objects.create(name="master", kind="batch_only", system="master")
    Connector.objects.create(name="mystery", kind="telex", system="master")
    link(customer, "master", "M-1")
    # When
    aggregate = customer_aggregate(customer)
    # Then
    assert statuses(aggregate) == {"master": "unsupported", "mystery": "error"}
    assert aggregate.part("master").message == "This system answers no live look-ups."
    assert (aggregate.part("mystery").message, aggregate.part("mystery").permanent) == (
        "No connector of kind 'telex'.",
        True,
    )
    assert aggregate.complete is False  # a misconfigured connector is a missing part


def test_answers_are_cached_for_the_connectors_time_and_then_fetched_again(billing, raw_redis):
    # Given
    customer = make_customer()
    connector = connector_to(billing, cache_seconds=60)
    link(customer, "billing", "B-1")
    # When: asked twice
    first = customer_aggregate(customer).part("billing")
    billing.records["B-1"] = {"holdings": []}  # changed at the source meanwhile
    second = customer_aggregate(customer).part("billing")
    # Then: the second answer comes from the cache, which keeps it for cache_seconds
    assert (first.cached, first.age_seconds, first.holdings) == (False, 0.0, [BALANCE])
    assert (second.cached, second.holdings, second.elapsed_ms) == (True, [BALANCE], None)
    assert billing.calls == 1
    key = cache_key(connector.pk, "B-1")
    assert 55 <= raw_redis.ttl(key) <= 60

    # When: the entry is 30 s old
    entry = json.loads(raw_redis.get(key))
    entry["fetched_at"] -= 30
    raw_redis.set(key, json.dumps(entry), keepttl=True)
    # Then
    assert customer_aggregate(customer).part("billing").age_seconds >= 30

    # When: it expires
    raw_redis.expire(key, 0)
    third = customer_aggregate(customer).part("billing")
    # Then
    assert (third.cached, third.holdings, billing.calls) == (False, [], 2)


def test_with_cache_seconds_zero_every_ask_reaches_the_system(billing, raw_redis):
    customer = make_customer()
    connector = connector_to(billing, cache_seconds=0)
    link(customer, "billing", "B-1")
    answers = [customer_aggregate(customer).part("billing").cached for _ in range(3)]
    assert (answers, billing.calls) == ([False, False, False], 3)
    assert raw_redis.exists(cache_key(connector.pk, "B-1")) == 0


def test_failures_are_not_cached(billing, raw_redis):
    customer = make_customer()
    billing.set("down")
    connector = connector_to(billing, cache_seconds=60)
    link(customer, "billing", "B-1")
    assert customer_aggregate(customer).part("billing").status == "error"
    assert raw_redis.exists(cache_key(connector.pk, "B-1")) == 0


def elapse_cooldown(raw_redis, connector: Connector) -> None:
    """The cool-down is over: the breaker opened long ago (as if CEA_BREAKER_COOLDOWN_SECONDS had passed)."""
    raw_redis.hset(breaker.breaker_key(connector.pk), "open_until", "1")


def test_the_circuit_opens_after_failures_in_a_row_and_answers_at_once(billing, raw_redis):
    # Given: two failures in a row open the circuit (CEA_BREAKER_FAILURES = 2)
    customer = make_customer()
    billing.set("down")
    connector = connector_to(billing)
    link(customer, "billing", "B-1")
    # When
    first, second = customer_aggregate(customer), customer_aggregate(customer)
    third = customer_aggregate(customer)
    # Then
    assert [statuses(a)["billing"] for a in (first, second, third)] == ["error", "error", "circuit_open"]
    assert billing.calls == 2  # the third ask never reached it
    state = breaker.breaker_state(connector.pk)
    assert (state.state, state.failures) == ("open", 2)
    assert 29 <= state.retry_in <= 30
    assert third.part("billing").message == "Billing keeps failing; it is asked again in 30 s."
    assert third.complete is False


def test_an_answer_resets_the_count_of_failures(billing):
    customer = make_customer()
    billing.records["B-1"] = {"holdings": []}
    connector = connector_to(billing)
    link(customer, "billing", "B-1")
    for mode in ("down", "up", "down"):
        billing.set(mode)
        customer_aggregate(customer)
    state = breaker.breaker_state(connector.pk)
    assert (state.state, state.failures) == ("closed", 1)


def test_after_the_cool_down_one_trial_call_closes_the_circuit(billing, raw_redis):
    # Given: an open circuit whose cool-down is over, and the system back up
    customer = make_customer()
    billing.set("down")
    connector = connector_to(billing)
    link(customer, "billing", "B-1")
    customer_aggregate(customer), customer_aggregate(customer)
    billing.set("up")
    elapse_cooldown(raw_redis, connector)
    assert breaker.breaker_state(connector.pk).state == "half_open"
    # When
    trial = customer_aggregate(customer)
    # Then
    assert statuses(trial) == {"billing": "ok"}
    assert billing.calls == 3
    assert breaker.breaker_state(connector.pk) == breaker.BreakerState("closed", 0, 0.0)


def test_a_failed_trial_opens_the_circuit_again_for_a_whole_cool_down(billing, raw_redis):
    customer = make_customer()
    billing.set("down")
    connector = connector_to(billing)
    link(customer, "billing", "B-1")
    customer_aggregate(customer), customer_aggregate(customer)
    elapse_cooldown(raw_redis, connector)
    # When
    trial, after = customer_aggregate(customer), customer_aggregate(customer)
    # Then
    assert (statuses(trial), statuses(after)) == ({"billing": "error"}, {"billing": "circuit_open"})
    assert billing.calls == 3
    state = breaker.breaker_state(connector.pk)
    assert (state.state, state.failures) == ("open", 3)
    assert 29 <= state.retry_in <= 30


@pytest.mark.django_db(transaction=True)
def test_half_open_lets_one_trial_through_while_others_hear_circuit_open(billing, raw_redis):
    # Given: the cool-down is over and the trial call is in flight (the system is slow)
    customer = make_customer()
    billing.set("down")
    connector = connector_to(billing, timeout_seconds=5.0)
    link(customer, "billing", "B-1")
    customer_aggregate(customer), customer_aggregate(customer)
    billing.set("slow")
    elapse_cooldown(raw_redis, connector)
    answers = {}
    trial = threading.Thread(target=lambda: answers.update(trial=customer_aggregate(customer, deadline=8.0)))
    trial.start()
    try:
        wait_until(lambda: billing.calls == 3)
        # When: another process asks meanwhile
        meanwhile = customer_aggregate(customer)
    finally:
        billing.set("up")
        billing.released.set()
        trial.join(10)
    # Then
    assert statuses(meanwhile) == {"billing": "circuit_open"}
    assert statuses(answers["trial"]) == {"billing": "ok"}
    assert billing.calls == 3
    assert breaker.breaker_state(connector.pk).state == "closed"


def test_a_partial_answer_names_every_missing_part_and_why(backends, raw_redis):
    # Given: four systems: one answers, one is slow, one is down behind an open circuit, one does
    # not know the customer
    customer = make_customer()
    billing, orders, legacy, crm = backends("billing"), backends("orders"), backends("legacy"), backends("crm")
    billing.records["B-1"] = {"holdings": [BALANCE]}
    orders.set("slow")
    connector_to(billing)
    connector_to(orders, timeout_seconds=0.2)
    legacy_connector = connector_to(legacy)
    connector_to(crm)
    for system, external_id in (("billing", "B-1"), ("orders", "O-9"), ("legacy", "L-3")):
        link(customer, system, external_id)
    raw_redis.hset(breaker.breaker_key(legacy_connector.pk), mapping={"failures": 9, "open_until": 2 * 10**9})
    # When
    aggregate = customer_aggregate(customer)
    # Then
    assert [(p.connector, p.status, p.external_id) for p in aggregate.parts] == [
        ("billing", "ok", "B-1"),
        ("crm", "not_linked", ""),
        ("legacy", "circuit_open", "L-3"),
        ("orders", "timeout", "O-9"),
    ]
    assert legacy.calls == 0
    assert aggregate.complete is False
