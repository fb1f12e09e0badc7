"""The active flows are kept per process and rebuilt when their rows change, however they change
(engagement/selfservice/selectors.py ``flow_definitions_active``)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagement.selfservice.models import Flow, FlowStep
from engagement.selfservice.selectors import flow_definitions_active

pytestmark = pytest.mark.django_db


def _queues() -> dict[str, str]:
    return {flow.intent: flow.queue for flow in flow_definitions_active()}


def test_unchanged_flows_are_read_with_one_statement_and_shared(flows):
    # Given: the flows, read once
    first = flow_definitions_active()
    # When: read again, nothing changed
    with CaptureQueriesContext(connection) as queries:
        again = flow_definitions_active()
    # Then: the same definitions, for the one fingerprint statement
    assert again is first
    assert len(queries.captured_queries) == 1
    assert {flow.intent for flow in first} == {"order_status", "delivery", "balance", "opening_hours"}


def test_a_change_of_any_kind_is_seen_at_the_next_read(flows):
    # Given
    assert _queues()["balance"] != "edited"
    # When: a bulk update (no signal, no updated_at), then a step's prompt saved, then a flow switched off
    Flow.objects.filter(intent="balance").update(queue="edited")
    queues = _queues()
    step = FlowStep.objects.filter(flow__intent="order_status").order_by("position").first()
    step.prompt = "Your order number, please?"
    step.save()
    prompts = [flow.steps[flow.first].prompt for flow in flow_definitions_active() if flow.intent == "order_status"]
    Flow.objects.filter(intent="delivery").update(is_active=False)
    intents = {flow.intent for flow in flow_definitions_active()}
    # Then: each read saw the change before it
    assert queues["balance"] == "edited"
    assert prompts == ["Your order number, please?"]
    assert "delivery" not in intents
