"""Queueing formulas of staffing: Erlang B, Erlang C, Erlang A (M/M/n+M) and chat — pure functions.

Numerically stable for hundreds of erlangs: Erlang B by its forward recursion
``B(n) = a·B(n-1) / (n + a·B(n-1))`` (every step in [0, 1]; no factorials, no powers), and
Erlang A's sums over the queue length in log space. The formulas are in docs/wfm.md ("Staffing").

Units: times in seconds, traffic in erlangs (arrival rate × handle time), shares in 0–1.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, digamma, gammainc, gammaincc, gammaln  # type: ignore[import-untyped]

MAX_AGENTS = 100_000
_SERIES_CHUNK = 256
_SERIES_TAIL = 46.0  # stop Erlang A's sums when a term is e^-46 (~1e-20) of the largest


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability of ``agents`` servers offered ``traffic`` erlangs (Erlang B)."""
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def erlang_b_closed(traffic: float, agents: int) -> float:
    """Erlang B in O(1): the Poisson(``traffic``) probability of ``agents`` over that of at most ``agents``,
    ``B = p(n) / P(N <= n)``, in log space; the recursion where the Poisson tail underflows."""
    if traffic <= 0:
        return 0.0
    tail = float(gammaincc(agents + 1, traffic))  # P(N <= n) for N ~ Poisson(traffic)
    if tail < 1e-280:
        return erlang_b(traffic, agents)
    log_pmf = -traffic + agents * math.log(traffic) - float(gammaln(agents + 1))
    return min(1.0, math.exp(log_pmf - math.log(tail)))


def _erlang_c_from_b(traffic: float, agents: int, blocking: float) -> float:
    if agents <= traffic:
        return 1.0
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def erlang_c_wait_probability(traffic: float, agents: int) -> float:
    """Probability that a contact waits (Erlang C); 1 when ``agents`` ≤ ``traffic`` (the queue grows)."""
    if traffic <= 0:
        return 0.0
    return _erlang_c_from_b(traffic, agents, erlang_b(traffic, agents))


def _sl_from_wait(wait_probability: float, traffic: float, agents: int, aht_s: float, target_s: float) -> float:
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return max(0.0, 1.0 - wait_probability * math.exp(-(agents - traffic) * target_s / aht_s))


def _asa_from_wait(wait_probability: float, traffic: float, agents: int, aht_s: float) -> float:
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return wait_probability * aht_s / (agents - traffic)


def service_level(traffic: float, agents: int, aht_s: float, target_s: float) -> float:
    """Erlang C: share of contacts answered within ``target_s`` seconds, ``1 - C·e^{-(n-a)t/AHT}``."""
    return _sl_from_wait(erlang_c_wait_probability(traffic, agents), traffic, agents, aht_s, target_s)


def asa(traffic: float, agents: int, aht_s: float) -> float:
    """Erlang C: average speed of answer in seconds, ``C·AHT/(n-a)`` (infinite when ``n`` ≤ ``a``)."""
    return _asa_from_wait(erlang_c_wait_probability(traffic, agents), traffic, agents, aht_s)


# --- Erlang A -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErlangAResult:
    """M/M/n+M in steady state: ``wait_probability`` P(W>0); ``service_level`` the share of all
    arrivals answered within the target; ``asa_seconds`` the mean wait of those answered;
    ``abandon_rate`` the share abandoning; ``occupancy`` the agents' busy share."""

    wait_probability: float
    service_level: float
    asa_seconds: float
    abandon_rate: float
    occupancy: float


def _log_a_function(x: float, y: float) -> float:
    """``log A(x, y)``, ``A(x, y) = x·e^y·y^{-x}·γ(x, y) = Σ_j y^j / Π_{k=1..j}(x+k)``
    (γ the lower incomplete gamma function), the closed form of Garnett, Mandelbaum and Reiman."""
    regularised = float(gammainc(x, y))
    if regularised > 1e-280:
        return math.log(x) + y - x * math.log(y) + float(gammaln(x)) + math.log(regularised)
    terms = _queue_log_weights(x, y)  # y far below x: the series ends in a few terms
    top = float(terms.max())
    return top + math.log(float(np.exp(terms - top).sum()))


def _queue_log_weights(x: float, y: float) -> np.ndarray:
    """``log(y^j / Π_{k=1..j}(x+k))`` for j = 0, 1, … until the terms are negligible: the relative
    stationary probabilities of j contacts waiting (the birth–death chain above n busy agents)."""
    chunks = [np.zeros(1)]
    if y <= 0:
        return chunks[0]
    first, last, top = 1, 0.0, 0.0
    while first < 50 * MAX_AGENTS:
        k = np.arange(first, first + _SERIES_CHUNK, dtype=float)
        chunk = last + np.cumsum(math.log(y) - np.log(x + k))
        chunks.append(chunk)
        top, last = max(top, float(chunk.max())), float(chunk[-1])
        first += _SERIES_CHUNK
        if y <= x + first and last < top - _SERIES_TAIL:
            break
    return np.concatenate(chunks)


def erlang_a(arrival_rate_per_s: float, aht_s: float, patience_s: float, agents: int, target_s: float) -> ErlangAResult:
    """Erlang A (Palm; Garnett, Mandelbaum and Reiman 2002): ``agents`` servers, Poisson arrivals,
    exponential handle times and patience (mean ``patience_s``), first come first served.

    Closed forms: with ``x = nμ/θ``, ``y = λ/θ``, ``E`` Erlang B and ``ρ = λ/(nμ)``,
    P(W>0) = ``A·E / (1 + (A-1)·E)`` and P(Ab | W>0) = ``1/(ρA) + 1 - 1/ρ``. Service level and the
    answered contacts' mean wait sum over the queue found on arrival (see docs/wfm.md).
    """
    if arrival_rate_per_s <= 0:
        return ErlangAResult(0.0, 1.0, 0.0, 0.0, 0.0)
    if agents <= 0:
        return ErlangAResult(1.0, 0.0, 0.0, 1.0, 0.0)
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    x, y = agents * mu / theta, arrival_rate_per_s / theta
    blocking = erlang_b_closed(arrival_rate_per_s * aht_s, agents)
    a_value = math.exp(_log_a_function(x, y))
    wait = a_value * blocking / (1.0 + (a_value - 1.0) * blocking)
    rho = arrival_rate_per_s / (agents * mu)
    abandon = wait * max(0.0, 1.0 / (rho * a_value) + 1.0 - 1.0 / rho)
    served_within, answered_wait = _erlang_a_waits(x, y, theta, target_s)
    service = (1.0 - wait) + wait * served_within
    answered = 1.0 - abandon
    asa_seconds = wait * answered_wait / answered if answered > 0 else math.inf
    occupancy = min(1.0, arrival_rate_per_s * answered * aht_s / agents)
    return ErlangAResult(wait, min(1.0, service), asa_seconds, abandon, occupancy)


def _erlang_a_waits(x: float, y: float, theta: float, target_s: float) -> tuple[float, float]:
    """Given a contact waits: the share answered within ``target_s`` and the mean of (wait × answered).

    With j waiting ahead, the scaled wait ``u = 1 - e^{-θV}`` (V the offered wait) is Beta(j+1, x), and
    a contact is answered with probability ``e^{-θV}``; hence per j: answered within t is
    ``x/(x+j+1)·I_c(j+1, x+1)`` with ``c = 1 - e^{-θt}``, and E[V·answered] is
    ``x/(x+j+1)·Σ_{i=1..j+1} 1/(x+i) / θ``.
    """
    log_weights = _queue_log_weights(x, y)
    top = float(log_weights.max())
    j = np.flatnonzero(log_weights > top - _SERIES_TAIL).astype(float)  # the rest is below 1e-20 of the top
    weights = np.exp(log_weights[j.astype(int)] - top)
    weights /= weights.sum()
    answered_share = x / (x + j + 1.0)
    cut = -math.expm1(-theta * target_s)
    within = float(np.sum(weights * answered_share * betainc(j + 1.0, x + 1.0, cut)))
    # Σ_{i=1..j+1} 1/(x+i) = ψ(x+j+2) - ψ(x+1): the kept j need not start at 0
    harmonic = digamma(x + j + 2.0) - digamma(x + 1.0)
    answered_wait = float(np.sum(weights * answered_share * harmonic)) / theta
    return within, answered_wait


# --- Requirements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffingResult:
    """The agents one interval needs on contacts, and what they are expected to achieve."""

    agents: int
    service_level: float | None
    asa_seconds: float | None
    occupancy: float | None
    abandon_rate: float | None = None
    wait_probability: float | None = None


@dataclass(frozen=True)
class StaffingInput:
    """One interval's demand and target.

    ``model``: ``erlang_c``, ``erlang_a``, ``chat`` or ``backlog``. ``target_kind``: ``service_level``
    (``service_level_target`` of contacts within ``service_level_seconds``) or ``asa``
    (``asa_seconds``). ``max_occupancy`` 0–1 caps how busy agents may be.
    """

    volume: float
    aht_seconds: float
    interval_seconds: int = 900
    model: str = "erlang_c"
    target_kind: str = "service_level"
    service_level_target: float = 0.8
    service_level_seconds: float = 20.0
    asa_seconds: float | None = None
    patience_seconds: float | None = None
    concurrency: int = 1
    max_occupancy: float = 1.0

    @property
    def arrival_rate_per_s(self) -> float:
        return self.volume / self.interval_seconds

    @property
    def traffic(self) -> float:
        return self.arrival_rate_per_s * self.aht_seconds


def _meets(demand: StaffingInput, service: float | None, asa_s: float | None) -> bool:
    if demand.target_kind == "asa":
        return asa_s is not None and asa_s <= float(demand.asa_seconds or 0)
    return service is not None and service >= demand.service_level_target - 1e-12


def _erlang_c_required(demand: StaffingInput, traffic: float) -> StaffingResult:
    """Smallest n > a meeting the target, walking Erlang B's recursion once (O(n))."""
    aht_s = demand.aht_seconds
    blocking, n = 1.0, 0
    while n < MAX_AGENTS:
        n += 1
        blocking = traffic * blocking / (n + traffic * blocking)
        if n <= traffic:
            continue
        wait = _erlang_c_from_b(traffic, n, blocking)
        service = _sl_from_wait(wait, traffic, n, aht_s, demand.service_level_seconds)
        asa_s = _asa_from_wait(wait, traffic, n, aht_s)
        if _meets(demand, service, asa_s) and traffic / n <= demand.max_occupancy + 1e-12:
            return StaffingResult(n, service, asa_s, traffic / n, None, wait)
    raise ValueError(f"No staffing up to {MAX_AGENTS} agents meets the target.")


def _erlang_a_at(demand: StaffingInput, agents: int) -> ErlangAResult:
    return erlang_a(
        demand.arrival_rate_per_s,
        demand.aht_seconds,
        float(demand.patience_seconds or 0),
        agents,
        demand.service_level_seconds,
    )


def _erlang_a_ok(demand: StaffingInput, agents: int) -> bool:
    result = _erlang_a_at(demand, agents)
    return _meets(demand, result.service_level, result.asa_seconds) and result.occupancy <= demand.max_occupancy


def _erlang_a_required(demand: StaffingInput) -> StaffingResult:
    """Smallest n meeting the target and the occupancy cap (both monotone in n).

    Starts from Erlang C's answer (abandonment relieves the queue, so Erlang A's is usually a few
    agents lower): gallops down from there (1, 2, 4, … below) or up (doubling) to a bracket, then bisects."""
    start = max(1, math.floor(demand.traffic) + 1)
    with contextlib.suppress(ValueError):  # no Erlang C answer within MAX_AGENTS: start from the traffic
        start = max(start, _erlang_c_required(demand, demand.traffic).agents)
    if _erlang_a_ok(demand, start):
        high, step = start, 1
        low = max(0, high - step)
        while low > 0 and _erlang_a_ok(demand, low):
            high, step = low, step * 2
            low = max(0, high - step)
    else:
        low, high = start, start * 2
        while not _erlang_a_ok(demand, high):
            low, high = high, high * 2
            if high > MAX_AGENTS:
                raise ValueError(f"No staffing up to {MAX_AGENTS} agents meets the target.")
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _erlang_a_ok(demand, middle) else (middle, high)
    result = _erlang_a_at(demand, high)
    return StaffingResult(
        high, result.service_level, result.asa_seconds, result.occupancy, result.abandon_rate, result.wait_probability
    )


def _backlog_required(demand: StaffingInput, traffic: float) -> StaffingResult:
    """Deferred work: the interval's workload over the agents' allowed occupancy."""
    agents = math.ceil(traffic / demand.max_occupancy - 1e-9)
    return StaffingResult(agents, None, None, traffic / agents if agents else None)


def required_agents(demand: StaffingInput) -> StaffingResult:
    """The fewest agents on contacts meeting ``demand``'s target and occupancy cap.

    Chat: Erlang C on *sessions* (an agent holds ``concurrency`` at once, each lasting the AHT),
    agents = ⌈sessions / concurrency⌉, occupancy the share of session slots in use.
    Raises ``ValueError`` on a target no staffing can meet (e.g. an ASA target of 0).
    """
    traffic = demand.traffic
    if demand.volume <= 0 or demand.aht_seconds <= 0:
        return StaffingResult(0, None, None, None)
    if demand.model == "backlog":
        return _backlog_required(demand, traffic)
    if demand.model == "erlang_a":
        return _erlang_a_required(demand)
    result = _erlang_c_required(demand, traffic)
    if demand.model != "chat" or demand.concurrency <= 1:
        return result
    agents = math.ceil(result.agents / demand.concurrency)
    return StaffingResult(
        agents,
        result.service_level,
        result.asa_seconds,
        traffic / (agents * demand.concurrency),
        None,
        result.wait_probability,
    )


def with_shrinkage(agents: float, percent: float) -> float:
    """Agents to schedule so that ``agents`` remain on contacts after ``percent`` shrinkage: ``n/(1-s)``."""
    if not 0 <= percent < 100:
        raise ValueError("Shrinkage is a percentage from 0 to below 100.")
    return agents / (1.0 - percent / 100.0)
