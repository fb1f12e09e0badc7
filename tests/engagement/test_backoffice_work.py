"""Back-office work: cases and tasks routed to skilled agents with capacity, worked and completed on the desk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from engagement.backoffice.models import BackofficeStatus, BackofficeWork
from engagement.backoffice.services import (
    LEFT_OUTCOME,
    backoffice_cancel_left,
    backoffice_case_route,
    backoffice_complete,
    backoffice_reprioritise,
    backoffice_task_create,
)
from engagement.context.models import ContextScope
from engagement.context.services import context_write
from engagement.conversations.models import ConversationStatus
from engagement.orchestration import conversation_end, conversation_wrap_up
from engagement.routing import engine
from engagement.routing.models import OfferStatus, WorkItem, WorkStatus
from engagement.routing.offers import offer_accept
from engagement.routing.priority import SLA_POINTS, sla_points
from records.cases.models import CasePriority, CaseStatus
from records.cases.services import case_create, case_transition
from tests.engagement.desktop_support import parse
from tests.engagement.factories import QueueFactory, RoutableAgentFactory, RoutingStepFactory, SkillFactory
from tests.engagement.routing_support import fresh, pending_offer
from tests.support import assert_error, make_customer, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

CASES = "/api/v1/engagement/backoffice/cases/"
TASKS = "/api/v1/engagement/backoffice/tasks/"
LIST = "/api/v1/engagement/backoffice/"


def billing_skill():
    return SkillFactory(name="billing")


@pytest.fixture
def billing(team_a):
    """Team A's back-office queue, asking for the billing skill at proficiency 3 or better."""
    queue = QueueFactory(name="billing-backoffice", team=team_a)
    RoutingStepFactory(queue=queue, skill=billing_skill(), min_proficiency=3)
    return queue


@pytest.fixture
def customer(team_a):
    return make_customer(team_a, given_name="Ada", family_name="Lovelace")


def open_case(customer, *, priority=CasePriority.NORMAL, subject="Refund the double charge"):
    return case_create(actor=None, customer=customer, subject=subject, priority=priority)


def test_a_case_is_offered_to_the_skilled_agent_who_accepts_works_and_completes_it(
    customer, billing, agent, team_a, django_capture_on_commit_callbacks
):
    # Given an agent skilled in billing and one without the skill, both available in team A
    skilled = RoutableAgentFactory(user=agent, skills={billing_skill(): 4}, idle_minutes=1)
    RoutableAgentFactory(username="unskilled", teams=[team_a], idle_minutes=60)
    case = open_case(customer)
    # When the case is routed to the back-office queue
    work = backoffice_case_route(actor=None, case=case, queue=billing.name)
    engine.dispatch_queue(billing.pk)
    # Then its work item is offered to the skilled agent, on the web-form channel's capacity
    item = WorkItem.objects.get(conversation=work.conversation)
    offer = pending_offer(item)
    assert (offer.agent, item.queue, item.units, work.status) == (skilled, billing, 1, BackofficeStatus.QUEUED)
    assert work.conversation.subject == f"Case {case.reference}: Refund the double charge"
    # When the agent accepts it, the desk shows the case beside the conversation
    offer_accept(actor=agent, offer_id=offer.pk)
    client = Client()
    client.force_login(agent)
    page = parse(client.get(f"/desk/conversations/{work.conversation_id}/"))
    assert page.find(data_testid="backoffice-case").text == f"{case.reference} · New · Normal"
    # When they complete it from the desk
    response = client.post(
        f"/desk/backoffice/conversations/{work.conversation_id}/complete/",
        {"outcome": "Refunded 12.50"},
        HTTP_HX_REQUEST="true",
    )
    # Then the case is resolved with the outcome as its note, and the agent is in wrap-up
    assert response.status_code == 200, response.content
    case.refresh_from_db()
    work.refresh_from_db()
    assert (case.status, case.notes.get().body) == (CaseStatus.RESOLVED, "Refunded 12.50")
    assert (work.status, work.outcome, work.completed_by) == (BackofficeStatus.DONE, "Refunded 12.50", agent)
    assert (fresh(item).status, fresh(work.conversation).status) == (WorkStatus.WRAP_UP, ConversationStatus.ENDED)
    # And wrapping up frees the agent's capacity
    conversation_wrap_up(actor=agent, conversation=work.conversation, wrap_up_code="resolved")
    assert (fresh(item).status, fresh(skilled).load_units) == (WorkStatus.DONE, 0)


def test_priority_rises_as_the_sla_due_time_nears():
    now = timezone.now()
    # A due time far away adds nothing; half the window left adds half; due or overdue adds all
    assert sla_points(due_at=now + timedelta(hours=9), now=now, window_minutes=480) == 0
    assert sla_points(due_at=now + timedelta(hours=4), now=now, window_minutes=480) == SLA_POINTS // 2
    assert sla_points(due_at=now, now=now, window_minutes=480) == SLA_POINTS
    assert sla_points(due_at=now - timedelta(hours=1), now=now, window_minutes=480) == SLA_POINTS


def test_the_case_nearest_its_sla_goes_first_and_gains_priority_as_time_passes(
    customer, billing, django_capture_on_commit_callbacks, eager_tasks, settings
):
    settings.CEA_BACKOFFICE_SLA_WINDOW_MINUTES = 480
    # Given two cases waiting (no agent): one due in 2 hours, one due in 3 days
    urgent, relaxed = open_case(customer, subject="Urgent"), open_case(customer, subject="Relaxed")
    urgent.resolution_due_at = timezone.now() + timedelta(hours=2)
    relaxed.resolution_due_at = timezone.now() + timedelta(days=3)
    urgent.save(update_fields=["resolution_due_at"])
    relaxed.save(update_fields=["resolution_due_at"])
    with django_capture_on_commit_callbacks(execute=True):
        relaxed_work = backoffice_case_route(actor=None, case=relaxed, queue=billing.name)
    with django_capture_on_commit_callbacks(execute=True):
        urgent_work = backoffice_case_route(actor=None, case=urgent, queue=billing.name)
    # Then, once their contexts are written, the urgent one has SLA points and ranks first
    urgent_item = WorkItem.objects.get(conversation=urgent_work.conversation)
    relaxed_item = WorkItem.objects.get(conversation=relaxed_work.conversation)
    assert urgent_item.priority_reasons["sla"] == 45  # 6 of 8 hours of the window gone: 60 × 0.75
    assert "sla" not in relaxed_item.priority_reasons
    assert list(WorkItem.objects.filter(status=WorkStatus.WAITING, queue=billing)) == [urgent_item, relaxed_item]
    # When the relaxed one's due time has come close (as if time passed), the beat's minute raises it
    relaxed.resolution_due_at = timezone.now() - timedelta(minutes=1)
    relaxed.save(update_fields=["resolution_due_at"])
    BackofficeWork.objects.filter(pk=relaxed_work.pk).update(due_at=relaxed.resolution_due_at)
    context_write(
        actor=None,
        scope=ContextScope.CONVERSATION,
        context_id=relaxed_work.conversation_id,
        values={"sla_due_at": relaxed.resolution_due_at.timestamp()},
        source="test",
    )
    assert backoffice_reprioritise() == 2
    assert fresh(relaxed_item).priority_reasons["sla"] == SLA_POINTS
    assert WorkItem.objects.filter(status=WorkStatus.WAITING, queue=billing).first() == fresh(relaxed_item)


def test_a_task_is_routed_for_a_team_and_listed_to_that_team_only(billing, team_a, agent, agent_b, supervisor):
    # When a supervisor of team A creates a task through the API
    response = token_client(supervisor).post(
        TASKS,
        {"title": "Check the direct debit mandates", "queue": billing.name, "team": team_a.pk},
        format="json",
    )
    # Then it waits in the queue as team A's work
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["team"], body["case"]) == ("task", "queued", team_a.pk, None)
    assert WorkItem.objects.get(conversation_id=body["conversation"]).status == WorkStatus.WAITING
    # And team A's agent lists it; team B's agent does not
    assert [row["id"] for row in token_client(agent).get(LIST).json()["results"]] == [body["id"]]
    assert token_client(agent_b).get(LIST).json()["results"] == []


def test_another_teams_agent_can_neither_route_nor_complete_a_case(customer, billing, agent, agent_b):
    case = open_case(customer)
    # When team B's agent routes team A's case through the API, they are refused (they cannot see it)
    assert_error(token_client(agent_b).post(CASES, {"case": case.reference, "queue": billing.name}, format="json"), 403)
    with pytest.raises(PermissionDenied):
        backoffice_case_route(actor=agent_b, case=case, queue=billing.name)
    # Given team A's agent routed it
    response = token_client(agent).post(CASES, {"case": case.reference, "queue": billing.name}, format="json")
    assert response.status_code == 201, response.content
    work = BackofficeWork.objects.get(pk=response.json()["id"])
    # Then team B's agent can neither complete it through the API nor the service
    assert_error(token_client(agent_b).post(f"{LIST}{work.pk}/complete/", {"outcome": "done"}), 403)
    with pytest.raises(PermissionDenied):
        backoffice_complete(actor=agent_b, conversation=work.conversation, outcome="done")
    assert fresh(work).status == BackofficeStatus.QUEUED and fresh(case).status == CaseStatus.NEW


def test_routing_refuses_a_closed_case_a_case_routed_twice_and_an_unknown_queue(customer, billing, agent):
    case = open_case(customer)
    with pytest.raises(NotFound):
        backoffice_case_route(actor=agent, case=case, queue="no-such-queue")
    backoffice_case_route(actor=agent, case=case, queue=billing.name)
    client = token_client(agent)
    # Routed twice: 409 already_routed
    assert_error(
        client.post(CASES, {"case": str(case.pk), "queue": billing.name}, format="json"), 409, "already_routed"
    )
    # Resolved: 409 case_not_open
    other = open_case(customer, subject="Other")
    case_transition(actor=None, case=other, transition="resolve")
    assert_error(
        client.post(CASES, {"case": str(other.pk), "queue": billing.name}, format="json"), 409, "case_not_open"
    )
    assert BackofficeWork.objects.count() == 1


def test_a_task_without_a_team_or_a_title_is_refused_and_nothing_is_written(billing, admin_user):
    with pytest.raises(ValidationFailed) as refused:
        backoffice_task_create(actor=admin_user, title=" ", queue=billing.name, team=None)
    assert set(refused.value.fields) == {"title", "team"}
    response = token_client(admin_user).post(TASKS, {"title": "x", "queue": billing.name}, format="json")
    assert assert_error(response, 400)["fields"]["team"]
    assert BackofficeWork.objects.count() == 0 and WorkItem.objects.count() == 0


def test_completing_twice_is_a_conflict_and_an_ordinary_conversation_is_no_backoffice_work(
    customer, billing, agent, handled
):
    RoutableAgentFactory(user=agent, skills={billing_skill(): 4})
    work = backoffice_case_route(actor=None, case=open_case(customer), queue=billing.name)
    engine.dispatch_queue(billing.pk)
    offer_accept(actor=agent, offer_id=pending_offer(WorkItem.objects.get(conversation=work.conversation)).pk)
    backoffice_complete(actor=agent, conversation=work.conversation, outcome="Done")
    with pytest.raises(Conflict) as twice:
        backoffice_complete(actor=agent, conversation=work.conversation, outcome="Again")
    assert twice.value.code == "work_not_open"
    with pytest.raises(NotFound):
        backoffice_complete(actor=agent, conversation=handled.conversation, outcome="Done")
    assert work.conversation.work_items.get().offers.get().status == OfferStatus.ACCEPTED


def test_the_desk_refuses_another_teams_agent_completing_the_work(customer, billing, agent, agent_b):
    RoutableAgentFactory(user=agent, skills={billing_skill(): 4})
    work = backoffice_case_route(actor=None, case=open_case(customer), queue=billing.name)
    engine.dispatch_queue(billing.pk)
    offer_accept(actor=agent, offer_id=pending_offer(WorkItem.objects.get(conversation=work.conversation)).pk)
    # When team B's agent posts the desk's "done" for team A's work
    client = Client()
    client.force_login(agent_b)
    url = f"/desk/backoffice/conversations/{work.conversation_id}/complete/"
    response = client.post(url, {"outcome": "done"}, HTTP_HX_REQUEST="true")
    # Then they are refused and nothing changes; an empty outcome from the agent is a 400
    assert response.status_code == 403
    assert fresh(work).status == BackofficeStatus.QUEUED
    client.force_login(agent)
    assert client.post(url, {"outcome": ""}, HTTP_HX_REQUEST="true").status_code == 400
    assert fresh(work).status == BackofficeStatus.QUEUED


def test_work_whose_conversation_ends_undone_is_cancelled_and_the_case_can_be_routed_again(customer, billing, agent):
    # Given a routed case, its conversation ended by the agent's ordinary wrap-up, without "Done"
    skilled = RoutableAgentFactory(user=agent, skills={billing_skill(): 4}, idle_minutes=1)
    case = open_case(customer)
    work = backoffice_case_route(actor=None, case=case, queue=billing.name)
    engine.dispatch_queue(billing.pk)
    offer_accept(actor=agent, offer_id=pending_offer(WorkItem.objects.get(conversation=work.conversation)).pk)
    conversation_end(actor=agent, conversation=work.conversation, disposition="left")
    # When the beat's sweep runs while the agent is still in wrap-up
    # Then the work stays open (they may still complete it)
    assert backoffice_cancel_left() == 0
    # When they wrap up without completing it, and the sweep runs
    conversation_wrap_up(actor=agent, conversation=work.conversation, wrap_up_code="resolved")
    assert backoffice_cancel_left() == 1
    # Then the work is cancelled, said why; the case is still open and can be routed again
    work.refresh_from_db()
    assert (work.status, work.outcome) == (BackofficeStatus.CANCELLED, LEFT_OUTCOME)
    again = backoffice_case_route(actor=None, case=case, queue=billing.name)
    assert again.status == BackofficeStatus.QUEUED and again.pk != work.pk
    assert fresh(skilled).load_units == 0
