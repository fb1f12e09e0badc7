"""Agents' files with their replies: upload a draft, reply with its id, each channel sends it its way.

- email: the reply's MIME attachments (Django's locmem outbox, the email tests' way);
- web chat: the widget's message carries a signed link that serves the file without a login;
- SMS through Twilio: ``MediaUrl``, which the loopback Twilio (tests/engagement/provider_support.py)
  fetches over HTTP from CEA's live server, as Twilio does; Vonage's SMS API refuses files (409);
- inbound MMS: Twilio's webhook names its media, CEA fetches them with the source's credentials.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from cea.common.channels import Channel
from engagement.adapters.media import outbound_media
from engagement.conversations import replies
from engagement.conversations.files import attachment_draft_add, attachment_media_path, media_rules
from engagement.conversations.models import Attachment, Conversation, Message
from engagement.conversations.tasks import deliver_email_reply, remove_draft_attachments
from engagement.webchat.selectors import visitor_message_json
from tests.accounts.factories import UserFactory
from tests.engagement.adapter_support import assert_error, isolate_redis, make_customer, session_client
from tests.engagement.factories import ConversationFactory, WebhookSourceFactory
from tests.engagement.provider_support import (
    TWILIO_SID,
    TWILIO_TOKEN,
    VONAGE_KEY,
    VONAGE_SECRET,
    Providers,
    twilio_inbound_params,
    twilio_request,
)

CUSTOMER = "+447911123456"
OUR_NUMBER = "+442079460123"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    yield from isolate_redis(settings)


@pytest.fixture(autouse=True)
def _media_of_its_own(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def email_conversation(team_a) -> Conversation:
    conversation = ConversationFactory(
        channel=Channel.EMAIL,
        team=team_a,
        contact_kind="email",
        contact_value="alice.smith@example.com",
        subject="My invoice",
    )
    Message.objects.create(
        conversation=conversation,
        channel=Channel.EMAIL,
        direction="inbound",
        author_kind="customer",
        body="Please send the corrected invoice.",
        external_id="alice-1@mail.example.com",
        sent_at=timezone.now(),
        payload={"message_id": "alice-1@mail.example.com", "references": []},
    )
    return conversation


def upload(user, conversation: Conversation, name: str, content: bytes):
    return session_client(user).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def reply(user, conversation: Conversation, body: str, attachments: list[int], **extra):
    return session_client(user).post(
        f"/api/v1/engagement/conversations/{conversation.pk}/reply/",
        {"body": body, "attachments": attachments, **extra},
        format="json",
    )


# --- Upload and email ----------------------------------------------------------------------------


def test_an_uploaded_file_goes_with_the_email_reply_as_a_mime_attachment(
    agent, email_conversation, mailoutbox, django_capture_on_commit_callbacks
):
    # Given: the agent uploads the corrected invoice
    uploaded = upload(agent, email_conversation, "invoice-0042.pdf", PDF)
    assert uploaded.status_code == 201, uploaded.content
    draft = uploaded.json()
    assert {k: draft[k] for k in ("conversation", "filename", "content_type", "size")} == {
        "conversation": email_conversation.pk,
        "filename": "invoice-0042.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
    }
    assert Attachment.objects.get(pk=draft["id"]).message is None
    # When: they reply with it
    with django_capture_on_commit_callbacks(execute=False):
        response = reply(agent, email_conversation, "Here is the corrected invoice.", [draft["id"]])
    # Then: the file is the reply's, listed in its payload
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert [a.pk for a in message.attachments.all()] == [draft["id"]]
    assert message.payload["attachments"] == [
        {
            "id": draft["id"],
            "filename": "invoice-0042.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
            "sha256": draft["sha256"],
        }
    ]
    assert [a["filename"] for a in response.json()["attachments"]] == ["invoice-0042.pdf"]
    # When: the worker sends the email
    assert deliver_email_reply(message.pk) is True
    # Then: the email carries the file as a MIME attachment
    [email] = mailoutbox
    assert email.body == "Here is the corrected invoice."
    assert email.attachments == [("invoice-0042.pdf", PDF, "application/pdf")]
    parts = [part for part in email.message().walk() if part.get_filename()]
    assert [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in parts] == [
        ("invoice-0042.pdf", "application/pdf", PDF)
    ]


def test_a_retried_reply_with_files_is_the_first_one(agent, email_conversation, django_capture_on_commit_callbacks):
    # Given: a reply with a file, sent once
    draft = upload(agent, email_conversation, "invoice.pdf", PDF).json()
    with django_capture_on_commit_callbacks(execute=False):
        first = reply(agent, email_conversation, "Attached.", [draft["id"]], client_message_id="c-1")
        # When: the desk retries the same request
        again = reply(agent, email_conversation, "Attached.", [draft["id"]], client_message_id="c-1")
    # Then: the same message, with its one file
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Attachment.objects.filter(message_id=first.json()["id"]).count() == 1


def test_the_desks_reply_form_sends_the_drafts_ids(agent, email_conversation, django_capture_on_commit_callbacks):
    # Given: two drafts uploaded from the desk
    drafts = [upload(agent, email_conversation, name, PDF).json()["id"] for name in ("a.pdf", "b.pdf")]
    desk = session_client(agent)
    url = f"/desk/conversations/{email_conversation.pk}/reply/"
    # When: the reply form posts them as repeated ``attachments`` (htmx's encoding of a list)
    with django_capture_on_commit_callbacks(execute=False):
        response = desk.post(url, {"body": "Both attached", "attachments": [str(pk) for pk in drafts]})
        malformed = desk.post(url, {"body": "Again", "attachments": ["a.pdf"]})
    # Then: the reply is the desk's message fragment, listing both files; a malformed id is refused
    assert response.status_code == 200, response.content
    message = Message.objects.get(conversation=email_conversation, body="Both attached")
    assert sorted(message.attachments.values_list("pk", flat=True)) == sorted(drafts)
    assert response.content.decode().count('data-testid="message-attachment"') == 2
    assert malformed.status_code == 400
    assert not Message.objects.filter(conversation=email_conversation, body="Again").exists()


# --- Web chat: the widget's link ------------------------------------------------------------------


def test_a_chat_reply_of_files_only_reaches_the_widget_with_a_link_that_serves_it(agent, team_a):
    # Given: a web chat and the agent's uploaded picture
    conversation = ConversationFactory(channel=Channel.CHAT, team=team_a, visitor="v-123")
    draft = upload(agent, conversation, "router-lights.png", PNG).json()
    # When: the agent replies with the picture and no text
    response = reply(agent, conversation, "", [draft["id"]])
    # Then: it is live, and the widget's message links the file
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.body, message.payload["delivery"]) == ("", "live")
    shown = visitor_message_json(message={**response.json(), "payload": message.payload})
    [file] = shown["attachments"]
    assert (file["filename"], file["content_type"], file["size"]) == ("router-lights.png", "image/png", len(PNG))
    assert "payload" not in shown
    # When: the visitor's browser follows the link, without a login
    served = APIClient().get(file["url"])
    # Then: the file, as a download that browsers do not sniff
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PNG
    assert served["Content-Type"] == "image/png"
    assert served["Content-Disposition"] == 'attachment; filename="router-lights.png"'
    assert served["X-Content-Type-Options"] == "nosniff"


def test_an_expired_forged_or_unknown_link_serves_nothing(agent, team_a, settings):
    # Given: a file sent in a chat, and its link
    conversation = ConversationFactory(channel=Channel.CHAT, team=team_a, visitor="v-124")
    draft = upload(agent, conversation, "note.txt", b"Your reference is 4471.\n").json()
    assert reply(agent, conversation, "See the note", [draft["id"]]).status_code == 201
    path = attachment_media_path(draft["id"])
    token = path.rstrip("/").rsplit("/", 1)[-1]
    # When: the link is older than CEA_MEDIA_URL_SECONDS
    settings.CEA_MEDIA_URL_SECONDS = 60
    expired_token = _signed_at(str(draft["id"]), seconds_ago=120)
    # Then: 410 Gone; a forged token 403; a valid token for no sent file 404
    assert_error(APIClient().get(path.replace(token, expired_token)), 410, "link_expired")
    assert_error(APIClient().get(path.replace(token, token[:-2] + "xx")), 403, "bad_token")
    assert_error(APIClient().get(path.replace(token, _signed_at("999999999", seconds_ago=0))), 404)
    # And: a draft never sent is not served by a link either
    unsent = upload(agent, conversation, "later.txt", b"later\n").json()
    assert_error(APIClient().get(attachment_media_path(unsent["id"])), 404)
    # And: the fresh link still serves
    assert APIClient().get(path).status_code == 200


def _signed_at(value: str, *, seconds_ago: int) -> str:
    """A token of ``value`` signed ``seconds_ago`` (TimestampSigner puts the time in the token)."""
    signer = signing.TimestampSigner(salt="cea.attachment-media")
    stamp = signing.b62_encode(int(timezone.now().timestamp()) - seconds_ago)
    return signing.Signer(salt="cea.attachment-media").sign(f"{value}{signer.sep}{stamp}")


# --- Who may attach, and what ---------------------------------------------------------------------


def test_another_teams_agent_can_neither_upload_to_nor_attach_to_the_conversation(
    agent, agent_b, team_a, team_b, email_conversation, django_capture_on_commit_callbacks
):
    # Given: a draft of team A's agent, and team B's own draft in a team B conversation
    draft_a = upload(agent, email_conversation, "invoice.pdf", PDF).json()
    theirs = ConversationFactory(channel=Channel.CHAT, team=team_b, visitor="v-b")
    draft_b = upload(agent_b, theirs, "elsewhere.pdf", PDF).json()
    colleague = UserFactory(username="agent.a2", role="agent", teams=[team_a])
    # When: team B's agent uploads to team A's conversation
    refused = upload(agent_b, email_conversation, "x.pdf", PDF)
    # Then: refused, nothing stored
    assert_error(refused, 403)
    assert Attachment.objects.filter(conversation=email_conversation).count() == 1
    # When: team B's agent replies in team A's conversation with A's draft
    assert_error(reply(agent_b, email_conversation, "Hi", [draft_a["id"]]), 403)
    # When: team A's agent attaches team B's draft, or a colleague attaches A's agent's draft
    with django_capture_on_commit_callbacks(execute=False):
        foreign = reply(agent, email_conversation, "Hi", [draft_b["id"]])
        not_theirs = reply(colleague, email_conversation, "Hi", [draft_a["id"]])
    # Then: 400 on attachments, no reply recorded, the drafts still drafts
    assert assert_error(foreign, 400, "unknown_attachment")["fields"].keys() == {"attachments"}
    assert_error(not_theirs, 400, "unknown_attachment")
    assert Message.objects.filter(conversation=email_conversation, direction="outbound").count() == 0
    assert Attachment.objects.filter(pk__in=[draft_a["id"], draft_b["id"]], message__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("big.txt", b"a" * (1024 * 1024 + 1), "file_too_large"),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "type_not_allowed"),
        ("invoice.pdf", PNG, "type_mismatch"),
        ("empty.txt", b"", "empty_file"),
    ],
)
def test_a_file_over_the_limit_or_of_a_refused_type_is_a_400_and_nothing_is_stored(
    agent, email_conversation, settings, name, content, code
):
    # Given: files of at most 1 MiB
    settings.CEA_WEBCHAT_ATTACHMENT_MAX_BYTES = 1024 * 1024
    # When
    response = upload(agent, email_conversation, name, content)
    # Then
    assert "file" in assert_error(response, 400, code)["fields"]
    assert Attachment.objects.count() == 0


def test_a_spoken_or_ended_conversation_takes_no_files(agent, team_a):
    # Given: a phone call, and an ended chat
    call = ConversationFactory(channel=Channel.VOICE, team=team_a)
    ended = ConversationFactory(channel=Channel.CHAT, team=team_a, status="ended")
    # When / Then
    assert_error(upload(agent, call, "a.pdf", PDF), 409, "attachments_not_allowed")
    assert_error(upload(agent, ended, "a.pdf", PDF), 409, "conversation_ended")
    assert Attachment.objects.count() == 0


def test_drafts_older_than_a_day_are_removed_by_the_beat(agent, email_conversation):
    # Given: a draft uploaded two days ago, one just now, and a sent file two days old
    old = Attachment.objects.get(pk=upload(agent, email_conversation, "old.pdf", PDF).json()["id"])
    fresh = upload(agent, email_conversation, "fresh.pdf", PDF).json()
    sent = Attachment.objects.get(pk=upload(agent, email_conversation, "sent.pdf", PDF).json()["id"])
    message = Message.objects.filter(conversation=email_conversation).first()
    Attachment.objects.filter(pk=sent.pk).update(message=message)
    two_days_ago = timezone.now() - timedelta(days=2)
    Attachment.objects.filter(pk__in=[old.pk, sent.pk]).update(created_at=two_days_ago)
    # When: the beat's task runs
    removed = remove_draft_attachments()
    # Then: only the stale draft and its file are gone
    assert removed == 1
    assert set(Attachment.objects.values_list("pk", flat=True)) == {fresh["id"], sent.pk}
    assert not old.file.storage.exists(old.file.name)


# --- SMS: Twilio's MMS, Vonage's refusal ------------------------------------------------------------


@pytest.fixture
def providers(settings, monkeypatch):
    server = Providers()
    settings.CEA_TWILIO_API_URL = server.url
    settings.CEA_VONAGE_API_URL = server.url
    for source in ("TW_MMS", "VG_SMS"):
        monkeypatch.setenv(f"CEA_SOURCE_{source}_ACCOUNT_SID", TWILIO_SID)
        monkeypatch.setenv(f"CEA_SOURCE_{source}_AUTH_TOKEN", TWILIO_TOKEN)
        monkeypatch.setenv(f"CEA_SOURCE_{source}_API_KEY", VONAGE_KEY)
        monkeypatch.setenv(f"CEA_SOURCE_{source}_API_SECRET", VONAGE_SECRET)
    yield server
    server.stop()


def sms_conversation(source_name: str, team) -> Conversation:
    conversation = ConversationFactory(
        channel=Channel.SMS,
        team=team,
        contact_kind="phone",
        contact_value=CUSTOMER,
        external_id=f"{source_name}:{CUSTOMER}:1",
    )
    Message.objects.create(
        conversation=conversation,
        channel=Channel.SMS,
        direction="inbound",
        author_kind="customer",
        body="Can you send me a photo of the right cable?",
        external_id=f"{source_name}:SMin1",
        sent_at=timezone.now(),
        payload={"source": source_name, "from": CUSTOMER, "to": OUR_NUMBER},
    )
    return conversation


def test_an_sms_reply_through_twilio_sends_media_urls_that_twilio_fetches(
    live_server, transactional_db, settings, providers, eager_tasks, team_a, agent
):
    # Given: CEA is reachable at the live server; an SMS conversation through a Twilio number
    settings.CEA_PUBLIC_URL = live_server.url
    WebhookSourceFactory(name="tw-mms", provider="twilio", sender_id=OUR_NUMBER, team=team_a, queue="SMS")
    conversation = sms_conversation("tw-mms", team_a)
    drafts = [upload(agent, conversation, name, PNG).json()["id"] for name in ("cable.png", "port.png")]
    # When: the agent replies with both pictures (the send task runs on commit)
    response = reply(agent, conversation, "This one, in the grey port.", drafts)
    # Then: Twilio got an MMS with one MediaUrl per file, each CEA's signed link
    assert response.status_code == 201, response.content
    [sent] = providers.sent
    assert sent["Body"] == "This one, in the grey port."
    assert len(sent["MediaUrl"]) == 2
    assert all(url.startswith(f"{live_server.url}/api/v1/engagement/media/") for url in sent["MediaUrl"])
    # And: it fetched each without credentials and got the bytes, typed and not to be sniffed
    assert [(f["status"], f["content"], f["content_type"], f["nosniff"]) for f in sent["fetched"]] == [
        (200, PNG, "image/png", "nosniff"),
        (200, PNG, "image/png", "nosniff"),
    ]
    assert sent["fetched"][0]["disposition"] == 'attachment; filename="cable.png"'
    message = Message.objects.get(pk=response.json()["id"])
    assert message.payload["delivery"] == "sent"
    # And: a link that was not signed by CEA gets nothing
    forged = sent["MediaUrl"][0][:-3] + "abc/"
    assert httpx.get(forged, timeout=30).status_code == 403


def test_outbound_media_lists_each_file_with_an_absolute_signed_url(agent, email_conversation, settings):
    # Given: a reply with a file
    settings.CEA_PUBLIC_URL = "https://cea.example.com"
    draft = upload(agent, email_conversation, "invoice.pdf", PDF).json()
    message = Message.objects.get(pk=reply(agent, email_conversation, "Attached", [draft["id"]]).json()["id"])
    # When
    [media] = outbound_media(message)
    # Then
    assert (media.filename, media.content_type, media.size) == ("invoice.pdf", "application/pdf", len(PDF))
    assert media.url.startswith("https://cea.example.com/api/v1/engagement/media/")


def test_twilio_takes_at_most_ten_files_and_five_megabytes(agent, team_a, providers):
    # Given: a Twilio SMS conversation and eleven drafts
    WebhookSourceFactory(name="tw-mms", provider="twilio", sender_id=OUR_NUMBER, team=team_a, queue="SMS")
    conversation = sms_conversation("tw-mms", team_a)
    drafts = [upload(agent, conversation, f"p{n}.png", PNG).json()["id"] for n in range(11)]
    # When / Then: eleven are too many; nothing is recorded
    assert_error(reply(agent, conversation, "Pictures", drafts), 400, "too_many_attachments")
    assert Message.objects.filter(conversation=conversation, direction="outbound").count() == 0
    assert providers.sent == []


def test_vonage_sms_refuses_files_with_409_and_records_nothing(agent, team_a, providers):
    # Given: an SMS conversation through a Vonage number, and a draft
    WebhookSourceFactory(name="vg-sms", provider="vonage", sender_id=OUR_NUMBER, team=team_a, queue="SMS")
    conversation = sms_conversation("vg-sms", team_a)
    # When: the agent uploads a file for it
    refused_upload = upload(agent, conversation, "cable.png", PNG)
    # Then: refused at once, nothing stored
    assert "Vonage" in assert_error(refused_upload, 409, "attachments_not_allowed")["message"]
    assert Attachment.objects.count() == 0
    # When: a draft made before (e.g. while the customer wrote through Twilio) goes with a reply
    draft = {"id": attachment_draft_add(actor=agent, conversation=conversation, filename="cable.png", content=PNG).pk}
    response = reply(agent, conversation, "This cable", [draft["id"]])
    # Then: refused, clearly; no reply, the draft still a draft, nothing sent
    error = assert_error(response, 409, "attachments_not_allowed")
    assert "Vonage" in error["message"]
    assert Message.objects.filter(conversation=conversation, direction="outbound").count() == 0
    assert Attachment.objects.get(pk=draft["id"]).message is None
    assert providers.sent == []


# --- Inbound MMS --------------------------------------------------------------------------------------


def test_an_inbound_mms_is_kept_with_its_files(team_a, providers):
    # Given: a Twilio number, and an MMS with a picture and a file of a type CEA refuses
    WebhookSourceFactory(name="tw-mms", provider="twilio", sender_id=OUR_NUMBER, team=team_a, queue="SMS")
    make_customer(team_a, phone=CUSTOMER)
    picture = providers.add_media(PNG, "image/png")
    program = providers.add_media(b"MZ\x90\x00\x03" + bytes(32), "application/x-msdownload")
    params = twilio_inbound_params(
        sid="MMin0001",
        sender=CUSTOMER,
        to=OUR_NUMBER,
        body="",
        media=[(picture, "image/png"), (program, "application/x-msdownload")],
    )
    path = "/api/v1/engagement/providers/twilio/tw-mms/sms/"
    # When: Twilio posts the webhook
    response = APIClient().post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=twilio_request(django_settings.CEA_PUBLIC_URL + path, params),
    )
    # Then: the message keeps the picture (fetched with the account's credentials) and says why not the program
    assert response.status_code == 200, response.content
    message = Message.objects.get(external_id="tw-mms:MMin0001")
    [attachment] = message.attachments.all()
    media_sid = picture.rsplit("/", 1)[-1]
    assert (attachment.filename, attachment.content_type) == (f"{media_sid}.png", "image/png")
    assert attachment.file.read() == PNG
    assert message.body == f"{media_sid}.png"
    assert [a["filename"] for a in message.payload["attachments"]] == [f"{media_sid}.png"]
    assert [(r["index"], r["content_type"], r["code"]) for r in message.payload["media_refused"]] == [
        (1, "application/x-msdownload", "type_not_allowed")
    ]
    expected_auth = providers._twilio_basic()
    assert providers.media_gets == [expected_auth, expected_auth]


def test_the_desk_offers_files_only_where_the_channel_carries_them(agent, team_a, providers):
    # Given: an SMS conversation through Twilio and one through Vonage
    WebhookSourceFactory(name="tw-mms", provider="twilio", sender_id=OUR_NUMBER, team=team_a, queue="SMS")
    WebhookSourceFactory(name="vg-sms", provider="vonage", sender_id=OUR_NUMBER, team=team_a, queue="SMS")
    twilio = sms_conversation("tw-mms", team_a)
    vonage = sms_conversation("vg-sms", team_a)
    desk = session_client(agent)
    # When: the agent opens each on the desk
    with_files = desk.get(f"/desk/conversations/{twilio.pk}/").content.decode()
    without = desk.get(f"/desk/conversations/{vonage.pk}/").content.decode()
    # Then: Twilio's reply box takes files, with its limits; Vonage's says why not
    assert 'data-testid="reply-attach-input"' in with_files
    assert "up to 10 files, 5.0\xa0MB in all" in with_files
    assert 'data-testid="reply-attach-input"' not in without
    assert "Vonage&#x27;s SMS API sends text only" in without


def test_the_desk_offers_files_on_app_conversations_and_says_why_not_on_an_iot_device_without_a_source(agent, team_a):
    # Given: a mobile app conversation (its replies go live, or pushed to a registered device) and an
    # IoT device's conversation with no source to reply through
    app = ConversationFactory(channel=Channel.MOBILE_APP, team=team_a, agent=agent, status="active")
    device = ConversationFactory(channel=Channel.IOT, team=team_a, agent=agent, status="active")
    desk = session_client(agent)
    # When: the agent opens each on the desk
    with_files = desk.get(f"/desk/conversations/{app.pk}/")
    without = desk.get(f"/desk/conversations/{device.pk}/")
    # Then: the app's reply box takes files; the device's says it cannot carry them
    assert with_files.status_code == 200 and without.status_code == 200
    assert 'data-testid="reply-attach-input"' in with_files.content.decode()
    assert 'data-testid="reply-attach-input"' not in without.content.decode()


@pytest.mark.django_db
def test_a_file_is_a_message_s_or_a_conversation_s_draft_never_neither():
    # When: a file is kept with neither a message nor a conversation
    # Then: the database refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        Attachment.objects.create(filename="x.txt", content_type="text/plain", size=1, sha256="0" * 64, file="x")


def test_a_reply_transport_that_does_not_name_its_provider_gets_the_channel_s_own_rules(team_a, monkeypatch):
    # Given: a channel whose registered transport says nothing of files (media_provider is optional)
    class TextOnly:
        def prepare(self, *, conversation, body):
            return {"delivery": "queued"}

        def queued(self, *, message):
            return None

    monkeypatch.setitem(replies._transports, Channel.MOBILE_APP, TextOnly())
    conversation = ConversationFactory(channel=Channel.MOBILE_APP, team=team_a)
    # When: the desk asks what files a reply may carry
    rules = replies.reply_media_rules(conversation)
    # Then: the channel's own rule, as for a channel without a provider
    assert rules == media_rules(Channel.MOBILE_APP, "")
