"""IoT device events: a fault opens a proactive outbound conversation with the device's customer."""

from __future__ import annotations

import logging

import pytest

from engagement.context.services import context_read
from engagement.conversations.models import Conversation, Message
from records.identities.services import identity_add
from tests.engagement.adapter_support import assert_error, isolate_redis, make_customer, session_client, token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/engagement/iot/events/"

FAULT = {
    "device_id": "THERM-00A4-7731",
    "event_id": "evt-2025-03-14T07:42:10Z-0017",
    "fault_code": "E41",
    "severity": "critical",
    "details": {"component": "boiler pressure sensor", "reading_bar": 0.4, "threshold_bar": 1.0},
    "occurred_at": "2025-03-14T07:42:10Z",
}


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture
def device_platform(integration_user):
    return token_client(integration_user, scopes=["conversations:write"])


@pytest.fixture
def alice(team_a):
    customer = make_customer(team_a)
    identity_add(actor=None, customer=customer, kind="device", value="THERM-00A4-7731")
    return customer


def test_a_fault_opens_a_proactive_conversation_with_the_devices_customer(
    device_platform, integration_user, alice, team_a, django_capture_on_commit_callbacks
):
    # When
    with django_capture_on_commit_callbacks(execute=True):
        response = device_platform.post(URL, FAULT, format="json")
    # Then
    assert response.status_code == 201, response.content
    conversation = Conversation.objects.get()
    message = conversation.messages.get()
    assert (conversation.channel, conversation.direction, conversation.external_id) == (
        "iot",
        "outbound",
        "THERM-00A4-7731:1",
    )
    assert (conversation.customer_id, conversation.team_id, conversation.status, conversation.queue) == (
        alice.pk,
        team_a.pk,
        "queued",
        "Proactive",
    )
    assert conversation.subject == "Device THERM-00A4-7731 reported E41"
    assert (message.author_kind, message.body, message.external_id) == (
        "system",
        "Device THERM-00A4-7731 reported fault E41 (critical)",
        "THERM-00A4-7731:evt-2025-03-14T07:42:10Z-0017",
    )
    fault = {
        "device_id": "THERM-00A4-7731",
        "event_id": "evt-2025-03-14T07:42:10Z-0017",
        "fault_code": "E41",
        "severity": "critical",
        "details": {"component": "boiler pressure sensor", "reading_bar": 0.4, "threshold_bar": 1.0},
        "occurred_at": "2025-03-14T07:42:10+00:00",
    }
    # The client that sent it is kept: it may register the device for push (test_push.py)
    assert message.payload == {"event": "device_fault", **fault, "client": integration_user.pk}
    context = context_read(scope="conversation", context_id=conversation.pk).values
    assert context["device_fault"] == fault
    assert context["direction"] == "outbound"
    assert context["customer_id"] == alice.pk


def test_later_faults_of_the_device_join_its_open_conversation(
    device_platform, alice, django_capture_on_commit_callbacks
):
    # Given
    device_platform.post(URL, FAULT, format="json")
    # When
    with django_capture_on_commit_callbacks(execute=True):
        second = device_platform.post(
            URL, {**FAULT, "event_id": "evt-0018", "fault_code": "E42", "severity": "warning"}, format="json"
        )
    # Then
    assert second.status_code == 201
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 2
    assert context_read(scope="conversation", context_id=conversation.pk).values["device_fault"]["fault_code"] == "E42"


def test_the_same_event_100_times_makes_one_message(device_platform, alice):
    # When
    responses = [device_platform.post(URL, FAULT, format="json") for _ in range(100)]
    # Then
    assert [r.status_code for r in responses] == [201] + [200] * 99
    assert (Conversation.objects.count(), Message.objects.count()) == (1, 1)


def test_an_unknown_device_is_refused_with_404_and_logged(device_platform, caplog):
    # When
    with caplog.at_level(logging.WARNING, logger="engagement.adapters.iot"):
        response = device_platform.post(URL, FAULT, format="json")
    # Then
    error = assert_error(response, 404, "unknown_device")
    assert error["message"] == (
        "No customer has the device 'THERM-00A4-7731'; register it as a device identity in records first."
    )
    assert (Conversation.objects.count(), Message.objects.count()) == (0, 0)
    assert [r.getMessage() for r in caplog.records if r.name == "engagement.adapters.iot"] == [
        "Device event refused: device=THERM-00A4-7731 event=evt-2025-03-14T07:42:10Z-0017 code=unknown_device"
    ]


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"severity": "apocalyptic"}, {"severity"}),
        ({"device_id": "therm 00a4"}, {"device_id"}),
        ({"details": ["not", "an", "object"]}, {"details"}),
        ({"event_id": ""}, {"event_id"}),
    ],
)
def test_a_malformed_device_event_is_400(device_platform, alice, change, fields):
    # When
    response = device_platform.post(URL, {**FAULT, **change}, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == fields
    assert Conversation.objects.count() == 0


def test_a_fault_too_large_for_the_context_is_400(device_platform, alice, settings):
    # Given
    settings.CEA_CONTEXT_MAX_VALUE_BYTES = 256
    # When
    response = device_platform.post(URL, {**FAULT, "details": {"log": "x" * 300}}, format="json")
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"details": ["Too large; send a shorter description."]}
    assert Conversation.objects.count() == 0


def test_only_channel_clients_send_device_events(agent, alice):
    # When
    response = session_client(agent).post(URL, FAULT, format="json")
    # Then
    assert_error(response, 403)
    assert Conversation.objects.count() == 0
