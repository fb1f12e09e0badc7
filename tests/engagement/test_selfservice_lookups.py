"""The look-up interface of the integration layer: registry, timeouts, failures, placeholders."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from integration import lookups
from integration.lookups import LookupFailed, register, run_lookup
from records.cases.services import case_create
from tests.engagement.selfservice_support import make_customer, register_lookup

pytestmark = pytest.mark.django_db


def test_an_unknown_look_up_fails_permanently():
    with pytest.raises(LookupFailed) as failed:
        run_lookup("horoscope", customer=None, inputs={})
    assert (failed.value.reason, failed.value.permanent) == ("unknown look-up 'horoscope'", True)


@pytest.mark.parametrize("name", ["order_status", "balance"])
def test_the_back_ends_not_connected_yet_say_so(name):
    customer = make_customer()
    with pytest.raises(LookupFailed) as failed:
        run_lookup(name, customer=customer, inputs={"order_number": "123456"})
    assert (failed.value.reason, failed.value.permanent) == ("not connected", True)


def test_case_status_answers_from_records(team_a):
    # Given
    customer = make_customer(team_a)
    first = case_create(actor=None, customer=customer, subject="Router keeps dropping")
    second = case_create(actor=None, customer=customer, subject="Wrong bill")
    # When
    answer = run_lookup("case_status", customer=customer, inputs={})
    one = run_lookup("case_status", customer=customer, inputs={"reference": first.reference.lower()})
    # Then
    assert answer["count"] == 2
    assert {c["reference"] for c in answer["cases"]} == {first.reference, second.reference}
    assert answer["summary"].startswith("You have 2 open requests: ")
    assert f"{first.reference} (Router keeps dropping) is new" in answer["summary"]
    assert one == {
        "reference": first.reference,
        "subject": "Router keeps dropping",
        "status": "new",
        "summary": f"{first.reference} (Router keeps dropping) is new.",
    }


def test_case_status_needs_an_identified_customer_and_a_known_reference():
    customer = make_customer()
    assert run_lookup("case_status", customer=customer, inputs={})["summary"] == "You have no open requests with us."
    with pytest.raises(LookupFailed) as anonymous:
        run_lookup("case_status", customer=None, inputs={})
    assert (anonymous.value.reason, anonymous.value.permanent) == ("the customer is not identified", True)
    with pytest.raises(LookupFailed) as unknown:
        run_lookup("case_status", customer=customer, inputs={"reference": "CAS-999"})
    assert unknown.value.reason == "no open case CAS-999"


def test_a_slow_back_end_times_out_and_may_be_retried(monkeypatch):
    # Given: a back-end that answers only when released
    released = threading.Event()

    def slow(customer, inputs):
        released.wait(10)
        return {"late": True}

    register_lookup(monkeypatch, "slow", slow, timeout=0.05)
    # When
    try:
        with pytest.raises(LookupFailed) as failed:
            run_lookup("slow", customer=None, inputs={})
    finally:
        released.set()
    # Then
    assert (failed.value.reason, failed.value.permanent) == ("timed out after 0.05 s", False)


def test_a_slow_database_look_up_is_cancelled_and_the_transaction_stays_usable(monkeypatch):
    # Given
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]

    def slow_query(customer, inputs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
        return {}

    register_lookup(monkeypatch, "slow_sql", slow_query, database=True, timeout=0.05)
    # When
    with pytest.raises(LookupFailed) as failed:
        run_lookup("slow_sql", customer=None, inputs={})
    # Then
    assert (failed.value.reason, failed.value.permanent) == ("timed out after 0.05 s", False)
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before


def test_a_database_look_up_that_succeeds_restores_the_statement_timeout(monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    register_lookup(monkeypatch, "quick_sql", lambda customer, inputs: {"ok": True}, database=True, timeout=0.5)
    assert run_lookup("quick_sql", customer=None, inputs={}) == {"ok": True}
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before


def test_a_crashing_back_end_and_a_wrong_answer_become_look_up_failures(monkeypatch):
    def crashing(customer, inputs):
        raise ConnectionResetError("peer went away")

    register_lookup(monkeypatch, "crashing", crashing)
    register_lookup(monkeypatch, "wrong", lambda customer, inputs: ["not", "a", "dict"])
    with pytest.raises(LookupFailed) as crashed:
        run_lookup("crashing", customer=None, inputs={})
    with pytest.raises(LookupFailed) as wrong:
        run_lookup("wrong", customer=None, inputs={})
    assert (crashed.value.reason, crashed.value.permanent) == ("the back-end failed", False)
    assert (wrong.value.reason, wrong.value.permanent) == ("the back-end gave an answer of the wrong shape", True)


def test_registering_a_name_again_replaces_the_placeholder(monkeypatch):
    # Given: the registry as it is, restored after the test
    monkeypatch.setattr(lookups, "REGISTRY", dict(lookups.REGISTRY))

    # When: a connector registers "balance"
    @register("balance", timeout=1.0)
    def billing_balance(customer, inputs):
        """The balance from billing."""
        return {"amount": "12.50", "currency": "GBP"}

    # Then
    assert run_lookup("balance", customer=None, inputs={}) == {"amount": "12.50", "currency": "GBP"}
    assert lookups.REGISTRY["balance"].description == "The balance from billing."
    assert lookups.lookup_names() == ["balance", "case_status", "order_status"]
