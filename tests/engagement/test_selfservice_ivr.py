"""The same flow definitions on the voice IVR: DTMF digits and speech text, spoken menus."""

from __future__ import annotations

import pytest

from engagement.conversations.models import Message
from engagement.selfservice.services import knowledge_article_save
from engagement.selfservice.words import (
    AGENT_CHOICE_VOICE,
    ANYTHING_ELSE_VOICE,
    GREETING,
    HANDOVER_SAY,
    LOOKUP_SORRY,
    MAIN_MENU_VOICE_FREE,
    NO_INPUT,
    NOT_AN_OPTION,
    OFFER_AGENT_VOICE,
    RETRY_HANDOVER,
)
from integration.lookups import NOT_CONNECTED
from tests.engagement.selfservice_support import (
    call,
    context_of,
    make_flows_with_failing_orders,
    presses,
    reloaded,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("selfservice_env")]

MAIN_MENU = (
    "For Order status, press 1. For Delivery, press 2. For Balance, press 3. For Opening hours, press 4. "
    f"{AGENT_CHOICE_VOICE} {MAIN_MENU_VOICE_FREE}"
)
DELIVERY_MENU = f"What do you need? For Track a parcel, press 1. For Change delivery day, press 2. {AGENT_CHOICE_VOICE}"


def test_the_call_connecting_gets_the_spoken_main_menu(flows):
    # Given
    conversation = call()
    # When: the first request carries no input
    reply = presses(conversation)
    # Then
    assert reply.prompts == [GREETING, MAIN_MENU]
    assert reply.expect == {"kind": "menu", "choices": ["1", "2", "3", "4", "0"]}
    assert (reply.transfer, reply.hangup) == (False, False)


def test_digits_pick_the_flow_and_the_menu_choice(flows):
    # Given
    conversation = call()
    presses(conversation)
    # When
    menu = presses(conversation, "2")
    chosen = presses(conversation, "1")
    # Then
    assert menu.prompts == [DELIVERY_MENU]
    assert menu.expect == {"kind": "menu", "choices": ["1", "2", "0"]}
    assert chosen.prompts == ["Tracking is on your orders page.", ANYTHING_ELSE_VOICE]
    assert context_of(conversation)["answers"] == {"delivery_need": "Track a parcel"}


def test_speech_picks_by_label_or_spoken_digit(flows):
    # Given
    by_label, by_word = call("call-1"), call("call-2")
    # When
    label_reply = presses(by_label, speech="Delivery please")
    word_reply = presses(by_word, speech="two")
    chosen = presses(by_label, speech="change delivery day")
    # Then
    assert label_reply.prompts == [DELIVERY_MENU]
    assert word_reply.prompts == [DELIVERY_MENU]
    assert chosen.prompts == ["An agent will change the day for you."]
    assert chosen.transfer is True
    assert (reloaded(by_label).status, reloaded(by_label).queue) == ("queued", "delivery")


def test_the_ask_takes_digits_or_spoken_digits_and_the_call_ends_contained(flows, django_capture_on_commit_callbacks):
    # Given
    keyed, spoken = call("call-1"), call("call-2")
    presses(keyed, "1")
    presses(spoken, speech="order status")
    # When
    with django_capture_on_commit_callbacks(execute=True):
        keyed_reply = presses(keyed, "123456")
        spoken_reply = presses(spoken, speech="one two three four five six")
    # Then
    for reply in (keyed_reply, spoken_reply):
        assert reply.prompts == ["Order 123456 is out for delivery.", "Goodbye!"]
        assert reply.hangup is True
        assert (reply.conversation.status, reply.conversation.contained) == ("ended", True)
    assert context_of(spoken)["answers"]["order_number"] == "123456"


def test_inputs_are_kept_in_the_transcript(flows):
    # Given
    conversation = call()
    presses(conversation)
    # When
    presses(conversation, "1")
    # Then
    messages = list(Message.objects.filter(conversation=conversation).order_by("id"))
    assert [(m.author_kind, m.body) for m in messages[2:]] == [
        ("customer", "1"),
        ("bot", "What is your order number?"),
    ]
    assert messages[2].payload == {"ivr": {"digits": "1", "speech": ""}}
    assert messages[3].payload["selfservice"] == {
        "reply_to": messages[2].pk,
        "flow": "order_status",
        "step": "ask-order",
    }


def test_no_input_repeats_the_prompt_then_hands_over(flows):
    # Given
    conversation = call()
    presses(conversation, "1")
    # When: the caller says nothing, three times
    first, second, third = presses(conversation), presses(conversation), presses(conversation)
    # Then
    assert first.prompts == [NO_INPUT, "What is your order number?"]
    assert second.prompts == [NO_INPUT, "What is your order number?"]
    assert third.prompts == [RETRY_HANDOVER]
    assert third.transfer is True


def test_a_wrong_key_at_the_main_menu(flows):
    # Given
    conversation = call()
    presses(conversation)
    # When
    reply = presses(conversation, "9")
    # Then
    assert reply.prompts == [NOT_AN_OPTION, MAIN_MENU]


def test_zero_transfers_to_an_agent_with_the_flow_queue(flows):
    # Given
    conversation = call()
    presses(conversation, "1")
    # When
    reply = presses(conversation, "0")
    # Then
    assert reply.prompts == [HANDOVER_SAY]
    assert (reply.transfer, reply.conversation.queue) == (True, "orders")


def test_a_failed_look_up_on_the_ivr_offers_an_agent_by_key(monkeypatch):
    # Given: the back-end is not connected
    make_flows_with_failing_orders(monkeypatch, NOT_CONNECTED, permanent=True)
    conversation = call()
    presses(conversation, "1")
    # When
    offered = presses(conversation, "654321")
    accepted = presses(conversation, "1")
    # Then
    assert offered.prompts == [f"{LOOKUP_SORRY} {OFFER_AGENT_VOICE}"]
    assert offered.expect == {"kind": "yes_no", "choices": ["1", "2"]}
    assert accepted.prompts == [HANDOVER_SAY]
    assert accepted.conversation.status == "queued"


def test_knowledge_is_spoken_too(flows):
    # Given
    knowledge_article_save(title="When are you open?", body="We are open 8am to 8pm.", keywords="hours")
    conversation = call()
    # When
    reply = presses(conversation, "4")
    # Then
    assert reply.prompts == ["We are open 8am to 8pm.", ANYTHING_ELSE_VOICE]


def test_a_redelivered_input_is_handled_once(flows):
    # Given
    conversation = call()
    first = presses(conversation, "1", input_id="evt-1")
    # When
    again = presses(conversation, "1", input_id="evt-1")
    # Then
    assert again.replayed is True
    assert again.prompts == first.prompts == ["What is your order number?"]
    assert Message.objects.filter(conversation=conversation, author_kind="customer").count() == 1
    assert Message.objects.filter(conversation=conversation, author_kind="bot").count() == 1
