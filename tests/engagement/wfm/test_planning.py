"""Planning queues: discovery from the interaction history, and the services a planner changes them with."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cea.common.errors import PermissionDenied, ValidationFailed
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.planning.services import planning_queue_create, planning_queue_update, planning_queues_discover
from records.interactions.selectors import interaction_queue_channels
from tests.engagement.factories import QueueFactory
from tests.engagement.wfm.factories import PlanningQueueFactory
from tests.records.factories import InteractionFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)


def _contacts(count: int, *, queue: str, channel: str, team=None, days_ago: float = 1, direction="inbound") -> None:
    started = NOW - dt.timedelta(days=days_ago)
    for index in range(count):
        at = started + dt.timedelta(minutes=index)
        InteractionFactory(
            queue=queue,
            channel=channel,
            team=team,
            direction=direction,
            started_at=at,
            ended_at=at + dt.timedelta(minutes=3),
        )


def test_the_selector_counts_inbound_contacts_per_queue_and_channel_with_the_usual_team(team_a, team_b):
    # given billing voice: 3 of team A, 1 of team B, 2 outbound; billing chat: 2; no queue: 1
    _contacts(3, queue="billing", channel="voice", team=team_a)
    _contacts(1, queue="billing", channel="voice", team=team_b, days_ago=3)
    _contacts(2, queue="billing", channel="voice", team=team_b, direction="outbound")
    _contacts(2, queue="billing", channel="chat", team=team_b)
    _contacts(1, queue="", channel="voice", team=team_a)
    # when read since two days ago and since ever
    recent = interaction_queue_channels(since=NOW - dt.timedelta(days=2))
    ever = interaction_queue_channels(since=None)
    # then inbound only, with a queue; team A is billing voice's usual team
    assert [(row["queue"], row["channel"], row["contacts"], row["team_id"]) for row in ever] == [
        ("billing", "voice", 4, team_a.pk),
        ("billing", "chat", 2, team_b.pk),
    ]
    assert ever[0]["first_started_at"] == NOW - dt.timedelta(days=3)
    assert [(row["queue"], row["channel"], row["contacts"]) for row in recent] == [
        ("billing", "voice", 3),
        ("billing", "chat", 2),
    ]


def test_discovery_creates_queues_with_defaults_by_channel_and_routing_targets(team_a, team_b):
    # given a routing queue "sales" at 90% in 15 s owned by team B, and history on four channels over a week
    QueueFactory(name="sales", label="Sales line", service_level_percent=90, service_level_seconds=15, team=team_b)
    _contacts(20, queue="sales", channel="voice", days_ago=7)
    _contacts(10, queue="sales", channel="chat", team=team_a, days_ago=7)
    _contacts(8, queue="claims", channel="email", team=team_a, days_ago=7)
    _contacts(3, queue="rare", channel="voice", team=team_a, days_ago=7)
    PlanningQueueFactory(queue="claims", channel="email", shrinkage_percent=10)
    # when discovered with at least one contact a day on average
    created = planning_queues_discover(min_contacts_per_day=1, now=NOW)
    # then sales voice and chat are new (claims e-mail existed and is left alone; rare is 3 in 7 days)
    by_key = {(queue.queue, queue.channel): queue for queue in created}
    assert set(by_key) == {("sales", "voice"), ("sales", "chat")}
    voice, chat = by_key[("sales", "voice")], by_key[("sales", "chat")]
    assert (voice.model, voice.concurrency, voice.team_id, voice.label) == ("erlang_c", 1, team_b.pk, "Sales line")
    assert (voice.service_level_percent, voice.service_level_seconds) == (90, 15)
    assert (chat.model, chat.concurrency, chat.team_id) == ("chat", 2, team_a.pk)
    assert PlanningQueue.objects.get(queue="claims").shrinkage_percent == 10
    # and discovering again creates nothing
    assert planning_queues_discover(min_contacts_per_day=1, now=NOW) == []


def test_a_deferred_channel_defaults_to_backlog(team_a):
    _contacts(30, queue="forms", channel="web_form", team=team_a, days_ago=2)
    (created,) = planning_queues_discover(now=NOW)
    assert (created.model, created.channel) == ("backlog", "web_form")


def test_a_supervisor_creates_and_changes_only_their_teams_queues(supervisor, team_a, team_b, admin_user):
    # given a supervisor of team A
    # when they create one for team A: chat defaults apply
    mine = planning_queue_create(user=supervisor, queue="support", channel="chat", team=team_a)
    assert (mine.model, mine.concurrency) == ("chat", 2)
    # then one for team B, or none, is refused, and nothing is written
    for team in (team_b, None):
        with pytest.raises(PermissionDenied):
            planning_queue_create(user=supervisor, queue="other", channel="voice", team=team)
    # and moving theirs to team B, or changing team B's, is refused
    with pytest.raises(PermissionDenied):
        planning_queue_update(user=supervisor, planning_queue=mine, team=team_b)
    theirs = PlanningQueueFactory(team=team_b)
    with pytest.raises(PermissionDenied):
        planning_queue_update(user=supervisor, planning_queue=theirs, shrinkage_percent=20)
    assert not PlanningQueue.objects.filter(queue="other").exists()
    # an admin creates a queue of no team
    assert planning_queue_create(user=admin_user, queue="other", channel="voice").team is None


def test_bad_changes_are_refused_with_field_messages(supervisor, team_a, agent):
    queue = PlanningQueueFactory(team=team_a)
    # an ASA target needs its seconds; Erlang A its patience; shrinkage stops at 95
    with pytest.raises(ValidationFailed) as asa:
        planning_queue_update(user=supervisor, planning_queue=queue, target_kind="asa")
    with pytest.raises(ValidationFailed) as patience:
        planning_queue_update(user=supervisor, planning_queue=queue, model="erlang_a")
    with pytest.raises(ValidationFailed) as shrinkage:
        planning_queue_update(user=supervisor, planning_queue=queue, shrinkage_percent=96)
    with pytest.raises(ValidationFailed) as unknown:
        planning_queue_update(user=supervisor, planning_queue=queue, queue="renamed")
    assert "__all__" in asa.value.fields
    assert "__all__" in patience.value.fields
    assert "shrinkage_percent" in shrinkage.value.fields
    assert unknown.value.fields == {"queue": ["Not a field of a planning queue."]}
    queue.refresh_from_db()
    assert (queue.target_kind, queue.model, queue.shrinkage_percent) == ("service_level", "erlang_c", 30)
    # agents plan nothing
    with pytest.raises(PermissionDenied):
        planning_queue_update(user=agent, planning_queue=queue, shrinkage_percent=20)
    # and a valid change saves
    changed = planning_queue_update(
        user=supervisor, planning_queue=queue, model="erlang_a", patience_seconds=90, max_occupancy_percent=90
    )
    assert (changed.model, changed.patience_seconds, changed.max_occupancy_percent) == ("erlang_a", 90, 90)
    assert changed.updated_at <= timezone.now()
