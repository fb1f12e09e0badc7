"""A circuit breaker per connector, in Redis, so that every process shares what it learnt.

- **closed**: calls go through; each failure (a timeout, a retryable error, a crash) adds one to
  a count that any answer resets;
- **open**: after ``CEA_BREAKER_FAILURES`` failures in a row no call goes through for
  ``CEA_BREAKER_COOLDOWN_SECONDS``: callers are told "circuit open" at once;
- **half-open**: once the cool-down is over, exactly one caller (whoever asks first, in any
  process) gets a trial call; its success closes the circuit, its failure opens it again for
  another cool-down. Other callers keep hearing "circuit open" while the trial runs; a trial
  that never reports back frees its slot after ``trial_seconds``.

Each decision is one Lua script on the Redis server and uses the server's clock, so processes on
machines whose clocks disagree still agree on when a circuit opens and closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings

CLOSED, OPEN, HALF_OPEN, TRIAL = "closed", "open", "half_open", "trial"

_NOW = "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) + tonumber(t[2]) / 1000000\n"

# KEYS[1] the breaker. ARGV[1]: how long a trial may run before another caller may try.
# Answers {decision, seconds}: closed (call), trial (call: the one trial), open (do not call;
# seconds until a trial may be made).
_ALLOW = (
    _NOW
    + """
local state = redis.call('HMGET', KEYS[1], 'open_until', 'trial_until')
local open_until = tonumber(state[1]) or 0
if open_until == 0 then return {'closed', '0'} end
if now < open_until then return {'open', tostring(open_until - now)} end
local trial_until = tonumber(state[2]) or 0
if trial_until > now then return {'open', tostring(trial_until - now)} end
redis.call('HSET', KEYS[1], 'trial_until', tostring(now + tonumber(ARGV[1])))
return {'trial', '0'}
"""
)

# KEYS[1] the breaker. ARGV: failures that open it, cool-down seconds, seconds the count is kept.
# A failure while open (a failed trial) opens it again for a whole cool-down.
_FAILURE = (
    _NOW
    + """
local state = redis.call('HMGET', KEYS[1], 'failures', 'open_until')
local failures = (tonumber(state[1]) or 0) + 1
local open_until = tonumber(state[2]) or 0
if open_until > 0 or failures >= tonumber(ARGV[1]) then
  open_until = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'failures', failures, 'open_until', tostring(open_until), 'trial_until', '0')
else
  redis.call('HSET', KEYS[1], 'failures', failures)
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])))
return {failures, tostring(open_until)}
"""
)

_STATE = (
    _NOW
    + """
local state = redis.call('HMGET', KEYS[1], 'failures', 'open_until')
return {tonumber(state[1]) or 0, tostring((tonumber(state[2]) or 0) - now), tostring(tonumber(state[2]) or 0)}
"""
)


@dataclass(frozen=True)
class Decision:
    """Whether to call the back-end: ``closed`` and ``trial`` call, ``open`` does not."""

    state: str
    retry_in: float = 0.0

    @property
    def call(self) -> bool:
        return self.state in (CLOSED, TRIAL)


@dataclass(frozen=True)
class BreakerState:
    state: str  # closed, open or half_open
    failures: int
    retry_in: float
    open_until: float = 0.0  # when the cool-down ends (Unix time, Redis's clock); 0 when closed


@lru_cache(maxsize=1)
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


@lru_cache(maxsize=1)
def _scripts() -> tuple:
    client = _client()
    return client.register_script(_ALLOW), client.register_script(_FAILURE), client.register_script(_STATE)


def breaker_key(connector_id: int) -> str:
    return f"{settings.REDIS_PREFIX}:aggregate:breaker:{connector_id}"


def breaker_allow(connector_id: int, *, trial_seconds: float) -> Decision:
    """May a call to the connector go out now? A ``trial`` answer reserves the half-open slot."""
    allow, _, _ = _scripts()
    state, seconds = allow(keys=[breaker_key(connector_id)], args=[max(trial_seconds, 0.1)])
    return Decision(state=state, retry_in=float(seconds))


def breaker_success(connector_id: int) -> None:
    """The back-end answered: the circuit closes and the count starts again."""
    _client().delete(breaker_key(connector_id))


def breaker_reset(connector_id: int) -> None:
    """Close the circuit by hand (an operator knows the back-end is back): as after an answer."""
    breaker_success(connector_id)


def breaker_failure(connector_id: int) -> BreakerState:
    """The back-end failed once more; the circuit opens at the threshold (or again, after a failed trial)."""
    _, failure, _ = _scripts()
    cooldown = settings.CEA_BREAKER_COOLDOWN_SECONDS
    failures, open_until = failure(
        keys=[breaker_key(connector_id)],
        args=[settings.CEA_BREAKER_FAILURES, cooldown, max(cooldown * 4, 3600)],
    )
    return breaker_state(connector_id) if float(open_until) else BreakerState(CLOSED, int(failures), 0.0)


def breaker_state(connector_id: int) -> BreakerState:
    """What the breaker says now (a read: it reserves nothing)."""
    _, _, state = _scripts()
    failures, retry_in, open_until = state(keys=[breaker_key(connector_id)])
    if not float(open_until):
        return BreakerState(CLOSED, int(failures), 0.0)
    if float(retry_in) > 0:
        return BreakerState(OPEN, int(failures), float(retry_in), float(open_until))
    return BreakerState(HALF_OPEN, int(failures), 0.0, float(open_until))
