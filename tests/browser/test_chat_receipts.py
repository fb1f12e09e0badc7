"""A web chat's typing, read receipts and files between the widget and the desk, each in its own browser.

The visitor on the demo shop asks for a person; the agent accepts the chat on the desk. Then each
sees the other type, each sees what the other read, and a file the visitor sends shows on the desk.
"""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import expect

from engagement.conversations.models import Attachment, ChatReadMark
from tests.browser.helpers import accepted_chat, eventually

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_typing_read_receipts_and_a_file_between_the_widget_and_the_desk(new_context, asgi_server, team_a, agent):
    # Given an available agent at their desk and a visitor on the shop whose chat the agent accepted
    chat = accepted_chat(new_context, asgi_server.url, team=team_a, agent=agent)
    desk_page = chat.desk_page
    visitor_page = chat.visitor_page
    widget = chat.widget
    conversation = chat.conversation
    panel = chat.panel

    # When the visitor types, the desk says so; when the agent types, the widget says so. The visitor
    # types on, as a person does (a pulse every two seconds at most): the desk follows the chat from a
    # moment after its panel opens, and on a loaded machine the first pulse can come before that.
    typing = panel.get_by_test_id("chat-typing")
    for more in range(10):
        widget.input.fill("Hello, I have a question about" + "." * more)
        with contextlib.suppress(AssertionError):
            expect(typing).to_be_visible(timeout=2_500)
            break
    expect(typing).to_be_visible()
    reply = panel.locator("form.reply-form textarea")
    reply.fill("Hello! Let me")
    expect(visitor_page.get_by_test_id("cea-chat-typing")).to_be_visible()

    # The agent has the chat open: the visitor's message shows as seen in the widget
    expect(visitor_page.get_by_test_id("cea-chat-seen")).to_be_visible()
    expect(
        visitor_page.locator("[data-testid=cea-chat-message][data-author=customer] [data-testid=cea-chat-seen]")
    ).to_have_count(1)

    # The agent replies; the visitor, whose panel is open, reads it: the desk shows it read
    reply.fill("Hello! How can I help?")
    panel.locator("form.reply-form button[type=submit]").click()
    expect(widget.message("agent", "How can I help?")).to_be_visible()
    expect(visitor_page.get_by_test_id("cea-chat-typing")).to_be_hidden()
    agent_message = panel.locator(".message[data-author-kind=agent]", has_text="How can I help?")
    expect(agent_message.get_by_test_id("message-read")).to_be_visible()
    expect(panel.get_by_test_id("chat-read")).to_be_visible()

    # The visitor sends a picture: it is on the desk as a download
    visitor_page.get_by_test_id("cea-chat-file").set_input_files(
        files=[{"name": "broken-boot.png", "mimeType": "image/png", "buffer": PNG}]
    )
    link = panel.get_by_test_id("message-attachment")
    expect(link).to_have_text("broken-boot.png")
    # The desk's push of the file can reach the widget before the upload's own answer: for that moment the
    # widget shows the pushed message beside its pending one, until the answer removes the pending one
    expect(visitor_page.locator("[data-testid=cea-chat-message][data-state=pending]")).to_have_count(0)
    expect(widget.message("customer", "broken-boot.png")).to_have_attribute("data-state", "sent")

    # Then: the file is kept with the type its content has, and each side's read mark is kept
    attachment = eventually(lambda: Attachment.objects.first(), what="the file")
    assert (attachment.filename, attachment.content_type, attachment.size) == ("broken-boot.png", "image/png", len(PNG))
    assert set(ChatReadMark.objects.filter(conversation=conversation).values_list("reader", flat=True)) == {
        "agent",
        "customer",
    }
    with desk_page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "broken-boot.png"
