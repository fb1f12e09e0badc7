"""Closing the loop: strategies' engagement actions (message, callback, next best action) through engagement's
services, and the next best action's acceptance counted in the strategy's figures and effect."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from engagement.conversations.models import Conversation, Message
from engagement.idv import senders
from engagement.outbound.models import Callback
from engagement.recommendations.models import RecommendedAction
from engagement.recommendations.services import recommendation_decide
from insights.strategies.effects import strategy_effects_compute, strategy_observed_refresh
from insights.strategies.models import StrategyEffect, StrategyFiring
from insights.strategies.selectors import strategy_recommendation_outcomes
from tests.engagement.factories import QueueFactory
from tests.insights.strategy_support import NOON, consent, customer, evaluate, event, strategy
from tests.support import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env", "eager_tasks")]

NBA = {"title": "Offer the premium plan", "detail": "Tell them what premium adds.", "expires_hours": 48}


@pytest.fixture(autouse=True)
def no_control_group(settings):
    """Every customer gets arbitration's choice here (the control group has its own tests)."""
    settings.CEA_ARBITRATION_CONTROL_PERCENT = 0
    settings.CEA_SMS_SENDER = "engagement.idv.senders.LocmemSmsSender"
    senders.outbox.clear()


def test_a_message_starts_an_outbound_conversation_on_the_preferred_consented_channel(team_a):
    # Given a marketing message strategy and Ada, who prefers SMS and consented to marketing by SMS and email
    s = strategy(
        "renewal", action_kind="message", consent_purpose="marketing",
        action_params={"text": "Your renewal is due: reply to talk to us."},
    )  # fmt: skip
    ada = make_customer(team_a, given_name="Ada", email="ada@example.com", phone="+447911123456")
    ada.preferred_channel = "sms"
    ada.save(update_fields=["preferred_channel"])
    consent(ada, "sms")
    consent(ada, "email")
    # When an interaction of hers is evaluated
    (firing,) = evaluate(event(ada), now=NOON)
    # Then an outbound SMS conversation was started by the strategy, and the text went out
    firing.refresh_from_db()
    conversation = Conversation.objects.get(customer=ada)
    assert (conversation.channel, conversation.direction) == ("sms", "outbound")
    assert (firing.outcome, firing.channel, firing.reason) == (
        "fired",
        "sms",
        f"message by sms: conversation {conversation.pk}",
    )
    assert [(sms.to, sms.text) for sms in senders.outbox] == [
        ("+447911123456", "Your renewal is due: reply to talk to us.")
    ]
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert StrategyFiring.objects.get(strategy=s).pk == firing.pk and mail.outbox == []


def test_a_message_whose_consent_is_withdrawn_before_it_acts_fails_with_the_reason(team_a):
    s = strategy(
        "renewal", action_kind="message", consent_purpose="marketing", action_params={"text": "Hello"},
    )  # fmt: skip
    ada = make_customer(team_a, given_name="Ada", email="ada@example.com")
    granted = consent(ada, "email")
    happened = event(ada)
    from insights.strategies.services import strategies_evaluate_event

    (firing,) = strategies_evaluate_event(event=happened, now=NOON)  # decided: consented then
    granted.granted = False
    granted.save(update_fields=["granted"])
    from insights.strategies.evaluation import firings_act

    # When the action runs after the customer withdrew their consent
    assert firings_act(firing_ids=[firing.pk]) == 1
    # Then the firing failed, saying why in words, and nothing was sent
    firing = StrategyFiring.objects.get(strategy=s)
    assert (firing.outcome, firing.reason) == (
        "failed",
        "The customer withdrew their consent to marketing messages by Email.",
    )
    assert Conversation.objects.count() == 0


def test_a_callback_is_booked_through_the_strategy_s_queue_and_an_unknown_queue_fails(team_a, settings):
    settings.CEA_ARBITRATION_PROACTIVE_TOP = 2
    QueueFactory(name="retention")
    strategy("call-back", action_kind="callback", action_params={"queue": "retention", "reason": "Renewal due"})
    strategy("call-nowhere", action_kind="callback", action_params={"queue": "nowhere", "reason": "Renewal due"})
    ada = make_customer(team_a, given_name="Ada", phone="+447911123456")
    evaluate(event(ada), now=NOON)
    callback = Callback.objects.get(customer=ada)
    assert (callback.queue, callback.reason, callback.source) == ("retention", "Renewal due", "strategy:call-back")
    firings = {f.strategy.key: f for f in StrategyFiring.objects.select_related("strategy")}
    assert (firings["call-back"].outcome, firings["call-back"].reason) == (
        "fired",
        f"callback {callback.pk} through retention",
    )
    assert (firings["call-nowhere"].outcome, firings["call-nowhere"].reason) == ("failed", "No active queue 'nowhere'.")


def test_a_next_best_action_is_offered_with_why_it_fired_its_components_and_the_priority_as_score(team_a):
    # Given an NBA strategy with value 2 and lever 1.5, never offered before (propensity (0+1)/(0+2) = 0.5)
    strategy("premium", name="Premium upgrade", action_kind="next_best_action", action_params=NBA, value=2, lever=1.5)
    ada = customer(team_a)
    before = timezone.now()
    # When an interaction of hers is evaluated
    (firing,) = evaluate(event(ada), now=NOON)
    # Then the card's action carries the strategy's title and detail, the priority 0.5 × 1 × 2 × 1.5 = 1.5
    action = RecommendedAction.objects.get(customer=ada)
    firing.refresh_from_db()
    assert (action.source_key, action.title, action.detail) == (
        "strategy:premium",
        "Offer the premium plan",
        "Tell them what premium adds.",
    )
    assert action.score == firing.priority == 1.5
    assert action.reasons == [
        "Strategy Premium upgrade: on the journey event interaction.recorded",
        "Priority 1.500 = propensity 0.50 × context 1.00 × value 2 × lever 1.5",
        "Propensity 0.50: observed 0 of 0, smoothed (0 + 1) / (0 + 2)",
        "Context weight 1.00: no channel",
        "Ranked 1 of 1 eligible",
    ]
    assert before + dt.timedelta(hours=48) <= action.expires_at <= timezone.now() + dt.timedelta(hours=48)
    assert firing.reason == f"next best action {action.pk} offered (priority 1.500)"


def test_an_accepted_next_best_action_counts_in_the_strategy_s_figures_and_effect(team_a, agent, supervisor, team_b):
    # Given an NBA strategy judged on acceptance, offered to Ada and Bob, Cleo held out by hand-made firing
    s = strategy(
        "premium", action_kind="next_best_action", action_params=NBA, metric_kind="nba_accepted", metric_days=7
    )
    ada, bob, cleo = customer(team_a), customer(team_a), customer(team_a)
    other = customer(team_b)
    for person in (ada, bob, other):
        evaluate(event(person), now=timezone.now())
    StrategyFiring.objects.create(
        strategy=s, customer=cleo, occasion="by-hand", group="holdout", outcome="held_out", at=timezone.now()
    )
    # When the agent accepts Ada's and dismisses Bob's
    recommendation_decide(actor=agent, recommendation_id=RecommendedAction.objects.get(customer=ada).pk, accepted=True)
    recommendation_decide(actor=agent, recommendation_id=RecommendedAction.objects.get(customer=bob).pk, accepted=False)
    strategy_effects_compute(strategy=s)
    # Then the effect counts 1 acceptance of 3 treated against 0 of 1 held out
    row = StrategyEffect.objects.get(strategy=s, team=None)
    assert (row.treated, row.treated_successes, row.holdout, row.holdout_successes) == (3, 1, 1, 0)
    team_row = StrategyEffect.objects.get(strategy=s, team=team_a)
    assert (team_row.treated, team_row.treated_successes) == (2, 1)
    # And the figures: all the offers for an admin's view, the supervisor's team's for the supervisor
    assert strategy_recommendation_outcomes(user=supervisor, strategy=s) == {
        "offered": 2, "accepted": 1, "dismissed": 1, "expired": 0
    }  # fmt: skip
    # And arbitration's observed propensity becomes (1 + 1) / (3 + 2)
    assert strategy_observed_refresh(strategy=s) == (1, 3)
