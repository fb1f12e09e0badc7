"""Callbacks not answered are tried again per the policy, then given up visibly; the outcome is the agent's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from engagement.conversations.models import ConversationStatus
from engagement.orchestration import conversation_end, conversation_wrap_up
from engagement.outbound.models import Callback, CallbackStatus
from engagement.outbound.services import callback_outcome, callback_request, callbacks_queue_due
from engagement.routing import engine
from engagement.routing.models import WorkStatus
from engagement.routing.offers import offer_accept
from engagement.routing.presence import presence_set
from records.journey.models import JourneyEvent
from tests.engagement.desktop_support import parse
from tests.engagement.routing_support import fresh, pending_offer
from tests.support import assert_error, make_customer, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env", "eager_tasks")]

CALLBACKS = "/api/v1/engagement/callbacks/"


@pytest.fixture
def customer(team_a):
    return make_customer(team_a, given_name="Ada", family_name="Lovelace", phone="+447911123456")


@pytest.fixture
def policy(settings):
    settings.CEA_CALLBACK_MAX_ATTEMPTS = 2
    settings.CEA_CALLBACK_RETRY_MINUTES = 15


def on_the_desk(agent, callback: Callback):
    """The callback's current attempt, offered to and accepted by ``agent``."""
    callback.refresh_from_db()
    item = callback.conversation.work_items.get(status__in=[WorkStatus.WAITING, WorkStatus.OFFERED])
    engine.dispatch_queue(item.queue_id)
    offer_accept(actor=agent, offer_id=pending_offer(item).pk)
    return fresh(callback.conversation)


def test_no_answer_is_tried_again_after_the_gap_then_given_up_after_the_last_attempt(
    customer, agent, policy, django_capture_on_commit_callbacks
):
    presence_set(actor=agent, agent_user=agent, presence="available")
    callback = callback_request(actor=None, customer=customer, queue="general", reason="Renewal", source="api")
    assert (callback.attempts, callback.max_attempts, callback.retry_minutes) == (1, 2, 15)
    # When the agent records no answer on the first attempt
    conversation = on_the_desk(agent, callback)
    before = timezone.now()
    callback = callback_outcome(actor=agent, conversation=conversation, outcome="no_answer", note="voicemail")
    # Then the call ends (the agent wraps up) and the callback is scheduled again 15 minutes later
    assert fresh(conversation).status == ConversationStatus.ENDED
    assert (callback.status, callback.conversation, callback.attempts) == (CallbackStatus.SCHEDULED, None, 1)
    assert before + timedelta(minutes=15) <= callback.due_at <= timezone.now() + timedelta(minutes=15)
    assert [(row["attempt"], row["outcome"], row["note"]) for row in callback.attempt_log] == [
        (1, "no_answer", "voicemail")
    ]
    conversation_wrap_up(actor=agent, conversation=conversation, wrap_up_code="resolved")
    # When it is due again, the sweep queues a second attempt, with a new conversation
    with django_capture_on_commit_callbacks(execute=True):
        assert callbacks_queue_due(now=callback.due_at) == 1
    callback.refresh_from_db()
    assert (callback.status, callback.attempts) == (CallbackStatus.QUEUED, 2)
    assert callback.conversation != conversation
    # When the second (last) attempt gets no answer either, it gives up, visibly
    callback = callback_outcome(actor=agent, conversation=on_the_desk(agent, callback), outcome="no_answer")
    assert (callback.status, callback.finished_at is not None) == (CallbackStatus.GAVE_UP, True)
    event = JourneyEvent.objects.get(customer=customer, kind="callback.gave_up")
    assert (event.payload["attempts"], event.payload["callback_id"]) == (2, callback.pk)
    listed = token_client(agent).get(CALLBACKS, {"status": "gave_up"}).json()["results"]
    assert [(row["id"], row["attempts"], len(row["attempt_log"])) for row in listed] == [(callback.pk, 2, 2)]


def test_an_answered_callback_is_finished(customer, agent, policy):
    presence_set(actor=agent, agent_user=agent, presence="available")
    callback = callback_request(actor=None, customer=customer, queue="general", reason="Renewal", source="api")
    conversation = on_the_desk(agent, callback)
    # When the agent records the answer through the desk
    client = Client()
    client.force_login(agent)
    page = parse(client.get(f"/desk/conversations/{conversation.pk}/"))
    assert page.find(data_testid="callback-attempt").text == "Attempt 1 of 2 · Queued"
    response = client.post(
        f"/desk/backoffice/conversations/{conversation.pk}/callback-outcome/",
        {"outcome": "answered"},
        HTTP_HX_REQUEST="true",
    )
    # Then the callback is answered and the conversation ended for wrap-up
    assert response.status_code == 200, response.content
    assert parse(response).find(data_testid="callback-recorded").text == "Callback answered. Wrap up to finish."
    callback.refresh_from_db()
    assert (callback.status, fresh(conversation).status) == (CallbackStatus.ANSWERED, ConversationStatus.ENDED)
    # And recording it again is a conflict
    with pytest.raises(Conflict) as again:
        callback_outcome(actor=agent, conversation=conversation, outcome="answered")
    assert again.value.code == "callback_not_queued"


def test_a_call_ended_without_an_outcome_counts_as_not_answered(customer, agent, policy):
    presence_set(actor=agent, agent_user=agent, presence="available")
    callback = callback_request(actor=None, customer=customer, queue="general", reason="Renewal", source="api")
    conversation = on_the_desk(agent, callback)
    # When the call ends with no outcome recorded
    conversation_end(actor=agent, conversation=conversation)
    # Then the beat's sweep treats it as not answered: scheduled again
    assert callbacks_queue_due() == 0  # not due yet: 15 minutes later
    callback.refresh_from_db()
    assert (callback.status, callback.attempt_log[0]["outcome"], callback.attempt_log[0]["by"]) == (
        CallbackStatus.SCHEDULED,
        "no_answer",
        "system",
    )


def test_another_teams_agent_cannot_record_an_outcome_nor_list_the_callback(customer, agent, agent_b, policy):
    presence_set(actor=agent, agent_user=agent, presence="available")
    callback = callback_request(actor=None, customer=customer, queue="general", reason="Renewal", source="api")
    conversation = on_the_desk(agent, callback)
    # Team B's agent is refused through the API (they cannot see the conversation) and the service
    response = token_client(agent_b).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/callback-outcome/", {"outcome": "answered"}
    )
    assert_error(response, 403)
    with pytest.raises(PermissionDenied):
        callback_outcome(actor=agent_b, conversation=conversation, outcome="answered")
    assert token_client(agent_b).get(CALLBACKS).json()["results"] == []
    # And a bad outcome is a 400 by field, for the handling agent too
    response = token_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/callback-outcome/", {"outcome": "maybe"}
    )
    assert "outcome" in assert_error(response, 400)["fields"]
    with pytest.raises(ValidationFailed):
        callback_outcome(actor=agent, conversation=conversation, outcome="maybe")
    assert fresh(callback).status == CallbackStatus.QUEUED
