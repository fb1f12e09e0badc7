"""Facebook Messenger through Meta's Graph API: a Page's webhooks in, replies out through the Send API, receipts back.

The Graph API is a loopback server speaking the Send API's documented shapes, and serving customers'
files as Meta's CDN does (tests/engagement/messenger_support.py); the webhooks are built and signed
as Meta signs them and posted through the test client.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from engagement.adapters.messenger import MessengerAdapter
from engagement.adapters.models import ProviderSend, SendStatus
from engagement.adapters.outbox import OutboundMedia, OutboundText, SendError, backoff_seconds, provider_send_deliver
from engagement.conversations.models import Attachment, Conversation, Message
from engagement.conversations.replies import conversation_reply
from tests.engagement.adapter_support import assert_error, isolate_redis, reply, session_client
from tests.engagement.desktop_support import parse
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.messenger_support import (
    APP_SECRET,
    DAY_MS,
    PAGE_ID,
    PAGE_TOKEN,
    PSID,
    VERIFY_TOKEN,
    Graph,
    attachment,
    delivery_event,
    echo_event,
    graph_error,
    hub_signature,
    message_event,
    now_ms,
    page_webhook,
    postback_event,
    read_event,
)
from tests.engagement.meta_support import FileHost

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBHOOK = "/api/v1/engagement/providers/messenger/{}/"


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture
def graph(settings):
    server = Graph()
    settings.CEA_META_GRAPH_URL = server.graph_url
    settings.CEA_META_MEDIA_HOSTS = [*settings.CEA_META_MEDIA_HOSTS, "127.0.0.1"]  # its CDN is on loopback
    yield server
    server.stop()


@pytest.fixture
def credentials(monkeypatch):
    for source in ("fb-a", "fb-b"):
        prefix = f"CEA_SOURCE_{source.upper().replace('-', '_')}"
        monkeypatch.setenv(f"{prefix}_ACCESS_TOKEN", PAGE_TOKEN)
        monkeypatch.setenv(f"{prefix}_APP_SECRET", APP_SECRET)
        monkeypatch.setenv(f"{prefix}_VERIFY_TOKEN", VERIFY_TOKEN)


@pytest.fixture
def page_a(team_a, credentials):
    return WebhookSourceFactory(
        name="fb-a", channel="social", provider="messenger", sender_id=PAGE_ID, team=team_a, queue="Social DM"
    )


def meta_posts(body: bytes, *, source: str = "fb-a", signature: str | None = None):
    """POST a webhook body as Meta posts it: JSON, signed with the app secret."""
    return APIClient().post(
        WEBHOOK.format(source),
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": hub_signature(body) if signature is None else signature},
    )


def customer_writes(graph: Graph, text: str = "My order never arrived", *, mid: str = "m_in_1", ago_ms: int = 0):
    """The customer writes to the Page (``ago_ms`` before now): Meta posts it, and knows when it was."""
    timestamp = now_ms() - ago_ms
    graph.last_user_message[PSID] = timestamp
    response = meta_posts(page_webhook(message_event(text, mid=mid, timestamp=timestamp)))
    assert response.status_code == 200, response.content
    return Message.objects.get(external_id=f"fb-a:{mid}").conversation


# --- The round trip -------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_a_messenger_round_trip_from_the_customers_message_to_the_read_receipt(
    graph, page_a, agent, team_a, django_capture_on_commit_callbacks
):
    # Given: the customer writes to the Page
    conversation = customer_writes(graph, "Where is my parcel?")
    assert (conversation.channel, conversation.contact_kind, conversation.contact_value) == (
        "social",
        "social",
        f"facebook:{PSID}",
    )
    assert conversation.team == team_a
    assert conversation.external_id == f"fb-a:facebook:{PSID}:1"
    assert conversation.queue == "Social DM"
    inbound = conversation.messages.get()
    assert (inbound.body, inbound.direction, inbound.payload["from"], inbound.payload["to"]) == (
        "Where is my parcel?",
        "inbound",
        PSID,
        PAGE_ID,
    )
    # When: the agent replies from the desk
    with django_capture_on_commit_callbacks(execute=True):
        response = session_client(agent).post(
            f"/api/v1/engagement/conversations/{conversation.pk}/reply/", {"body": "It left today."}, format="json"
        )
    assert response.status_code == 201, response.content
    # Then: the Send API got it, as a response to the customer, from the Page
    [sent] = graph.sent
    assert sent["recipient"] == {"id": PSID}
    assert (sent["messaging_type"], sent["message"], "tag" in sent) == ("RESPONSE", {"text": "It left today."}, False)
    message = Message.objects.get(pk=response.json()["id"])
    assert message.payload["delivery"] == "sent"
    assert message.payload["provider_message_id"] == sent["message_id"]
    assert message.payload["messaging_type"] == "RESPONSE"
    # When: Meta reports it delivered, then read
    for event in (delivery_event([sent["message_id"]]), read_event()):
        with django_capture_on_commit_callbacks(execute=True):
            answer = meta_posts(page_webhook(event))
        assert (answer.status_code, answer.content) == (200, b"EVENT_RECEIVED")
    # Then: the desk's payload of the message shows it read, with each step's time
    page = session_client(agent).get(f"/api/v1/engagement/conversations/{conversation.pk}/messages/").json()
    [shown] = [m for m in page["results"] if m["id"] == message.pk]
    assert shown["payload"]["delivery"] == "read"
    assert set(shown["payload"]["receipts"]) == {"queued", "sent", "delivered", "read"}
    send = ProviderSend.objects.get(message=message)
    assert (send.status, send.attempts) == (SendStatus.READ, 1)
    # And the desk's conversation panel marks it read
    client = Client()
    client.force_login(agent)
    panel = parse(client.get(reverse("engagement:desk-conversation", args=[conversation.pk])))
    assert panel.find("small", cls="delivery").attrs["data-delivery"] == "read"


@pytest.mark.usefixtures("eager_tasks")
def test_a_read_receipt_covers_only_the_replies_sent_at_or_before_its_watermark(
    graph, page_a, agent, django_capture_on_commit_callbacks
):
    # Given: two replies; the first sent well before the second
    conversation = customer_writes(graph)
    first = reply(agent, conversation, "Looking into it", django_capture_on_commit_callbacks)
    ProviderSend.objects.filter(message=first).update(sent_at=first.sent_at.replace(year=2025))
    second = reply(agent, conversation, "Found it", django_capture_on_commit_callbacks)
    # When: the customer read up to a time between them (a delivery without mids says the same)
    watermark = int(ProviderSend.objects.get(message=second).sent_at.timestamp() * 1000) - 60_000
    meta_posts(page_webhook(read_event(watermark=watermark)))
    # Then
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.payload["delivery"], second.payload["delivery"]) == ("read", "sent")


def test_a_delivery_of_a_message_the_page_sent_itself_is_acknowledged_and_changes_nothing(graph, page_a):
    # Given: a message sent from the Page's inbox, not through CEA
    customer_writes(graph)
    # When
    response = meta_posts(page_webhook(delivery_event(["m_from_the_inbox"], watermark=0)))
    # Then
    assert response.status_code == 200
    assert not ProviderSend.objects.exists()


# --- Inbound ---------------------------------------------------------------------------------------


def test_a_customers_photo_is_fetched_and_kept_as_an_attachment(graph, page_a, agent):
    # Given: the customer sends a photo (Meta serves it from its CDN)
    graph.files["parcel.png"] = ("image/png", PNG)
    body = page_webhook(message_event(mid="m_photo", attachments=[attachment("image", graph.file_url("parcel.png"))]))
    # When
    response = meta_posts(body)
    # Then: kept like an email's attachment, listed on the message for the desk
    assert response.status_code == 200, response.content
    message = Message.objects.get(external_id="fb-a:m_photo")
    [kept] = Attachment.objects.filter(message=message)
    assert (kept.filename, kept.content_type, kept.size, kept.file.read()) == ("parcel.png", "image/png", len(PNG), PNG)
    assert message.body == "parcel.png"
    assert message.payload["attachments"] == [
        {"id": kept.pk, "filename": "parcel.png", "content_type": "image/png", "size": len(PNG), "sha256": kept.sha256}
    ]
    shown = session_client(agent).get(f"/api/v1/engagement/conversations/{message.conversation_id}/messages/").json()
    assert [a["filename"] for a in shown["results"][0]["attachments"]] == ["parcel.png"]


def test_a_file_whose_url_names_no_type_is_named_by_its_type(graph, page_a):
    # Given: the CDN's URL of a JPEG has no extension
    graph.files["asset"] = ("image/jpeg", b"\xff\xd8\xff" + b"\x00" * 32)
    body = page_webhook(message_event(mid="m_asset", attachments=[attachment("image", graph.file_url("asset"))]))
    # When
    response = meta_posts(body)
    # Then
    assert response.status_code == 200, response.content
    assert Attachment.objects.get().filename == "asset.jpg"


def test_a_file_too_large_or_of_a_type_not_kept_is_listed_as_refused_and_the_message_kept(graph, page_a, settings):
    # Given: a limit of 1 KiB, a 2 KiB video and a program sent as a file
    settings.CEA_MESSENGER_ATTACHMENT_MAX_BYTES = 1024
    graph.files["clip.mp4"] = ("video/mp4", b"\x00" * 2048)
    graph.files["setup.exe"] = ("application/x-msdownload", b"MZ" + b"\x00" * 100)
    events = message_event(
        "See these",
        mid="m_files",
        attachments=[
            attachment("video", graph.file_url("clip.mp4")),
            attachment("file", graph.file_url("setup.exe")),
            {"type": "location", "payload": {"coordinates": {"lat": 51.5, "long": -0.1}}},
        ],
    )
    # When
    response = meta_posts(page_webhook(events))
    # Then
    assert response.status_code == 200, response.content
    message = Message.objects.get(external_id="fb-a:m_files")
    assert message.body == "See these"
    assert not Attachment.objects.exists()
    assert [r["type"] for r in message.payload["attachments_refused"]] == ["video", "file", "location"]
    assert "larger than 1024 bytes" in message.payload["attachments_refused"][0]["reason"]
    assert "cannot be sent" in message.payload["attachments_refused"][1]["reason"]  # its bytes are no type CEA keeps


def test_a_webhook_meta_delivers_again_is_one_message_and_its_file_is_fetched_once(graph, page_a):
    # Given
    graph.files["receipt.pdf"] = ("application/pdf", b"%PDF-1.4 receipt")
    body = page_webhook(message_event(mid="m_twice", attachments=[attachment("file", graph.file_url("receipt.pdf"))]))
    # When: Meta posts it twice (it retries when it did not see a 200 in time)
    first, second = meta_posts(body), meta_posts(body)
    # Then
    assert (first.status_code, second.status_code) == (200, 200)
    assert Message.objects.filter(external_id="fb-a:m_twice").count() == 1
    assert Attachment.objects.count() == 1
    assert graph.downloads == ["receipt.pdf"]


def test_the_next_message_of_the_same_customer_joins_their_open_conversation(graph, page_a):
    # Given
    conversation = customer_writes(graph, "Hello", mid="m_1")
    # When
    again = customer_writes(graph, "Anyone there?", mid="m_2")
    # Then
    assert again.pk == conversation.pk
    assert list(conversation.messages.values_list("body", flat=True)) == ["Hello", "Anyone there?"]


def test_an_echo_of_the_pages_own_message_is_ignored(graph, page_a):
    # Given: the Page's own message, echoed by Meta
    body = page_webhook(echo_event("Thanks for your message"))
    # When
    response = meta_posts(body)
    # Then
    assert response.status_code == 200
    assert not Message.objects.exists() and not Conversation.objects.exists()


def test_a_postback_is_kept_as_the_buttons_title(graph, page_a):
    # When: the customer presses a button
    response = meta_posts(page_webhook(postback_event("Track my order", "TRACK_ORDER")))
    # Then
    assert response.status_code == 200
    message = Message.objects.get(external_id="fb-a:m_postback_1")
    assert message.body == "Track my order"
    assert message.payload["postback"] == {"title": "Track my order", "payload": "TRACK_ORDER"}


def test_events_of_another_page_are_ignored(graph, page_a):
    # When: the app's other Page's message comes to this source's URL
    response = meta_posts(page_webhook(message_event("Hi", mid="m_other"), page_id="999999999"))
    # Then
    assert response.status_code == 200
    assert not Message.objects.exists()


# --- Refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "code"),
    [("sha256=" + "0" * 64, "bad_signature"), ("", "bad_signature"), (None, "bad_signature")],
)
def test_a_webhook_without_the_app_secrets_signature_is_refused_and_nothing_kept(graph, page_a, signature, code):
    # Given: signed with another secret, unsigned, or signed over another body
    body = page_webhook(message_event("Hi", mid="m_forged"))
    if signature is None:
        signature = hub_signature(body, "another-apps-secret")
    # When
    response = meta_posts(body, signature=signature)
    # Then
    assert_error(response, 401, code)
    assert not Message.objects.exists() and not Conversation.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {**message_event("Oops", mid="m_bad"), "sender": {}},
        {**message_event("Oops", mid="m_bad"), "timestamp": 10**20},  # past any date: OverflowError
        {**message_event("Oops", mid="m_bad"), "timestamp": "yesterday"},
        "not an event",
    ],
)
def test_a_malformed_event_is_skipped_and_the_rest_of_the_webhook_kept(graph, page_a, bad):
    # Given: the second event of the batch cannot be read
    good = message_event("Hi", mid="m_good")
    # When
    response = meta_posts(page_webhook(good, bad))
    # Then: Meta gets its 200 (it would resend the batch, then disable the subscription), the good one is kept
    assert response.status_code == 200, response.content
    assert list(Message.objects.values_list("external_id", flat=True)) == ["fb-a:m_good"]


def test_a_body_that_is_not_a_page_webhook_is_a_400_and_nothing_is_kept(graph, page_a):
    # Given: a signed body of another object
    body = b'{"object": "instagram", "entry": []}'
    # When
    response = meta_posts(body)
    # Then
    error = assert_error(response, 400)
    assert "object" in error["fields"]
    assert not Message.objects.exists()


def test_a_file_on_a_host_that_is_not_metas_is_not_fetched(graph, page_a, settings):
    # Given: an attachment URL naming an inner address, and one on Meta's CDN that redirects there
    inner = FileHost("localhost")
    inner.files["/secret"] = ("text/plain", b"inner service")
    graph.files["photo.png"] = ("image/png", PNG)
    try:
        settings.CEA_META_MEDIA_HOSTS = ["127.0.0.1"]  # Meta's CDN in this test; localhost is not
        body = page_webhook(
            message_event(
                "Look",
                mid="m_ssrf",
                attachments=[
                    attachment("file", f"{inner.url}/secret"),
                    attachment("image", graph.file_url("photo.png")),
                ],
            )
        )
        # When
        response = meta_posts(body)
    finally:
        inner.stop()
    # Then: the inner host is never asked; the CDN's photo is kept
    assert response.status_code == 200, response.content
    message = Message.objects.get(external_id="fb-a:m_ssrf")
    assert inner.requests == []
    assert "not one files are fetched from" in message.payload["attachments_refused"][0]["reason"]
    assert [a.filename for a in Attachment.objects.filter(message=message)] == ["photo.png"]


def test_a_webhook_for_an_unknown_or_other_providers_source_is_not_found(graph, page_a, team_a):
    WebhookSourceFactory(name="tw-x", provider="twilio", team=team_a)
    body = page_webhook(message_event("Hi"))
    assert_error(meta_posts(body, source="nope"), 404, "unknown_source")
    assert_error(meta_posts(body, source="tw-x"), 404, "unknown_source")


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}, 200),
        ({"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}, 403),
        ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}, 403),
    ],
)
def test_the_subscription_handshake_echoes_the_challenge_only_for_the_verify_token(graph, page_a, query, status):
    # When: Meta verifies the callback URL
    response = APIClient().get(WEBHOOK.format("fb-a"), query)
    # Then
    assert response.status_code == status
    if status == 200:
        assert (response.content, response["Content-Type"]) == (b"1158201444", "text/plain")


def test_another_teams_agent_cannot_reply(graph, page_a, agent_b):
    # Given
    conversation = customer_writes(graph)
    # When
    response = session_client(agent_b).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/reply/", {"body": "Hi"}, format="json"
    )
    # Then: refused (the conversation is another team's), nothing kept or sent
    assert_error(response, 403, "forbidden")
    assert graph.calls == 0 and conversation.messages.count() == 1


# --- The messaging window ------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_after_24_hours_a_reply_goes_with_the_human_agent_tag(graph, page_a, agent, django_capture_on_commit_callbacks):
    # Given: the customer last wrote 30 hours ago
    conversation = customer_writes(graph, ago_ms=30 * 3600 * 1000)
    # When
    message = reply(agent, conversation, "Sorry for the wait: it is sorted.", django_capture_on_commit_callbacks)
    # Then: Meta took it as a human agent's message
    [sent] = graph.sent
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert message.payload["delivery"] == "sent"
    assert (message.payload["messaging_type"], message.payload["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_after_7_days_the_desk_refuses_the_reply_with_the_reason(graph, page_a, agent):
    # Given: the customer last wrote 8 days ago
    conversation = customer_writes(graph, ago_ms=8 * DAY_MS)
    # When
    response = session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/reply/", {"body": "Still there?"}, format="json"
    )
    # Then: refused, nothing kept or sent
    body = assert_error(response, 409, "reply_window_closed")
    assert "more than 7 days ago" in body["message"]
    assert conversation.messages.count() == 1
    assert graph.calls == 0 and not ProviderSend.objects.exists()


def test_a_reply_over_messengers_length_is_a_400_on_the_body(graph, page_a, agent):
    conversation = customer_writes(graph)
    response = session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/reply/", {"body": "x" * 2001}, format="json"
    )
    body = assert_error(response, 400)
    assert "body" in body["fields"]
    assert graph.calls == 0


# --- A Graph API that is down or refuses -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, {"error": {"message": "Service temporarily unavailable", "code": 2, "is_transient": True}}),
        (429, graph_error("(#4) Application request limit reached", code=4)),
        (400, graph_error("(#32) Page request limit reached", code=32)),
    ],
)
def test_a_graph_api_that_is_down_or_throttling_leaves_the_reply_queued_and_it_is_sent_later(
    graph, page_a, agent, status, body, django_capture_on_commit_callbacks
):
    # Given: Graph answers an error worth retrying
    conversation = customer_writes(graph)
    graph.script.append((status, body))
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=conversation, body="We're on it")
    send = ProviderSend.objects.get(message=message)
    # When
    attempt = provider_send_deliver(send_id=send.pk)
    # Then: queued for another try, saying why
    assert attempt is not None and (attempt.status, attempt.retry_in) == ("queued", backoff_seconds(1))
    send.refresh_from_db()
    assert (send.status, send.attempts) == (SendStatus.QUEUED, 1)
    assert f"Messenger answered {status}" in send.last_error
    # When: its time comes and Graph is back
    ProviderSend.objects.filter(pk=send.pk).update(next_attempt_at=message.sent_at)
    attempt = provider_send_deliver(send_id=send.pk)
    # Then
    assert attempt is not None and attempt.status == "sent"
    assert [s["message"]["text"] for s in graph.sent] == ["We're on it"]


def test_a_graph_api_that_cannot_be_reached_is_retried(settings, page_a, agent, django_capture_on_commit_callbacks):
    # Given: nothing listens at Graph's address
    gone = Graph()
    gone.stop()
    settings.CEA_META_GRAPH_URL = gone.graph_url
    gone.last_user_message[PSID] = now_ms()
    conversation = customer_writes(gone)
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = conversation_reply(actor=agent, conversation=conversation, body="Hello?")
    # When
    attempt = provider_send_deliver(send_id=message.provider_send.pk)
    # Then
    assert attempt is not None and attempt.status == "queued" and attempt.retry_in
    assert "could not be reached" in ProviderSend.objects.get(message=message).last_error


@pytest.mark.parametrize(
    ("answer", "code", "reason"),
    [
        (
            (400, graph_error("(#551) This person isn't available right now.", code=551, subcode=1545041)),
            "551",
            "This person isn't available right now.",
        ),
        (
            (400, graph_error("(#10) This message is sent outside of allowed window.", code=10, subcode=2018278)),
            "10",
            "outside of allowed window",
        ),
        (
            (401, graph_error("Invalid OAuth access token - Cannot parse access token", code=190)),
            "190",
            "Invalid OAuth access token",
        ),
    ],
)
@pytest.mark.usefixtures("eager_tasks")
def test_a_graph_refusal_fails_the_reply_at_once_with_graphs_code_and_message(
    graph, page_a, agent, answer, code, reason, django_capture_on_commit_callbacks
):
    # Given
    conversation = customer_writes(graph)
    graph.script.append(answer)
    # When
    message = reply(agent, conversation, "Hello", django_capture_on_commit_callbacks)
    # Then: failed, not retried, Graph's reason on the desk
    assert message.payload["delivery"] == "failed"
    assert message.payload["error"]["code"] == code
    assert reason in message.payload["error"]["reason"]
    assert ProviderSend.objects.get(message=message).attempts == 1


@pytest.mark.usefixtures("eager_tasks")
def test_a_wrong_page_token_is_refused_by_graph_and_fails_the_reply(
    graph, page_a, agent, monkeypatch, django_capture_on_commit_callbacks
):
    # Given: the source's access token is not the Page's
    conversation = customer_writes(graph)
    monkeypatch.setenv("CEA_SOURCE_FB_A_ACCESS_TOKEN", "EAAG-someone-elses")
    # When
    message = reply(agent, conversation, "Hello", django_capture_on_commit_callbacks)
    # Then
    assert (message.payload["delivery"], message.payload["error"]["code"]) == ("failed", "190")
    assert graph.sent == []


# --- Files out ---------------------------------------------------------------------------------------


def _outbound(message: Message, *media: OutboundMedia) -> OutboundText:
    return OutboundText(
        message_id=message.pk,
        to=f"facebook:{PSID}",
        sender=PAGE_ID,
        body="Your invoice:",
        status_callback="",
        media=media,
    )


INVOICE = OutboundMedia(
    url="https://cea.example/files/s/abc", filename="invoice.pdf", content_type="application/pdf", size=9
)
PHOTO = OutboundMedia(url="https://cea.example/files/s/def", filename="label.png", content_type="image/png", size=70)


def test_a_reply_with_files_sends_the_text_then_one_request_per_file(graph, page_a):
    # Given
    conversation = customer_writes(graph)
    inbound = conversation.messages.get()
    # When
    provider_id = MessengerAdapter().send(page_a, _outbound(inbound, INVOICE, PHOTO))
    # Then
    assert [s["message"] for s in graph.sent] == [
        {"text": "Your invoice:"},
        {"attachment": {"type": "file", "payload": {"url": INVOICE.url, "is_reusable": False}}},
        {"attachment": {"type": "image", "payload": {"url": PHOTO.url, "is_reusable": False}}},
    ]
    assert provider_id == graph.sent[0]["message_id"]
    assert {s["messaging_type"] for s in graph.sent} == {"RESPONSE"}


def test_a_file_refused_after_the_text_went_is_final_and_says_what_was_sent(graph, page_a):
    # Given: Graph takes the text, then is down
    conversation = customer_writes(graph)
    inbound = conversation.messages.get()
    graph.attachment_answer = (
        503,
        {"error": {"message": "Service temporarily unavailable", "code": 2, "is_transient": True}},
    )
    # When
    with pytest.raises(SendError) as refused:
        MessengerAdapter().send(page_a, _outbound(inbound, INVOICE))
    # Then: not retried (the text would go twice), saying so
    assert refused.value.retryable is False
    assert "took 1 of the 2 parts" in refused.value.reason
    assert len(graph.sent) == 1
