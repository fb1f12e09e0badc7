"""The supervisor's pages at /desk/supervision/: who may use them, what they list, and their forms (htmx)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from engagement.context.models import ContextScope
from engagement.context.services import context_write
from engagement.conversations.models import Message
from engagement.routing.models import Presence, WorkStatus
from engagement.supervision.models import SupervisionKind, SupervisorAction
from tests.engagement.factories import QueueFactory
from tests.engagement.routing_support import fresh, waiting
from tests.support import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, *args) -> str:
    return reverse(f"engagement:{name}", args=args)


def test_the_pages_are_mounted_under_the_desk():
    assert url("supervision") == "/desk/supervision/"
    assert url("supervision-monitor", 7) == "/desk/supervision/conversations/7/"


def test_agents_get_403_and_anonymous_users_the_sign_in_page(handled, agent):
    for path in (url("supervision"), url("supervision-live"), url("supervision-monitor", handled.conversation_id)):
        assert signed_in(agent).get(path).status_code == 403
        assert Client().get(path).status_code == 302
    assert SupervisorAction.objects.count() == 0


def test_the_overview_lists_live_conversations_and_agents(handled, supervisor, agent):
    # Given: the chat's sentiment in its live context
    context_write(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=handled.conversation_id,
        values={"sentiment": 0.4, "sentiment_label": "positive"},
    )
    # When
    response = signed_in(supervisor).get(url("supervision"))
    # Then
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-conversation-id="{handled.conversation_id}"' in html
    assert "Ada Lovelace" in html and "0.40 · positive" in html and agent.get_full_name() in html
    assert f'data-agent-id="{agent.pk}"' in html
    assert "/static/engagement/supervision.js" in html


def test_the_overview_shows_a_dash_for_unknown_sentiment_and_another_teams_nothing(handled, supervisor, supervisor_b):
    mine = signed_in(supervisor).get(url("supervision-live"), **HTMX).content.decode()
    theirs = signed_in(supervisor_b).get(url("supervision-live"), **HTMX).content.decode()
    assert 'data-testid="live-sentiment">—<' in mine
    assert 'data-testid="no-live-conversations"' in theirs


def test_opening_the_monitor_page_is_audited_and_tells_nobody(handled, supervisor):
    # Given
    before = Message.objects.filter(conversation_id=handled.conversation_id).count()
    # When
    response = signed_in(supervisor).get(url("supervision-monitor", handled.conversation_id))
    # Then
    assert response.status_code == 200
    assert 'data-testid="whisper-form"' in response.content.decode()
    assert SupervisorAction.objects.filter(kind=SupervisionKind.MONITOR, supervisor=supervisor).count() == 1
    assert Message.objects.filter(conversation_id=handled.conversation_id).count() == before


def test_another_teams_supervisor_cannot_monitor_whisper_or_barge_in(handled, supervisor_b):
    client = signed_in(supervisor_b)
    conversation = handled.conversation_id
    assert client.get(url("supervision-monitor", conversation)).status_code == 403
    assert client.post(url("supervision-whisper", conversation), {"body": "psst"}, **HTMX).status_code == 403
    assert client.post(url("supervision-barge-in", conversation), **HTMX).status_code == 403
    assert client.post(url("supervision-say", conversation), {"body": "hi"}, **HTMX).status_code == 403
    assert SupervisorAction.objects.count() == 0


def test_whisper_barge_in_and_say_from_the_page(handled, supervisor):
    client = signed_in(supervisor)
    conversation = handled.conversation_id
    # When
    whisper = client.post(url("supervision-whisper", conversation), {"body": "Offer the refund"}, **HTMX)
    barge_in = client.post(url("supervision-barge-in", conversation), **HTMX)
    say = client.post(url("supervision-say", conversation), {"body": "I'm here too"}, **HTMX)
    # Then
    assert (whisper.status_code, barge_in.status_code, say.status_code) == (200, 200, 200)
    assert 'data-testid="say-form"' in barge_in.content.decode()
    messages = list(Message.objects.filter(conversation_id=conversation).order_by("-id")[:3])[::-1]
    assert [(m.body, m.internal) for m in messages] == [
        ("Offer the refund", True),
        (f"{supervisor.get_full_name()} joined the conversation.", False),
        ("I'm here too", False),
    ]


def test_presence_move_and_requeue_from_the_page(handled, supervisor, agent, support, team_a):
    # Given: more waiting work, and another queue of the team
    item = waiting(support, customer=make_customer(team_a))
    QueueFactory(name="billing", team=team_a)
    client = signed_in(supervisor)
    # When
    presence = client.post(url("supervision-presence", agent.pk), {"presence": "away:break", "note": "Lunch"}, **HTMX)
    moved = client.post(url("supervision-move", item.pk), {"to_queue": "billing"}, **HTMX)
    requeued = client.post(url("supervision-requeue", handled.pk), **HTMX)
    # Then
    assert (presence.status_code, moved.status_code, requeued.status_code) == (200, 200, 200)
    assert fresh(agent.routing_profile).presence == Presence.AWAY
    assert fresh(item).queue.name == "billing"
    assert fresh(handled).status == WorkStatus.TRANSFERRED


def test_another_teams_supervisor_cannot_change_presence_or_work(handled, supervisor_b, agent):
    client = signed_in(supervisor_b)
    assert client.post(url("supervision-presence", agent.pk), {"presence": "offline"}, **HTMX).status_code == 403
    assert client.post(url("supervision-requeue", handled.pk), **HTMX).status_code == 403
    assert client.post(url("supervision-move", handled.pk), {"to_queue": "support"}, **HTMX).status_code == 403
    assert fresh(agent.routing_profile).presence == Presence.AVAILABLE
    assert fresh(handled).status == WorkStatus.ASSIGNED


def test_the_agents_desk_shows_a_whisper_as_internal(handled, supervisor, agent):
    # Given
    signed_in(supervisor).post(
        url("supervision-whisper", handled.conversation_id), {"body": "Offer the refund"}, **HTMX
    )
    whisper = Message.objects.get(internal=True)
    # When: the agent's desk loads the conversation
    html = signed_in(agent).get(url("desk-conversation", handled.conversation_id), **HTMX).content.decode()
    # Then
    assert f'data-message-id="{whisper.pk}" data-author-kind="agent" data-internal="true"' in html


def test_a_strongly_negative_turn_s_alert_shows_on_the_team_s_live_page_only(
    handled, supervisor, supervisor_b, django_capture_on_commit_callbacks
):
    """insights' sentiment hook writes the alert on the conversation's context; only its team's supervisors see it."""
    # When the customer writes a strongly negative message
    from engagement.conversations.services import message_add

    with django_capture_on_commit_callbacks(execute=True):
        message_add(
            conversation=handled.conversation,
            direction="inbound",
            author_kind="customer",
            body="This is absolutely terrible, I hate this awful service!",
        )
    # Then
    mine = signed_in(supervisor).get(url("supervision-live"), **HTMX).content.decode()
    theirs = signed_in(supervisor_b).get(url("supervision-live"), **HTMX).content.decode()
    assert 'data-testid="live-sentiment-alert">⚠ Strongly negative turn (-0.' in mine
    assert "live-sentiment-alert" not in theirs
