"""Voice: a telephony provider's call events through a signed webhook, from ringing to the recorded interaction."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from cea.common.pii import redact_text
from engagement.context.services import context_resolve
from engagement.conversations.models import Conversation, Message
from records.interactions.models import Interaction
from tests.engagement.adapter_support import assert_error, isolate_redis, make_customer, signed_post
from tests.engagement.factories import WebhookSourceFactory

pytestmark = pytest.mark.django_db

CALL = "CA5f2b9c0e7d1a4e3b8c6d9f0a1b2c3d4e"
CALLER = "+447911123456"
DIALLED = "+442079460123"


def event(name: str, at: str, **extra) -> dict:
    """One status callback of the provider for the call ``CALL``."""
    return {
        "event_id": f"EV-{CALL[-6:]}-{name}",
        "call_id": CALL,
        "event": name,
        "from": CALLER,
        "to": DIALLED,
        "timestamp": at,
        **extra,
    }


RINGING = event("ringing", "2025-03-14T09:00:00Z")
ANSWERED = event("answered", "2025-03-14T09:00:18Z")
TRANSFERRED = event("transferred", "2025-03-14T09:04:02Z", transferred_to="+442079460999", queue="Billing")
ENDED = event(
    "ended",
    "2025-03-14T09:11:45Z",
    recording_url="https://api.telephony.example/v1/Recordings/RE9d1c.mp3",
    transcript_url="https://api.telephony.example/v1/Transcripts/TR44ab.json",
)


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture
def voice_source(team_a):
    return WebhookSourceFactory(
        name="telephony", channel="voice", secret="voice-secret-0123456789", queue="Inbound calls", team=team_a
    )


@pytest.fixture
def provider() -> APIClient:
    return APIClient()


def test_a_call_from_ringing_to_ended_is_one_conversation_recorded_as_an_interaction(
    provider, voice_source, team_a, django_capture_on_commit_callbacks
):
    # Given
    alice = make_customer(team_a, phone=CALLER)
    # When: the provider posts the call's events, each committed as it arrives
    responses = []
    for payload in (RINGING, ANSWERED, TRANSFERRED, ENDED):
        with django_capture_on_commit_callbacks(execute=True):
            responses.append(signed_post(provider, voice_source, payload))
    # Then
    assert [r.status_code for r in responses] == [201, 201, 201, 201]
    assert [r.json()["conversation_status"] for r in responses] == [
        "self_service",
        "self_service",
        "self_service",
        "ended",
    ]
    conversation = Conversation.objects.get()
    assert (conversation.channel, conversation.external_id) == ("voice", f"telephony:{CALL}")
    assert (conversation.customer_id, conversation.contact_value, conversation.team_id) == (alice.pk, CALLER, team_a.pk)
    assert (conversation.status, conversation.queue) == ("ended", "Billing")
    # The events' times are in the past: the call's times are kept no earlier than its start here.
    assert conversation.answered_at == conversation.created_at
    messages = list(conversation.messages.all())
    assert [(m.author_kind, m.payload["event"]) for m in messages] == [
        ("system", "ringing"),
        ("system", "answered"),
        ("system", "transferred"),
        ("system", "ended"),
    ]
    # The bodies go through the redaction policy like any message (phone numbers masked by default).
    assert [m.body for m in messages] == [
        redact_text(f"Call from {CALLER} to {DIALLED} ringing."),
        "Call answered.",
        redact_text("Call transferred to +442079460999."),
        "Call ended. Recording: https://api.telephony.example/v1/Recordings/RE9d1c.mp3."
        " Transcript: https://api.telephony.example/v1/Transcripts/TR44ab.json.",
    ]
    assert messages[0].sent_at == dt.datetime(2025, 3, 14, 9, 0, tzinfo=dt.UTC)
    assert messages[2].payload == {
        "event": "transferred",
        "call_id": CALL,
        "event_id": f"EV-{CALL[-6:]}-transferred",
        "from": CALLER,
        "to": DIALLED,
        "timestamp": "2025-03-14T09:04:02+00:00",
        "transferred_to": "+442079460999",
        "queue": "Billing",
    }
    assert messages[3].payload["recording_url"] == "https://api.telephony.example/v1/Recordings/RE9d1c.mp3"
    interaction = Interaction.objects.get()
    assert conversation.interaction_id == interaction.pk
    assert (interaction.channel, interaction.customer_id, interaction.queue) == ("voice", alice.pk, "Billing")
    assert [entry["event"] for entry in interaction.transcript] == ["ringing", "answered", "transferred", "ended"]
    assert interaction.context_snapshot["call_id"] == CALL
    assert interaction.context_snapshot["dialled"] == redact_text(DIALLED)  # context text is redacted too
    # The call id finds the conversation's context.
    assert context_resolve(alias=f"call:{CALL}") == ("conversation", str(conversation.pk))


def test_each_event_delivered_100_times_makes_one_message(provider, voice_source):
    # When
    for payload in (RINGING, ANSWERED):
        for _ in range(100):
            signed_post(provider, voice_source, payload)
    # Then
    assert Conversation.objects.count() == 1
    assert list(Message.objects.values_list("payload__event", flat=True)) == ["ringing", "answered"]


def test_events_without_a_provider_id_are_recognised_by_call_event_and_time(provider, voice_source):
    # Given
    bare = {key: value for key, value in RINGING.items() if key != "event_id"}
    # When
    first, second = signed_post(provider, voice_source, bare), signed_post(provider, voice_source, bare)
    # Then
    assert (first.status_code, second.status_code) == (201, 200)
    assert Message.objects.get().external_id == f"telephony:{CALL}:ringing:2025-03-14T09:00:00+00:00"


def test_an_event_arriving_after_the_call_ended_is_refused_with_409(provider, voice_source):
    # Given
    for payload in (RINGING, ENDED):
        signed_post(provider, voice_source, payload)
    # When
    late = signed_post(provider, voice_source, ANSWERED)
    redelivered_end = signed_post(provider, voice_source, ENDED)
    # Then
    error = assert_error(late, 409, "call_ended")
    assert error["message"] == f"The call {CALL} has already ended; the answered event comes too late."
    assert redelivered_end.status_code == 200
    assert Message.objects.count() == 2
    assert Conversation.objects.get().answered_at is None


def test_a_call_first_seen_at_answered_still_opens_the_conversation(provider, voice_source):
    # When: the ringing callback was lost
    response = signed_post(provider, voice_source, ANSWERED)
    # Then
    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert (conversation.queue, conversation.answered_at) == ("Inbound calls", conversation.created_at)


def test_an_unknown_caller_is_an_anonymous_conversation(provider, voice_source):
    # When
    response = signed_post(provider, voice_source, {**RINGING, "from": "anonymous"})
    # Then
    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert (conversation.customer_id, conversation.contact_value, conversation.verification_level) == (
        None,
        "anonymous",
        "anonymous",
    )


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({**RINGING, "event": "on_hold"}, {"event"}),
        ({key: value for key, value in TRANSFERRED.items() if key != "transferred_to"}, {"transferred_to"}),
        ({**ENDED, "recording_url": "not a url"}, {"recording_url"}),
        ({"event": "ringing"}, {"call_id", "from", "to", "timestamp"}),
    ],
)
def test_a_malformed_call_event_is_400_and_nothing_is_written(provider, voice_source, payload, fields):
    # When
    response = signed_post(provider, voice_source, payload)
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == fields
    assert (Conversation.objects.count(), Message.objects.count()) == (0, 0)


def test_an_unsigned_call_event_is_401_and_nothing_is_written(provider, voice_source):
    # When
    response = provider.post("/api/v1/engagement/webhooks/telephony/", RINGING, format="json")
    # Then
    assert_error(response, 401, "missing_signature")
    assert (Conversation.objects.count(), Message.objects.count()) == (0, 0)
