"""Files from the chat widget: POST /api/v1/engagement/webchat/attachments/, and the desk's download.

The type is read from the content; the site key, the page's origin and the visitor token are the
credentials; a retry with the same client id stores the file once; the desk shows the file only
to those who may see the conversation.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cea.common.channels import Channel
from engagement.conversations.models import Attachment, Conversation, Message
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_end
from engagement.webchat.attachments import attachment_check, sniffed_type
from engagement.webchat.models import SiteKey
from engagement.webchat.services import visitor_token_issue
from tests.engagement.factories import SiteKeyFactory
from tests.support import assert_error, isolated_redis

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example"
URL = "/api/v1/engagement/webchat/attachments/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" * 4


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def site(team_a) -> SiteKey:
    return SiteKeyFactory(name="Northwind", allowed_origins=[SHOP], queue="web-chat", team=team_a)


@pytest.fixture
def visitor_chat(site, team_a) -> tuple[Conversation, str]:
    """A visitor's open web chat (team A's) and the visitor's token."""
    visitor, token = visitor_token_issue(site=site)
    conversation, _ = conversation_start(
        channel=Channel.CHAT, external_id=f"webchat:{visitor}:1", visitor=visitor, team=team_a, queue="web-chat"
    )
    return conversation, token


def send_file(site, token, name: str, content: bytes, *, client_id: str = "f-1", origin: str = SHOP):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return Client().post(
        URL, {"site_key": site.key, "visitor": token, "client_id": client_id, "file": upload}, HTTP_ORIGIN=origin
    )


def test_a_visitor_sends_a_picture_into_their_chat(site, visitor_chat):
    conversation, token = visitor_chat
    # When
    response = send_file(site, token, "broken-boot.png", PNG)
    # Then
    assert response.status_code == 201, response.content
    message = Message.objects.get(conversation=conversation)
    attachment = Attachment.objects.get()
    digest = hashlib.sha256(PNG).hexdigest()
    assert response.json() == {
        "id": message.pk,
        "conversation": conversation.pk,
        "client_id": "f-1",
        "filename": "broken-boot.png",
        "content_type": "image/png",
        "size": len(PNG),
    }
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert (message.author_kind, message.direction, message.body) == ("customer", "inbound", "broken-boot.png")
    assert message.payload == {
        "attachments": [
            {"filename": "broken-boot.png", "content_type": "image/png", "size": len(PNG), "sha256": digest}
        ]
    }
    assert (attachment.message_id, attachment.content_type, attachment.size, attachment.sha256) == (
        message.pk,
        "image/png",
        len(PNG),
        digest,
    )
    assert attachment.file.read() == PNG


def test_the_same_file_sent_again_with_its_client_id_is_kept_once(site, visitor_chat):
    _, token = visitor_chat
    first = send_file(site, token, "invoice.pdf", PDF)
    # When
    again = send_file(site, token, "invoice.pdf", PDF)
    # Then
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert (Message.objects.count(), Attachment.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("setup.exe", PROGRAM, "type_not_allowed"),
        ("invoice.pdf", PROGRAM, "type_not_allowed"),  # a program named as a PDF: its content says otherwise
        ("photo.pdf", PNG, "type_mismatch"),  # a picture that claims to be a PDF
        ("notes", b"plain words", "type_mismatch"),
        ("empty.txt", b"", "empty_file"),
    ],
)
def test_a_file_whose_content_is_not_allowed_or_not_what_its_name_says_is_refused(
    site, visitor_chat, name, content, code
):
    _, token = visitor_chat
    # When
    response = send_file(site, token, name, content)
    # Then
    error = assert_error(response, 400, code if code != "empty_file" else None)
    assert "file" in error["fields"]
    assert (Message.objects.count(), Attachment.objects.count()) == (0, 0)


def test_a_file_over_the_size_limit_is_refused(site, visitor_chat, settings):
    _, token = visitor_chat
    settings.CEA_WEBCHAT_ATTACHMENT_MAX_BYTES = 1024
    # When
    response = send_file(site, token, "big.txt", b"a" * 1025)
    # Then
    error = assert_error(response, 400, "file_too_large")
    assert error["fields"] == {"file": ["At most 1024 bytes."]}
    assert Attachment.objects.count() == 0


def test_a_text_file_is_redacted_like_any_text_that_comes_in(site, visitor_chat):
    _, token = visitor_chat
    # When
    response = send_file(site, token, "card.txt", b"My card is 4111 1111 1111 1111, thanks")
    # Then
    assert response.status_code == 201, response.content
    kept = Attachment.objects.get().file.read()
    assert b"4111 1111 1111 1111" not in kept
    assert kept.startswith(b"My card is ")


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"origin": "https://evil.example"}, 403, "origin_not_allowed"),
        ({"token": "forged:token"}, 403, "invalid_visitor"),
        ({"site_key": "site_unknown"}, 403, "unknown_site_key"),
        ({"client_id": "not ok!"}, 400, "invalid_client_id"),
    ],
)
def test_a_file_without_the_widgets_credentials_is_refused(site, visitor_chat, change, status, code):
    _, token = visitor_chat
    upload = SimpleUploadedFile("a.png", PNG)
    data = {
        "site_key": change.get("site_key", site.key),
        "visitor": change.get("token", token),
        "client_id": change.get("client_id", "f-1"),
        "file": upload,
    }
    # When
    response = Client().post(URL, data, HTTP_ORIGIN=change.get("origin", SHOP))
    # Then
    assert_error(response, status, code)
    assert Attachment.objects.count() == 0


def test_a_visitor_of_another_site_cannot_send_into_this_sites_chat(site, visitor_chat, team_b):
    _, token = visitor_chat
    other = SiteKeyFactory(name="Other shop", allowed_origins=[SHOP], team=team_b)
    # When: this site's visitor token used with the other site's key
    response = send_file(other, token, "a.png", PNG)
    # Then
    assert_error(response, 403, "invalid_visitor")


def test_a_file_needs_an_open_chat(site, visitor_chat):
    conversation, token = visitor_chat
    conversation_end(actor=None, conversation=conversation)
    # When
    response = send_file(site, token, "a.png", PNG)
    # Then
    assert_error(response, 409, "no_conversation")
    assert Attachment.objects.count() == 0


def test_files_a_minute_are_limited_per_address(site, visitor_chat, settings):
    _, token = visitor_chat
    settings.CEA_WEBCHAT_ATTACHMENTS_PER_IP_PER_MINUTE = 2
    # When
    statuses = [send_file(site, token, "a.png", PNG, client_id=f"f-{n}").status_code for n in range(3)]
    # Then
    assert statuses == [201, 201, 429]
    assert Attachment.objects.count() == 2


def test_refused_files_count_against_the_limit_too(site, visitor_chat, settings):
    # Given: a visitor who sends files that are refused (too large), then a good one
    _, token = visitor_chat
    settings.CEA_WEBCHAT_ATTACHMENTS_PER_IP_PER_MINUTE = 2
    settings.CEA_WEBCHAT_ATTACHMENT_MAX_BYTES = 1024
    # When
    statuses = [send_file(site, token, "big.txt", b"a" * 4096, client_id=f"big-{n}").status_code for n in range(2)]
    statuses.append(send_file(site, token, "a.png", PNG, client_id="good").status_code)
    # Then: each upload counted, so refusals cannot be sent without end
    assert statuses == [400, 400, 429]
    assert Attachment.objects.count() == 0


def test_the_desk_downloads_the_file_only_for_who_may_see_the_chat(site, visitor_chat, agent, agent_b):
    conversation, token = visitor_chat
    message_id = send_file(site, token, "invoice.pdf", PDF).json()["id"]
    digest = hashlib.sha256(PDF).hexdigest()
    url = reverse("engagement:desk-chat-attachment", args=[conversation.pk, message_id, digest])
    team_a_desk, team_b_desk = Client(), Client()
    team_a_desk.force_login(agent)
    team_b_desk.force_login(agent_b)
    # When
    mine = team_a_desk.get(url)
    theirs = team_b_desk.get(url)
    wrong_file = team_a_desk.get(
        reverse("engagement:desk-chat-attachment", args=[conversation.pk, message_id, "0" * 64])
    )
    # Then
    assert mine.status_code == 200
    assert (mine["Content-Type"], b"".join(mine.streaming_content)) == ("application/pdf", PDF)
    assert 'attachment; filename="invoice.pdf"' in mine["Content-Disposition"]
    assert theirs.status_code == 403
    assert wrong_file.status_code == 404


def test_the_desk_shows_the_file_on_the_customers_message(site, visitor_chat, agent):
    conversation, token = visitor_chat
    message_id = send_file(site, token, "invoice.pdf", PDF).json()["id"]
    desk = Client()
    desk.force_login(agent)
    # When
    page = desk.get(reverse("engagement:desk-conversation", args=[conversation.pk]))
    # Then
    assert page.status_code == 200
    link = reverse(
        "engagement:desk-chat-attachment", args=[conversation.pk, message_id, hashlib.sha256(PDF).hexdigest()]
    )
    assert f'href="{link}"' in page.content.decode()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (PDF, "application/pdf"),
        ("Grüße, tab\tand lines\n".encode(), "text/plain"),
        (PROGRAM, None),
        (b"\x00\x01binary", None),
        (b"\xc3\x28 not utf-8", None),
    ],
)
def test_the_type_is_read_from_the_content(content, expected):
    assert sniffed_type(content) == expected


def test_a_name_with_a_path_is_read_as_its_last_part():
    assert attachment_check(filename="C:\\Users\\ann\\scan.PDF", content=PDF) == "application/pdf"
