"""The demo's presence history: plausible days, every contact handled while logged in, deterministic,
written once, and enough for occupancy, utilisation and the agents' timelines to have figures."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command

from engagement.routing.demo_presence import presence_demo_load
from engagement.routing.models import AgentProfile, PresenceChange
from insights.kpis.rollup import contact_rollup_rebuild
from insights.kpis.selectors import kpi_series
from tests.accounts.factories import TeamFactory, UserFactory
from tests.insights.factories import contact

pytestmark = pytest.mark.django_db
# The tests run in UTC: shifts start between 07:30 and 09:30.
NOW = dt.datetime(2026, 3, 5, 18, 0, tzinfo=dt.UTC)
REASONS = {"break", "lunch", "training", "meeting", "coaching"}


@pytest.fixture
def agents():
    """Anna: calls on 3 March at 10:00 and 10:02 (overlapping), and at 02:00 on the 4th (outside any
    shift); bob: a chat on the 4th at 14:00."""
    north = TeamFactory(name="north")
    anna = UserFactory(username="anna", teams=[north])
    bob = UserFactory(username="bob", teams=[north])
    calls = [
        contact(agent=anna, team=north, queued_at=dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC), wait=0, talk=300),
        contact(agent=anna, team=north, queued_at=dt.datetime(2026, 3, 3, 10, 2, tzinfo=dt.UTC), wait=0, talk=60),
        contact(agent=anna, team=north, queued_at=dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC), wait=0, talk=400),
        contact(agent=bob, team=north, queued_at=dt.datetime(2026, 3, 4, 14, 0, tzinfo=dt.UTC), wait=0, talk=900),
    ]
    return {"anna": anna, "bob": bob, "calls": calls}


def _history(user) -> list[PresenceChange]:
    return list(PresenceChange.objects.filter(agent__user=user).select_related("reason").order_by("started_at", "id"))


def _logged_in(history: list[PresenceChange], at: dt.datetime) -> bool:
    return any(
        change.presence != "offline" and change.started_at <= at and (change.ended_at is None or at < change.ended_at)
        for change in history
    )


def test_every_contact_is_handled_while_logged_in_in_plausible_days(agents):
    # Given / When the presence history of the last three days is written
    loaded = presence_demo_load(seed=7, days=3, now=NOW)
    # Then both agents have one, each period ending where the next starts, the last offline and open
    assert loaded["agents"] == 2
    anna = _history(agents["anna"])
    assert all(change.ended_at == following.started_at for change, following in pairwise(anna))
    assert (anna[-1].presence, anna[-1].ended_at) == ("offline", None)
    assert anna[-1].started_at <= NOW and all(change.started_at < NOW for change in anna)
    # And every contact, the night call included, is handled while logged in (from its answer to its end)
    for call in agents["calls"]:
        history = _history(call.agent)
        moments = [call.answered_at + (call.ended_at - call.answered_at) * step / 10 for step in range(10)]
        assert all(_logged_in(history, moment) for moment in moments), call
    # And the lone call's after-contact work starts as it ends; the overlapping pair has none between them
    after_contact = {change.started_at for change in anna if change.presence == "after_contact"}
    first, second, night = agents["calls"][:3]
    assert night.ended_at in after_contact
    assert first.ended_at not in after_contact and second.ended_at not in after_contact
    # And the days have breaks and lunch (away with reasons), available time and offline nights
    presences = {change.presence for change in anna}
    assert {"available", "after_contact", "away", "offline"} <= presences
    reasons = {change.reason.code for change in anna if change.presence == "away"}
    assert {"break", "lunch"} <= reasons <= REASONS
    assert all((change.reason is None) == (change.presence != "away") for change in anna)
    # And no away or busy period overlaps a contact
    for change in anna:
        if change.presence in ("away", "busy"):
            assert not any(
                call.answered_at < change.ended_at and change.started_at < call.ended_at for call in agents["calls"][:3]
            )
    assert AgentProfile.objects.get(user=agents["anna"]).presence == "offline"


def test_the_history_is_the_same_for_the_same_seed_and_written_once(agents):
    # Given a history written with seed 7
    presence_demo_load(seed=7, days=3, now=NOW)
    first = [(c.presence, c.reason_id, c.started_at, c.ended_at) for c in _history(agents["anna"])]
    # When it is written again over it / Then nothing is added
    assert presence_demo_load(seed=7, days=3, now=NOW) == {"agents": 0, "presence_changes": 0}
    # When it is rewritten from scratch with the same seed, then with another
    PresenceChange.objects.all().delete()
    presence_demo_load(seed=7, days=3, now=NOW)
    again = [(c.presence, c.reason_id, c.started_at, c.ended_at) for c in _history(agents["anna"])]
    PresenceChange.objects.all().delete()
    presence_demo_load(seed=8, days=3, now=NOW)
    other = [(c.presence, c.reason_id, c.started_at, c.ended_at) for c in _history(agents["anna"])]
    # Then the same seed gives the same rows, another seed others
    assert again == first and other != first


def test_an_agent_with_presence_recorded_is_left_alone(agents):
    # Given bob's live presence (he signed in to the desk)
    profile = AgentProfile.objects.create(user=agents["bob"], presence="available")
    PresenceChange.objects.create(agent=profile, presence="available", started_at=NOW - dt.timedelta(hours=1))
    # When the demo history is written / Then only anna's is, bob keeps his one change
    assert presence_demo_load(seed=7, days=3, now=NOW)["agents"] == 1
    assert [change.presence for change in _history(agents["bob"])] == ["available"]


def test_with_the_history_occupancy_and_utilisation_have_figures(agents):
    # Given the history and the rollups
    presence_demo_load(seed=7, days=3, now=NOW)
    contact_rollup_rebuild(now=NOW)
    # When the three days are read by agent
    series = kpi_series(
        user=UserFactory(role="admin"),
        kpis=["occupancy", "utilisation"],
        start=NOW - dt.timedelta(days=3),
        end=NOW,
        interval="month",
        group_by=["agent"],
    )
    # Then each agent has a figure, within 0–100 %, and the whole of their contact time counts (logged in)
    figures = {row.group["agent"]: row.values for row in series.rows}
    assert set(figures) == {agents["anna"].pk, agents["bob"].pk}
    for values in figures.values():
        assert 0 < values["occupancy"].value <= 100 and 0 < values["utilisation"].value <= 100
    # anna: 300 s for the overlapping calls (10:00–10:05) and 400 s at night
    assert figures[agents["anna"].pk]["occupancy"].numerator >= 700


def test_the_command_says_what_it_wrote(agents):
    # Given the fixture's contacts of March 2026 / When the command writes the history up to today
    out = StringIO()
    call_command(
        "load_demo_routing", "--days", str((dt.datetime.now(dt.UTC) - NOW).days + 3), "--seed", "7", stdout=out
    )
    # Then it says how much it wrote, for both agents
    assert "Presence history:" in out.getvalue() and "for 2 agent(s)" in out.getvalue()
    assert PresenceChange.objects.filter(agent__user=agents["anna"]).exists()
