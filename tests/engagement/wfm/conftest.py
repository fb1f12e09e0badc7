"""Fixtures of the WFM tests (issue 15). The roster's (part D): a future week, a colleague of the agent in
team A, and a supervisor of team B."""

from __future__ import annotations

import pytest

from tests.accounts.factories import UserFactory
from tests.engagement.wfm.roster_support import future_monday


@pytest.fixture
def week():
    """The Monday two weeks ahead (local): shifts in it have not started."""
    return future_monday()


@pytest.fixture
def colleague(team_a):
    return UserFactory(username="agent.a2", role="agent", teams=[team_a])


@pytest.fixture
def supervisor_b(team_b):
    return UserFactory(username="supervisor.b", role="supervisor", teams=[team_b])
