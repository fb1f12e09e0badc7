"""The incremental agents' time: a run reads only the contacts that reach its window (ended or
wrapped up in it or after, through indexes), and writes the same ``AgentRollup`` rows a full
rebuild would, after late, corrected and wrapped-up-late contacts and presence changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from engagement.routing.models import PresenceChange, Queue
from engagement.routing.selectors import interactions_released_since
from insights.kpis.models import AgentRollup
from insights.kpis.rollup import contact_rollup_rebuild, contact_rollup_refresh
from records.interactions.models import Interaction
from records.interactions.selectors import interactions_handled_around
from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import AgentProfileFactory
from tests.insights.factories import contact, routed

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


def _agent_rows() -> list[tuple]:
    return sorted(
        AgentRollup.objects.values_list(
            "interval_start",
            "agent_id",
            "team_id",
            "logged_in_seconds",
            "available_seconds",
            "idle_seconds",
            "on_contact_seconds",
            "logged_in_contact_seconds",
            "after_contact_seconds",
            "away_seconds",
            "handled",
        )
    )


def _handled(*, user, queue, answered_at: dt.datetime, talk_minutes: float, acw_minutes: float) -> Interaction:
    interaction = contact(
        queue=queue.name,
        channel="chat",
        agent=user,
        team=user.teams.first(),
        queued_at=answered_at - dt.timedelta(seconds=10),
        wait=10,
        talk=talk_minutes * 60,
    )
    routed(interaction, queue=queue, queued_at=interaction.started_at, acw=acw_minutes * 60)
    return interaction


def _recorded_long_ago() -> None:
    """The contacts so far were recorded a day ago: outside the next runs' look-back, as in production."""
    Interaction.objects.update(updated_at=timezone.now() - dt.timedelta(days=1))


@pytest.fixture
def agents():
    north = TeamFactory(name="north")
    anna = UserFactory(username="anna", teams=[north])
    bert = UserFactory(username="bert", teams=[north])
    return anna, bert, AgentProfileFactory(user=anna), AgentProfileFactory(user=bert), Queue.objects.create(name="chat")


def test_an_incremental_run_after_late_and_changed_data_equals_a_full_rebuild(settings, agents):
    # Given two agents logged in for three hours, a few contacts, and a run
    settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = 300
    anna, bert, anna_profile, bert_profile, queue = agents
    t = timezone.now()
    PresenceChange.objects.create(agent=anna_profile, presence="available", started_at=t - 180 * MINUTE)
    open_bert = PresenceChange.objects.create(agent=bert_profile, presence="available", started_at=t - 180 * MINUTE)
    _handled(user=anna, queue=queue, answered_at=t - 50 * MINUTE, talk_minutes=10, acw_minutes=2)
    # (ended before the next run's window, wrapped up in it: it reaches the window by its after-contact work)
    _handled(user=bert, queue=queue, answered_at=t - 30 * MINUTE, talk_minutes=20, acw_minutes=9)
    corrected = _handled(user=anna, queue=queue, answered_at=t - 40 * MINUTE, talk_minutes=5, acw_minutes=0)
    _recorded_long_ago()
    contact_rollup_refresh(now=t)
    # When a late contact of two hours ago arrives, one is corrected to have lasted longer,
    # bert goes away, and the next run comes
    _handled(user=bert, queue=queue, answered_at=t - 125 * MINUTE, talk_minutes=15, acw_minutes=3)
    corrected.ended_at = corrected.ended_at + 20 * MINUTE
    corrected.save()
    PresenceChange.objects.filter(pk=open_bert.pk).update(ended_at=t - 2 * MINUTE)
    PresenceChange.objects.create(agent=bert_profile, presence="away", started_at=t - 2 * MINUTE)
    later = timezone.now() + 5 * MINUTE
    contact_rollup_refresh(now=later)
    incremental = _agent_rows()
    # Then its agents' time equals a full rebuild's at the same moment
    contact_rollup_rebuild(now=later)
    assert incremental == _agent_rows()
    assert any(row[6] > 0 for row in incremental)


def test_a_second_run_with_nothing_new_keeps_the_rows(settings, agents):
    # Given a run over an agent's contacts, the last wrapped up in the look-back
    settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = 900
    anna, _bert, anna_profile, _bert_profile, queue = agents
    t = timezone.now()
    PresenceChange.objects.create(
        agent=anna_profile, presence="available", started_at=t - 90 * MINUTE, ended_at=t - 1 * MINUTE
    )
    PresenceChange.objects.create(agent=anna_profile, presence="offline", started_at=t - 1 * MINUTE)
    _handled(user=anna, queue=queue, answered_at=t - 60 * MINUTE, talk_minutes=30, acw_minutes=25)
    _handled(user=anna, queue=queue, answered_at=t - 20 * MINUTE, talk_minutes=5, acw_minutes=1)
    _recorded_long_ago()
    contact_rollup_refresh(now=t)
    # When another run comes with nothing changed
    contact_rollup_refresh(now=t + 2 * MINUTE)
    incremental = _agent_rows()
    # Then the rows are those of a full rebuild
    contact_rollup_rebuild(now=t + 2 * MINUTE)
    assert incremental == _agent_rows()


def test_the_window_reads_contacts_that_ended_or_were_wrapped_up_in_it_only(agents):
    # Given a contact that ended before the window but was wrapped up in it, one that ended in it,
    # and one over before it
    anna, _bert, _anna_profile, _bert_profile, queue = agents
    start = timezone.now() - 10 * MINUTE
    wrapped_late = _handled(user=anna, queue=queue, answered_at=start - 20 * MINUTE, talk_minutes=15, acw_minutes=8)
    ended_in = _handled(user=anna, queue=queue, answered_at=start - 5 * MINUTE, talk_minutes=10, acw_minutes=0)
    _handled(user=anna, queue=queue, answered_at=start - 40 * MINUTE, talk_minutes=10, acw_minutes=1)
    # When the window's contacts are read
    handled = interactions_handled_around(
        start=start, end=start + 15 * MINUTE, released_since_start=interactions_released_since(since=start)
    )
    # Then they are the two that reach it
    assert set(handled.values_list("pk", flat=True)) == {wrapped_late.pk, ended_in.pk}
