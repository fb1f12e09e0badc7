"""Counting failed verification attempts, and the cool-off lock they lead to.

One rule for everyone: ``CEA_IDV_MAX_FAILURES`` failures in a row (successes reset the count;
failures older than the cool-off no longer count) lock verification. The lock lifts by itself;
the next failure after it starts a fresh count. Attempts made while locked are refused and not
counted.

Locks escalate, so that a guesser gets a handful of tries per day, not per half hour (four
digits of an account number have only 10,000 values): the first lock lasts
``CEA_IDV_LOCK_MINUTES``, each further lock in a row twice the one before, up to
``CEA_IDV_LOCK_MAX_MINUTES``. The locks in a row are forgotten after a success, a supervisor's
clearing, or ``CEA_IDV_LOCK_MAX_MINUTES`` without a failure after the last lock lifted.

- A known customer's failures are counted on their ``VerificationLock`` row, across every
  conversation and every method, under ``SELECT … FOR UPDATE`` so that parallel guesses all count.
- A conversation whose customer is unknown has nobody to lock, yet it must behave exactly the
  same, or the lockout itself would tell an attacker that an identifier is not on file (a known
  customer locks after N wrong guesses, an unknown one never would). Its failures are counted the
  same way on a small hash in Redis, atomically by one script, for as long as they matter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import redis
from django.conf import settings

from engagement.idv.models import VerificationLock


def lock_period() -> timedelta:
    """The first lock's length, and how long failures count towards one."""
    return timedelta(minutes=settings.CEA_IDV_LOCK_MINUTES)


def max_lock_period() -> timedelta:
    """The longest lock (never shorter than the first)."""
    return max(timedelta(minutes=settings.CEA_IDV_LOCK_MAX_MINUTES), lock_period())


def lock_length(lockouts: int) -> timedelta:
    """How long the ``lockouts``-th lock in a row lasts: doubling from ``lock_period()``, capped."""
    longest = max_lock_period()
    length = lock_period()
    for _ in range(max(lockouts, 1) - 1):
        length *= 2
        if length >= longest:
            return longest
    return length


@dataclass(frozen=True)
class Failure:
    """What one failed attempt led to: the failures counted so far, and the lock if it reached the limit."""

    failures: int
    locked_until: datetime | None
    lockouts: int = 0


def retry_after_seconds(locked_until: datetime, now: datetime) -> int:
    return max(1, math.ceil((locked_until - now).total_seconds()))


# --- Known customers: the VerificationLock row --------------------------------------------------


def customer_lock_for_update(customer) -> VerificationLock:
    """The customer's lock row, created if missing, locked ``FOR UPDATE`` until the transaction ends.

    Call inside ``transaction.atomic``. Every attempt on a customer takes this lock first, so
    attempts on one customer are serialised and each one is counted.
    """
    VerificationLock.objects.bulk_create([VerificationLock(customer=customer)], ignore_conflicts=True)
    return VerificationLock.objects.select_for_update().get(customer=customer)


def customer_locked_until(customer, now: datetime) -> datetime | None:
    """When the customer's lock lifts, or ``None`` if verification is open (a plain read, no row lock)."""
    locked_until = VerificationLock.objects.filter(customer=customer).values_list("locked_until", flat=True).first()
    return locked_until if locked_until is not None and locked_until > now else None


def lock_active_until(lock: VerificationLock, now: datetime) -> datetime | None:
    return lock.locked_until if lock.locked_until is not None and lock.locked_until > now else None


def lock_register_failure(lock: VerificationLock, now: datetime) -> Failure:
    """Count one failure on ``lock`` (held ``FOR UPDATE``, not currently locked) and save it."""
    if lock.lockouts and (
        lock.last_failure_at is None or lock.last_failure_at <= now - lock_length(lock.lockouts) - max_lock_period()
    ):
        # Quiet for long enough after the last lock: the next lock is the shortest again.
        lock.lockouts = 0
    if lock.locked_until is not None or (
        lock.last_failure_at is not None and lock.last_failure_at <= now - lock_period()
    ):
        # A lock that has lifted, or failures older than the cool-off: start a fresh count.
        lock.failures = 0
        lock.locked_until = None
    lock.failures += 1
    lock.last_failure_at = now
    if lock.failures >= settings.CEA_IDV_MAX_FAILURES:
        lock.lockouts += 1
        lock.locked_until = now + lock_length(lock.lockouts)
    lock.save(update_fields=["failures", "last_failure_at", "locked_until", "lockouts"])
    return Failure(failures=lock.failures, locked_until=lock.locked_until, lockouts=lock.lockouts)


def lock_register_success(lock: VerificationLock) -> None:
    """A successful verification: the count, and the locks in a row, start again from nothing."""
    if lock.failures or lock.locked_until is not None or lock.lockouts:
        lock.failures = 0
        lock.locked_until = None
        lock.lockouts = 0
        lock.save(update_fields=["failures", "locked_until", "lockouts"])


# --- Conversations without a known customer: a hash in Redis ------------------------------------

# KEYS[1] the conversation's hash. ARGV: now (epoch seconds), first lock / counting period
# (seconds), max failures, longest lock (seconds). The same rule as lock_register_failure,
# atomically on the server.
_REGISTER_FAILURE = """
local now = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local longest = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'failures', 'last', 'locked_until', 'lockouts')
local failures = tonumber(state[1]) or 0
local last = tonumber(state[2])
local locked_until = tonumber(state[3]) or 0
local lockouts = tonumber(state[4]) or 0
local function length(n)
  local l = period
  for _ = 2, n do
    l = l * 2
    if l >= longest then return longest end
  end
  return math.min(l, longest)
end
if locked_until > now then
  return {failures, tostring(locked_until), lockouts}
end
if lockouts > 0 and (last == nil or last <= now - length(lockouts) - longest) then
  lockouts = 0
end
if locked_until > 0 or (last ~= nil and last <= now - period) then
  failures = 0
  locked_until = 0
end
failures = failures + 1
if failures >= tonumber(ARGV[3]) then
  lockouts = lockouts + 1
  locked_until = now + length(lockouts)
end
redis.call('HSET', KEYS[1], 'failures', failures, 'last', tostring(now), 'locked_until', tostring(locked_until),
  'lockouts', lockouts)
redis.call('EXPIRE', KEYS[1], math.ceil(length(math.max(lockouts, 1)) + longest + period) + 60)
return {failures, tostring(locked_until), lockouts}
"""


@lru_cache(maxsize=1)
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


@lru_cache(maxsize=1)
def _register_failure_script():
    return _client().register_script(_REGISTER_FAILURE)


def conversation_attempts_key(conversation_id: int) -> str:
    return f"{settings.REDIS_PREFIX}:idv:attempts:conversation:{conversation_id}"


def _from_epoch(value: str | None) -> datetime | None:
    seconds = float(value) if value else 0.0
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds > 0 else None


def conversation_locked_until(conversation_id: int, now: datetime) -> datetime | None:
    """When an unknown contact's lock on this conversation lifts, or ``None``."""
    locked_until = _from_epoch(_client().hget(conversation_attempts_key(conversation_id), "locked_until"))
    return locked_until if locked_until is not None and locked_until > now else None


def conversation_register_failure(conversation_id: int, now: datetime) -> Failure:
    failures, locked_until, lockouts = _register_failure_script()(
        keys=[conversation_attempts_key(conversation_id)],
        args=[
            repr(now.timestamp()),
            lock_period().total_seconds(),
            settings.CEA_IDV_MAX_FAILURES,
            max_lock_period().total_seconds(),
        ],
    )
    until = _from_epoch(locked_until)
    return Failure(
        failures=int(failures),
        locked_until=until if until is not None and until > now else None,
        lockouts=int(lockouts),
    )


# --- Codes requested per conversation ------------------------------------------------------------


def conversation_codes_key(conversation_id: int) -> str:
    return f"{settings.REDIS_PREFIX}:idv:codes:conversation:{conversation_id}"


def conversation_count_code_request(conversation_id: int) -> tuple[int, int]:
    """Count one code request on a conversation; returns ``(requests in this period, seconds left in it)``.

    Counted per conversation whether or not its customer is known, so the limit says nothing
    about who is on file; it stops a conversation from flooding a customer's phone with codes.
    """
    key = conversation_codes_key(conversation_id)
    period = int(lock_period().total_seconds())
    pipe = _client().pipeline(transaction=True)
    pipe.set(key, 0, ex=period, nx=True)
    pipe.incr(key)
    pipe.ttl(key)
    _, count, ttl = pipe.execute()
    return int(count), max(1, int(ttl))
