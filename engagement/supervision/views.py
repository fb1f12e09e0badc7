"""The supervisor's pages at /desk/supervision/: live conversations and agents, and monitoring one chat.

For supervisors (their teams) and admins (all); agents get 403, anonymous users the sign-in page.
Every object is fetched through ``engagement.access``; the services check again and audit.
The live list and the agents are fragments the page reads again when the server pushes a change
on ``ws/supervision/`` (and every ``REFRESH_SECONDS`` as a fallback); the monitor page follows the
conversation's messages on ``ws/context/`` (static/engagement/supervision.js). Forms answer in
place (htmx): a refusal is rendered where the form shows its errors.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from cea.common.errors import NotFound, ValidationFailed
from cea.common.forms import cleaned_or_raise
from engagement.access import (
    access_supervised_agent,
    access_supervised_conversation,
    access_supervised_work,
    require_supervisor,
)
from engagement.routing.models import Presence, Queue
from engagement.supervision.selectors import (
    live_conversations,
    presence_options,
    supervised_agents,
    supervision_joined,
    supervision_queues,
)
from engagement.supervision.services import (
    MAX_NOTE_CHARS,
    MAX_WHISPER_CHARS,
    supervision_barge_in,
    supervision_monitor,
    supervision_presence_set,
    supervision_say,
    supervision_whisper,
    supervision_work_move,
    supervision_work_requeue,
)

REFRESH_SECONDS = 15
MESSAGES_SHOWN = 200


class TextForm(forms.Form):
    body = forms.CharField(max_length=10_000)


class PresenceForm(forms.Form):
    presence = forms.CharField(max_length=60)
    note = forms.CharField(max_length=MAX_NOTE_CHARS, required=False)


class MoveForm(forms.Form):
    to_queue = forms.CharField(max_length=100)
    note = forms.CharField(max_length=MAX_NOTE_CHARS, required=False)


def supervision_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else the sign-in page), and a supervisor or an admin (else 403)."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        require_supervisor(request.user)
        return view(request, *args, **kwargs)

    return login_required(checked)


def _live(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    context = {
        "conversations": live_conversations(user=request.user),
        "queues": supervision_queues(user=request.user),
    }
    return render(request, "engagement/supervision/partials/live.html", context, status=status)


def _agents(request: HttpRequest) -> HttpResponse:
    context = {"agents": supervised_agents(user=request.user), "presence_options": presence_options()}
    return render(request, "engagement/supervision/partials/agents.html", context)


# --- The overview -------------------------------------------------------------------------------


@supervision_view
@require_GET
def supervision_page(request: HttpRequest) -> HttpResponse:
    context = {
        "conversations": live_conversations(user=request.user),
        "queues": supervision_queues(user=request.user),
        "agents": supervised_agents(user=request.user),
        "presence_options": presence_options(),
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "engagement/supervision/supervision.html", context)


@supervision_view
@require_GET
def live_fragment(request: HttpRequest) -> HttpResponse:
    return _live(request)


@supervision_view
@require_GET
def agents_fragment(request: HttpRequest) -> HttpResponse:
    return _agents(request)


@supervision_view
@require_POST
def presence_action(request: HttpRequest, agent_id: int) -> HttpResponse:
    """Set an agent's presence (``away:<reason>`` for away); answers with the agents' list."""
    agent = access_supervised_agent(request.user, agent_id)
    data = cleaned_or_raise(PresenceForm(request.POST))
    presence, _, reason = data["presence"].partition(":")
    if presence not in Presence.values:
        raise ValidationFailed(gettext("Choose a presence."), fields={"presence": gettext("Unknown presence.")})
    supervision_presence_set(actor=request.user, agent=agent, presence=presence, reason_code=reason, note=data["note"])
    return _agents(request)


@supervision_view
@require_POST
def move_action(request: HttpRequest, work_item_id: int) -> HttpResponse:
    item = access_supervised_work(request.user, work_item_id)
    data = cleaned_or_raise(MoveForm(request.POST))
    to_queue = Queue.objects.filter(name=data["to_queue"]).first()
    if to_queue is None:
        raise NotFound(f"No queue {data['to_queue']!r}.")
    supervision_work_move(actor=request.user, item=item, to_queue=to_queue, note=data["note"])
    return _live(request)


@supervision_view
@require_POST
def requeue_action(request: HttpRequest, work_item_id: int) -> HttpResponse:
    item = access_supervised_work(request.user, work_item_id)
    supervision_work_requeue(actor=request.user, item=item, note=request.POST.get("note", "")[:MAX_NOTE_CHARS])
    return _live(request)


# --- One conversation ---------------------------------------------------------------------------


@supervision_view
@require_GET
def monitor_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Monitor a conversation silently: opening the page is recorded (audited); nobody in it is told."""
    conversation = access_supervised_conversation(request.user, conversation_id)
    supervision_monitor(actor=request.user, conversation=conversation)
    messages = list(conversation.messages.order_by("-id")[:MESSAGES_SHOWN])[::-1]
    context = {
        "conversation": conversation,
        "messages": messages,
        "last_message_id": messages[-1].pk if messages else 0,
        "joined": supervision_joined(user=request.user, conversation=conversation),
        "max_whisper": MAX_WHISPER_CHARS,
        "heartbeat_seconds": settings.CEA_DESKTOP_HEARTBEAT_SECONDS,
    }
    return render(request, "engagement/supervision/monitor.html", context)


@supervision_view
@require_POST
def whisper_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A whisper to the agent; it reaches the page over the socket like every message."""
    conversation = access_supervised_conversation(request.user, conversation_id)
    supervision_whisper(
        actor=request.user, conversation=conversation, body=cleaned_or_raise(TextForm(request.POST))["body"]
    )
    return HttpResponse("")


@supervision_view
@require_POST
def barge_in_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Join the conversation; answers with the participation part of the page (now with the form to write)."""
    conversation = access_supervised_conversation(request.user, conversation_id)
    supervision_barge_in(actor=request.user, conversation=conversation)
    return render(
        request,
        "engagement/supervision/partials/participation.html",
        {"conversation": conversation, "joined": True},
    )


@supervision_view
@require_POST
def say_action(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = access_supervised_conversation(request.user, conversation_id)
    supervision_say(
        actor=request.user, conversation=conversation, body=cleaned_or_raise(TextForm(request.POST))["body"]
    )
    return HttpResponse("")
