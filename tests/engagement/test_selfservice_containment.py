"""Containment: solved without an agent is contained; the rate per channel over a period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cea.common.errors import ValidationFailed
from engagement.conversations.models import Conversation
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_end, conversation_escalate
from engagement.selfservice.selectors import containment_rate
from tests.engagement.selfservice_support import (
    call,
    chat,
    presses,
    reloaded,
    says,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("selfservice_env")]


def test_solved_in_self_service_is_contained_and_escalated_is_not(flows, django_capture_on_commit_callbacks):
    # Given
    solved, escalated = chat(), chat(visitor="visitor-2")
    with django_capture_on_commit_callbacks(execute=True):
        # When: one customer gets the answer, the other asks for an agent and leaves before an answer
        says(solved, "1")
        says(solved, "123456")
        says(escalated, "agent")
        conversation_end(actor=None, conversation=escalated)
    # Then
    solved, escalated = reloaded(solved), reloaded(escalated)
    assert (solved.status, solved.contained, solved.interaction.disposition) == ("ended", True, "contained")
    assert (escalated.status, escalated.contained, escalated.interaction.disposition) == ("ended", False, "abandoned")


def test_the_containment_rate_by_channel_over_a_period(flows, django_capture_on_commit_callbacks):
    # Given: chat: 2 solved, 1 escalated; voice: 1 solved, 1 escalated; one chat still open;
    # one chat that ended before the period
    with django_capture_on_commit_callbacks(execute=True):
        old = chat(visitor="old")
        conversation_end(actor=None, conversation=old, ended_at=timezone.now() - timedelta(days=30))
        for visitor in ("a", "b"):
            conversation = chat(visitor=visitor)
            says(conversation, "hi")
            says(conversation, "bye")
        escalated = chat(visitor="c")
        says(escalated, "agent")
        conversation_end(actor=None, conversation=escalated)
        solved_call = call("call-1")
        presses(solved_call, "1")
        presses(solved_call, "123456")
        transferred = call("call-2")
        presses(transferred, "0")
        conversation_end(actor=None, conversation=transferred)
        chat(visitor="still-open")
    now = timezone.now()
    # When
    report = containment_rate(start=now - timedelta(days=1), end=now + timedelta(minutes=1))
    # Then
    rows = {row.channel: (row.ended, row.contained, row.rate) for row in report.channels}
    assert rows == {"chat": (3, 2, 0.6667), "voice": (2, 1, 0.5)}
    assert (report.total.ended, report.total.contained, report.total.rate) == (5, 3, 0.6)


def test_the_rate_of_a_period_without_conversations_is_none(db):
    now = timezone.now()
    report = containment_rate(start=now - timedelta(days=1), end=now)
    assert (report.channels, report.total.ended, report.total.rate) == ([], 0, None)


def test_the_rate_can_be_narrowed_to_some_conversations(flows, team_a, team_b, django_capture_on_commit_callbacks):
    # Given
    with django_capture_on_commit_callbacks(execute=True):
        mine, _ = conversation_start(channel="chat", visitor="a", team=team_a)
        theirs, _ = conversation_start(channel="chat", visitor="b", team=team_b)
        conversation_escalate(conversation=theirs)
        for conversation in (mine, theirs):
            conversation_end(actor=None, conversation=conversation)
    now = timezone.now()
    # When
    report = containment_rate(
        start=now - timedelta(hours=1),
        end=now + timedelta(minutes=1),
        conversations=Conversation.objects.filter(team=team_a),
    )
    # Then
    assert [(r.channel, r.ended, r.contained, r.rate) for r in report.channels] == [("chat", 1, 1, 1.0)]


def test_a_period_ending_before_it_starts_is_refused(db):
    now = timezone.now()
    with pytest.raises(ValidationFailed) as refused:
        containment_rate(start=now, end=now - timedelta(days=1))
    assert refused.value.fields == {"end": ["Must be after start."]}
