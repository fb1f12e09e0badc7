"""The live context panel shows structured values for a person: labels, times, lists, the raw JSON one click away."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from engagement.context.models import ContextScope
from engagement.context.services import context_write
from engagement.desktop.context_display import context_label, context_readable
from tests.engagement.desktop_support import on_desk, parse

pytestmark = pytest.mark.django_db

HANDOVER = {
    "intent": "order_status",
    "reason": "asked for a person",
    "answered": ["order_number", "postcode"],
    "verified": False,
    "queue": None,
    "at": "2026-03-01T10:15:00+00:00",
}


def test_a_structure_is_shown_as_labelled_fields_lists_and_times_with_its_raw_json(settings):
    settings.TIME_ZONE = "UTC"
    # When (in UTC: an activated time zone would outlive the test, in its worker's thread)
    with timezone.override("UTC"):
        html = str(context_readable(value=HANDOVER))
    # Then
    assert '<dl class="context-fields">' in html
    assert "<dt>Intent</dt><dd>order_status</dd>" in html
    assert "<dt>Reason</dt><dd>asked for a person</dd>" in html
    assert '<dt>Answered</dt><dd><ul class="context-list"><li>order_number</li><li>postcode</li></ul></dd>' in html
    assert "<dt>Verified</dt><dd>no</dd>" in html
    assert '<dt>Queue</dt><dd><span class="muted">—</span></dd>' in html
    assert '<dt>At</dt><dd><time datetime="2026-03-01T10:15:00+00:00">2026-03-01 10:15</time></dd>' in html
    raw = html[html.index("<details") :]
    assert raw.startswith('<details class="context-raw"><summary>Raw</summary><pre>')
    assert "&quot;order_status&quot;" in raw


def test_a_text_is_shown_as_it_is_and_markup_in_values_is_escaped():
    assert str(context_readable(value="web-chat")) == "web-chat"
    html = str(context_readable(value={"<b>key</b>": "<script>alert(1)</script>"}))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_labels_are_words():
    assert [context_label(key) for key in ("verification_level", "last-message", "at")] == [
        "Verification level",
        "Last message",
        "At",
    ]


def _pairs(shown):
    """The (label, value) pairs of the first list of fields in ``shown``."""
    fields = next(element for element in shown.iter() if element.tag == "dl")
    children = [child for child in fields.children if not isinstance(child, str)]
    return list(zip(children[::2], children[1::2], strict=True))


@pytest.mark.usefixtures("routing_env", "eager_tasks")
def test_the_desk_shows_selfservice_answers_and_handover_readable(agent, team_a):
    # Given a chat on the agent's desk whose context self-service filled
    conversation = on_desk(agent, team=team_a)
    values = {
        "selfservice": {"flow": "order_status", "step": "ask_order", "retries": 1, "greeted": True},
        "answers": {"order_number": "A-1001"},
        "handover": HANDOVER,
    }
    context_write(actor=None, scope=ContextScope.CONVERSATION, context_id=conversation.pk, values=values)
    client = Client()
    client.force_login(agent)
    # When
    page = parse(client.get(reverse("engagement:desk-conversation", args=[conversation.pk])).content.decode())
    # Then
    box = next(
        element
        for element in page.iter()
        if "context" in element.classes and element.attrs.get("data-scope") == "conversation"
    )
    shown = {element.attrs["data-key"]: element for element in box.iter() if element.attrs.get("data-key")}
    assert {"answers", "handover", "selfservice"} <= set(shown)
    assert [(label.text, value.text) for label, value in _pairs(shown["answers"])] == [("Order number", "A-1001")]
    assert {"Flow order_status", "Step ask_order", "Retries 1", "Greeted yes"} <= {
        f"{dt.text} {dd.text}" for dt, dd in _pairs(shown["selfservice"])
    }
    raw = next(element for element in shown["handover"].iter() if element.tag == "pre")
    assert json.loads(raw.text) == HANDOVER
