"""Flow-outs: a contact that left a queue unanswered for another counts as flowed out of the first.

The issue's fixture in billing (100 queued: 70 answered within 20 s, 10 later, 15 abandoned within
20 s of which 5 within 5 s, 5 later), plus 10 contacts that waited 30 s in billing and overflowed
to support: 6 answered there 40 s after they first queued, 4 abandoned there after 50 s. As routing
records them, the answered ones' conversations name support (the agent's queue), the abandoned
ones' still name billing (an overflow moves the work, not the conversation's queue).

By hand, billing: queued 100 + 10 = 110, answered 80, abandoned 20, flowed out 10.
- Genesys-style, flow-outs counted: 70 ÷ (70 + 10 answered later + 20 abandoned + 10 flowed out) = 63.6 %.
- Genesys-style, flow-outs not counted: 70 ÷ (70 + 10 + 20) = 70 %, as without the overflow.
- Amazon Connect: (70 + 15) removed within 20 s ÷ 110 queued = 77.3 % (a flow-out is queued, not removed).
Support: queued 10, answered 6, abandoned 4 (their waits run from their first queueing, 40 s and
50 s: none within 20 s), flowed out 0. The contacts are 110, not 120: a contact counts once as a contact.
"""

from __future__ import annotations

import datetime as dt

import pytest

from engagement.conversations.models import Conversation
from engagement.routing.models import FlowOutReason, Queue, QueueFlowOut, WorkItem, WorkStatus
from engagement.routing.selectors import interaction_flow_outs
from insights.kpis.models import ContactRollup
from insights.kpis.rollup import contact_rollup_rebuild
from insights.kpis.selectors import kpi_series
from records.interactions.models import Interaction
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import T0, contact, service_level_fixture

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)
OVERFLOW_AFTER = dt.timedelta(seconds=30)


def overflowed(*, billing: Queue, support: Queue, wait: float, answered: bool) -> Interaction:
    """A contact queued in billing at T0 that overflowed to support after 30 s, then answered or
    abandoned there ``wait`` seconds after T0, recorded as routing records it."""
    interaction = contact(queue="support" if answered else "billing", wait=wait, answered=answered)
    conversation = Conversation.objects.create(channel=interaction.channel, interaction=interaction, status="ended")
    item = WorkItem.objects.create(
        conversation=conversation,
        queue=support,
        channel=interaction.channel,
        status=WorkStatus.DONE if answered else WorkStatus.ABANDONED,
        enqueued_at=T0,
        entered_queue_at=T0 + OVERFLOW_AFTER,
        ended_at=interaction.ended_at,
    )
    QueueFlowOut.objects.create(
        work_item=item,
        conversation=conversation,
        from_queue=billing,
        to_queue=support,
        entered_queue_at=T0,
        flowed_out_at=T0 + OVERFLOW_AFTER,
        reason=FlowOutReason.OVERFLOW,
    )
    return interaction


def the_day(**billing_settings) -> None:
    billing = Queue.objects.create(name="billing", **billing_settings)
    support = Queue.objects.create(name="support")
    service_level_fixture(queue="billing")
    for _ in range(6):
        overflowed(billing=billing, support=support, wait=40, answered=True)
    for _ in range(4):
        overflowed(billing=billing, support=support, wait=50, answered=False)
    contact_rollup_rebuild(now=T0 + HOUR)


def by_queue(kpis: list[str]) -> dict[str, dict[str, tuple]]:
    series = kpi_series(
        user=UserFactory(role="admin"), kpis=kpis, start=T0, end=T0 + HOUR, interval="hour", group_by=["queue"]
    )
    return {
        row.group["queue"]: {
            name: (figure.numerator, figure.denominator, None if figure.value is None else round(figure.value, 1))
            for name, figure in row.values.items()
        }
        for row in series.rows
    }


@pytest.mark.parametrize(
    ("billing_settings", "service_level"),
    [
        ({"service_level_formula": "genesys", "sl_counts_flow_outs": True}, (70, 110, 63.6)),
        ({"service_level_formula": "genesys"}, (70, 100, 70.0)),
        ({}, (85, 110, 77.3)),
    ],
    ids=["genesys-counting-flow-outs", "genesys-not-counting-flow-outs", "connect"],
)
def test_flow_outs_count_in_the_queue_they_left(billing_settings, service_level):
    # Given the day above, rolled up, with billing under this formula
    the_day(**billing_settings)
    # When an admin reads the hour by queue
    figures = by_queue(["offered", "answered", "abandoned", "flowed_out", "service_level", "asa"])
    # Then billing counts the 10 as queued and flowed out, neither answered nor abandoned there
    assert figures["billing"]["offered"][0] == 110
    assert figures["billing"]["answered"][0] == 80
    assert figures["billing"]["abandoned"][0] == 20
    assert figures["billing"]["flowed_out"][0] == 10
    assert figures["billing"]["service_level"] == service_level
    # and support counts them where they were answered or abandoned
    assert figures["support"]["offered"][0] == 10
    assert figures["support"]["answered"][0] == 6
    assert figures["support"]["abandoned"][0] == 4
    assert figures["support"]["flowed_out"][0] == 0
    assert figures["support"]["service_level"] == (0, 10, 0.0)
    assert figures["support"]["asa"] == (240, 6, 40.0)
    # and each contact is still one contact
    assert sum(ContactRollup.objects.values_list("contacts", flat=True)) == 110


def test_without_flow_outs_the_issues_figures_are_unchanged():
    # Given the issue's fixture alone, in a Genesys-style queue counting flow-outs
    Queue.objects.create(name="billing", service_level_formula="genesys", sl_counts_flow_outs=True)
    service_level_fixture(queue="billing")
    contact_rollup_rebuild(now=T0 + HOUR)
    # When / Then: nothing flowed out, so the term adds nothing
    figures = by_queue(["flowed_out", "service_level"])
    assert figures["billing"] == {"flowed_out": (0, None, 0), "service_level": (70, 100, 70.0)}


def test_a_contact_that_flowed_out_twice_counts_in_each_queue_it_left():
    # Given a contact queued in billing, overflowed to support, moved by a supervisor to sales, answered there
    billing, support, sales = (Queue.objects.create(name=name) for name in ("billing", "support", "sales"))
    interaction = contact(queue="sales", wait=90)
    conversation = Conversation.objects.create(channel=interaction.channel, interaction=interaction, status="ended")
    item = WorkItem.objects.create(
        conversation=conversation, queue=sales, channel="voice", status=WorkStatus.DONE, enqueued_at=T0
    )
    for left, to, after, reason in [
        (billing, support, 30, FlowOutReason.OVERFLOW),
        (support, sales, 60, FlowOutReason.MOVED),
    ]:
        QueueFlowOut.objects.create(
            work_item=item,
            conversation=conversation,
            from_queue=left,
            to_queue=to,
            entered_queue_at=T0 + dt.timedelta(seconds=after - 30),
            flowed_out_at=T0 + dt.timedelta(seconds=after),
            reason=reason,
        )
    # When it is rolled up and read by queue
    contact_rollup_rebuild(now=T0 + HOUR)
    figures = by_queue(["offered", "answered", "flowed_out"])
    # Then it is queued and flowed out of billing and of support, answered in sales
    assert {
        queue: tuple(row[kpi][0] for kpi in ("offered", "answered", "flowed_out")) for queue, row in figures.items()
    } == {
        "billing": (1, 0, 1),
        "support": (1, 0, 1),
        "sales": (1, 1, 0),
    }
    # and the selector gives the flow-outs, oldest first, each with where the contact ended up
    assert [
        (row["interaction_id"], row["queue"], row["final_queue"])
        for row in interaction_flow_outs(interactions=Interaction.objects.all())
    ] == [(interaction.pk, "billing", "sales"), (interaction.pk, "support", "sales")]


def test_a_team_scoped_user_reads_flow_outs_of_their_teams_contacts_only():
    # Given a flowed-out contact of team north and one of team south
    north, south = TeamFactory(name="north"), TeamFactory(name="south")
    billing, support = Queue.objects.create(name="billing"), Queue.objects.create(name="support")
    for team in (north, south):
        interaction = overflowed(billing=billing, support=support, wait=40, answered=True)
        Interaction.objects.filter(pk=interaction.pk).update(team=team)
    contact_rollup_rebuild(now=T0 + HOUR)
    # When a supervisor of north reads the flow-outs
    supervisor = UserFactory(role="supervisor", teams=[north])
    series = kpi_series(user=supervisor, kpis=["flowed_out"], start=T0, end=T0 + HOUR, interval="hour")
    # Then only north's counts
    [row] = series.rows
    assert row.values["flowed_out"].numerator == 1
