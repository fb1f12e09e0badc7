"""WhatsApp through Meta's Cloud API: messages in, replies and templates out, statuses back, the 24-hour window.

Meta is a loopback Graph API speaking the Cloud API's documented shapes (tests/engagement/meta_support.py);
its webhooks are built and signed there as Meta signs them, and posted through the test client.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict
from engagement.adapters.models import MessageTemplate, ProviderSend, SendStatus, TemplateStatus
from engagement.adapters.outbox import (
    OutboundMedia,
    OutboundText,
    SendError,
    TemplateRef,
    backoff_seconds,
    provider_send_deliver,
)
from engagement.adapters.provider_http import MAX_REDIRECTS, DownloadRefused, provider_download
from engagement.adapters.whatsapp import WhatsAppAdapter, whatsapp_templates_sync
from engagement.conversations.models import Attachment, Conversation, Message
from engagement.outbound.services import outbound_start
from records.customers.services import customer_set_consent
from tests.engagement.adapter_support import assert_error, isolate_redis, make_customer, session_client
from tests.engagement.factories import WebhookSourceFactory
from tests.engagement.meta_support import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    WABA_ID,
    FileHost,
    Graph,
    graph_error,
    inbound_message,
    meta_signed,
    status_update,
    text_message,
)

pytestmark = pytest.mark.django_db

WA_ID = "447911123456"
CUSTOMER = "+447911123456"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
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
    for name in ("WA_A", "WA_B"):
        monkeypatch.setenv(f"CEA_SOURCE_{name}_ACCESS_TOKEN", ACCESS_TOKEN)
        monkeypatch.setenv(f"CEA_SOURCE_{name}_APP_SECRET", APP_SECRET)
        monkeypatch.setenv(f"CEA_SOURCE_{name}_VERIFY_TOKEN", VERIFY_TOKEN)
        monkeypatch.setenv(f"CEA_SOURCE_{name}_BUSINESS_ACCOUNT_ID", WABA_ID)


@pytest.fixture
def wa_a(team_a, credentials, graph):
    return WebhookSourceFactory(
        name="wa-a",
        channel=Channel.SOCIAL,
        provider="whatsapp",
        sender_id=PHONE_NUMBER_ID,
        team=team_a,
        queue="WhatsApp",
    )


@pytest.fixture
def approved(wa_a):
    return MessageTemplate.objects.create(
        source=wa_a,
        name="order_update",
        language="en_GB",
        category="UTILITY",
        body="Hello {{1}}, your order {{2}} has shipped.",
        params=2,
        status=TemplateStatus.APPROVED,
    )


def webhook(document: dict, *, source: str = "wa-a", secret: str = APP_SECRET, headers: dict | None = None):
    body, signed = meta_signed(document, secret)
    path = f"/api/v1/engagement/providers/whatsapp/{source}/"
    return APIClient().post(path, body, content_type="application/json", headers=signed if headers is None else headers)


def message_in(text: str = "Where is my parcel?", **kwargs) -> Message:
    document = text_message(WA_ID, text, **kwargs)
    response = webhook(document)
    assert response.status_code == 200, response.content
    wamid = document["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    return Message.objects.get(external_id=f"wa-a:{wamid}")


def close_window(conversation: Conversation) -> None:
    """The customer's last message was 25 hours ago."""
    long_ago = timezone.now() - timedelta(hours=25)
    conversation.messages.filter(direction=Direction.INBOUND).update(created_at=long_ago, sent_at=long_ago)


def reply_url(conversation: Conversation) -> str:
    return f"/api/v1/engagement/conversations/{conversation.pk}/reply/"


def template_url(conversation: Conversation) -> str:
    return f"/api/v1/engagement/conversations/{conversation.pk}/whatsapp/templates/"


# --- Started by an agent from the 360 page (engagement/outbound) -----------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_an_agent_started_whatsapp_template_reaches_meta_and_the_answer_comes_back_to_that_agent(
    graph, wa_a, approved, agent, team_a, django_capture_on_commit_callbacks
):
    # Given: a customer with a phone number who consented to service messages by social DM, and the
    # template approved at Meta
    graph.add_template(approved.name, approved.body)
    customer = make_customer(team_a, phone=CUSTOMER)
    customer_set_consent(actor=None, customer=customer, channel=Channel.SOCIAL, purpose="service", granted=True)
    # When: the agent starts a WhatsApp conversation with the approved template
    with django_capture_on_commit_callbacks(execute=True):
        started = outbound_start(
            actor=agent,
            customer=customer,
            channel="whatsapp",
            purpose="service",
            source="agent",
            template=approved.pk,
            params=["Ada", "A-1042"],
        )
    # Then: Meta receives the template, addressed to the customer's WhatsApp id
    [sent] = graph.sent
    assert (sent["to"], sent["type"], sent["template"]["name"]) == (WA_ID, "template", "order_update")
    first = started.messages.get()
    assert ProviderSend.objects.get(message=first).status == SendStatus.SENT
    # When: the customer answers on WhatsApp
    answer = message_in("Thanks, Friday suits me")
    # Then: the answer joins the agent's conversation, which is still theirs
    assert answer.conversation_id == started.pk
    started.refresh_from_db()
    assert started.agent == agent and started.customer == customer


# --- The round trip -------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_a_whatsapp_message_is_answered_and_its_statuses_reach_the_desk(
    graph, wa_a, agent, team_a, django_capture_on_commit_callbacks
):
    # Given: a known customer writes on WhatsApp
    customer = make_customer(team_a, phone=CUSTOMER)
    inbound = message_in("Where is my parcel?")
    conversation = inbound.conversation
    # Then: a social conversation of the source's team, identified by the phone number, in its queue
    assert (conversation.channel, conversation.team, conversation.customer) == (Channel.SOCIAL, team_a, customer)
    assert (conversation.contact_kind, conversation.contact_value) == ("phone", CUSTOMER)
    assert conversation.external_id == f"wa-a:{CUSTOMER}:1" and conversation.queue == "WhatsApp"
    assert (inbound.author_name, inbound.body, inbound.payload["profile_name"]) == (
        "Kerry Fisher",
        "Where is my parcel?",
        "Kerry Fisher",
    )
    # When: the agent replies from the desk's API
    with django_capture_on_commit_callbacks(execute=True):
        response = session_client(agent).post(reply_url(conversation), {"body": "It arrives today."}, format="json")
    assert response.status_code == 201, response.content
    # Then: Meta got a text to the customer's wa_id, from the source's number id
    [sent] = graph.sent
    assert (sent["messaging_product"], sent["to"], sent["type"], sent["text"]["body"]) == (
        "whatsapp",
        WA_ID,
        "text",
        "It arrives today.",
    )
    assert "POST /v21.0/106540352242922/messages" in graph.calls
    reply = Message.objects.get(pk=response.json()["id"])
    assert (reply.payload["delivery"], reply.payload["provider_message_id"]) == ("sent", sent["id"])
    # When: Meta posts the statuses, one by one
    for step in ("sent", "delivered", "read"):
        assert webhook(status_update(sent["id"], step, WA_ID)).status_code == 200
    # Then: the desk's messages show the reply read, with the time of each step
    page = session_client(agent).get(f"/api/v1/engagement/conversations/{conversation.pk}/messages/?after=0")
    shown = next(m for m in page.json()["results"] if m["id"] == reply.pk)
    assert shown["payload"]["delivery"] == "read"
    assert set(shown["payload"]["receipts"]) == {"queued", "sent", "delivered", "read"}
    assert ProviderSend.objects.get(message=reply).status == SendStatus.READ


@pytest.mark.usefixtures("eager_tasks")
def test_a_failed_status_fails_the_reply_with_metas_error(graph, wa_a, agent, django_capture_on_commit_callbacks):
    # Given: a reply Meta took
    conversation = message_in().conversation
    with django_capture_on_commit_callbacks(execute=True):
        session_client(agent).post(reply_url(conversation), {"body": "Hello"}, format="json")
    wamid = graph.sent[0]["id"]
    # When: its status comes back failed, with Meta's error
    error = {"code": 131026, "title": "Message undeliverable", "error_data": {"details": "Receiver is incapable"}}
    assert webhook(status_update(wamid, "failed", WA_ID, errors=[error])).status_code == 200
    # Then
    reply = Message.objects.get(payload__provider_message_id=wamid)
    assert reply.payload["delivery"] == "failed"
    assert reply.payload["error"]["code"] == "131026"
    assert "Message undeliverable" in reply.payload["error"]["reason"]


def test_a_webhook_delivered_twice_is_one_message(wa_a):
    # Given
    document = text_message(WA_ID, "Hello?")
    # When: Meta delivers it again
    first, again = webhook(document), webhook(document)
    # Then
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["duplicates"] == 1
    assert Message.objects.filter(channel=Channel.SOCIAL).count() == 1


def test_a_status_for_a_message_the_source_did_not_send_is_skipped(wa_a):
    # When
    response = webhook(status_update("wamid.unknown", "delivered", WA_ID))
    # Then: answered (Meta would retry a refusal forever), nothing recorded
    assert response.status_code == 200 and response.json()["skipped"] == 1


# --- Signatures and the handshake -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [None, {}, {"X-Hub-Signature-256": "sha256=" + "0" * 64}],
    ids=["other app's secret", "unsigned", "wrong signature"],
)
def test_a_webhook_without_the_apps_signature_is_refused_and_nothing_is_kept(wa_a, headers):
    # When
    response = webhook(text_message(WA_ID, "Hi"), secret="another-app-secret", headers=headers)
    # Then
    assert_error(response, 401, "bad_signature")
    assert not Message.objects.exists() and not Conversation.objects.exists()


def test_a_signed_body_that_is_not_a_whatsapp_webhook_is_refused(wa_a):
    # When
    response = webhook({"object": "page", "entry": []})
    # Then
    assert "object" in assert_error(response, 400)["fields"]


def test_a_webhook_for_an_unknown_source_is_not_found(wa_a):
    assert_error(webhook(text_message(WA_ID, "Hi"), source="nope"), 404, "unknown_source")


def test_the_subscription_handshake_echoes_the_challenge_only_for_the_verify_token(wa_a):
    # Given
    path = "/api/v1/engagement/providers/whatsapp/wa-a/"
    # When
    good = APIClient().get(
        path, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    bad = APIClient().get(path, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    # Then
    assert (good.status_code, good.content, good["Content-Type"]) == (200, b"1158201444", "text/plain")
    assert bad.status_code == 403 and b"1158201444" not in bad.content


# --- What comes in ----------------------------------------------------------------------------------


def test_an_inbound_image_is_fetched_and_kept_as_an_attachment(graph, wa_a):
    # Given: the customer sends a photo with a caption
    media_id = graph.add_media("image/png", PNG)
    document = inbound_message(
        WA_ID, {"type": "image", "image": {"caption": "The dent", "mime_type": "image/png", "id": media_id}}
    )
    # When
    assert webhook(document).status_code == 200
    # Then: the caption is the text and the file is the message's, fetched with the token
    message = Message.objects.get(channel=Channel.SOCIAL)
    attachment = Attachment.objects.get(message=message)
    assert message.body == "The dent"
    assert (attachment.content_type, attachment.size, attachment.file.read()) == ("image/png", len(PNG), PNG)
    assert message.payload["attachments"][0]["sha256"] == attachment.sha256
    assert f"GET /v21.0/{media_id}" in graph.calls and f"GET /download/{media_id}" in graph.calls


def test_an_inbound_voice_note_is_kept_as_audio(graph, wa_a):
    # Given: the customer records a voice note (WhatsApp sends Ogg Opus)
    voice = b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead" + b"\x01" * 200
    media_id = graph.add_media("audio/ogg; codecs=opus", voice)
    document = inbound_message(
        WA_ID, {"type": "audio", "audio": {"mime_type": "audio/ogg; codecs=opus", "id": media_id, "voice": True}}
    )
    # When
    assert webhook(document).status_code == 200
    # Then: the recording is the message's, as audio, named by its type
    attachment = Attachment.objects.get(message__channel=Channel.SOCIAL)
    assert (attachment.content_type, attachment.file.read()) == ("audio/ogg", voice)
    assert attachment.filename.rsplit(".", 1)[-1] in ("ogg", "oga", "opus")


def test_a_media_larger_than_the_limit_is_not_kept_and_the_message_says_why(graph, wa_a, settings):
    # Given
    settings.CEA_WHATSAPP_MEDIA_MAX_BYTES = 1024
    media_id = graph.add_media("application/pdf", b"%PDF-1.7\n" + b"x" * 4096)
    document = inbound_message(
        WA_ID,
        {"type": "document", "document": {"filename": "scan.pdf", "mime_type": "application/pdf", "id": media_id}},
    )
    # When
    assert webhook(document).status_code == 200
    # Then
    message = Message.objects.get(channel=Channel.SOCIAL)
    assert not Attachment.objects.exists()
    assert "larger than 1024 bytes" in message.payload["media_error"] and "document" in message.body


def test_a_text_document_is_listed_on_the_message_as_it_is_kept(graph, wa_a):
    # Given: a text document carrying an email address (a text file is kept redacted)
    text = b"Order 1234: write to kerry.fisher@example.com about it\n"
    media_id = graph.add_media("text/plain", text)
    document = inbound_message(
        WA_ID, {"type": "document", "document": {"filename": "note.txt", "mime_type": "text/plain", "id": media_id}}
    )
    # When
    assert webhook(document).status_code == 200
    # Then: the payload lists the stored file's size and digest, not the raw bytes'
    message = Message.objects.get(channel=Channel.SOCIAL)
    kept = Attachment.objects.get(message=message)
    assert b"kerry.fisher@example.com" not in kept.file.read()
    listed = message.payload["attachments"][0]
    assert (listed["filename"], listed["size"], listed["sha256"]) == (kept.filename, kept.size, kept.sha256)


def test_a_media_whose_bytes_are_not_the_type_meta_declares_is_not_kept(graph, wa_a):
    # Given: Meta says image/png, the bytes are a Windows program
    media_id = graph.add_media("image/png", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64)
    document = inbound_message(WA_ID, {"type": "image", "image": {"mime_type": "image/png", "id": media_id}})
    # When
    assert webhook(document).status_code == 200
    # Then: the content's type decides; the message says why
    message = Message.objects.get(channel=Channel.SOCIAL)
    assert not Attachment.objects.exists()
    assert "cannot be sent" in message.payload["media_error"]


def test_a_media_url_off_metas_hosts_is_not_fetched_and_gets_no_token(graph, wa_a):
    # Given: Graph's answer names an inner address (localhost is not one of Meta's hosts here)
    inner = FileHost("localhost")
    inner.files["/admin"] = ("image/png", PNG)
    media_id = graph.add_media("image/png", PNG)
    graph.media_urls[media_id] = f"{inner.url}/admin"
    document = inbound_message(WA_ID, {"type": "image", "image": {"mime_type": "image/png", "id": media_id}})
    try:
        # When
        response = webhook(document)
    finally:
        inner.stop()
    # Then
    assert response.status_code == 200
    assert inner.requests == [] and not Attachment.objects.exists()
    assert "not one files are fetched from" in Message.objects.get().payload["media_error"]


def test_a_media_redirected_to_another_host_gets_no_token_there(graph, wa_a, settings):
    # Given: the media URL redirects to a CDN on another origin (allowed); then one off the list
    settings.CEA_META_MEDIA_HOSTS = ["127.0.0.1", "localhost"]
    first, cdn = FileHost(), FileHost("localhost")
    cdn.files["/photo"] = ("image/png", PNG)
    first.redirects["/media"] = f"{cdn.url}/photo"
    media_id = graph.add_media("image/png", PNG)
    graph.media_urls[media_id] = f"{first.url}/media"
    try:
        # When
        response = webhook(
            inbound_message(WA_ID, {"type": "image", "image": {"mime_type": "image/png", "id": media_id}})
        )
    finally:
        first.stop()
        cdn.stop()
    # Then: the token went to the media URL only; the file is kept
    assert response.status_code == 200
    assert first.requests == [("/media", f"Bearer {ACCESS_TOKEN}")]
    assert cdn.requests == [("/photo", "")]
    assert Attachment.objects.get().file.read() == PNG


@pytest.mark.parametrize(("hosts", "expected"), [(["127.0.0.1"], "host_not_allowed"), (None, "too_many_redirects")])
def test_a_download_follows_redirects_only_to_allowed_hosts_and_at_most_five(hosts, expected):
    # Given: a redirect to another host, and a redirect loop
    first, other = FileHost(), FileHost("localhost")
    first.redirects["/away"] = f"{other.url}/file"
    first.redirects["/loop"] = "/loop"
    try:
        # When
        with pytest.raises(DownloadRefused) as refused:
            provider_download(
                f"{first.url}/away" if hosts else f"{first.url}/loop", max_bytes=1024, hosts=hosts or ["127.0.0.1"]
            )
    finally:
        first.stop()
        other.stop()
    # Then: the other host is never asked; the loop is left after five redirects
    assert refused.value.code == expected
    assert other.requests == []
    assert len(first.requests) == (1 if hosts else MAX_REDIRECTS + 1)


def test_meta_down_while_fetching_a_media_answers_503_and_keeps_nothing(graph, wa_a):
    # Given: Graph answers 503 for the media
    media_id = graph.add_media("image/png", PNG)
    graph.script.append((503, graph_error("Service temporarily unavailable", 2)))
    document = inbound_message(WA_ID, {"type": "image", "image": {"mime_type": "image/png", "id": media_id}})
    # When
    first = webhook(document)
    # Then: Meta is asked to deliver it again; when it does, it is kept
    assert_error(first, 503, "provider_unavailable")
    assert not Message.objects.exists()
    assert webhook(document).status_code == 200
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize(
    ("message", "text"),
    [
        (
            {
                "type": "location",
                "location": {"latitude": 51.5, "longitude": -0.12, "name": "Shop", "address": "1 High St"},
            },
            "📍 Shop, 1 High St (51.5, -0.12)",
        ),
        (
            {
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}},
            },
            "Yes",
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": "r2", "title": "Tomorrow", "description": "AM"},
                },
            },
            "Tomorrow",
        ),
        ({"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}}, "Stop promotions"),
    ],
    ids=["location", "button reply", "list reply", "template quick reply"],
)
def test_locations_and_replies_to_buttons_come_in_as_text(wa_a, message, text):
    # When
    assert webhook(inbound_message(WA_ID, message)).status_code == 200
    # Then
    assert Message.objects.get(channel=Channel.SOCIAL).body == text


# --- Sending, and Meta's failures ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 429])
def test_meta_down_leaves_the_reply_queued_and_it_is_sent_when_meta_is_back(
    graph, wa_a, agent, status, django_capture_on_commit_callbacks
):
    # Given: Meta answers an error worth retrying
    conversation = message_in().conversation
    graph.script.append((status, graph_error("Service temporarily unavailable", 2)))
    with django_capture_on_commit_callbacks(execute=False):
        response = session_client(agent).post(reply_url(conversation), {"body": "On its way"}, format="json")
    send = ProviderSend.objects.get(message_id=response.json()["id"])
    # When
    attempt = provider_send_deliver(send_id=send.pk)
    # Then: queued for another try after the backoff
    assert attempt is not None and (attempt.status, attempt.retry_in) == ("queued", backoff_seconds(1))
    send.refresh_from_db()
    assert send.status == SendStatus.QUEUED and f"WhatsApp answered {status}" in send.last_error
    # When: its time comes and Meta is back
    ProviderSend.objects.filter(pk=send.pk).update(next_attempt_at=timezone.now())
    attempt = provider_send_deliver(send_id=send.pk)
    # Then
    assert attempt is not None and attempt.status == "sent"
    assert [m["text"]["body"] for m in graph.sent] == ["On its way"]


def test_meta_unreachable_is_retried(settings, wa_a, agent, django_capture_on_commit_callbacks):
    # Given: nothing listens at Graph's address
    conversation = message_in().conversation
    gone = Graph()
    gone.stop()
    settings.CEA_META_GRAPH_URL = gone.graph_url
    with django_capture_on_commit_callbacks(execute=False):
        response = session_client(agent).post(reply_url(conversation), {"body": "Hello?"}, format="json")
    # When
    attempt = provider_send_deliver(send_id=ProviderSend.objects.get(message_id=response.json()["id"]).pk)
    # Then
    assert attempt is not None and attempt.status == "queued" and attempt.retry_in


@pytest.mark.parametrize(
    ("answer", "code", "reason"),
    [
        ((400, graph_error("(#131047) Re-engagement message", 131047)), "131047", "Re-engagement message"),
        ((401, graph_error("Invalid OAuth access token", 190)), "190", "Invalid OAuth access token"),
    ],
)
def test_a_graph_error_fails_the_reply_at_once_with_its_code(
    graph, wa_a, agent, answer, code, reason, django_capture_on_commit_callbacks
):
    # Given
    conversation = message_in().conversation
    graph.script.append(answer)
    with django_capture_on_commit_callbacks(execute=False):
        response = session_client(agent).post(reply_url(conversation), {"body": "Hello"}, format="json")
    # When
    attempt = provider_send_deliver(send_id=ProviderSend.objects.get(message_id=response.json()["id"]).pk)
    # Then: failed, not retried, with Graph's code and message
    assert attempt is not None and (attempt.status, attempt.retry_in) == ("failed", None)
    message = Message.objects.get(pk=response.json()["id"])
    assert message.payload["error"]["code"] == code and reason in message.payload["error"]["reason"]


@pytest.mark.parametrize("code", [4, 80007, 130429, 131056])
def test_graph_throttling_answered_with_a_400_is_retried(graph, wa_a, code):
    # Given: Graph answers a rate limit with a 400 and its code
    graph.script.append((400, graph_error("(#130429) Rate limit hit", code)))
    text = OutboundText(message_id=1, to=CUSTOMER, sender=PHONE_NUMBER_ID, body="Hi", status_callback="")
    # When / Then: worth trying again later
    with pytest.raises(SendError) as raised:
        WhatsAppAdapter().send(wa_a, text)
    assert (raised.value.retryable, raised.value.code) == (True, str(code))


def test_a_wrong_access_token_is_refused_by_graph(graph, wa_a, monkeypatch):
    # Given
    monkeypatch.setenv("CEA_SOURCE_WA_A_ACCESS_TOKEN", "stale-token")
    text = OutboundText(message_id=1, to=CUSTOMER, sender=PHONE_NUMBER_ID, body="Hi", status_callback="")
    # When / Then: Graph's 401, code 190, not worth retrying
    with pytest.raises(SendError) as raised:
        WhatsAppAdapter().send(wa_a, text)
    assert (raised.value.retryable, raised.value.code) == (False, "190")


def test_attached_files_go_by_link_with_the_text_as_the_first_ones_caption(graph, wa_a):
    # Given
    text = OutboundText(
        message_id=1,
        to=CUSTOMER,
        sender=PHONE_NUMBER_ID,
        body="Your invoice and a photo",
        status_callback="",
        media=(
            OutboundMedia("https://cea.example/f/1", "invoice.pdf", "application/pdf", 2000),
            OutboundMedia("https://cea.example/f/2", "photo.jpg", "image/jpeg", 3000),
        ),
    )
    # When
    wamid = WhatsAppAdapter().send(wa_a, text)
    # Then: the first part's wamid is the message's
    first, second = graph.sent
    assert wamid == first["id"]
    assert first["type"] == "document" and first["document"] == {
        "link": "https://cea.example/f/1",
        "caption": "Your invoice and a photo",
        "filename": "invoice.pdf",
    }
    assert second["type"] == "image" and second["image"] == {"link": "https://cea.example/f/2"}


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [("wave.gif", b"GIF89a" + b"\x00" * 32, "image/gif"), ("wave.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp")],
)
def test_a_file_whatsapp_cannot_carry_is_refused_at_upload(graph, wa_a, agent, name, content, kind):
    # Given: a WhatsApp conversation
    conversation = message_in().conversation
    # When: the agent uploads a GIF or a WebP for the reply
    response = session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )
    # Then: refused at once with what WhatsApp carries; nothing kept, nothing sent
    error = assert_error(response, 400, "attachment_type_not_carried")
    assert kind in error["fields"]["file"][0] and "image/png" in error["message"]
    assert not Attachment.objects.exists() and graph.sent == []


def test_a_png_goes_to_whatsapp_as_an_image(graph, wa_a, agent):
    # Given
    conversation = message_in().conversation
    # When
    response = session_client(agent).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/attachments/",
        {"file": SimpleUploadedFile("dent.png", PNG)},
        format="multipart",
    )
    # Then
    assert response.status_code == 201, response.content


def test_a_template_goes_with_its_body_parameters(graph, wa_a):
    # Given
    graph.add_template("order_update", "Hello {{1}}, your order {{2}} has shipped.")
    template = TemplateRef(name="order_update", language="en_GB", params=("Kerry", "A-1"))
    text = OutboundText(
        message_id=1, to=CUSTOMER, sender=PHONE_NUMBER_ID, body="…", status_callback="", template=template
    )
    # When
    WhatsAppAdapter().send(wa_a, text)
    # Then
    [sent] = graph.sent
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "order_update",
        "language": {"code": "en_GB"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Kerry"}, {"type": "text", "text": "A-1"}]}
        ],
    }


# --- The 24-hour window and templates -----------------------------------------------------------------


def test_a_free_reply_after_24_hours_is_refused_with_the_reason(graph, wa_a, agent):
    # Given: the customer's last message was 25 hours ago
    conversation = message_in().conversation
    close_window(conversation)
    # When
    response = session_client(agent).post(reply_url(conversation), {"body": "Still there?"}, format="json")
    # Then: refused, nothing recorded or sent
    error = assert_error(response, 409, "reply_window_closed")
    assert "approved message template" in error["message"]
    assert not conversation.messages.filter(direction=Direction.OUTBOUND).exists() and graph.sent == []


def test_a_webhook_meta_delivers_late_does_not_reopen_the_window(graph, wa_a, agent):
    # Given: a message the customer sent 25 hours ago, delivered by Meta only now
    conversation = message_in(at=int((timezone.now() - timedelta(hours=25)).timestamp())).conversation
    # When
    response = session_client(agent).post(reply_url(conversation), {"body": "Still there?"}, format="json")
    # Then: the window is measured from when the customer wrote
    assert_error(response, 409, "reply_window_closed")
    assert graph.sent == []


def test_the_closed_window_refusal_reads_in_german_on_a_german_desk(graph, wa_a):
    # Given: the window is closed
    conversation = message_in().conversation
    close_window(conversation)
    # When: the refusal is made for a German desk
    with translation.override("de"), pytest.raises(Conflict) as refused:
        WhatsAppAdapter().reply_rules(source=wa_a, conversation=conversation, body="Noch da?")
    # Then
    assert "24-Stunden-Kundenservicefenster" in refused.value.message
    assert "genehmigte Nachrichtenvorlage" in refused.value.message


@pytest.mark.usefixtures("eager_tasks")
def test_an_approved_template_is_sent_outside_the_window(
    graph, wa_a, agent, approved, django_capture_on_commit_callbacks
):
    # Given: the window is closed, the template is approved at Meta and here
    graph.add_template("order_update", approved.body)
    conversation = message_in().conversation
    close_window(conversation)
    # When
    with django_capture_on_commit_callbacks(execute=True):
        response = session_client(agent).post(
            template_url(conversation), {"template": approved.pk, "params": ["Kerry", "A-1"]}, format="json"
        )
    # Then: the message reads as the customer will see it, and Meta got the template
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert message.body == "Hello Kerry, your order A-1 has shipped."
    assert message.payload["template"] == {"name": "order_update", "language": "en_GB", "params": ["Kerry", "A-1"]}
    assert message.payload["delivery"] == "sent"
    [sent] = graph.sent
    assert sent["template"]["name"] == "order_update"


def test_the_templates_api_says_whether_the_window_is_open(wa_a, agent, approved):
    # Given
    conversation = message_in().conversation
    client = session_client(agent)
    # When
    open_ = client.get(template_url(conversation)).json()
    close_window(conversation)
    closed = client.get(template_url(conversation)).json()
    # Then
    assert (open_["whatsapp"], open_["window_open"], closed["window_open"]) == (True, True, False)
    assert [t["name"] for t in closed["templates"]] == ["order_update"]


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"status": TemplateStatus.PENDING}, 409, "template_not_approved", None),
        ({"params": 3}, 400, "invalid", "params"),
    ],
    ids=["not approved", "wrong number of values"],
)
def test_a_template_not_approved_or_with_the_wrong_values_is_refused(
    wa_a, agent, approved, change, status, code, field
):
    # Given
    MessageTemplate.objects.filter(pk=approved.pk).update(**change)
    conversation = message_in().conversation
    # When
    response = session_client(agent).post(
        template_url(conversation), {"template": approved.pk, "params": ["Kerry", "A-1"]}, format="json"
    )
    # Then
    error = assert_error(response, status, code)
    if field:
        assert field in error["fields"]
    assert not conversation.messages.filter(direction=Direction.OUTBOUND).exists()


def test_another_sources_template_is_refused(wa_a, agent, team_b):
    # Given: a template of another WhatsApp number
    other = WebhookSourceFactory(name="wa-b", channel=Channel.SOCIAL, provider="whatsapp", sender_id="999", team=team_b)
    theirs = MessageTemplate.objects.create(
        source=other, name="promo", language="en", body="Hi", params=0, status=TemplateStatus.APPROVED
    )
    conversation = message_in().conversation
    # When
    response = session_client(agent).post(template_url(conversation), {"template": theirs.pk}, format="json")
    # Then
    assert "template" in assert_error(response, 400)["fields"]


def test_another_teams_agent_cannot_send_a_template_in_the_conversation(wa_a, agent_b, approved):
    # Given
    conversation = message_in().conversation
    close_window(conversation)
    # When
    response = session_client(agent_b).post(
        template_url(conversation), {"template": approved.pk, "params": ["Kerry", "A-1"]}, format="json"
    )
    listed = session_client(agent_b).get(template_url(conversation))
    # Then
    assert_error(response, 403)
    assert_error(listed, 403)
    assert not conversation.messages.filter(direction=Direction.OUTBOUND).exists()


def test_templates_are_synced_from_the_business_account(graph, wa_a):
    # Given: the account has two approved templates and one in review
    graph.add_template("order_update", "Hello {{1}}, your order {{2}} has shipped.")
    graph.add_template("welcome", "Welcome to Acme!", language="de")
    graph.add_template("promo", "Save {{1}} today", status="PENDING")
    MessageTemplate.objects.create(source=wa_a, name="welcome", language="de", body="old", status=TemplateStatus.PAUSED)
    # When
    synced = whatsapp_templates_sync(wa_a)
    # Then
    assert (synced.created, synced.updated) == (2, 1)
    rows = {(t.name, t.language): (t.body, t.params, t.status) for t in MessageTemplate.objects.filter(source=wa_a)}
    assert rows == {
        ("order_update", "en_GB"): ("Hello {{1}}, your order {{2}} has shipped.", 2, "approved"),
        ("welcome", "de"): ("Welcome to Acme!", 0, "approved"),
        ("promo", "en_GB"): ("Save {{1}} today", 1, "pending"),
    }
    assert f"GET /v21.0/{WABA_ID}/message_templates" in graph.calls


def test_an_admin_syncs_a_sources_templates_from_the_console(client, admin_user, graph, wa_a):
    # Given
    graph.add_template("welcome", "Welcome, {{1}}!")
    client.force_login(admin_user)
    # When
    response = client.post(
        "/admin/engagement/webhooksource/",
        {"action": "sync_whatsapp_templates", "_selected_action": [wa_a.pk]},
        follow=True,
    )
    # Then
    assert "Templates synced from Meta for 1 source(s)." in response.content.decode()
    assert MessageTemplate.objects.get(source=wa_a, name="welcome").params == 1


def test_a_supervisor_cannot_sync_templates(client, supervisor, graph, wa_a):
    # Given
    graph.add_template("welcome", "Welcome!")
    client.force_login(supervisor)
    # When
    client.post(
        "/admin/engagement/webhooksource/", {"action": "sync_whatsapp_templates", "_selected_action": [wa_a.pk]}
    )
    # Then
    assert not MessageTemplate.objects.exists() and graph.calls == []


def test_the_sync_command_reports_what_it_did(graph, wa_a, capsys):
    # Given
    graph.add_template("welcome", "Welcome!")
    # When
    call_command("whatsapp_templates_sync", "wa-a")
    # Then
    assert "wa-a: 1 created, 0 updated" in capsys.readouterr().out


# --- The console and the desk ----------------------------------------------------------------------


def test_the_desk_shows_the_closed_window_and_sends_a_template_from_it(wa_a, agent, approved, graph):
    # Given: the window is closed
    conversation = message_in().conversation
    close_window(conversation)
    desk = Client()
    desk.force_login(agent)
    url = reverse("engagement:desk-whatsapp-templates", args=[conversation.pk])
    # When: the desk loads the control
    page = desk.get(url, HTTP_HX_REQUEST="true").content.decode()
    # Then: it says the window is closed and offers the template with a value for each placeholder
    assert 'data-window-open="false"' in page and "24-hour window is closed" in page
    assert page.count('data-testid="whatsapp-template-param"') == 2
    # When: the agent sends it
    response = desk.post(url, {"template": approved.pk, "params": ["Kerry", "A-1"]}, HTTP_HX_REQUEST="true")
    # Then: the message as the desk shows it
    assert response.status_code == 200
    assert "Hello Kerry, your order A-1 has shipped." in response.content.decode()


def test_another_teams_agent_gets_no_desk_control(wa_a, agent_b, approved):
    # Given
    conversation = message_in().conversation
    desk = Client()
    desk.force_login(agent_b)
    # When
    response = desk.get(reverse("engagement:desk-whatsapp-templates", args=[conversation.pk]))
    # Then
    assert response.status_code == 403
