"""Contacts with known times for the KPI tests: interactions as engagement records them."""

from __future__ import annotations

import datetime as dt

from cea.accounts.models import Team, User
from engagement.conversations.models import Conversation
from engagement.routing.models import Queue, WorkItem, WorkStatus
from records.customers.models import Customer
from records.interactions.models import Interaction

# A quarter-hour boundary, in UTC: contacts queued at T0 + n seconds count in the interval of T0.
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def contact(
    *,
    queue: str = "billing",
    channel: str = "voice",
    queued_at: dt.datetime = T0,
    wait: float = 10,
    answered: bool = True,
    talk: float = 300,
    customer: Customer | None = None,
    agent: User | None = None,
    team: Team | None = None,
    wrap_up_code: str = "",
    disposition: str = "",
    direction: str = "inbound",
    contained: bool = False,
    self_service: float = 0,
) -> Interaction:
    """A finished contact queued at ``queued_at``, answered after ``wait`` s (or abandoned then), ``talk`` s long.

    ``self_service``: seconds it spent in self-service before it queued (its start is that much earlier).
    """
    left_queue = queued_at + dt.timedelta(seconds=wait)
    answered_at = left_queue if answered else None
    ended_at = left_queue + dt.timedelta(seconds=talk) if answered else left_queue
    return Interaction.objects.create(
        customer=customer,
        channel=channel,
        direction=direction,
        started_at=queued_at - dt.timedelta(seconds=self_service),
        answered_at=answered_at,
        ended_at=ended_at,
        queue=queue,
        agent=agent,
        team=team,
        wrap_up_code=wrap_up_code,
        disposition=disposition or ("" if answered else "abandoned"),
        context_snapshot={"contained": contained},
    )


def service_level_fixture(*, queue: str = "billing") -> None:
    """The issue's fixture: 100 queued, 70 answered within 20 s, 10 later, 15 abandoned within 20 s
    (5 of them within 5 s, here after 3 s), 5 abandoned later."""
    for _ in range(70):
        contact(queue=queue, wait=12)
    for _ in range(10):
        contact(queue=queue, wait=45)
    for _ in range(10):
        contact(queue=queue, wait=15, answered=False)
    for _ in range(5):
        contact(queue=queue, wait=3, answered=False)
    for _ in range(5):
        contact(queue=queue, wait=60, answered=False)


def routed(interaction: Interaction, *, queue: Queue, queued_at: dt.datetime, acw: float, transfers: int = 0) -> None:
    """The conversation and work items routing kept of ``interaction``: ``transfers`` legs transferred,
    then one done, wrapped up ``acw`` seconds after the contact ended."""
    conversation = Conversation.objects.create(
        channel=interaction.channel, customer=interaction.customer, interaction=interaction, status="ended"
    )
    for _ in range(transfers):
        WorkItem.objects.create(
            conversation=conversation,
            queue=queue,
            channel=interaction.channel,
            status=WorkStatus.TRANSFERRED,
            enqueued_at=queued_at,
            ended_at=interaction.ended_at,
        )
    WorkItem.objects.create(
        conversation=conversation,
        queue=queue,
        channel=interaction.channel,
        status=WorkStatus.DONE,
        enqueued_at=queued_at,
        ended_at=interaction.ended_at + dt.timedelta(seconds=acw),
    )
