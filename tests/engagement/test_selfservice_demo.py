"""The demo's flows and articles: loaded once, never overwriting, and they run."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from engagement.conversations.services import conversation_set_verification
from engagement.selfservice.demo import DEMO_ARTICLES, DEMO_FLOWS
from engagement.selfservice.models import Flow, FlowStep, KnowledgeArticle
from engagement.selfservice.words import LOOKUP_SORRY, OFFER_AGENT_TEXT
from records.cases.services import case_create
from tests.engagement.selfservice_support import call, chat, context_of, make_customer, presses, says

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("selfservice_env")]


def load() -> str:
    out = StringIO()
    call_command("load_demo_flows", stdout=out)
    return out.getvalue().strip()


def test_the_demo_loads_once_and_never_overwrites():
    # When
    first = load()
    Flow.objects.filter(intent="balance").update(queue="edited by a supervisor")
    second = load()
    # Then
    assert first == "Self-service demo: 4 flow(s) created, 0 already there; 5 article(s) created, 0 already there."
    assert second == "Self-service demo: 0 flow(s) created, 4 already there; 0 article(s) created, 5 already there."
    assert Flow.objects.count() == len(DEMO_FLOWS) == 4
    assert FlowStep.objects.count() == 13
    assert KnowledgeArticle.objects.count() == len(DEMO_ARTICLES)
    assert Flow.objects.get(intent="balance").queue == "edited by a supervisor"
    assert list(Flow.objects.values_list("menu_key", flat=True)) == ["1", "2", "3", "4"]


def test_order_status_apologises_while_order_management_is_not_connected():
    load()
    conversation = chat()
    says(conversation, "where is my order")
    assert says(conversation, "123456").prompts == [f"{LOOKUP_SORRY} {OFFER_AGENT_TEXT}"]
    assert context_of(conversation)["answers"]["order"] == {"failed": "not connected"}


def test_opening_hours_come_from_the_knowledge_base_on_the_phone():
    load()
    reply = presses(call(), "2")
    assert reply.prompts[0].startswith("Our contact centre is open Monday to Friday 8am to 8pm")


def test_balance_hands_over_a_customer_who_is_not_verified():
    load()
    conversation = chat()
    assert says(conversation, "What is my balance?").prompts == [
        "For your security, an agent will confirm who you are and tell you your balance."
    ]
    assert context_of(conversation)["handover"]["reason"] == "Balance asked by a customer who is not verified."
    assert says(conversation, "hello").prompts == []


def test_a_verified_customer_hears_their_open_cases(team_a, django_capture_on_commit_callbacks):
    load()
    customer = make_customer(team_a)
    case = case_create(actor=None, customer=customer, subject="Router keeps dropping")
    conversation = chat(customer=customer)
    conversation_set_verification(conversation=conversation, customer=customer, level="verified", method="otp")
    with django_capture_on_commit_callbacks(execute=True):
        reply = says(conversation, "4")
    assert reply.prompts == [
        f"You have 1 open request: {case.reference} (Router keeps dropping) is new.",
        "Thank you. Goodbye!",
    ]
    conversation.refresh_from_db()
    assert (conversation.status, conversation.contained) == ("ended", True)
