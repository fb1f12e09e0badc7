"""Active event strategies indexed by the journey event kinds they wait for, kept in memory.

Each process keeps one index and rebuilds it when the version in the shared cache (Redis)
changes — every strategy change sets a new version (``strategy_index_invalidate``), read at most
once a second — or after
``MAX_AGE_SECONDS`` at the latest (a start or end date passing needs no change to take effect:
the window is checked at each firing anyway). Looking up an event kind is a dictionary read
plus the few wildcard patterns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from cea.common.shared_version import shared_version, shared_version_bump
from insights.strategies.models import Strategy, TriggerKind
from insights.strategies.rules import event_matches

VERSION_KEY = "insights:strategies:index-version"
MAX_AGE_SECONDS = 60.0
VERSION_CHECK_SECONDS = 1.0  # another process's change is seen within this long


@dataclass
class StrategyIndex:
    version: str
    loaded_at: float
    checked_at: float = 0.0
    exact: dict[str, list[Strategy]] = field(default_factory=dict)
    patterns: list[Strategy] = field(default_factory=list)

    def matching(self, kind: str) -> list[Strategy]:
        """The active event strategies whose pattern matches ``kind``, in key order (earlier keys meet the
        customer's global cap first)."""
        found = self.exact.get(kind, [])
        if self.patterns:
            found = sorted(
                found + [s for s in self.patterns if event_matches(s.event_pattern, kind)], key=lambda s: s.key
            )
        return found


_current: StrategyIndex | None = None


def _build(version: str) -> StrategyIndex:
    index = StrategyIndex(version=version, loaded_at=time.monotonic())
    for strategy in Strategy.objects.filter(active=True, trigger_kind=TriggerKind.EVENT).order_by("key"):
        if "*" in strategy.event_pattern:
            index.patterns.append(strategy)
        else:
            index.exact.setdefault(strategy.event_pattern, []).append(strategy)
    return index


def strategy_index() -> StrategyIndex:
    """The index of this process, rebuilt if a strategy changed since (the version is read from
    the cache at most once a second; a change made in this process is seen at once)."""
    global _current
    index, now = _current, time.monotonic()
    if index is not None and now - index.checked_at < VERSION_CHECK_SECONDS:
        return index
    version = shared_version(VERSION_KEY)
    if index is None or index.version != version or now - index.loaded_at > MAX_AGE_SECONDS:
        index = _current = _build(version)
    index.checked_at = now
    return index


def _forget_here() -> None:
    global _current
    _current = None


def strategy_index_invalidate() -> None:
    """Every process rebuilds its index at its next look-up: now, and again once the change commits."""
    shared_version_bump(VERSION_KEY, forget=_forget_here)
