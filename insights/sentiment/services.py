"""Scoring customer messages, conversations, interactions and customers; a strongly negative turn's actions.

Wired into engagement's funnel through ``engagement.hooks`` (``sentiment_hooks_register``,
called from ``InsightsConfig.ready``):

- ``message_scorer`` scores each customer message inline as it is added (``analyzer.score_text``);
- ``on_customer_message`` (after commit) writes the conversation's running sentiment into its context
  (``sentiment``, ``sentiment_label``: the desk, the supervisors' live page and routing read it) and
  acts on a strongly negative turn (``negative_turn_check``);
- ``on_interaction_recorded`` (after commit) sets the interaction's sentiment and the customer's trend.

Everything here runs as the system (``actor=None``): no user asked for it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cea.common.live import supervision_hint_on_commit
from engagement.context.models import ContextScope
from engagement.context.services import context_read, context_write
from engagement.conversations.models import Conversation, Message
from engagement.conversations.selectors import (
    customer_messages_unscored,
    customer_turn_scores,
    message_with_conversation,
)
from engagement.conversations.services import message_set_sentiment
from engagement.hooks import (
    MessageScore,
    register_customer_message_hook,
    register_interaction_recorded_hook,
    register_message_scorer,
)
from engagement.routing.engine import work_reprioritise
from engagement.routing.priority import BOOST_LIMIT
from insights.sentiment.analyzer import label_of, score_text, weighted_mean
from insights.sentiment.models import NegativeTurn, SentimentSettings
from records.customers.services import customers_set_scores_bulk
from records.interactions.models import Interaction
from records.interactions.selectors import interaction_with_customer, interactions_page, recent_sentiments_of
from records.interactions.services import interaction_set_sentiment, interactions_set_sentiment_bulk

logger = logging.getLogger(__name__)

SOURCE = "insights.sentiment"
TREND_INTERACTIONS = 10  # the customer's trend: their last 10 scored interactions …
TREND_DAYS = 90  # … of the last 90 days,
TREND_ALPHA = 0.3  # as an exponentially weighted mean, oldest first (the newest weighs most)
CUSTOMER_AUTHORS = ("customer", "visitor")


def sentiment_settings() -> SentimentSettings:
    """The one settings row (made with the defaults on first use)."""
    row, _ = SentimentSettings.objects.get_or_create(pk=1)
    return row


# --- Messages ---------------------------------------------------------------------------------------


def message_scorer(conversation: object, body: str) -> MessageScore:
    """The registered scorer: ``body`` in the customer's declared language (their record's ``language``)."""
    customer = getattr(conversation, "customer", None)
    return score_text(body, declared_language=getattr(customer, "language", "") or "")


def on_customer_message(message_id: int) -> None:
    """After a customer message commits: the running sentiment into the conversation's context, and
    the negative-turn check. A message not scored changes nothing."""
    message = message_with_conversation(message_id=message_id)
    if message is None or message.sentiment is None:
        return
    turns = customer_turn_scores(conversation_id=message.conversation_id, up_to_message_id=message.pk)
    conversation_sentiment_write(conversation=message.conversation, turns=turns)
    negative_turn_check(message=message, turns=turns)


def conversation_sentiment_write(*, conversation: Conversation, turns: list[tuple[int, float]]) -> float | None:
    """Write the conversation's running sentiment (``analyzer.weighted_mean`` of its customer turns)
    into its context; returns it (``None``: no scored turn, nothing written)."""
    running = weighted_mean([score for _, score in turns])
    if running is None:
        return None
    context_write(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=conversation.pk,
        values={"sentiment": running, "sentiment_label": label_of(running), "sentiment_turns": len(turns)},
        customer_id=conversation.customer_id,
        source=SOURCE,
        summary=f"Sentiment {running:+.2f} over {len(turns)} customer turns",
    )
    return running


def negative_turn_check(*, message: Message, turns: list[tuple[int, float]]) -> NegativeTurn | None:
    """Act on a strongly negative turn, once per crossing of the threshold (``SentimentSettings``).

    ``turns`` are the conversation's scored customer turns up to this message. The turn crosses when
    it is at or below the threshold and the customer's previous scored turn was above it (or there was
    none). A crossing is recorded once per message (``NegativeTurn.message_id`` is unique: the hook
    running twice does nothing the second time); then, as configured, the conversation's routing
    priority is raised and the team's supervisors are alerted. Returns the new record, else ``None``.
    """
    config = sentiment_settings()
    score = message.sentiment
    if score is None or score > config.negative_threshold:
        return None
    previous = [value for pk, value in turns if pk < message.pk]
    if previous and previous[-1] <= config.negative_threshold:
        return None  # still below since the last crossing
    conversation = message.conversation
    try:
        with transaction.atomic():
            turn = NegativeTurn.objects.create(
                message_id=message.pk,
                conversation_id=conversation.pk,
                customer_id=conversation.customer_id,
                team_id=conversation.team_id,
                agent_id=conversation.agent_id,
                queue=conversation.queue,
                score=score,
                threshold=config.negative_threshold,
            )
            if config.raise_priority:
                turn.priority_raised_by = _raise_priority(conversation=conversation, points=config.priority_points)
            if config.alert_supervisor:
                _alert_supervisors(conversation=conversation, score=score)
                turn.supervisor_alerted = True
            turn.save(update_fields=["priority_raised_by", "supervisor_alerted"])
    except IntegrityError:
        return None  # this message's crossing was recorded already
    return turn


def _raise_priority(*, conversation: Conversation, points: int) -> int:
    """Add ``points`` to the conversation context's ``priority_boost`` (clamped as routing clamps it)
    and re-rank its waiting work; returns the points actually added."""
    current = context_read(scope=ContextScope.CONVERSATION, context_id=conversation.pk).values.get("priority_boost")
    base = current if isinstance(current, int | float) and not isinstance(current, bool) else 0
    boosted = int(min(base + points, BOOST_LIMIT))
    if boosted <= base:
        return 0
    context_write(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=conversation.pk,
        values={"priority_boost": boosted},
        customer_id=conversation.customer_id,
        source=SOURCE,
        summary=f"Priority boost {boosted}: strongly negative customer turn",
    )
    work_reprioritise(conversation=conversation)
    return int(boosted - base)


def _alert_supervisors(*, conversation: Conversation, score: float) -> None:
    """The alert: on the conversation's context (the supervisors' live page shows it on the row) and a
    hint that their page reads again, after commit."""
    context_write(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=conversation.pk,
        values={"sentiment_alert": f"Strongly negative turn ({score:+.2f}) at {timezone.localtime():%H:%M}"},
        customer_id=conversation.customer_id,
        source=SOURCE,
        summary="Supervisor alerted: strongly negative customer turn",
    )
    supervision_hint_on_commit(what="conversations")


# --- Interactions and customers --------------------------------------------------------------------


def transcript_score(interaction: Interaction) -> tuple[float | None, int, int]:
    """``(sentiment, turns scored, turns not scored)`` of the interaction's customer turns (``weighted_mean``)."""
    declared = ""
    if isinstance(interaction.context_snapshot, dict):
        declared = str(interaction.context_snapshot.get("language") or "")
    if not declared and interaction.customer is not None:
        declared = interaction.customer.language
    scores: list[float] = []
    skipped = 0
    for entry in interaction.transcript if isinstance(interaction.transcript, list) else []:
        if not isinstance(entry, dict) or entry.get("author") not in CUSTOMER_AUTHORS or entry.get("internal"):
            continue
        if entry.get("event"):
            continue
        verdict = score_text(str(entry.get("body") or ""), declared_language=declared)
        if verdict.scored and verdict.score is not None:
            scores.append(verdict.score)
        else:
            skipped += 1
    return weighted_mean(scores), len(scores), skipped


def on_interaction_recorded(interaction_id: int) -> None:
    """After a conversation is recorded: the interaction's sentiment, then its customer's trend."""
    interaction = interaction_with_customer(interaction_id=interaction_id)
    if interaction is None:
        return
    score, _scored, _skipped = transcript_score(interaction)
    if score is None:
        return
    interaction_set_sentiment(actor=None, interaction=interaction, score=score, label=label_of(score))
    if interaction.customer_id is not None:
        customers_trend_update(customer_ids=[interaction.customer_id])


def trend_of(scores: list[float]) -> float | None:
    """The exponentially weighted mean of ``scores`` (oldest first, ``TREND_ALPHA``); ``None`` for none."""
    if not scores:
        return None
    level = scores[0]
    for score in scores[1:]:
        level = TREND_ALPHA * score + (1 - TREND_ALPHA) * level
    return round(level, 4)


def customers_trend_update(*, customer_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Write each customer's ``sentiment_trend`` (and ``sentiment``, the key routing's priority and the
    journey map read) from their last ``TREND_INTERACTIONS`` scored interactions of ``TREND_DAYS``.
    Customers without one are left as they are. Returns the customers updated."""
    ids = sorted(set(customer_ids))
    since = (now or timezone.now()) - dt.timedelta(days=TREND_DAYS)
    recent = recent_sentiments_of(customer_ids=ids, since=since, per_customer=TREND_INTERACTIONS)
    scores: dict[int, dict[str, Any]] = {}
    for customer_id, values in recent.items():
        trend = trend_of(values)
        if trend is not None:
            scores[customer_id] = {"sentiment_trend": trend, "sentiment": trend, "sentiment_trend_n": len(values)}
    if not scores:
        return 0
    updated, _events = customers_set_scores_bulk(
        actor=None, scores=scores, journey_keys=("sentiment_trend",), source_system="insights"
    )
    return updated


# --- Backfill ---------------------------------------------------------------------------------------


def sentiment_backfill(
    *, rescore: bool = False, page: int = 1000, created_since: dt.datetime | None = None
) -> dict[str, int]:
    """Score what came before scoring: customer messages never scored, interactions without a sentiment
    (``rescore``: every interaction, replacing what was there, e.g. the demo's invented figures;
    ``created_since``: only interactions recorded since then), then the trends of the customers concerned.
    Idempotent; returns counts."""
    messages = 0
    after = 0
    while batch := customer_messages_unscored(after_id=after, limit=page):
        for message in batch:
            message_set_sentiment(message=message, score=message_scorer(message.conversation, message.body))
            messages += 1
        after = batch[-1].pk
    interactions = 0
    customers: set[int] = set()
    after = 0
    while rows := interactions_page(after_id=after, limit=page, unscored_only=not rescore, created_since=created_since):
        found: dict[int, tuple[float, str]] = {}
        for interaction in rows:
            score, _, _ = transcript_score(interaction)
            if score is not None:
                found[interaction.pk] = (score, label_of(score))
                if interaction.customer_id is not None:
                    customers.add(interaction.customer_id)
        interactions += interactions_set_sentiment_bulk(actor=None, scores=found)
        after = rows[-1].pk
    trends = customers_trend_update(customer_ids=customers) if customers else 0
    return {"messages": messages, "interactions": interactions, "customers": trends}


def sentiment_hooks_register() -> None:
    """Plug the scorer and the hooks into engagement's funnel (``InsightsConfig.ready``)."""
    register_message_scorer(message_scorer)
    register_customer_message_hook(on_customer_message)
    register_interaction_recorded_hook(on_interaction_recorded)
