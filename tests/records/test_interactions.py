"""Interactions: recording a finished conversation, linking it to a case, its sentiment."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from records.cases.services import case_create
from records.interactions.models import Interaction
from records.interactions.services import (
    interaction_link_case,
    interaction_record,
    interaction_set_satisfaction,
    interaction_set_sentiment,
)
from records.journey.models import JourneyEvent
from tests.records.db_locks import wait_for_lock_waiters
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db

STARTED = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC)
ANSWERED = STARTED + dt.timedelta(seconds=40)
ENDED = STARTED + dt.timedelta(minutes=7)


@pytest.fixture
def customer(team_a):
    return CustomerFactory(given_name="Alice", family_name="Smith", team=team_a)


def _record(actor, **fields) -> Interaction:
    return interaction_record(actor=actor, **{"channel": "voice", "started_at": STARTED, "ended_at": ENDED, **fields})


def _written() -> tuple[int, int]:
    return Interaction.objects.count(), JourneyEvent.objects.count()


# --- Recording ----------------------------------------------------------------------------


def test_recording_keeps_the_conversation_and_writes_the_journey_at_its_end(agent, customer, team_a):
    # Given
    case = case_create(actor=agent, customer=customer, subject="Bill too high")
    transcript = [
        {"at": "2025-01-15T10:00:45Z", "author": "customer", "author_name": "Alice", "body": "My bill doubled."},
        {"at": "2025-01-15T10:01:10Z", "author": "agent", "author_name": "Sam", "body": "Let me check."},
    ]
    # When
    interaction = _record(
        agent,
        customer=customer,
        direction="inbound",
        answered_at=ANSWERED,
        queue="billing",
        agent=agent,
        team=team_a,
        transcript=transcript,
        wrap_up_code="BILL-ADJ",
        disposition="resolved",
        wrap_up_notes="Credit applied.",
        context_snapshot={"intent": "billing", "verified": True},
        case=case,
        external_id="call-0001",
        source_system="engagement",
    )
    # Then
    interaction.refresh_from_db()
    assert (interaction.customer_id, interaction.channel, interaction.direction) == (customer.pk, "voice", "inbound")
    assert (interaction.started_at, interaction.answered_at, interaction.ended_at) == (STARTED, ANSWERED, ENDED)
    assert interaction.handle_seconds == 380.0
    assert (interaction.queue, interaction.agent_id, interaction.team_id, interaction.case_id) == (
        "billing",
        agent.pk,
        team_a.pk,
        case.pk,
    )
    assert interaction.transcript == transcript
    assert (interaction.wrap_up_code, interaction.disposition, interaction.wrap_up_notes) == (
        "BILL-ADJ",
        "resolved",
        "Credit applied.",
    )
    assert interaction.context_snapshot == {"intent": "billing", "verified": True}
    event = JourneyEvent.objects.get(kind="interaction.recorded")
    assert event.customer_id == customer.pk
    assert event.occurred_at == ENDED
    assert (event.channel, event.source_system) == ("voice", "engagement")
    assert event.summary == "Voice inbound conversation (resolved)"
    assert event.payload == {"interaction_id": interaction.pk, "case_id": case.pk, "queue": "billing"}


def test_an_anonymous_conversation_is_recorded_without_a_journey_event(agent):
    # When
    interaction = _record(agent, channel="chat")
    # Then
    assert interaction.customer_id is None
    assert (Interaction.objects.count(), JourneyEvent.objects.count()) == (1, 0)


def test_recording_the_same_conversation_twice_is_a_conflict_and_writes_nothing(agent, customer):
    # Given
    _record(agent, customer=customer, external_id="call-0001")
    before = _written()
    # When
    with pytest.raises(Conflict) as refused:
        _record(agent, customer=customer, external_id="call-0001", disposition="again")
    # Then
    assert refused.value.code == "already_recorded"
    assert refused.value.message == "The voice conversation 'call-0001' is already recorded."
    assert _written() == before


@pytest.mark.django_db(transaction=True)
def test_two_recordings_of_the_same_conversation_at_once_one_is_a_conflict(agent, integration_user, team_a):
    # Given: the first recording is written but not yet committed when the second one checks
    customer = CustomerFactory(team=team_a)
    outcome: list[object] = []

    def record_again() -> None:
        try:
            _record(integration_user, customer=customer, external_id="call-0001")
            outcome.append("recorded")
        except Exception as exc:  # the outcome is asserted below
            outcome.append(exc)
        finally:
            connection.close()

    second = threading.Thread(target=record_again)
    # When
    try:
        with transaction.atomic():
            _record(agent, customer=customer, external_id="call-0001")
            second.start()
            wait_for_lock_waiters(1)  # its INSERT waits on the unique index for this transaction
    finally:
        if second.ident is not None:
            second.join(timeout=60)
    # Then: the second is refused as a duplicate, not with a database error, and nothing of it remains
    assert len(outcome) == 1
    assert isinstance(outcome[0], Conflict), repr(outcome[0])
    assert outcome[0].code == "already_recorded"
    assert _written() == (1, 1)
    connection.close()


def test_the_same_external_id_on_another_channel_is_another_conversation(agent, customer):
    # Given
    _record(agent, customer=customer, external_id="42")
    # When
    _record(agent, customer=customer, channel="sms", external_id="42")
    # Then
    assert sorted(Interaction.objects.values_list("channel", "external_id")) == [("sms", "42"), ("voice", "42")]


def test_conversations_without_an_external_id_are_never_duplicates(agent, customer):
    # When
    _record(agent, customer=customer)
    _record(agent, customer=customer)
    # Then
    assert _written() == (2, 2)


def test_bad_times_channel_direction_and_snapshot_are_all_listed(agent, customer):
    # When
    with pytest.raises(ValidationFailed) as refused:
        interaction_record(
            actor=agent,
            customer=customer,
            channel="carrier-pigeon",
            direction="sideways",
            started_at=ENDED,
            ended_at=STARTED,
            answered_at=ENDED + dt.timedelta(minutes=1),
            context_snapshot=["not", "an", "object"],
        )
    # Then
    assert refused.value.fields == {
        "channel": ["Choose one of voice, chat, email, sms, social, web_form, mobile_app, branch, iot."],
        "direction": ["Choose one of inbound, outbound."],
        "ended_at": ["The conversation cannot end before it started."],
        "answered_at": ["Must be between the start and the end."],
        "context_snapshot": ["Must be an object."],
    }
    assert _written() == (0, 0)


@pytest.mark.parametrize(
    "answered_at",
    [STARTED - dt.timedelta(seconds=1), ENDED + dt.timedelta(seconds=1)],
    ids=["before-start", "after-end"],
)
def test_an_answer_outside_the_conversation_is_refused(agent, customer, answered_at):
    # When
    with pytest.raises(ValidationFailed) as refused:
        _record(agent, customer=customer, answered_at=answered_at)
    # Then
    assert set(refused.value.fields) == {"answered_at"}
    assert _written() == (0, 0)


def test_a_conversation_may_be_answered_at_its_very_start_and_end_at_once(agent, customer):
    # When
    interaction = _record(agent, customer=customer, answered_at=STARTED, ended_at=STARTED)
    # Then
    assert interaction.handle_seconds == 0.0


def test_transcript_messages_are_checked_one_by_one(agent, customer):
    # When
    with pytest.raises(ValidationFailed) as refused:
        _record(
            agent,
            customer=customer,
            transcript=[
                {"author": "customer", "body": "Hello"},
                {"author": "customer"},
                "just text",
                {"author": "manager", "body": "Hi"},
                {"author": "bot", "body": 12},
            ],
        )
    # Then
    assert refused.value.fields == {
        "transcript": [
            "Message 1: needs a text body.",
            "Message 2: needs a text body.",
            "Message 3: author must be one of agent, bot, customer, system.",
            "Message 4: needs a text body.",
        ]
    }
    assert _written() == (0, 0)


def test_a_transcript_that_is_not_a_list_is_refused(agent, customer):
    # When
    with pytest.raises(ValidationFailed) as refused:
        _record(agent, customer=customer, transcript="customer: hello")
    # Then
    assert refused.value.fields == {"transcript": ["Must be a list."]}
    assert _written() == (0, 0)


def test_a_case_of_another_customer_is_refused(agent, customer, team_a):
    # Given
    other = CustomerFactory(team=team_a)
    their_case = case_create(actor=agent, customer=other, subject="Theirs")
    before = _written()
    # When
    with pytest.raises(ValidationFailed) as refused:
        _record(agent, customer=customer, case=their_case)
    # Then
    assert refused.value.fields == {"case": ["The case belongs to another customer."]}
    assert _written() == before


def test_an_agent_cannot_record_a_conversation_for_another_team(agent, customer, team_b):
    # When
    with pytest.raises(PermissionDenied):
        _record(agent, customer=customer, team=team_b)
    # Then
    assert _written() == (0, 0)


# --- Linking to a case --------------------------------------------------------------------


def test_linking_a_conversation_to_a_case_of_its_customer(agent, customer):
    # Given
    interaction = _record(agent, customer=customer, channel="email")
    case = case_create(actor=agent, customer=customer, subject="Refund")
    # When
    interaction_link_case(actor=agent, interaction=interaction, case=case)
    # Then
    interaction.refresh_from_db()
    assert interaction.case_id == case.pk
    event = JourneyEvent.objects.get(kind="case.interaction_linked")
    assert (event.customer_id, event.channel) == (customer.pk, "email")
    assert event.summary == f"Email conversation linked to {case.reference}"
    assert event.payload == {"interaction_id": interaction.pk, "case_id": case.pk}


def test_an_anonymous_conversation_may_be_linked_to_any_case(agent, customer):
    # Given
    interaction = _record(agent, channel="chat")
    case = case_create(actor=agent, customer=customer, subject="Refund")
    # When
    interaction_link_case(actor=agent, interaction=interaction, case=case)
    # Then: the journey event goes to the case's customer
    interaction.refresh_from_db()
    assert interaction.case_id == case.pk
    assert JourneyEvent.objects.get(kind="case.interaction_linked").customer_id == customer.pk


def test_linking_to_another_customers_case_is_refused(agent, customer, team_a):
    # Given
    interaction = _record(agent, customer=customer)
    their_case = case_create(actor=agent, customer=CustomerFactory(team=team_a), subject="Theirs")
    before = _written()
    # When
    with pytest.raises(ValidationFailed) as refused:
        interaction_link_case(actor=agent, interaction=interaction, case=their_case)
    # Then
    assert refused.value.fields == {"case": ["Another customer's case."]}
    interaction.refresh_from_db()
    assert interaction.case_id is None
    assert _written() == before


# --- Sentiment ----------------------------------------------------------------------------


@pytest.mark.parametrize(("score", "label"), [(-1.0, "negative"), (0.0, "neutral"), (0.35, "positive"), (1.0, "")])
def test_sentiment_within_range_is_kept(integration_user, customer, score, label):
    # Given
    interaction = _record(integration_user, customer=customer)
    # When
    interaction_set_sentiment(actor=integration_user, interaction=interaction, score=score, label=label)
    # Then
    interaction.refresh_from_db()
    assert (interaction.sentiment, interaction.sentiment_label) == (score, label)


@pytest.mark.parametrize("score", [-1.01, 1.01, 5.0, float("nan")])
def test_sentiment_out_of_range_is_refused(integration_user, customer, score):
    # Given
    interaction = _record(integration_user, customer=customer)
    # When
    with pytest.raises(ValidationFailed) as refused:
        interaction_set_sentiment(actor=integration_user, interaction=interaction, score=score, label="odd")
    # Then
    assert refused.value.fields == {"sentiment": ["Out of range."]}
    interaction.refresh_from_db()
    assert (interaction.sentiment, interaction.sentiment_label) == (None, "")


# --- Satisfaction (CSAT written by insights' surveys) -------------------------------------


@pytest.mark.parametrize("csat", [1, 3, 5])
def test_satisfaction_within_range_is_kept(integration_user, customer, csat):
    # Given
    interaction = _record(integration_user, customer=customer)
    # When
    interaction_set_satisfaction(actor=integration_user, interaction=interaction, csat=csat)
    # Then
    interaction.refresh_from_db()
    assert interaction.satisfaction == csat


@pytest.mark.parametrize("csat", [0, 6, -1])
def test_satisfaction_out_of_range_is_refused(integration_user, customer, csat):
    # Given
    interaction = _record(integration_user, customer=customer)
    # When
    with pytest.raises(ValidationFailed) as refused:
        interaction_set_satisfaction(actor=integration_user, interaction=interaction, csat=csat)
    # Then
    assert refused.value.fields == {"satisfaction": ["Out of range."]}
    interaction.refresh_from_db()
    assert interaction.satisfaction is None
