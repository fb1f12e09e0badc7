"""Presence: validation and permissions, its timestamped history, away/offline rescinding offers,
the desktop's disconnect grace, and after-contact work ending by timer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cea.common.errors import PermissionDenied, ValidationFailed
from engagement.routing import engine, presence
from engagement.routing.models import (
    AgentProfile,
    OfferStatus,
    Presence,
    PresenceChange,
    ReasonCode,
    WorkStatus,
)
from engagement.routing.presence import (
    desktop_connected,
    desktop_disconnected,
    desktop_seen,
    presence_set,
    presence_sweep,
)
from tests.accounts.factories import UserFactory
from tests.engagement.factories import QueueFactory, RoutableAgentFactory
from tests.engagement.routing_support import fresh, pending_offer, waiting

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_env")]

GRACE = 30
HEARTBEAT = 20


@pytest.fixture(autouse=True)
def _defaults(routing_defaults, settings):
    settings.CEA_PRESENCE_GRACE_SECONDS = GRACE
    settings.CEA_DESKTOP_HEARTBEAT_SECONDS = HEARTBEAT
    settings.CEA_AFTER_CONTACT_SECONDS = 45


def profile_of(user) -> AgentProfile:
    return AgentProfile.objects.select_related("reason").get(user=user)


# --- Validation and permissions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "reason_code", "field"),
    [
        ("napping", "", "presence"),
        ("away", "", "reason"),
        ("away", "no-such-reason", "reason"),
        ("away", "missed_offer", "reason"),  # set by CEA itself, never chosen
        ("away", "coaching", "reason"),  # deactivated below
        ("available", "break", "reason"),
        ("offline", "lunch", "reason"),
    ],
)
def test_presence_set_refuses_a_bad_presence_or_reason_and_writes_nothing(agent, wanted, reason_code, field):
    """Away needs an active reason code agents may choose; no other presence takes one."""
    # Given
    ReasonCode.objects.filter(code="coaching").update(is_active=False)
    # When
    with pytest.raises(ValidationFailed) as refused:
        presence_set(actor=agent, agent_user=agent, presence=wanted, reason_code=reason_code)
    # Then
    assert list(refused.value.fields) == [field]
    assert not PresenceChange.objects.exists()


def test_an_agent_goes_away_with_a_reason(agent):
    """``away`` with ``lunch``: the profile says so, and so does its history."""
    # Given / When
    profile = presence_set(actor=agent, agent_user=agent, presence="away", reason_code="lunch")
    # Then
    profile = profile_of(agent)
    assert (profile.presence, profile.reason.code) == (Presence.AWAY, "lunch")
    change = PresenceChange.objects.get(agent=profile)
    assert (change.presence, change.reason.code, change.cause, change.ended_at) == ("away", "lunch", "agent", None)


def test_only_the_agent_or_a_supervisor_of_their_team_sets_their_presence(agent, agent_b, supervisor, admin_user):
    """Another agent, or a supervisor of another team, is refused; the team's supervisor and admins may."""
    # Given: agent in team A (with supervisor), agent_b in team B
    # When / Then
    with pytest.raises(PermissionDenied):
        presence_set(actor=agent_b, agent_user=agent, presence="available")
    with pytest.raises(PermissionDenied):
        presence_set(actor=supervisor, agent_user=agent_b, presence="available")
    presence_set(actor=supervisor, agent_user=agent, presence="away", reason_code="meeting")
    presence_set(actor=admin_user, agent_user=agent_b, presence="available")
    # Then
    assert PresenceChange.objects.get(agent__user=agent).cause == "supervisor"
    assert profile_of(agent_b).presence == Presence.AVAILABLE
    assert not PresenceChange.objects.filter(agent__user=agent_b, presence="available").exclude(cause="supervisor")


@pytest.mark.parametrize("role", ["admin", "integration"])
def test_users_who_do_not_take_work_have_no_presence(role):
    """Admins and integration clients are not routed: their presence cannot be set."""
    # Given
    user = UserFactory(role=role)
    # When / Then
    with pytest.raises(PermissionDenied) as refused:
        presence_set(actor=user, agent_user=user, presence="available")
    assert refused.value.code == "not_an_agent"


# --- History ----------------------------------------------------------------------------------


def test_every_change_is_a_row_closed_by_the_next_one(agent):
    """available → away (break) → available: three rows, each ended when the next started."""
    # Given / When
    presence_set(actor=agent, agent_user=agent, presence="available")
    presence_set(actor=agent, agent_user=agent, presence="away", reason_code="break")
    presence_set(actor=agent, agent_user=agent, presence="available")
    presence_set(actor=agent, agent_user=agent, presence="available")  # no change: no row
    # Then
    changes = list(PresenceChange.objects.filter(agent__user=agent).order_by("started_at", "id"))
    assert [(c.presence, c.reason_id is not None) for c in changes] == [
        ("available", False),
        ("away", True),
        ("available", False),
    ]
    assert changes[0].ended_at == changes[1].started_at
    assert changes[1].ended_at == changes[2].started_at
    assert changes[2].ended_at is None
    assert changes[0].started_at <= changes[1].started_at <= changes[2].started_at
    profile = profile_of(agent)
    assert (profile.presence_since, profile.idle_since) == (changes[2].started_at, changes[2].started_at)


# --- Away and offline rescind pending offers --------------------------------------------------


@pytest.mark.parametrize(("wanted", "reason_code"), [("away", "break"), ("offline", "")])
def test_going_away_or_offline_returns_pending_offers_to_the_queue(team_a, wanted, reason_code):
    """The agent's pending offers are rescinded; their items wait again and go to the next agent."""
    # Given: two offers pending for first (idle longest)
    queue = QueueFactory(name="support")
    first = RoutableAgentFactory(username="first", teams=[team_a], idle_minutes=30)
    items = [waiting(queue, age_seconds=2), waiting(queue, age_seconds=1)]
    RoutableAgentFactory(username="later", teams=[team_a], presence="offline")
    engine.dispatch_queue(queue.pk)
    offers = [pending_offer(item) for item in items]
    assert {offer.agent for offer in offers} == {first}
    # When
    presence_set(actor=first.user, agent_user=first.user, presence=wanted, reason_code=reason_code)
    # Then
    assert [(fresh(o).status, fresh(o).reason) for o in offers] == [(OfferStatus.RESCINDED, f"agent went {wanted}")] * 2
    assert [fresh(item).status for item in items] == [WorkStatus.WAITING] * 2
    assert fresh(first).load_units == 0
    # When: another agent comes in
    later = AgentProfile.objects.get(user__username="later")
    presence_set(actor=later.user, agent_user=later.user, presence="available")
    engine.dispatch_queue(queue.pk)
    # Then
    assert {pending_offer(item).agent for item in items} == {later}


def test_going_busy_keeps_pending_offers_but_takes_no_new_work(team_a):
    """Busy means no new work: the offer already ringing stays; a new item is not offered."""
    # Given
    queue = QueueFactory(name="support")
    agent = RoutableAgentFactory(username="solo", teams=[team_a])
    ringing = waiting(queue)
    engine.dispatch_queue(queue.pk)
    # When
    presence_set(actor=agent.user, agent_user=agent.user, presence="busy")
    new = waiting(queue)
    # Then
    assert pending_offer(ringing).agent == agent
    assert engine.dispatch_queue(queue.pk) == 0
    assert engine.route_agent(agent.pk) is None
    assert fresh(new).status == WorkStatus.WAITING


# --- The desktop's connection and the grace period --------------------------------------------


@pytest.fixture
def connected(team_a):
    """An available agent with one desktop open and a pending offer."""
    queue = QueueFactory(name="support")
    agent = RoutableAgentFactory(username="solo", teams=[team_a])
    desktop_connected(user_id=agent.user_id)
    item = waiting(queue)
    engine.dispatch_queue(queue.pk)
    return agent, pending_offer(item)


def test_a_desktop_gone_longer_than_the_grace_sets_the_agent_offline_and_returns_offers(connected):
    """Disconnected: still available just inside the grace; past it the sweep sets offline, offers go back."""
    # Given
    agent, offer = connected
    desktop_disconnected(user_id=agent.user_id)
    gone_at = fresh(agent).disconnected_at
    assert gone_at is not None and fresh(agent).connections == 0
    # When
    inside = presence_sweep(now=gone_at + timedelta(seconds=GRACE - 1))
    # Then
    assert inside["disconnected"] == 0
    assert fresh(agent).presence == Presence.AVAILABLE
    # When
    past = presence_sweep(now=gone_at + timedelta(seconds=GRACE + 1))
    # Then
    assert past["disconnected"] == 1
    assert fresh(agent).presence == Presence.OFFLINE
    assert PresenceChange.objects.filter(agent=agent).first().cause == "disconnect"
    assert (fresh(offer).status, fresh(offer.work_item).status) == (OfferStatus.RESCINDED, WorkStatus.WAITING)
    assert fresh(agent).load_units == 0


def test_a_reconnect_within_the_grace_keeps_the_presence(connected):
    """A reload or a short network drop changes nothing: the offer stays, the agent stays available."""
    # Given
    agent, offer = connected
    desktop_disconnected(user_id=agent.user_id)
    desktop_connected(user_id=agent.user_id)
    # When
    done = presence_sweep(now=timezone.now() + timedelta(seconds=GRACE + 1))
    # Then
    assert done["disconnected"] == 0
    profile = fresh(agent)
    assert (profile.presence, profile.connections, profile.disconnected_at) == (Presence.AVAILABLE, 1, None)
    assert fresh(offer).status == OfferStatus.PENDING


def test_closing_one_of_two_desktops_is_not_a_disconnect(connected):
    """Two tabs open, one closed: the agent is still connected."""
    # Given
    agent, _ = connected
    desktop_connected(user_id=agent.user_id)
    # When
    desktop_disconnected(user_id=agent.user_id)
    presence_sweep(now=timezone.now() + timedelta(seconds=GRACE + 1))
    # Then
    profile = fresh(agent)
    assert (profile.connections, profile.disconnected_at, profile.presence) == (1, None, Presence.AVAILABLE)


def test_a_desktop_that_stopped_beating_counts_as_gone(connected):
    """A server that died without saying "disconnected": no heartbeat for grace + 3 beats sets offline."""
    # Given
    agent, _ = connected
    desktop_seen(user_id=agent.user_id)
    seen = fresh(agent).last_seen_at
    stale = timedelta(seconds=GRACE + 3 * HEARTBEAT)
    # When / Then
    assert presence_sweep(now=seen + stale - timedelta(seconds=1))["disconnected"] == 0
    assert presence_sweep(now=seen + stale)["disconnected"] == 1
    assert (fresh(agent).presence, fresh(agent).connections) == (Presence.OFFLINE, 0)


def test_a_reconnect_between_the_sweep_s_look_and_its_lock_keeps_the_agent(connected, monkeypatch):
    """The sweep asks again under the agent's lock: a desktop back in the meantime is not cut off."""
    # Given: disconnected long ago, and the desktop comes back just as the sweep reaches the agent
    agent, offer = connected
    desktop_disconnected(user_id=agent.user_id)
    lock = presence.lock_profile

    def reconnect_then_lock(profile_id):
        desktop_connected(user_id=agent.user_id)
        return lock(profile_id)

    monkeypatch.setattr(presence, "lock_profile", reconnect_then_lock)
    # When
    done = presence_sweep(now=timezone.now() + timedelta(seconds=GRACE + 1))
    # Then
    assert done["disconnected"] == 0
    assert fresh(agent).presence == Presence.AVAILABLE
    assert fresh(offer).status == OfferStatus.PENDING


# --- After-contact work -----------------------------------------------------------------------


def test_after_contact_work_chosen_by_the_agent_ends_by_timer(agent):
    """``after_contact`` lasts ``CEA_AFTER_CONTACT_SECONDS``; the sweep then makes the agent available."""
    # Given
    RoutableAgentFactory(user=agent)
    presence_set(actor=agent, agent_user=agent, presence="after_contact")
    profile = profile_of(agent)
    until = profile.after_contact_until
    assert until == profile.presence_since + timedelta(seconds=45)
    # When
    early = presence_sweep(now=until - timedelta(seconds=1))
    # Then
    assert early["after_contact_ended"] == 0
    assert profile_of(agent).presence == Presence.AFTER_CONTACT
    # When
    done = presence_sweep(now=until)
    # Then
    assert done["after_contact_ended"] == 1
    profile = profile_of(agent)
    assert (profile.presence, profile.after_contact_until, profile.idle_since) == (Presence.AVAILABLE, None, until)
    change = PresenceChange.objects.filter(agent=profile).first()
    assert (change.presence, change.cause, change.started_at) == (Presence.AVAILABLE, "timer", until)
    assert PresenceChange.objects.get(agent=profile, presence="after_contact").ended_at == until


def test_after_contact_work_ended_early_by_the_agent_is_not_ended_again(agent):
    """Back to available before the timer: the sweep leaves the agent alone."""
    # Given
    RoutableAgentFactory(user=agent)
    presence_set(actor=agent, agent_user=agent, presence="after_contact")
    until = profile_of(agent).after_contact_until
    presence_set(actor=agent, agent_user=agent, presence="available")
    count = PresenceChange.objects.count()
    # When
    done = presence_sweep(now=until + timedelta(seconds=1))
    # Then
    assert done["after_contact_ended"] == 0
    assert PresenceChange.objects.count() == count
