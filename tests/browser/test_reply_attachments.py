"""An agent's file with a chat reply: attached on the desk, shown in the widget as a download link.

The visitor on the demo shop asks for a person; the agent accepts, attaches two files to the reply box,
removes one, and sends the other with a line of text. The widget shows the reply with a link that
serves the file (a signed link of CEA's, no login).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engagement.conversations.models import Attachment, Message
from tests.browser.helpers import accepted_chat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_an_agent_attaches_a_file_to_a_chat_reply_and_the_widget_shows_it(new_context, asgi_server, team_a, agent):
    # Given an agent at their desk who accepted a visitor's chat
    chat = accepted_chat(new_context, asgi_server.url, team=team_a, agent=agent)
    visitor_page = chat.visitor_page
    widget = chat.widget
    conversation = chat.conversation
    panel = chat.panel

    # When the agent chooses two files for the reply
    panel.get_by_test_id("reply-attach-input").set_input_files(
        files=[
            {"name": "router-setup.png", "mimeType": "image/png", "buffer": PNG},
            {"name": "old-terms.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ]
    )
    # Then both are uploaded and listed
    files = panel.get_by_test_id("reply-attachment")
    expect(files).to_have_count(2)
    expect(panel.locator("[data-testid=reply-attachment][data-state=ready]")).to_have_count(2)

    # When they remove the PDF and send the picture with a line of text
    panel.locator("[data-testid=reply-attachment]", has_text="old-terms.pdf").get_by_test_id(
        "reply-attachment-remove"
    ).click()
    expect(files).to_have_count(1)
    panel.locator("form.reply-form textarea").fill("Here is how to set it up.")
    panel.locator("form.reply-form button[type=submit]").click()

    # Then the widget shows the reply with a download link to the picture, and the desk lists it too
    expect(widget.message("agent", "Here is how to set it up.")).to_be_visible()
    link = visitor_page.get_by_test_id("cea-chat-attachment")
    expect(link).to_have_count(1)
    expect(link).to_have_text("router-setup.png")
    agent_message = panel.locator(".message[data-author-kind=agent]", has_text="Here is how to set it up.")
    expect(agent_message.get_by_test_id("message-attachment")).to_have_text("router-setup.png")
    expect(files).to_have_count(0)

    # And the link serves the file to the visitor's browser, which has no login
    served = visitor_page.request.get(link.get_attribute("href"))
    assert served.status == 200
    assert served.body() == PNG
    assert served.headers["content-type"] == "image/png"
    # And only the picture went: the removed PDF is still a draft, which the beat removes after a day
    reply = Message.objects.get(conversation=conversation, author_kind="agent", body="Here is how to set it up.")
    assert list(reply.attachments.values_list("filename", flat=True)) == ["router-setup.png"]
    assert list(Attachment.objects.filter(message=None).values_list("filename", flat=True)) == ["old-terms.pdf"]
