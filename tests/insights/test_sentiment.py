"""Sentiment: VADER scores of English customer messages (others marked not scored), the conversation's running
figure on its context, strongly negative turns (once per crossing), interactions, customers' trends, backfill."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cea.common.channels import Channel, Direction
from engagement.context.models import ContextScope
from engagement.context.services import context_read
from engagement.conversations.models import AuthorKind, Message, SentimentStatus
from engagement.conversations.services import conversation_start, message_add, message_json
from engagement.orchestration import conversation_end
from engagement.routing.engine import work_enqueue
from engagement.routing.models import WorkItem
from insights.sentiment.analyzer import NOT_RECOGNISED, label_of, score_text, weighted_mean
from insights.sentiment.models import NegativeTurn, SentimentSettings
from insights.sentiment.services import customers_trend_update, sentiment_backfill, trend_of
from records.interactions.models import Interaction
from tests.support import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env")]

ANGRY = "This is the third time I am calling and nobody fixed my broken router, absolutely terrible service!"
ANGRY_SCORE = -0.7773
HAPPY = "Great, that solved it, thank you so much!"
HAPPY_SCORE = 0.8398
FRENCH = "Je suis très mécontent de votre service"


def say(conversation, body: str, *, author_kind: str = AuthorKind.CUSTOMER) -> Message:
    direction = Direction.INBOUND if author_kind == AuthorKind.CUSTOMER else Direction.OUTBOUND
    message, _ = message_add(conversation=conversation, direction=direction, author_kind=author_kind, body=body)
    message.refresh_from_db()
    return message


def chat(customer=None, *, queue: str = "general"):
    conversation, _ = conversation_start(channel=Channel.CHAT, customer=customer, visitor="v-1", queue=queue)
    return conversation


# --- The scorer -------------------------------------------------------------------------------------


def test_english_text_is_scored_with_vader_s_compound_score_and_other_languages_are_not():
    # When
    angry, happy = score_text(ANGRY), score_text(HAPPY, declared_language="en-GB")
    french_declared = score_text(HAPPY, declared_language="fr-CA")
    french_undeclared = score_text(FRENCH)
    # Then
    assert (angry.scored, angry.score, angry.language) == (True, ANGRY_SCORE, "en")
    assert (happy.scored, happy.score) == (True, HAPPY_SCORE)
    assert (french_declared.scored, french_declared.score, french_declared.reason) == (
        False,
        None,
        "language not scored (fr)",
    )
    assert (french_undeclared.scored, french_undeclared.reason) == (False, NOT_RECOGNISED)
    assert score_text("   ").scored is False


def test_labels_follow_vader_s_thresholds_and_later_turns_weigh_more():
    assert [label_of(s) for s in (0.05, 0.0499, -0.0499, -0.05, None)] == [
        "positive",
        "neutral",
        "neutral",
        "negative",
        "",
    ]
    assert weighted_mean([-0.5, 0.5]) == round((-0.5 * 1 + 0.5 * 2) / 3, 4)
    assert weighted_mean([]) is None


# --- Messages as they arrive ---------------------------------------------------------------------


def test_a_customer_message_carries_its_score_and_the_agent_s_does_not(django_capture_on_commit_callbacks):
    # Given
    conversation = chat()
    # When
    with django_capture_on_commit_callbacks(execute=True):
        customer_turn = say(conversation, ANGRY)
        agent_turn = say(conversation, "I'm sorry to hear that.", author_kind=AuthorKind.AGENT)
    # Then
    assert (customer_turn.sentiment, customer_turn.sentiment_status, customer_turn.sentiment_language) == (
        ANGRY_SCORE,
        SentimentStatus.SCORED,
        "en",
    )
    assert (agent_turn.sentiment, agent_turn.sentiment_status) == (None, "")
    pushed = message_json(message=customer_turn)
    assert (pushed["sentiment"], pushed["sentiment_status"]) == (ANGRY_SCORE, "scored")
    context = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values
    assert (context["sentiment"], context["sentiment_label"], context["sentiment_turns"]) == (
        ANGRY_SCORE,
        "negative",
        1,
    )


def test_a_french_speaking_customer_s_messages_are_marked_not_scored(django_capture_on_commit_callbacks, team_a):
    # Given
    customer = make_customer(team_a, language="fr")
    conversation = chat(customer)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        message = say(conversation, HAPPY)
    # Then
    assert (message.sentiment, message.sentiment_status, message.sentiment_note, message.sentiment_language) == (
        None,
        SentimentStatus.NOT_SCORED,
        "language not scored (fr)",
        "fr",
    )
    assert "sentiment" not in context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values


def test_the_running_sentiment_weighs_the_later_turns_more(django_capture_on_commit_callbacks):
    # Given
    conversation = chat()
    # When
    with django_capture_on_commit_callbacks(execute=True):
        say(conversation, ANGRY)
        say(conversation, HAPPY)
    # Then
    context = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values
    expected = round((ANGRY_SCORE + 2 * HAPPY_SCORE) / 3, 4)
    assert (context["sentiment"], context["sentiment_label"], context["sentiment_turns"]) == (expected, "positive", 2)


# --- Strongly negative turns -------------------------------------------------------------------------


def queued_chat(queue) -> tuple:
    conversation = chat(queue=queue.name)
    item = work_enqueue(conversation=conversation, queue=queue)
    return conversation, item


@pytest.fixture
def queue():
    from tests.engagement.factories import QueueFactory

    return QueueFactory(name="complaints")


def test_a_negative_turn_raises_priority_and_alerts_once_per_crossing(django_capture_on_commit_callbacks, queue):
    # Given the defaults: at or below -0.6, +20 points, alert
    conversation, item = queued_chat(queue)
    # When: negative, negative again, back up, negative again
    with django_capture_on_commit_callbacks(execute=True):
        first = say(conversation, ANGRY)
    with django_capture_on_commit_callbacks(execute=True):
        say(conversation, "Absolutely terrible, I hate this awful broken service!")
    after_two = WorkItem.objects.get(pk=item.pk).priority_reasons
    with django_capture_on_commit_callbacks(execute=True):
        say(conversation, HAPPY)
    with django_capture_on_commit_callbacks(execute=True):
        third = say(conversation, ANGRY)
    # Then: two crossings, each acted on once
    turns = list(
        NegativeTurn.objects.order_by("id").values_list("message_id", "priority_raised_by", "supervisor_alerted")
    )
    assert turns == [(first.pk, 20, True), (third.pk, 20, True)]
    # the item is ranked again with the boost (and the live sentiment routing adds for a negative conversation)
    assert (after_two["boost"], after_two["sentiment"] > 0) == (20, True)
    refreshed = WorkItem.objects.get(pk=item.pk)
    assert refreshed.priority_reasons["boost"] == 40
    assert refreshed.priority == sum(refreshed.priority_reasons.values())
    context = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values
    assert context["priority_boost"] == 40
    assert context["sentiment_alert"].startswith("Strongly negative turn (-0.78)")


def test_the_actions_are_configurable(django_capture_on_commit_callbacks, queue):
    # Given: alert only, and a stricter threshold
    SentimentSettings.objects.update_or_create(
        pk=1, defaults={"negative_threshold": -0.7, "raise_priority": False, "alert_supervisor": True}
    )
    conversation, item = queued_chat(queue)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        say(conversation, "I'm not happy with this.")  # -0.4585: above -0.7
        message = say(conversation, ANGRY)
    # Then
    assert list(NegativeTurn.objects.values_list("message_id", "priority_raised_by", "supervisor_alerted")) == [
        (message.pk, 0, True)
    ]
    assert WorkItem.objects.get(pk=item.pk).priority == item.priority
    assert "priority_boost" not in context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values


def test_priority_only_raises_without_an_alert(django_capture_on_commit_callbacks, queue):
    SentimentSettings.objects.update_or_create(
        pk=1, defaults={"raise_priority": True, "priority_points": 7, "alert_supervisor": False}
    )
    conversation, item = queued_chat(queue)
    with django_capture_on_commit_callbacks(execute=True):
        say(conversation, ANGRY)
    assert list(NegativeTurn.objects.values_list("priority_raised_by", "supervisor_alerted")) == [(7, False)]
    assert WorkItem.objects.get(pk=item.pk).priority_reasons["boost"] == 7
    assert "sentiment_alert" not in context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values


# --- Interactions and customers ---------------------------------------------------------------------


def test_an_ended_conversation_s_interaction_and_customer_trend_are_scored(django_capture_on_commit_callbacks, team_a):
    # Given
    customer = make_customer(team_a)
    conversation = chat(customer)
    with django_capture_on_commit_callbacks(execute=True):
        say(conversation, ANGRY)
        say(conversation, "Let me help.", author_kind=AuthorKind.AGENT)
        say(conversation, HAPPY)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        interaction = conversation_end(actor=None, conversation=conversation)
    # Then
    interaction.refresh_from_db()
    expected = round((ANGRY_SCORE + 2 * HAPPY_SCORE) / 3, 4)
    assert (interaction.sentiment, interaction.sentiment_label) == (expected, "positive")
    customer.refresh_from_db()
    assert (customer.scores["sentiment_trend"], customer.scores["sentiment"], customer.scores["sentiment_trend_n"]) == (
        expected,
        expected,
        1,
    )


def recorded(customer, *, days_ago: float, sentiment: float | None, transcript=None) -> Interaction:
    started = timezone.now() - dt.timedelta(days=days_ago)
    return Interaction.objects.create(
        customer=customer,
        channel=Channel.CHAT,
        started_at=started,
        ended_at=started + dt.timedelta(minutes=5),
        sentiment=sentiment,
        transcript=transcript or [],
        team=customer.team if customer else None,
    )


def test_the_trend_is_an_ewma_of_the_last_ten_interactions_of_90_days(team_a):
    # Given: an old one (outside 90 days) and three recent ones
    customer = make_customer(team_a)
    recorded(customer, days_ago=120, sentiment=-1.0)
    for days_ago, score in ((30, -0.5), (20, 0.0), (10, 0.5)):
        recorded(customer, days_ago=days_ago, sentiment=score)
    # When
    updated = customers_trend_update(customer_ids=[customer.pk])
    # Then: -0.5 → 0.3×0 + 0.7×-0.5 = -0.35 → 0.3×0.5 + 0.7×-0.35 = -0.095
    customer.refresh_from_db()
    assert (updated, customer.scores["sentiment_trend"], customer.scores["sentiment_trend_n"]) == (1, -0.095, 3)
    assert trend_of([]) is None


def test_the_backfill_scores_old_messages_and_replaces_invented_interaction_scores(team_a):
    # Given: a message from before scoring, and an interaction with an invented score
    customer = make_customer(team_a)
    conversation = chat(customer)
    old = Message.objects.create(
        conversation=conversation,
        channel=Channel.CHAT,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        body=HAPPY,
        sent_at=timezone.now(),
    )
    invented = recorded(
        customer,
        days_ago=1,
        sentiment=0.99,
        transcript=[
            {"at": "2026-12-01T10:00:00", "author": "customer", "body": ANGRY},
            {"at": "2026-12-01T10:01:00", "author": "agent", "body": "Sorry!"},
        ],
    )
    # When
    first = sentiment_backfill(rescore=True)
    again = sentiment_backfill(rescore=True)
    # Then
    old.refresh_from_db()
    invented.refresh_from_db()
    assert (old.sentiment, old.sentiment_status) == (HAPPY_SCORE, SentimentStatus.SCORED)
    assert (invented.sentiment, invented.sentiment_label) == (ANGRY_SCORE, "negative")
    assert first == {"messages": 1, "interactions": 1, "customers": 1}
    assert again == {"messages": 0, "interactions": 0, "customers": 0}


def test_personal_data_exports_and_unlinks_the_customer_s_negative_turns(team_a):
    from insights.sentiment.personal_data import erase_for_customer, export_for_customer

    customer = make_customer(team_a)
    NegativeTurn.objects.create(message_id=5, conversation_id=9, customer=customer, score=-0.8, threshold=-0.6)
    assert [(row["conversation"], row["score"]) for row in export_for_customer(customer.pk)] == [(9, -0.8)]
    assert erase_for_customer(customer.pk) == 1
    assert export_for_customer(customer.pk) == []
    assert NegativeTurn.objects.count() == 1
