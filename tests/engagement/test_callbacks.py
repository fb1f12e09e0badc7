"""Callbacks: a voice conversation queued as work at its due time and offered to an agent through routing."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cea.common.channels import Channel
from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.outbound.models import Callback
from engagement.outbound.services import callback_queue_due, callback_request, callbacks_queue_due
from engagement.routing.models import Offer, OfferStatus, WorkItem, WorkStatus
from engagement.routing.presence import presence_set
from records.journey.models import JourneyEvent
from tests.accounts.factories import UserFactory
from tests.engagement.desktop_support import parse
from tests.support import assert_error, make_customer, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env", "eager_tasks")]

CALLBACKS = "/api/v1/engagement/callbacks/"


@pytest.fixture
def customer(team_a):
    return make_customer(team_a, given_name="Ada", family_name="Lovelace", phone="+447911123456")


@pytest.fixture
def available(agent):
    presence_set(actor=agent, agent_user=agent, presence="available")
    return agent


def request_callback(customer, *, actor=None, **fields):
    values = {"queue": "general", "reason": "Discuss the renewal", "source": "strategy:renewal", **fields}
    return callback_request(actor=actor, customer=customer, **values)


def test_a_callback_due_now_is_offered_to_an_available_agent(
    customer, available, supervisor, django_capture_on_commit_callbacks
):
    # When a supervisor books a callback due now
    with django_capture_on_commit_callbacks(execute=True):
        callback = request_callback(customer, actor=supervisor)
    # Then a voice conversation to the customer's phone waits in the queue, and the router offered it
    callback.refresh_from_db()
    conversation = callback.conversation
    assert (callback.status, conversation.channel, conversation.direction, conversation.contact_value) == (
        "queued",
        Channel.VOICE,
        "outbound",
        "+447911123456",
    )
    assert conversation.status == ConversationStatus.QUEUED
    offer = Offer.objects.get(work_item__conversation=conversation)
    assert (offer.agent.user, offer.status, offer.work_item.queue.name) == (available, OfferStatus.PENDING, "general")
    # And the journey says so
    event = JourneyEvent.objects.get(customer=customer, kind="callback.requested")
    assert (event.channel, event.payload["queue"], event.payload["source"]) == ("voice", "general", "strategy:renewal")


def test_a_callback_is_not_offered_before_it_is_due(customer, available, django_capture_on_commit_callbacks):
    due = timezone.now() + timedelta(hours=2)
    # When a callback is booked for later (its task runs at once here, as an early delivery would)
    with django_capture_on_commit_callbacks(execute=True):
        callback = request_callback(customer, due_at=due)
    # Then nothing is queued yet, and an early sweep queues nothing
    assert (Conversation.objects.count(), WorkItem.objects.count()) == (0, 0)
    assert callbacks_queue_due(now=due - timedelta(minutes=1)) == 0
    assert callback_queue_due(callback_id=callback.pk) is False
    # When it is due, the sweep queues it and the router offers it
    with django_capture_on_commit_callbacks(execute=True):
        assert callbacks_queue_due(now=due) == 1
    callback.refresh_from_db()
    assert callback.status == "queued"
    item = WorkItem.objects.get(conversation=callback.conversation)
    assert (item.status, item.agent.user) == (WorkStatus.OFFERED, available)
    # And a second sweep, or the delayed task arriving late, does nothing more
    assert callbacks_queue_due(now=due + timedelta(minutes=5)) == 0
    assert callback_queue_due(callback_id=callback.pk, now=due + timedelta(minutes=5)) is False
    assert WorkItem.objects.count() == 1


@pytest.mark.parametrize(("fields", "field"), [({"reason": " "}, "reason"), ({"source": ""}, "source")])
def test_bad_input_is_refused_by_field(customer, fields, field):
    with pytest.raises(ValidationFailed) as refused:
        request_callback(customer, **fields)
    assert list(refused.value.fields) == [field]
    assert Callback.objects.count() == 0


def test_an_unknown_queue_is_not_found(customer):
    with pytest.raises(NotFound) as refused:
        request_callback(customer, queue="nowhere")
    assert refused.value.message == "No active queue 'nowhere'."
    assert Callback.objects.count() == 0


def test_a_customer_without_a_phone_cannot_be_called_back(team_a):
    customer = make_customer(team_a, given_name="No", family_name="Phone", email="x@example.com")
    with pytest.raises(Conflict) as refused:
        request_callback(customer)
    assert refused.value.code == "no_contact_address"
    assert (Callback.objects.count(), JourneyEvent.objects.filter(kind="callback.requested").count()) == (0, 0)


def test_another_teams_agent_cannot_book_a_callback(customer, agent_b):
    with pytest.raises(PermissionDenied):
        request_callback(customer, actor=agent_b)
    assert Callback.objects.count() == 0


def test_an_integration_client_books_a_callback_through_the_api(customer, integration_user):
    due = (timezone.now() + timedelta(days=1)).isoformat()
    response = token_client(integration_user).post(
        CALLBACKS, {"customer": customer.pk, "queue": "general", "reason": "Renewal", "due_at": due}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["source"], response.json()["conversation"]) == (
        "scheduled",
        "api",
        None,
    )
    reader = token_client(integration_user, scopes=("conversations:read",))
    assert_error(
        reader.post(CALLBACKS, {"customer": customer.pk, "queue": "general", "reason": "x"}, format="json"), 403
    )


# --- The desk's form ------------------------------------------------------------------------------


def test_an_agent_books_a_callback_from_the_desk_and_it_is_offered(
    customer, agent, team_a, django_capture_on_commit_callbacks
):
    colleague = UserFactory(username="colleague.a", role="agent", teams=[team_a])
    presence_set(actor=colleague, agent_user=colleague, presence="available")
    client = Client()
    client.force_login(agent)
    form = parse(client.get(reverse("engagement:desk-customer", args=[customer.pk]))).find(
        "form", cls="callback-request"
    )
    assert [option.attrs["value"] for option in form.find("select", name="queue").find_all("option")] == ["general"]
    # When the agent books a callback due now
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("engagement:desk-callback", args=[customer.pk]),
            {"queue": "general", "reason": "Renewal questions", "due_at": ""},
            HTTP_HX_REQUEST="true",
        )
    # Then the card says so and the colleague is offered the call
    assert response.status_code == 200
    assert "Callback booked through general" in parse(response).find(cls="desk-outbound").text
    callback = Callback.objects.get()
    assert (callback.source, callback.requested_by, callback.status) == ("agent", agent, "queued")
    assert Offer.objects.get(work_item__conversation=callback.conversation).agent.user == colleague


def test_the_desk_shows_a_refused_callback_in_place(customer, agent):

    client = Client()
    client.force_login(agent)
    response = client.post(
        reverse("engagement:desk-callback", args=[customer.pk]), {"queue": "nowhere", "reason": "Renewal"}
    )
    assert response.status_code == 404
    assert "No active queue 'nowhere'." in parse(response).find(cls="desk-outbound").text
    assert Callback.objects.count() == 0


def test_the_journey_says_a_callbacks_time_in_utc_whatever_zone_it_was_booked_in(customer):
    # Given a callback booked for 09:30 in Paris (08:30 UTC) tomorrow
    paris = ZoneInfo("Europe/Paris")
    due = (timezone.now() + timedelta(days=1)).astimezone(paris).replace(hour=9, minute=30, second=0, microsecond=0)

    # When it is requested
    callback = request_callback(customer, due_at=due)

    # Then the journey says the time in UTC, as its label does
    event = JourneyEvent.objects.get(customer=customer, kind="callback.requested")
    assert f"{callback.due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in event.summary
    assert f"{due.astimezone(UTC):%H:%M} UTC" in event.summary
