"""The supervisor's real-time tools as services: monitor, whisper, barge in, presence, moving work.

Each is permission-checked by team (a supervisor their teams', an admin all, an agent never) and
audited (a ``SupervisorAction`` row, in the records audit trail with the supervisor's name).
"""

from __future__ import annotations

import pytest

from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from engagement.access import access_supervised_conversation, supervised_conversations
from engagement.conversations.models import AuthorKind, ConversationStatus, Message
from engagement.orchestration import conversation_end
from engagement.routing import engine
from engagement.routing.models import FlowOutReason, OfferStatus, Presence, PresenceChange, QueueFlowOut, WorkStatus
from engagement.supervision.models import SupervisionKind, SupervisorAction
from engagement.supervision.services import (
    supervision_barge_in,
    supervision_monitor,
    supervision_presence_set,
    supervision_say,
    supervision_whisper,
    supervision_work_move,
    supervision_work_requeue,
)
from engagement.webchat.selectors import visible_to_visitor, visitor_messages_after
from records.audit.selectors import audit_trail
from tests.accounts.factories import UserFactory
from tests.engagement.factories import QueueFactory, RoutableAgentFactory
from tests.engagement.routing_support import fresh, pending_offer, waiting
from tests.support import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]


@pytest.fixture
def waiting_work(support, team_a):
    """A team A customer's chat waiting in the support queue (nobody available)."""
    return waiting(support, customer=make_customer(team_a))


# --- Who supervises what --------------------------------------------------------------------------


def test_a_supervisor_supervises_their_teams_conversations_and_an_admin_all(
    handled, supervisor, supervisor_b, admin_user
):
    # Given: a team B conversation besides the team A one
    other_queue = QueueFactory(name="sales", team=supervisor_b.teams.get())
    other = waiting(other_queue).conversation
    # When / Then
    assert set(supervised_conversations(supervisor)) == {handled.conversation}
    assert set(supervised_conversations(supervisor_b)) == {other}
    assert set(supervised_conversations(admin_user)) == {handled.conversation, other}
    with pytest.raises(PermissionDenied):
        access_supervised_conversation(supervisor_b, handled.conversation.pk)


def test_agents_and_integration_clients_supervise_nothing(handled, agent, integration_user):
    for user in (agent, integration_user):
        with pytest.raises(PermissionDenied) as refused:
            supervised_conversations(user)
        assert refused.value.code == "not_a_supervisor"
        with pytest.raises(PermissionDenied):
            access_supervised_conversation(user, handled.conversation.pk)


# --- Monitor --------------------------------------------------------------------------------------


def test_monitoring_is_audited_and_tells_nobody(handled, supervisor):
    # Given
    conversation = handled.conversation
    messages_before = conversation.messages.count()
    # When
    action = supervision_monitor(actor=supervisor, conversation=conversation)
    # Then: an audit row, no message to anyone
    assert (action.kind, action.supervisor, action.conversation, action.agent) == (
        SupervisionKind.MONITOR,
        supervisor,
        conversation,
        handled.agent.user,
    )
    assert conversation.messages.count() == messages_before
    trail = audit_trail(objs=[conversation])
    assert [(entry.label, entry.username) for entry in trail if entry.model == "engagement.SupervisorActionEvent"] == [
        ("insert", "supervisor.a")
    ]


def test_monitoring_another_teams_conversation_is_refused(handled, supervisor_b, agent):
    for user in (supervisor_b, agent):
        with pytest.raises(PermissionDenied):
            supervision_monitor(actor=user, conversation=handled.conversation)
    assert SupervisorAction.objects.count() == 0


# --- Whisper --------------------------------------------------------------------------------------


def test_a_whisper_is_an_internal_message_the_customer_never_sees(
    handled, supervisor, django_capture_on_commit_callbacks
):
    # Given
    conversation = handled.conversation
    # When
    with django_capture_on_commit_callbacks(execute=True):
        message = supervision_whisper(actor=supervisor, conversation=conversation, body=" Offer the refund. ")
    # Then: recorded as internal, from the supervisor, to the agent
    message.refresh_from_db()
    assert (message.internal, message.author_kind, message.author, message.body) == (
        True,
        AuthorKind.AGENT,
        supervisor,
        "Offer the refund.",
    )
    assert message.payload == {"event": "whisper", "to": handled.agent.user.get_full_name()}
    # the visitor's history leaves it out
    shown, _ = visitor_messages_after(conversation_id=conversation.pk, visitor=conversation.visitor, after=0)
    assert message.pk not in [row["id"] for row in shown]
    assert visible_to_visitor(author_kind=AuthorKind.AGENT, payload=message.payload, internal=True) is False
    # and it is audited
    action = SupervisorAction.objects.get(kind=SupervisionKind.WHISPER)
    assert (action.message, action.agent) == (message, handled.agent.user)


def test_a_whisper_needs_an_agent_and_text(waiting_work, handled, supervisor):
    with pytest.raises(Conflict) as refused:
        supervision_whisper(actor=supervisor, conversation=waiting_work.conversation, body="Hello")
    assert refused.value.code == "no_agent"
    with pytest.raises(ValidationFailed):
        supervision_whisper(actor=supervisor, conversation=handled.conversation, body="   ")
    assert Message.objects.filter(internal=True).count() == 0


def test_whispering_into_another_teams_conversation_is_refused(handled, supervisor_b, agent):
    for user in (supervisor_b, agent):
        with pytest.raises(PermissionDenied):
            supervision_whisper(actor=user, conversation=handled.conversation, body="psst")
    assert Message.objects.filter(internal=True).count() == 0


def test_an_admin_whispers_into_any_team(handled, admin_user):
    message = supervision_whisper(actor=admin_user, conversation=handled.conversation, body="Admin here")
    assert message.internal is True


# --- Barge in -------------------------------------------------------------------------------------


def test_barging_in_tells_the_customer_and_lets_the_supervisor_write_to_them(handled, team_a):
    # Given
    boss = UserFactory(username="sam", role="supervisor", teams=[team_a], first_name="Sam", last_name="Super")
    conversation = handled.conversation
    # When: writing before joining is refused
    with pytest.raises(Conflict) as refused:
        supervision_say(actor=boss, conversation=conversation, body="Hello")
    assert refused.value.code == "not_joined"
    joined = supervision_barge_in(actor=boss, conversation=conversation)
    again = supervision_barge_in(actor=boss, conversation=conversation)
    said, created = supervision_say(actor=boss, conversation=conversation, body="I can help with that.")
    # Then: joined once, the notice is a system message the visitor sees
    assert again == joined
    notice = joined.message
    assert (notice.author_kind, notice.body, notice.internal) == (
        AuthorKind.SYSTEM,
        "Sam Super joined the conversation.",
        False,
    )
    assert conversation.messages.filter(payload__event="participant_joined").count() == 1
    shown, _ = visitor_messages_after(conversation_id=conversation.pk, visitor=conversation.visitor, after=0)
    bodies = [row["body"] for row in shown]
    assert bodies[-2:] == ["Sam Super joined the conversation.", "I can help with that."]
    assert (created, said.author, said.author_kind, said.internal) == (True, boss, AuthorKind.AGENT, False)
    # the conversation stays the agent's
    assert fresh(conversation).agent == handled.agent.user


def test_barging_into_another_teams_conversation_is_refused(handled, supervisor_b, agent):
    for user in (supervisor_b, agent):
        with pytest.raises(PermissionDenied):
            supervision_barge_in(actor=user, conversation=handled.conversation)
    assert not handled.conversation.messages.filter(payload__event="participant_joined").exists()


def test_an_ended_conversation_cannot_be_joined_or_monitored(handled, supervisor):
    # Given
    conversation_end(actor=None, conversation=handled.conversation)
    # When / Then
    with pytest.raises(Conflict):
        supervision_barge_in(actor=supervisor, conversation=handled.conversation)
    with pytest.raises(Conflict):
        supervision_monitor(actor=supervisor, conversation=handled.conversation)


def test_the_transcript_marks_a_whisper_internal(handled, supervisor):
    # Given
    whisper = supervision_whisper(actor=supervisor, conversation=handled.conversation, body="Offer the refund.")
    # When
    interaction = conversation_end(actor=None, conversation=handled.conversation)
    # Then
    assert [line for line in interaction.transcript if line.get("internal")] == [
        {
            "at": whisper.sent_at.isoformat(),
            "author": "agent",
            "author_name": supervisor.get_full_name(),
            "body": "Offer the refund.",
            "event": "whisper",
            "internal": True,
        }
    ]


# --- Presence -------------------------------------------------------------------------------------


def test_a_supervisor_sets_their_agents_presence_with_a_reason(agent, supervisor, django_capture_on_commit_callbacks):
    # Given
    RoutableAgentFactory(user=agent)
    # When
    profile = supervision_presence_set(
        actor=supervisor, agent=agent, presence=Presence.AWAY, reason_code="break", note="Overdue break"
    )
    # Then: the presence, its history's cause, and the audit
    assert (profile.presence, profile.reason.code) == (Presence.AWAY, "break")
    change = PresenceChange.objects.filter(agent=profile).order_by("-started_at", "-id").first()
    assert (change.presence, change.cause) == (Presence.AWAY, "supervisor")
    action = SupervisorAction.objects.get(kind=SupervisionKind.PRESENCE)
    assert (action.supervisor, action.agent, action.detail) == (
        supervisor,
        agent,
        {"from": "available", "to": "away", "reason": "break", "note": "Overdue break"},
    )


def test_setting_another_teams_agent_presence_is_refused(agent, agent_b, supervisor, supervisor_b):
    RoutableAgentFactory(user=agent)
    for actor, target in ((supervisor_b, agent), (supervisor, agent_b), (agent_b, agent)):
        with pytest.raises(PermissionDenied):
            supervision_presence_set(actor=actor, agent=target, presence=Presence.OFFLINE)
    assert fresh(agent.routing_profile).presence == Presence.AVAILABLE
    assert SupervisorAction.objects.count() == 0


def test_an_admin_sets_any_agents_presence(agent_b, admin_user):
    RoutableAgentFactory(user=agent_b)
    profile = supervision_presence_set(actor=admin_user, agent=agent_b, presence=Presence.BUSY)
    assert profile.presence == Presence.BUSY


# --- Moving work ----------------------------------------------------------------------------------


def test_waiting_work_moves_to_another_queue_of_the_team(waiting_work, supervisor, team_a):
    # Given
    billing = QueueFactory(name="billing", team=team_a)
    # When
    moved = supervision_work_move(actor=supervisor, item=waiting_work, to_queue=billing, note="Billing question")
    # Then: the same item, now in billing; the conversation says so
    assert (moved.pk, moved.queue, moved.status) == (waiting_work.pk, billing, WorkStatus.WAITING)
    assert fresh(waiting_work.conversation).queue == "billing"
    action = SupervisorAction.objects.get(kind=SupervisionKind.MOVE)
    assert action.detail == {"from_queue": "support", "to_queue": "billing", "note": "Billing question"}
    # and the item flowed out of support, unanswered, by a supervisor's move
    [flow_out] = QueueFlowOut.objects.filter(work_item=waiting_work).values_list(
        "from_queue__name", "to_queue", "reason"
    )
    assert flow_out == ("support", billing.pk, FlowOutReason.MOVED)


def test_moving_work_across_teams_is_refused(waiting_work, supervisor, supervisor_b, team_b, agent):
    # Given
    sales = QueueFactory(name="sales", team=team_b)
    # When / Then: team B's supervisor may not touch team A's work; team A's may not move it to team B's queue
    for actor in (supervisor_b, agent):
        with pytest.raises(PermissionDenied):
            supervision_work_move(actor=actor, item=waiting_work, to_queue=sales)
    with pytest.raises(PermissionDenied):
        supervision_work_move(actor=supervisor, item=waiting_work, to_queue=sales)
    assert fresh(waiting_work).queue.name == "support"
    assert not QueueFlowOut.objects.exists()


def test_only_waiting_work_moves(handled, supervisor, team_a):
    billing = QueueFactory(name="billing", team=team_a)
    with pytest.raises(Conflict) as refused:
        supervision_work_move(actor=supervisor, item=handled, to_queue=billing)
    assert refused.value.code == "not_waiting"


def test_offered_work_goes_back_to_waiting(support, agent, supervisor, team_a):
    # Given: an offer pending with the agent
    RoutableAgentFactory(user=agent)
    item = waiting(support, customer=make_customer(team_a))
    engine.dispatch_queue(support.pk)
    offer = pending_offer(item)
    # When
    requeued = supervision_work_requeue(actor=supervisor, item=item, note="Wrong skills")
    # Then: the offer rescinded, the agent's capacity back, the item waiting
    assert (requeued.pk, fresh(item).status, fresh(item).agent) == (item.pk, WorkStatus.WAITING, None)
    assert fresh(offer).status == OfferStatus.RESCINDED
    assert fresh(agent.routing_profile).load_units == 0
    action = SupervisorAction.objects.get(kind=SupervisionKind.REQUEUE)
    assert (action.agent, action.detail["from_status"]) == (agent, "offered")
    assert not QueueFlowOut.objects.exists()  # back to waiting in the same queue: no flow-out


def test_assigned_work_goes_back_to_its_queue(handled, supervisor):
    # When
    requeued = supervision_work_requeue(actor=supervisor, item=handled, note="Needs a specialist")
    # Then: transferred back to the same queue, the agent freed, the customer waits
    assert (fresh(handled).status, requeued.status, requeued.queue) == (
        WorkStatus.TRANSFERRED,
        WorkStatus.WAITING,
        handled.queue,
    )
    assert (requeued.note, requeued.transferred_from) == ("Needs a specialist", fresh(handled))
    conversation = fresh(handled.conversation)
    assert (conversation.status, conversation.agent) == (ConversationStatus.QUEUED, None)


def test_waiting_work_is_already_waiting(waiting_work, supervisor):
    with pytest.raises(Conflict) as refused:
        supervision_work_requeue(actor=supervisor, item=waiting_work)
    assert refused.value.code == "not_requeueable"


def test_requeueing_another_teams_work_is_refused(handled, supervisor_b, agent):
    for actor in (supervisor_b, agent):
        with pytest.raises(PermissionDenied):
            supervision_work_requeue(actor=actor, item=handled)
    assert fresh(handled).status == WorkStatus.ASSIGNED
