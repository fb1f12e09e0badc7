"""Real-time figures computed by hand on small known data (insights/realtime/selectors.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engagement.routing.models import Presence, ReasonCode, WorkItem, WorkStatus
from insights.realtime.selectors import realtime_queues, team_board, today_start
from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import AgentProfileFactory, ConversationFactory, QueueFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CONNECT_20S = (
    "Amazon Connect: contacts answered, abandoned or turned into a callback within 20 s of being queued"
    " ÷ contacts queued"
)


def item(queue, *, ago: float, status: str, wait: float | None = None, agent=None, transferred_from=None) -> WorkItem:
    """A work item enqueued ``ago`` seconds before NOW; answered (``assigned_at``) or abandoned after ``wait``."""
    enqueued = NOW - timedelta(seconds=ago)
    answered = status in (WorkStatus.ASSIGNED, WorkStatus.WRAP_UP, WorkStatus.DONE, WorkStatus.TRANSFERRED)
    return WorkItem.objects.create(
        conversation=ConversationFactory(),
        queue=queue,
        channel="chat",
        status=status,
        enqueued_at=enqueued,
        entered_queue_at=enqueued,
        agent=agent,
        assigned_at=enqueued + timedelta(seconds=wait) if answered and wait is not None else None,
        ended_at=enqueued + timedelta(seconds=wait) if status == WorkStatus.ABANDONED else None,
        wait_seconds=wait,
        transferred_from=transferred_from,
    )


@pytest.fixture
def figures_queue(team_a):
    """A queue of team A (target 20 s) with contacts of today, of yesterday and a transfer."""
    queue = QueueFactory(name="billing", team=team_a, service_level_seconds=20)
    agent = AgentProfileFactory(teams=[team_a], presence=Presence.AVAILABLE)
    first = item(queue, ago=3 * 3600, status=WorkStatus.DONE, wait=10, agent=agent)  # answered within 20 s
    item(queue, ago=2 * 3600, status=WorkStatus.ASSIGNED, wait=50, agent=agent)  # answered late
    item(queue, ago=3600, status=WorkStatus.ABANDONED, wait=5)  # abandoned within 20 s
    item(queue, ago=1800, status=WorkStatus.ABANDONED, wait=30)  # abandoned late
    item(queue, ago=60, status=WorkStatus.WAITING)  # still waiting, past the target
    item(queue, ago=5, status=WorkStatus.OFFERED, agent=agent)  # still in the queue, not decided yet
    item(queue, ago=180, status=WorkStatus.DONE, wait=8, agent=agent)  # answered within, 3 minutes ago
    item(queue, ago=86400, status=WorkStatus.DONE, wait=3, agent=agent)  # yesterday: not today
    item(queue, ago=120, status=WorkStatus.DONE, wait=2, agent=agent, transferred_from=first)  # a transfer in
    return queue


def test_queue_figures_today_and_last_15_minutes_by_hand(figures_queue, settings):
    settings.TIME_ZONE = "UTC"

    (billing,) = [row for row in realtime_queues(team_ids=None, now=NOW) if row.name == "billing"]

    assert (billing.waiting, billing.offered) == (1, 1)
    assert billing.longest_wait_seconds == 60.0
    assert billing.oldest_enqueued_at == NOW - timedelta(seconds=60)
    # Today: 7 queued (the transfer and yesterday's left out); 3 answered (2 within 20 s), 2
    # abandoned (1 within), 1 waiting past the target, 1 not decided: (2 + 1) / (3 + 2 + 1).
    today = billing.today
    assert (today.queued, today.answered, today.abandoned, today.short_abandoned) == (7, 3, 2, 0)
    assert today.service_level_percent == 50.0
    assert billing.service_level_variant == CONNECT_20S
    assert today.average_speed_of_answer_seconds == round((10 + 50 + 8) / 3, 1)
    assert today.since == datetime(2026, 3, 10, tzinfo=UTC)
    # The last 15 minutes: the waiting one (past target), the offered one (undecided), one answered in 8 s.
    recent = billing.last_15_minutes
    assert (recent.queued, recent.answered, recent.abandoned) == (3, 1, 0)
    assert recent.service_level_percent == 50.0
    assert recent.average_speed_of_answer_seconds == 8.0
    assert recent.since == NOW - timedelta(minutes=15)


GENESYS_WITHOUT_SHORT_ABANDONS = (
    "Genesys-style: answered within 20 s ÷ (answered within 20 s + answered later"
    " + abandoned (less short abandons under 5 s))"
)


@pytest.mark.parametrize(
    ("settings_of_queue", "today_percent", "recent_percent", "variant"),
    [
        # (2 answered + 3 abandoned within 20 s) ÷ (3 answered + 4 abandoned + 1 waiting past 20 s); recent 1 ÷ 2.
        ({}, 62.5, 50.0, CONNECT_20S),
        # 2 answered within ÷ (3 answered + 4 abandoned + 1 waiting past); recent 0 ÷ (1 abandoned + 1 waiting).
        (
            {"service_level_formula": "genesys"},
            25.0,
            0.0,
            "Genesys-style: answered within 20 s ÷ (answered within 20 s + answered later + abandoned)",
        ),
        # 2 ÷ (8 − 2 short abandons) = 33.3; recent 0 ÷ (2 − 1 short abandon).
        (
            {"service_level_formula": "genesys", "sl_excludes_short_abandons": True},
            33.3,
            0.0,
            GENESYS_WITHOUT_SHORT_ABANDONS,
        ),
        # Late answers not counted: 2 ÷ (2 answered within + 4 abandoned − 2 short); the one waiting past the target
        # is left out (answered late, it would not count); recent: nothing counted (1 short abandon), no figure.
        (
            {
                "service_level_formula": "genesys",
                "sl_excludes_short_abandons": True,
                "sl_counts_answered_after_target": False,
            },
            50.0,
            None,
            "Genesys-style: answered within 20 s ÷ (answered within 20 s + abandoned (less short abandons under 5 s))",
        ),
    ],
    ids=["connect", "genesys", "genesys-without-short-abandons", "genesys-without-late-answers"],
)
def test_the_service_level_follows_the_queues_formula_with_short_abandons(
    team_a, settings, settings_of_queue, today_percent, recent_percent, variant
):
    # Given a queue (target 20 s, short abandons under 5 s) with this formula and today's contacts
    settings.TIME_ZONE = "UTC"
    queue = QueueFactory(name="support", team=team_a, service_level_seconds=20, **settings_of_queue)
    queue.full_clean()  # the combination is one the console accepts
    agent = AgentProfileFactory(teams=[team_a], presence=Presence.AVAILABLE)
    item(queue, ago=3 * 3600, status=WorkStatus.DONE, wait=10, agent=agent)  # answered within
    item(queue, ago=2.5 * 3600, status=WorkStatus.DONE, wait=10, agent=agent)  # answered within
    item(queue, ago=2 * 3600, status=WorkStatus.DONE, wait=50, agent=agent)  # answered late
    item(queue, ago=3600, status=WorkStatus.ABANDONED, wait=3)  # a short abandon (within)
    item(queue, ago=3000, status=WorkStatus.ABANDONED, wait=5)  # abandoned within, at the threshold: not short
    item(queue, ago=1800, status=WorkStatus.ABANDONED, wait=40)  # abandoned late
    item(queue, ago=300, status=WorkStatus.ABANDONED, wait=2)  # a short abandon, 5 minutes ago
    item(queue, ago=60, status=WorkStatus.WAITING)  # still waiting, past the target
    item(queue, ago=5, status=WorkStatus.OFFERED, agent=agent)  # still in the queue, not decided yet

    # When the real-time figures are read
    (support,) = [row for row in realtime_queues(team_ids=[team_a.pk], now=NOW) if row.name == "support"]

    # Then the counts, the service level under the queue's formula and its words are exact
    today, recent = support.today, support.last_15_minutes
    assert (today.queued, today.answered, today.abandoned, today.short_abandoned) == (9, 3, 4, 2)
    assert (recent.queued, recent.answered, recent.abandoned, recent.short_abandoned) == (3, 0, 1, 1)
    assert today.service_level_percent == today_percent
    assert recent.service_level_percent == recent_percent
    assert support.service_level_variant == variant


def test_a_queue_without_contacts_has_no_service_level_nor_asa(team_a):
    QueueFactory(name="quiet", team=team_a)

    (quiet,) = [row for row in realtime_queues(team_ids=[team_a.pk], now=NOW) if row.name == "quiet"]

    assert (quiet.waiting, quiet.offered, quiet.longest_wait_seconds) == (0, 0, None)
    assert (quiet.today.queued, quiet.today.service_level_percent, quiet.today.average_speed_of_answer_seconds) == (
        0,
        None,
        None,
    )


def test_realtime_queues_of_teams_are_theirs_and_the_shared_ones(team_a, team_b):
    QueueFactory(name="a-queue", team=team_a)
    QueueFactory(name="b-queue", team=team_b)
    QueueFactory(name="shared-queue", team=None)

    names = {row.name for row in realtime_queues(team_ids=[team_a.pk], now=NOW)}

    assert {"a-queue", "shared-queue"} <= names
    assert "b-queue" not in names


def test_team_board_counts_the_teams_agents_by_state_and_away_reason(team_a, team_b):
    break_, _ = ReasonCode.objects.get_or_create(code="break", defaults={"label": "Break"})
    lunch, _ = ReasonCode.objects.get_or_create(code="lunch", defaults={"label": "Lunch"})
    for presence, reason in [
        (Presence.AVAILABLE, None),
        (Presence.AVAILABLE, None),
        (Presence.BUSY, None),
        (Presence.AFTER_CONTACT, None),
        (Presence.AWAY, break_),
        (Presence.AWAY, break_),
        (Presence.AWAY, lunch),
        (Presence.OFFLINE, None),
    ]:
        AgentProfileFactory(teams=[team_a], presence=presence, reason=reason)
    AgentProfileFactory(teams=[team_a, team_b], presence=Presence.AVAILABLE)  # in both teams: counts in each
    AgentProfileFactory(teams=[team_b], presence=Presence.AVAILABLE)  # another team's
    gone = AgentProfileFactory(teams=[team_a], presence=Presence.AVAILABLE)
    gone.user.is_active = False  # deactivated: not on the board
    gone.user.save()

    agents = team_board(team=team_a, now=NOW).agents

    assert (agents.available, agents.busy, agents.after_contact, agents.away, agents.offline) == (3, 1, 1, 3, 1)
    assert agents.total == 9
    assert [(reason.code, reason.agents) for reason in agents.away_reasons] == [("break", 2), ("lunch", 1)]
    assert team_board(team=team_b, now=NOW).agents.available == 2


def test_team_board_lists_the_teams_queues_and_the_shared_ones(team_a, team_b):
    QueueFactory(name="a-queue", team=team_a)
    QueueFactory(name="b-queue", team=team_b)

    board = team_board(team=team_a, now=NOW)

    assert (board.team_id, board.team, board.computed_at) == (team_a.pk, "Team A", NOW)
    names = [queue.name for queue in board.queues]
    assert "a-queue" in names and "b-queue" not in names
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("now", "midnight"),
    [
        # The day the clocks go forward in London (23 hours): midnight was still GMT.
        (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 0, 0, tzinfo=UTC)),
        # The next day's midnight is BST: 23:00 UTC the day before.
        (datetime(2026, 3, 30, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 23, 0, tzinfo=UTC)),
        # The day they go back (25 hours): midnight was BST.
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), datetime(2026, 10, 24, 23, 0, tzinfo=UTC)),
        # Half past midnight UTC on a summer day is already 01:30 in London.
        (datetime(2026, 7, 1, 0, 30, tzinfo=UTC), datetime(2026, 6, 30, 23, 0, tzinfo=UTC)),
    ],
)
def test_today_starts_at_local_midnight_across_dst(settings, now, midnight):
    settings.TIME_ZONE = "Europe/London"

    assert today_start(now=now) == midnight


def test_team_factory_is_used_for_an_empty_team_board():
    team = TeamFactory(name="Empty")
    UserFactory(username="lonely", role="agent", teams=[team])  # no routing profile yet: not counted

    board = team_board(team=team, now=NOW)

    assert board.agents.total == 0


def test_each_queues_agents_are_those_who_may_take_its_work_as_far_as_the_reader_sees(team_a, team_b):
    QueueFactory(name="a-queue", team=team_a)
    QueueFactory(name="b-queue", team=team_b)
    QueueFactory(name="shared-queue", team=None)
    AgentProfileFactory(teams=[team_a], presence=Presence.AVAILABLE)
    AgentProfileFactory(teams=[team_a, team_b], presence=Presence.BUSY)  # in both: once on a shared queue
    AgentProfileFactory(teams=[team_b], presence=Presence.OFFLINE)

    everyone = {row.name: row.agents for row in realtime_queues(team_ids=None, now=NOW)}
    team_a_only = {row.name: row.agents for row in realtime_queues(team_ids=[team_a.pk], now=NOW)}

    assert (everyone["a-queue"].available, everyone["a-queue"].busy, everyone["a-queue"].total) == (1, 1, 2)
    assert (everyone["b-queue"].busy, everyone["b-queue"].offline, everyone["b-queue"].total) == (1, 1, 2)
    assert everyone["shared-queue"].total == 3  # every agent, each once
    assert team_a_only["shared-queue"].total == 2  # the reader's teams' agents only
    assert "b-queue" not in team_a_only
