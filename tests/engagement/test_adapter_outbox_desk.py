"""The desk's side of replies through providers: each message's delivery (with a failure's reason), and the
SMS counter under an SMS conversation's reply box; a reply of too many segments is refused with the reason."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cea.common.channels import Channel, Direction
from engagement.conversations.models import AuthorKind, Message
from engagement.conversations.services import message_add
from tests.engagement.desktop_support import on_desk, parse
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sms(agent, team_a):
    customer = CustomerFactory(team=team_a, phone="+447700900123")
    return on_desk(agent, channel=Channel.SMS, customer=customer, contact_kind="phone", contact_value="+447700900123")


def test_a_failed_reply_shows_its_reason_and_the_time_of_each_step(agent, sms):
    # Given
    message_add(
        conversation=sms,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.AGENT,
        author=agent,
        body="Hello",
        payload={
            "delivery": "failed",
            "receipts": {"queued": "2026-12-07T09:00:01+00:00", "failed": "2026-12-07T09:00:05+00:00"},
            "error": {"code": "30003", "reason": "Twilio error 30003: Unreachable destination handset"},
        },
    )
    # When
    panel = parse(signed_in(agent).get(reverse("engagement:desk-conversation", args=[sms.pk])))
    # Then
    tag = panel.find("small", cls="delivery")
    assert tag.attrs["data-delivery"] == "failed"
    assert tag.text == "failed: Twilio error 30003: Unreachable destination handset"
    assert tag.attrs["title"].startswith("queued 09:00:01 · failed 09:00:05")


def test_an_sms_panel_counts_segments_under_the_reply_box(agent, sms, settings):
    # Given
    settings.CEA_SMS_MAX_SEGMENTS = 4
    # When
    panel = parse(signed_in(agent).get(reverse("engagement:desk-conversation", args=[sms.pk])))
    # Then
    counter = panel.find("form", cls="reply-form").find(cls="sms-counter")
    assert counter.attrs["data-max-segments"] == "4"


def test_a_desk_reply_of_too_many_segments_is_refused_with_the_reason(agent, sms, settings):
    # Given
    settings.CEA_SMS_MAX_SEGMENTS = 1
    # When
    response = signed_in(agent).post(reverse("engagement:desk-reply", args=[sms.pk]), {"body": "ж" * 71}, **HTMX)
    # Then
    assert response.status_code == 400
    assert "would be sent as 2 segments" in response.content.decode()
    assert not Message.objects.filter(conversation=sms, author_kind=AuthorKind.AGENT).exists()
