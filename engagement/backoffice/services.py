"""Back-office work routed to agents, and callbacks booked by customers from an out-of-hours answer.

``backoffice_case_route`` and ``backoffice_task_create`` open a back-office conversation for the
case or task (channel web form, direction outbound: work CEA does for the customer, not a contact
they made) and hand it to the queue (``conversation_escalate``): the router offers it to a skilled
agent with capacity like any contact, the desk shows it, the agent accepts it.
``backoffice_complete`` is the agent's "done": a case is resolved (records' ``case_transition``,
its outcome as the note), the work is done, and the conversation ends so that the agent wraps up.

The priority rises as the SLA due time nears: the conversation's context carries ``sla_due_at``,
which ``engagement.routing.priority`` turns into points; ``backoffice_reprioritise`` (the beat,
each minute, and once on commit of each new work) recomputes waiting work's priority.
"""

from __future__ import annotations

from datetime import datetime

from celery import signature
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext

from cea.accounts.models import Team, User
from cea.accounts.types import Actor
from cea.common.channels import Channel, Direction
from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cea.common.roles import Role, role_of, sees_everything, team_ids_of
from cea.common.tasks import send_on_commit
from engagement.access import require_handling_agent
from engagement.backoffice.models import BackofficeKind, BackofficeStatus, BackofficeWork
from engagement.backoffice.out_of_hours import callback_offer_conversation_id, next_opening
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.conversations.services import conversation_start
from engagement.orchestration import conversation_end, conversation_escalate
from engagement.outbound.models import Callback
from engagement.outbound.services import callback_request
from engagement.routing.engine import work_reprioritise
from engagement.routing.models import Queue, WorkItem, WorkStatus
from records.cases.models import Case, CaseStatus, CaseTransition
from records.cases.services import case_transition
from records.customers.models import Customer

REPRIORITISE_TASK = "engagement.backoffice.reprioritise"
REPRIORITISE_ONE_TASK = "engagement.backoffice.reprioritise_work"
OPEN_CASE = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING)
MAX_TITLE = 200
MAX_DESCRIPTION = 5_000
MAX_OUTCOME = 500


def require_backoffice_router(actor: Actor, *, team_id: int | None) -> None:
    """The system, administrators, integration clients, and the agents and supervisors of the work's
    team may route back-office work; anyone else ``PermissionDenied``."""
    if actor is None or sees_everything(actor):
        return
    if role_of(actor) in (Role.AGENT, Role.SUPERVISOR) and team_id is not None and team_id in team_ids_of(actor):
        return
    raise PermissionDenied("Only the work's team (or an administrator) may route it.")


def _active_queue(name: str) -> Queue:
    queue = Queue.objects.filter(name=name, is_active=True).first()
    if queue is None:
        raise NotFound(f"No active queue {name!r}.")
    return queue


def _open_work(
    *,
    actor: Actor,
    kind: str,
    title: str,
    description: str,
    queue: Queue,
    customer: Customer | None,
    team: Team | None,
    due_at: datetime | None,
    case: Case | None,
) -> BackofficeWork:
    """Open the back-office conversation and its work, and hand it to ``queue``."""
    facts: dict[str, object] = {"kind": kind, "title": title}
    if case is not None:
        facts.update(case_id=case.pk, reference=case.reference)
    conversation, _ = conversation_start(
        channel=Channel.WEB_FORM,
        direction=Direction.OUTBOUND,
        customer=customer,
        team=team,
        queue=queue.name,
        subject=title,
        source="backoffice",
        # A number: the context store redacts digit runs in text (they may be phone numbers).
        context={"backoffice": facts, **({"sla_due_at": due_at.timestamp()} if due_at else {})},
    )
    work = BackofficeWork.objects.create(
        kind=kind,
        case=case,
        customer=customer,
        team=team,
        title=title,
        description=description,
        queue=queue.name,
        due_at=due_at,
        conversation=conversation,
        created_by=actor if isinstance(actor, User) else None,
    )
    conversation_escalate(conversation=conversation, queue=queue.name, reason=f"back-office {kind}")
    # Its context (with ``sla_due_at``) is written on commit: its priority is computed again after.
    send_on_commit(signature(REPRIORITISE_ONE_TASK), work.pk)
    return work


@transaction.atomic
def backoffice_case_route(*, actor: Actor, case: Case, queue: str, note: str = "") -> BackofficeWork:
    """Route ``case`` to ``queue`` as back-office work; its SLA due time is its resolution due time.

    The caller fetched the case through ``records.access.access_case``. ``PermissionDenied``
    (``require_backoffice_router``), ``NotFound`` for a queue that is not active, ``Conflict`` for a
    case that is resolved or closed (``case_not_open``) or already routed (``already_routed``).
    """
    require_backoffice_router(actor, team_id=case.team_id)
    if len(note) > MAX_DESCRIPTION:
        raise ValidationFailed("The note is too long.", fields={"note": f"At most {MAX_DESCRIPTION} characters."})
    target = _active_queue(queue)
    # The case's row is locked, so two requests cannot both route it.
    case = Case.objects.select_for_update(of=("self",)).select_related("customer", "team").get(pk=case.pk)
    if case.status not in OPEN_CASE:
        raise Conflict(f"Case {case.reference} is {case.status}.", code="case_not_open")
    backoffice_cancel_left(case_id=case.pk)  # routed before, its conversation ended undone: routed again
    if BackofficeWork.objects.filter(case=case, status=BackofficeStatus.QUEUED).exists():
        raise Conflict(f"Case {case.reference} is already routed.", code="already_routed")
    return _open_work(
        actor=actor,
        kind=BackofficeKind.CASE,
        title=f"Case {case.reference}: {case.subject}"[:MAX_TITLE],
        description=note.strip() or case.description,
        queue=target,
        customer=case.customer,
        team=case.team,
        due_at=case.resolution_due_at,
        case=case,
    )


@transaction.atomic
def backoffice_task_create(
    *,
    actor: Actor,
    title: str,
    queue: str,
    team: Team | None,
    description: str = "",
    customer: Customer | None = None,
    due_at: datetime | None = None,
) -> BackofficeWork:
    """Create a back-office task and route it to ``queue`` (``due_at``: the time its priority rises to).

    The team defaults to the customer's; a task needs one (``ValidationFailed``), which decides who
    may see it. The caller fetched the customer through ``records.access``.
    """
    team = team or (customer.team if customer is not None else None)
    problems = {}
    if not title.strip() or len(title) > MAX_TITLE:
        problems["title"] = f"A title of 1-{MAX_TITLE} characters."
    if len(description) > MAX_DESCRIPTION:
        problems["description"] = f"At most {MAX_DESCRIPTION} characters."
    if team is None:
        problems["team"] = "A task needs a team (or a customer whose team it takes)."
    if problems:
        raise ValidationFailed("The task is invalid.", fields=problems)
    require_backoffice_router(actor, team_id=team.pk if team is not None else None)
    return _open_work(
        actor=actor,
        kind=BackofficeKind.TASK,
        title=title.strip(),
        description=description.strip(),
        queue=_active_queue(queue),
        customer=customer,
        team=team,
        due_at=due_at,
        case=None,
    )


@transaction.atomic
def backoffice_complete(*, actor: Actor, conversation: Conversation, outcome: str) -> BackofficeWork:
    """The agent finished the work: a case is resolved (``outcome`` is the case's note), the work is
    done, and its conversation ends, so that the agent wraps up (their capacity is freed then).

    Only the conversation's handling agent, a supervisor or an administrator
    (``require_handling_agent``). ``ValidationFailed`` without an outcome; ``NotFound`` for a
    conversation that is no back-office work; ``Conflict`` (``work_not_open``) when it is done already.
    A case resolved meanwhile in records is only noted, not resolved again.
    """
    if not outcome.strip() or len(outcome) > MAX_OUTCOME:
        raise ValidationFailed("Say what was done.", fields={"outcome": f"1-{MAX_OUTCOME} characters."})
    locked = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
    require_handling_agent(actor, locked)
    work = BackofficeWork.objects.select_for_update(of=("self",)).filter(conversation=locked).first()
    if work is None:
        raise NotFound(f"Conversation {conversation.pk} is no back-office work.")
    if work.status != BackofficeStatus.QUEUED:
        raise Conflict(f"This {work.kind} is {work.status}.", code="work_not_open")
    if work.case_id is not None:
        case = Case.objects.get(pk=work.case_id)
        if case.status in OPEN_CASE:
            case_transition(actor=actor, case=case, transition=CaseTransition.RESOLVE, note=outcome.strip())
    work.status = BackofficeStatus.DONE
    work.outcome = outcome.strip()
    work.completed_by = actor if isinstance(actor, User) else None
    work.completed_at = timezone.now()
    work.save(update_fields=["status", "outcome", "completed_by", "completed_at", "updated_at"])
    if locked.status != ConversationStatus.ENDED:
        conversation_end(actor=actor, conversation=locked, disposition=f"{work.kind} done")
    return work


LEFT_OUTCOME = "Its conversation ended without the work being done."


def backoffice_cancel_left(*, case_id: int | None = None, limit: int = 2_000) -> int:
    """Cancel back-office work whose conversation ended (wrapped up, ended by a supervisor) without
    it being done, once no work item of it is open any more (an agent in wrap-up may still complete
    it): the case can be routed again, and no one is offered it. ``case_id``: that case's only.
    Returns how many were cancelled."""
    open_items = WorkItem.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        status__in=[WorkStatus.WAITING, WorkStatus.OFFERED, WorkStatus.ASSIGNED, WorkStatus.WRAP_UP],
    )
    left = BackofficeWork.objects.filter(
        status=BackofficeStatus.QUEUED, conversation__status=ConversationStatus.ENDED
    ).exclude(Exists(open_items))
    if case_id is not None:
        left = left.filter(case_id=case_id)
    ids = list(left.values_list("pk", flat=True)[:limit])
    return BackofficeWork.objects.filter(pk__in=ids, status=BackofficeStatus.QUEUED).update(
        status=BackofficeStatus.CANCELLED, outcome=LEFT_OUTCOME, updated_at=timezone.now()
    )


def backoffice_reprioritise_one(*, work_id: int) -> bool:
    """Compute again the priority of one back-office work if it waits; ``True`` if it does."""
    conversation = Conversation.objects.filter(backoffice_work__pk=work_id).select_related("customer").first()
    return conversation is not None and work_reprioritise(conversation=conversation) is not None


def backoffice_reprioritise(*, limit: int = 2_000) -> int:
    """The beat's minute: recompute the priority of waiting back-office work with a due time, nearest
    due first (its SLA points rise as the due time nears). Returns how many items were looked at."""
    waiting = (
        WorkItem.objects.filter(status=WorkStatus.WAITING, conversation__backoffice_work__due_at__isnull=False)
        .order_by("conversation__backoffice_work__due_at")
        .values_list("conversation_id", flat=True)[:limit]
    )
    count = 0
    for conversation in Conversation.objects.filter(pk__in=list(waiting)).select_related("customer"):
        work_reprioritise(conversation=conversation)
        count += 1
    return count


# --- Callbacks booked from an out-of-hours answer ----------------------------------------------

MAX_PHONE = 32


@transaction.atomic
def callback_offer_book(*, token: str, phone: str = "", due_at: datetime | None = None) -> Callback:
    """The customer books the callback an out-of-hours answer offered them (``token`` says which).

    Due at ``due_at`` or, by default, when the queue next opens. One callback per offer.
    ``PermissionDenied`` for a forged or expired token; ``ValidationFailed`` for a phone number that is
    not E.164-like; ``Conflict`` for a contact CEA could not identify (``customer_unknown``: leave a
    message instead) or an offer already taken (``callback_already_booked``).
    """
    conversation_id = callback_offer_conversation_id(token=token)
    if conversation_id is None:
        raise PermissionDenied(gettext("This callback link is not valid (or is too old)."))
    phone = phone.strip().replace(" ", "")
    if phone and (len(phone) > MAX_PHONE or not phone.startswith("+") or not phone[1:].isdigit()):
        raise ValidationFailed(
            gettext("The phone number is invalid."), fields={"phone": gettext("An international number: +44…")}
        )
    conversation = (
        Conversation.objects.select_for_update(of=("self",)).select_related("customer").get(pk=conversation_id)
    )
    if conversation.customer is None:
        raise Conflict(
            gettext("We could not tell who you are: please leave us a message instead."), code="customer_unknown"
        )
    source = f"out_of_hours:{conversation.pk}"
    if Callback.objects.filter(source=source).exists():
        raise Conflict(gettext("A callback is already booked from this message."), code="callback_already_booked")
    queue = Queue.objects.select_related("business_hours").filter(name=conversation.queue).first()
    now = timezone.now()
    due = due_at or (next_opening(queue=queue, after=now) if queue is not None else None) or now
    return callback_request(
        actor=None,
        customer=conversation.customer,
        queue=conversation.queue,
        reason=f"Asked out of hours ({conversation.get_channel_display()} #{conversation.pk})",
        due_at=due,
        source=source,
        phone=phone,
    )
