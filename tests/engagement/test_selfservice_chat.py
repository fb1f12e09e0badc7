"""Self-service flows on web chat: menus, asks, look-ups, knowledge, branches, hand-over, ending."""

from __future__ import annotations

import pytest
from django.utils import translation

from engagement.context import store
from engagement.context.services import context_read, context_write
from engagement.conversations.models import Message
from engagement.conversations.services import conversation_set_verification
from engagement.selfservice import services
from engagement.selfservice.models import Flow
from engagement.selfservice.services import (
    flow_save,
    knowledge_article_save,
    selfservice_on_customer_message,
    selfservice_start,
)
from engagement.selfservice.words import (
    AGENT_CHOICE_TEXT,
    ANYTHING_ELSE_TEXT,
    DEFAULT_ASK_ERROR,
    GOODBYE,
    GREETING,
    HANDOVER_SAY,
    LOOKUP_SORRY,
    MAIN_MENU_TEXT,
    MAIN_MENU_TEXT_FREE,
    MENU_HINT_TEXT,
    NO_ANSWER,
    NOT_AN_OPTION,
    OFFER_AGENT_TEXT,
    RETRY_HANDOVER,
    START_AGAIN,
)
from integration.lookups import NOT_CONNECTED
from tests.engagement.selfservice_support import (
    chat,
    context_of,
    make_customer,
    make_flows_with_failing_orders,
    reloaded,
    says,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("selfservice_env")]

MAIN_MENU = (
    f"{MAIN_MENU_TEXT}\n1. Order status\n2. Delivery\n3. Balance\n4. Opening hours\n"
    f"{AGENT_CHOICE_TEXT}\n{MAIN_MENU_TEXT_FREE}"
)
DELIVERY_MENU = f"What do you need?\n1. Track a parcel\n2. Change delivery day\n{MENU_HINT_TEXT}"


def test_a_greeting_gets_the_main_menu_listing_flows_by_menu_key(flows):
    # Given
    conversation = chat()
    # When
    reply = says(conversation, "Hello!")
    # Then
    assert reply.prompts == [GREETING, MAIN_MENU]
    assert [m.author_kind for m in reply.messages] == ["bot", "bot"]
    assert [m.direction for m in reply.messages] == ["outbound", "outbound"]
    assert reply.expect == {"kind": "menu", "choices": ["1", "2", "3", "4", "0"]}
    assert context_of(conversation)["selfservice"]["greeted"] is True


def test_start_greets_once(flows):
    # Given
    conversation = chat()
    # When
    first = selfservice_start(conversation=conversation)
    again = selfservice_start(conversation=conversation)
    # Then
    assert first.prompts == [GREETING, MAIN_MENU]
    assert again.prompts == []
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_a_menu_step_takes_the_key(flows):
    # Given
    conversation = chat()
    says(conversation, "hi")
    assert says(conversation, "2").prompts == [DELIVERY_MENU]
    # When
    reply = says(conversation, "1")
    # Then
    assert reply.prompts == ["Tracking is on your orders page.", ANYTHING_ELSE_TEXT]
    assert context_of(conversation)["answers"] == {"delivery_need": "Track a parcel"}
    assert context_of(conversation)["intent"] == "delivery"
    assert reloaded(conversation).intent == "delivery"


def test_a_menu_step_takes_the_label_in_any_case_and_words_around_it(flows):
    # Given
    conversation = chat()
    says(conversation, "Delivery")
    # When
    reply = says(conversation, "I'd like to change delivery day please")
    # Then
    assert reply.prompts == ["An agent will change the day for you."]
    assert reloaded(conversation).status == "queued"
    assert reloaded(conversation).queue == "delivery"
    assert context_of(conversation)["answers"] == {"delivery_need": "Change delivery day"}


def test_a_wrong_menu_choice_is_refused_and_the_menu_repeated(flows):
    # Given
    conversation = chat()
    says(conversation, "2")
    # When
    reply = says(conversation, "7")
    # Then
    assert reply.prompts == [NOT_AN_OPTION, DELIVERY_MENU]
    assert context_of(conversation)["selfservice"]["retries"] == 1


def test_a_trigger_phrase_starts_its_flow(flows):
    # Given
    conversation = chat()
    # When
    reply = says(conversation, "Hi, where is my order?")
    # Then
    assert reply.prompts == ["What is your order number?"]
    assert reply.expect == {"kind": "ask", "choices": []}
    state = context_of(conversation)["selfservice"]
    assert (state["flow"], state["step"]) == ("order_status", "ask-order")


def test_ask_validates_with_its_pattern_then_the_look_up_answers_and_the_flow_ends_contained(
    flows, django_capture_on_commit_callbacks
):
    # Given
    conversation = chat()
    says(conversation, "1")
    # When: a wrong answer, then a right one
    refused = says(conversation, "12-34")
    with django_capture_on_commit_callbacks(execute=True):
        accepted = says(conversation, "123456")
    # Then
    assert refused.prompts == ["Six digits, please.", "What is your order number?"]
    assert accepted.prompts == ["Order 123456 is out for delivery.", "Goodbye!"]
    assert accepted.hangup is True
    conversation = reloaded(conversation)
    assert (conversation.status, conversation.contained, conversation.escalated_at) == ("ended", True, None)
    assert conversation.interaction.disposition == "contained"
    snapshot = conversation.interaction.context_snapshot
    assert snapshot["answers"] == {
        "order_number": "123456",
        "order": {"number": "123456", "status": "out for delivery"},
    }
    assert snapshot["selfservice"]["outcome"] == "solved"


def test_ask_hands_over_after_its_bounded_retries(flows, django_capture_on_commit_callbacks):
    # Given: two retries allowed (the default)
    conversation = chat()
    says(conversation, "1")
    assert says(conversation, "abc").prompts == ["Six digits, please.", "What is your order number?"]
    assert says(conversation, "12").prompts == ["Six digits, please.", "What is your order number?"]
    # When: the third wrong answer
    with django_capture_on_commit_callbacks(execute=True):
        reply = says(conversation, "still no")
    # Then
    assert reply.prompts == [RETRY_HANDOVER]
    assert reply.transfer is True
    conversation = reloaded(conversation)
    assert (conversation.status, conversation.queue) == ("queued", "orders")
    context = context_of(conversation)
    assert context["handover"]["reason"] == "No valid answer at Order status / ask-order after 3 tries."
    assert context["escalation_reason"] == "No valid answer at Order status / ask-order after 3 tries."


def test_an_ask_has_a_default_error_and_its_own_retry_limit():
    # Given: one retry allowed, no error text of its own
    flow_save(
        name="Postcode",
        intent="postcode",
        menu_key="5",
        steps=[
            {
                "key": "ask",
                "kind": "ask",
                "prompt": "Your postcode?",
                "options": {"variable": "postcode", "pattern": "^[A-Z0-9 ]{5,8}$", "retries": 1},
                "next_step": "thanks",
            },
            {"key": "thanks", "kind": "say", "prompt": "Thanks, {postcode} noted."},
        ],
    )
    refused, accepted = chat(), chat(visitor="visitor-2")
    says(refused, "5")
    says(accepted, "5")
    # When
    first_wrong = says(refused, "abc")
    second_wrong = says(refused, "12")
    right = says(accepted, "SW1A 1AA")
    # Then
    assert first_wrong.prompts == [DEFAULT_ASK_ERROR, "Your postcode?"]
    assert second_wrong.prompts == [RETRY_HANDOVER]
    assert reloaded(refused).status == "queued"
    # A flow that runs out of steps offers the rest of the service
    assert right.prompts == ["Thanks, SW1A 1AA noted.", ANYTHING_ELSE_TEXT]
    assert context_of(accepted)["answers"] == {"postcode": "SW1A 1AA"}


def test_a_failed_look_up_apologises_and_offers_an_agent_who_gets_the_context(
    monkeypatch, django_capture_on_commit_callbacks
):
    # Given: the back-end is not connected
    make_flows_with_failing_orders(monkeypatch, NOT_CONNECTED, permanent=True)
    conversation = chat()
    says(conversation, "1")
    # When
    reply = says(conversation, "654321")
    # Then
    assert reply.prompts == [f"{LOOKUP_SORRY} {OFFER_AGENT_TEXT}"]
    assert reply.expect == {"kind": "yes_no", "choices": []}
    assert reloaded(conversation).status == "self_service"
    assert context_of(conversation)["answers"]["order"] == {"failed": "not connected"}
    # When the customer accepts
    with django_capture_on_commit_callbacks(execute=True):
        accepted = says(conversation, "yes please")
    # Then
    assert accepted.prompts == [HANDOVER_SAY]
    conversation = reloaded(conversation)
    assert (conversation.status, conversation.queue) == ("queued", "orders")
    handover = context_of(conversation)["handover"]
    assert handover["reason"] == (
        "The customer accepted an agent. The test_order look-up in Order status failed: not connected."
    )
    assert handover["intent"] == "order_status"


def test_declining_the_offered_agent_goes_back_to_the_main_menu(monkeypatch):
    # Given: the back-end is down
    make_flows_with_failing_orders(monkeypatch, "timed out after 5 s")
    conversation = chat()
    says(conversation, "1")
    says(conversation, "654321")
    # When
    reply = says(conversation, "no")
    # Then
    assert reply.prompts == [MAIN_MENU]
    assert reloaded(conversation).status == "self_service"
    assert context_of(conversation)["selfservice"]["flow"] == ""


def test_a_free_text_question_is_answered_from_the_knowledge_base(flows):
    # Given
    knowledge_article_save(title="When are you open?", body="Our hours: 8am to 8pm on weekdays.")
    conversation = chat()
    # When
    reply = says(conversation, "When do you open on weekdays?")
    # Then
    assert reply.prompts == ["Our hours: 8am to 8pm on weekdays.", ANYTHING_ELSE_TEXT]
    answers = context_of(conversation)["answers"]
    assert answers == {"question": "When do you open on weekdays?", "knowledge_article": "When are you open?"}
    assert reloaded(conversation).intent == ""


def test_a_knowledge_step_answers_with_the_best_article(flows):
    # Given
    knowledge_article_save(title="When are you open?", body="Our hours: 8am to 8pm on weekdays.")
    knowledge_article_save(title="Returns", body="Return an item within 30 days.")
    conversation = chat()
    # When
    reply = says(conversation, "4")
    # Then
    assert reply.prompts == ["Our hours: 8am to 8pm on weekdays.", ANYTHING_ELSE_TEXT]


def test_a_question_without_an_answer_says_so_and_offers_an_agent(flows):
    # Given
    knowledge_article_save(title="Returns", body="Return an item within 30 days.")
    conversation = chat()
    # When
    reply = says(conversation, "Can I pay with cryptocurrency?")
    # Then
    assert reply.prompts == [f"{NO_ANSWER} {OFFER_AGENT_TEXT}"]
    assert reloaded(conversation).status == "self_service"


def test_a_branch_on_the_verification_level(flows, team_a):
    # Given: one verified customer and one only identified
    customer = make_customer(team_a, given_name="Alice")
    verified = chat(customer=customer)
    conversation_set_verification(conversation=verified, customer=customer, level="verified", method="otp")
    identified = chat(customer=customer, visitor="visitor-2")
    # When
    verified_reply = says(verified, "3")
    identified_reply = says(identified, "balance")
    # Then
    assert verified_reply.prompts == ["You are verified, Alice.", "Goodbye!"]
    assert reloaded(verified).status == "ended"
    assert identified_reply.prompts == ["An agent will verify you."]
    assert (reloaded(identified).status, reloaded(identified).queue) == ("queued", "billing")


def test_the_hand_over_carries_intent_answers_and_verification_level(flows, team_a, django_capture_on_commit_callbacks):
    # Given: an identified customer who gave an answer in a flow
    customer = make_customer(team_a)
    conversation = chat(customer=customer)
    says(conversation, "where is my order")
    says(conversation, "x")
    # When: the customer asks for a person
    with django_capture_on_commit_callbacks(execute=True):
        reply = says(conversation, "I want to talk to a human")
    # Then
    assert reply.prompts == [HANDOVER_SAY]
    conversation = reloaded(conversation)
    assert (conversation.status, conversation.queue, conversation.intent) == ("queued", "orders", "order_status")
    assert conversation.escalated_at is not None
    context = context_of(conversation)
    assert context["intent"] == "order_status"
    assert context["verification_level"] == "identified"
    assert context["answers"] == {}
    handover = context["handover"]
    assert handover["intent"] == "order_status"
    assert handover["flow"] == "order_status"
    assert handover["verification_level"] == "identified"
    assert handover["queue"] == "orders"
    assert handover["reason"] == "The customer asked for an agent."
    assert handover["summary"] == (
        "Intent: order_status. Verification: identified. Answers: none. Reason: The customer asked for an agent."
    )


def test_answers_given_before_the_hand_over_are_in_the_context(flows, django_capture_on_commit_callbacks):
    # Given
    conversation = chat()
    says(conversation, "2")
    # When
    with django_capture_on_commit_callbacks(execute=True):
        says(conversation, "2")
    # Then
    context = context_of(conversation)
    assert context["answers"] == {"delivery_need": "Change delivery day"}
    assert context["handover"]["summary"] == (
        "Intent: delivery. Verification: anonymous. Answers: delivery_need=Change delivery day. "
        "Reason: Hand-over from Delivery at change."
    )
    assert context["verification_level"] == "anonymous"


@pytest.mark.parametrize("words", ["agent", "0", "Can I speak to an AGENT?", "operator"])
def test_asking_for_an_agent_escalates_at_any_time(flows, words):
    # Given: in the middle of a question
    conversation = chat()
    says(conversation, "1")
    # When
    reply = says(conversation, words)
    # Then
    assert reply.prompts == [HANDOVER_SAY]
    assert reply.transfer is True
    assert reloaded(conversation).status == "queued"


def test_after_the_hand_over_self_service_stays_quiet(flows):
    # Given
    conversation = chat()
    says(conversation, "agent")
    # When
    reply = says(conversation, "hello?")
    # Then
    assert reply.prompts == []
    assert reply.transfer is True


def test_the_customer_can_end_and_the_conversation_is_contained(flows, django_capture_on_commit_callbacks):
    # Given
    conversation = chat()
    says(conversation, "hi")
    # When
    with django_capture_on_commit_callbacks(execute=True):
        reply = says(conversation, "Bye")
    # Then
    assert reply.prompts == [GOODBYE]
    conversation = reloaded(conversation)
    assert (conversation.status, conversation.contained) == ("ended", True)
    assert context_of(conversation)["selfservice"]["outcome"] == "ended_by_customer"


def test_menu_goes_back_to_the_main_menu_from_inside_a_flow(flows):
    # Given
    conversation = chat()
    says(conversation, "1")
    # When
    reply = says(conversation, "menu")
    # Then
    assert reply.prompts == [MAIN_MENU]
    assert context_of(conversation)["selfservice"]["flow"] == ""


def test_the_same_message_is_handled_once(flows):
    # Given
    conversation = chat()
    first = says(conversation, "1")
    message = Message.objects.filter(conversation=conversation, author_kind="customer").get()
    # When: the consumer hands the same message in again (a redelivery)
    again = selfservice_on_customer_message(conversation=conversation, message=message)
    # Then
    assert again.replayed is True
    assert [m.pk for m in again.messages] == [m.pk for m in first.messages]
    assert Message.objects.filter(conversation=conversation, author_kind="bot").count() == 1


def test_a_newer_context_makes_the_turn_run_again_on_it_without_double_replies(flows, monkeypatch):
    # Given: another writer changes the context between this turn's read and its write, once
    conversation = chat()
    says(conversation, "hi")
    interfered = []

    def read_then_interfere(**kwargs):
        context = context_read(**kwargs)
        if not interfered:
            interfered.append(True)
            context_write(actor=None, scope="conversation", context_id=conversation.pk, values={"sentiment": -0.2})
        return context

    monkeypatch.setattr(services, "context_read", read_then_interfere)
    # When
    reply = says(conversation, "1")
    # Then: the first attempt lost, the second counted; one set of replies
    assert reply.prompts == ["What is your order number?"]
    assert Message.objects.filter(conversation=conversation, author_kind="bot").count() == 3
    context = context_of(conversation)
    assert context["sentiment"] == -0.2
    assert context["selfservice"]["step"] == "ask-order"


def test_the_state_survives_redis_losing_the_context(flows):
    # Given: a customer in the middle of a flow, and Redis restarted (the hot copy is gone)
    conversation = chat()
    says(conversation, "1")
    store.delete("conversation", str(conversation.pk))
    # When
    reply = says(conversation, "123456")
    # Then: the state came back from the durable log
    assert reply.prompts == ["Order 123456 is out for delivery.", "Goodbye!"]


def test_a_flow_switched_off_mid_conversation_starts_again(flows):
    # Given
    conversation = chat()
    says(conversation, "1")
    Flow.objects.filter(intent="order_status").update(is_active=False)
    # When
    reply = says(conversation, "123456")
    # Then
    menu = MAIN_MENU.replace("1. Order status\n", "")
    assert reply.prompts == [START_AGAIN, menu]


def test_a_german_visitor_is_greeted_in_german_and_understood_in_german(monkeypatch):
    # Given: a chat whose visitor's page is in German (the web chat's socket reads its turns in that
    # language), with the orders back-end down
    make_flows_with_failing_orders(monkeypatch, "timed out after 5 s")
    conversation = chat()
    with translation.override("de"):
        # When: they greet in German
        greeted = says(conversation, "Hallo")
        # Then: the assistant greets them in German
        assert greeted.prompts[0] == "Hallo, ich bin der virtuelle Assistent."
        assert greeted.prompts[1].startswith("Wie kann ich helfen?")
        # When: the look-up fails and they decline the offered agent with "nein"
        says(conversation, "1")
        offered = says(conversation, "654321")
        assert offered.prompts[-1].endswith("Antworten Sie mit ja oder nein.")
        declined = says(conversation, "nein")
        # Then: "nein" is understood: back at the main menu, still in self-service
        assert declined.prompts[0].startswith("Wie kann ich helfen?")
        assert reloaded(conversation).status == "self_service"
        # When: they ask for a person in German
        handed = says(conversation, "Ich möchte einen Mitarbeiter")
        # Then: they are handed over, told so in German
        assert handed.prompts == ["Ich verbinde Sie mit einem Mitarbeiter, der alles sieht, was Sie mir gesagt haben."]
