"""Staffing formulas: Erlang C against pyworkforce on a grid, Erlang A against the exact birth–death
chain, Erlang A converging to Erlang C as patience grows, and stability at hundreds of erlangs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from pyworkforce.queuing import ErlangC
from scipy.linalg import expm

from engagement.wfm.staffing.erlang import (
    StaffingInput,
    asa,
    erlang_a,
    erlang_b,
    erlang_c_wait_probability,
    required_agents,
    service_level,
    with_shrinkage,
)

GRID = list(
    itertools.product(
        [5, 37, 120, 400, 1500, 4000],  # contacts per 15 minutes
        [45, 180, 300, 600],  # AHT seconds
        [10, 20, 60],  # answered within seconds
        [0.6, 0.8, 0.9, 0.95],  # service-level target
        [0.85, 1.0],  # maximum occupancy
    )
)


@pytest.mark.parametrize(("volume", "aht", "seconds", "target", "occupancy"), GRID)
def test_erlang_c_requirement_matches_pyworkforce(volume, aht, seconds, target, occupancy):
    # given pyworkforce's ErlangC on the same interval (it takes minutes)
    reference = ErlangC(transactions=volume, aht=aht / 60, asa=seconds / 60, interval=15, shrinkage=0.3)
    expected = reference.required_positions(service_level=target, max_occupancy=occupancy)
    # when we compute the requirement
    ours = required_agents(
        StaffingInput(
            volume=volume,
            aht_seconds=aht,
            interval_seconds=900,
            service_level_target=target,
            service_level_seconds=seconds,
            max_occupancy=occupancy,
        )
    )
    # then the same agents, service level, occupancy and wait probability; the same agents with shrinkage
    assert ours.agents == expected["raw_positions"]
    assert ours.service_level == pytest.approx(expected["service_level"], abs=1e-9)
    assert ours.occupancy == pytest.approx(expected["occupancy"], abs=1e-12)
    assert ours.wait_probability == pytest.approx(expected["waiting_probability"], abs=1e-9)
    assert math.ceil(with_shrinkage(ours.agents, 30)) == expected["positions"]


def _birth_death(arrival_rate: float, aht: float, patience: float, agents: int, target: float) -> dict[str, float]:
    """The M/M/n+M chain solved numerically, truncated far above the agents: the stationary
    distribution from the generator, and a tagged arrival's wait as an absorbing chain (served /
    abandoned) solved with the matrix exponential and the fundamental matrix."""
    mu, theta, top = 1 / aht, 1 / patience, agents + 400
    generator = np.zeros((top + 1, top + 1))
    for k in range(top + 1):
        if k < top:
            generator[k, k + 1] = arrival_rate
        if k > 0:
            generator[k, k - 1] = min(k, agents) * mu + max(k - agents, 0) * theta
        generator[k, k] = -generator[k].sum()
    system = np.vstack([generator.T, np.ones(top + 1)])
    rhs = np.zeros(top + 2)
    rhs[-1] = 1
    stationary = np.linalg.lstsq(system, rhs, rcond=None)[0]
    waiting = np.arange(top + 1 - agents)
    abandon = theta * float(np.sum(waiting * stationary[agents:])) / arrival_rate
    ahead = len(waiting)
    tagged = np.zeros((ahead, ahead))
    to_agent = np.zeros(ahead)
    for i in range(ahead):
        tagged[i, i] = -(agents * mu + i * theta + theta)
        if i:
            tagged[i, i - 1] = agents * mu + i * theta
    to_agent[0] = agents * mu
    fundamental = np.linalg.inv(-tagged)
    served_by_target = (np.eye(ahead) - expm(tagged * target)) @ fundamental @ to_agent
    wait_if_served = fundamental @ fundamental @ to_agent
    on_arrival = stationary[agents:]
    return {
        "wait_probability": float(on_arrival.sum()),
        "abandon_rate": abandon,
        "service_level": float(stationary[:agents].sum() + on_arrival @ served_by_target),
        "asa_seconds": float(on_arrival @ wait_if_served) / (1 - abandon),
    }


@pytest.mark.parametrize(
    ("arrival_rate", "aht", "patience", "agents", "target"),
    [
        (10 / 60, 240, 120, 40, 20),  # 40 erlangs, staffed as it should be
        (0.5, 300, 60, 140, 20),  # 150 erlangs on 140 agents: overloaded, abandonment keeps it stable
        (0.02, 180, 300, 3, 30),  # a small queue
        (0.5, 300, 200, 160, 20),
    ],
)
def test_erlang_a_matches_the_birth_death_chain(arrival_rate, aht, patience, agents, target):
    # given the exact solution of the chain
    exact = _birth_death(arrival_rate, aht, patience, agents, target)
    # when Erlang A's closed form is evaluated
    ours = erlang_a(arrival_rate, aht, patience, agents, target)
    # then every figure agrees within 1e-6 (ASA, in seconds, within 1e-6 relative)
    assert ours.wait_probability == pytest.approx(exact["wait_probability"], abs=1e-6)
    assert ours.abandon_rate == pytest.approx(exact["abandon_rate"], abs=1e-6)
    assert ours.service_level == pytest.approx(exact["service_level"], abs=1e-6)
    assert ours.asa_seconds == pytest.approx(exact["asa_seconds"], rel=1e-6)


def test_erlang_a_converges_to_erlang_c_as_patience_grows():
    # given 150 erlangs on 160 agents (Erlang C is stable there)
    rate, aht, agents, target = 0.5, 300, 160, 20
    traffic = rate * aht
    c_wait = erlang_c_wait_probability(traffic, agents)
    c_service = service_level(traffic, agents, aht, target)
    c_asa = asa(traffic, agents, aht)
    # when patience grows tenfold at a time
    gaps = []
    for patience in (1e3, 1e4, 1e5, 1e6, 1e7):
        ours = erlang_a(rate, aht, patience, agents, target)
        gaps.append(
            max(abs(ours.wait_probability - c_wait), abs(ours.service_level - c_service), abs(ours.asa_seconds - c_asa))
        )
        last = ours
    # then the gap shrinks every time, and at 10^7 s of patience the figures are Erlang C's
    assert all(later < earlier for earlier, later in itertools.pairwise(gaps))
    assert last.wait_probability == pytest.approx(c_wait, abs=1e-4)
    assert last.service_level == pytest.approx(c_service, abs=1e-4)
    assert last.abandon_rate < 1e-4


def test_erlang_a_requirement_needs_fewer_agents_than_erlang_c():
    # given a voice queue where callers abandon after three minutes on average
    demand = dict(volume=600, aht_seconds=300, service_level_target=0.8, service_level_seconds=20)
    # when staffed by both models
    with_abandonment = required_agents(StaffingInput(model="erlang_a", patience_seconds=180, **demand))
    without = required_agents(StaffingInput(model="erlang_c", **demand))
    # then Erlang A needs fewer (abandonment relieves the queue) and meets the target at its answer, not one below
    assert with_abandonment.agents < without.agents
    assert with_abandonment.service_level >= 0.8
    below = erlang_a(600 / 900, 300, 180, with_abandonment.agents - 1, 20)
    assert below.service_level < 0.8
    assert 0 < with_abandonment.abandon_rate < 0.05


def test_large_traffic_is_stable():
    # given 500 erlangs (1,500 contacts of 5 minutes in 15 minutes) and 2,000 erlangs
    for traffic in (500.0, 2000.0):
        volume = traffic * 900 / 300
        # when staffed for 80% in 20 seconds, and evaluated by Erlang A with long patience
        result = required_agents(StaffingInput(volume=volume, aht_seconds=300, service_level_seconds=20))
        a_result = erlang_a(volume / 900, 300, 600, result.agents, 20)
        # then finite figures in range, a little above the traffic
        assert traffic < result.agents < traffic * 1.1
        assert 0.8 <= result.service_level < 1
        assert math.isfinite(result.asa_seconds)
        assert 0 < erlang_b(traffic, result.agents) < 1
        for value in (a_result.wait_probability, a_result.service_level, a_result.abandon_rate):
            assert 0 <= value <= 1


def test_asa_target_chat_backlog_and_shrinkage():
    # given an ASA target of 15 seconds on 120 contacts of 4 minutes in 15 minutes
    asa_result = required_agents(
        StaffingInput(volume=120, aht_seconds=240, target_kind="asa", asa_seconds=15, service_level_target=0)
    )
    # then its ASA meets the target and one agent fewer would not
    assert asa_result.asa_seconds <= 15
    assert asa(32, asa_result.agents - 1, 240) > 15
    # given chat at concurrency 2: half the sessions' agents, rounded up
    sessions = required_agents(StaffingInput(volume=90, aht_seconds=600))
    chat = required_agents(StaffingInput(volume=90, aht_seconds=600, model="chat", concurrency=2))
    assert chat.agents == math.ceil(sessions.agents / 2)
    assert chat.occupancy == pytest.approx(60 / (chat.agents * 2))
    # given e-mail: 40 of 6 minutes in 15 minutes at 80% occupancy is 16 / 0.8 = 20 agents
    assert required_agents(StaffingInput(volume=40, aht_seconds=360, model="backlog", max_occupancy=0.8)).agents == 20
    # shrinkage of 30%: 14 on contacts need 20 scheduled; no volume needs none
    assert with_shrinkage(14, 30) == pytest.approx(20)
    assert required_agents(StaffingInput(volume=0, aht_seconds=300)).agents == 0
    with pytest.raises(ValueError):
        with_shrinkage(10, 100)


@pytest.mark.parametrize(
    ("volume", "aht", "patience", "target_kind", "target"),
    [
        (900, 300, 30, "service_level", 0.8),  # impatient callers: far fewer agents than Erlang C
        (1800, 180, 600, "service_level", 0.9),
        (12, 420, 240, "service_level", 0.7),
        (400, 240, 120, "asa", 10),
        (3000, 300, 180, "service_level", 0.95),  # 1,000 erlangs
    ],
)
def test_erlang_a_requirement_is_the_fewest_meeting_the_target(volume, aht, patience, target_kind, target):
    # given an Erlang A demand with an SL or an ASA target
    demand = StaffingInput(
        volume=volume,
        aht_seconds=aht,
        model="erlang_a",
        patience_seconds=patience,
        target_kind=target_kind,
        service_level_target=target if target_kind == "service_level" else 0.8,
        asa_seconds=target if target_kind == "asa" else None,
    )
    # when its requirement is computed
    result = required_agents(demand)
    # then it meets the target and one agent fewer does not
    at, below = (erlang_a(volume / 900, aht, patience, n, 20) for n in (result.agents, result.agents - 1))
    if target_kind == "asa":
        assert at.asa_seconds <= target < below.asa_seconds
    else:
        assert at.service_level >= target > below.service_level
