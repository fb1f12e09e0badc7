"""One customer's view across every legacy system, asked in parallel and answered in time.

``customer_aggregate(customer)`` asks every active connector whose system knows the customer (a
``SourceRecord`` with that system) for the customer's data now (``fetch_customer``), all at
once in a thread pool. Each call has its connector's ``timeout_seconds`` and the whole answer an
overall deadline (``CEA_AGGREGATE_DEADLINE_MS`` unless the caller gives one): the answer always
comes back by then, with the parts that arrived and every other part marked with its reason:

- ``not_linked``: the system has no record of this customer (nothing was asked);
- ``circuit_open``: the system kept failing; its circuit breaker answered at once (``breaker``);
- ``timeout``: no answer within the connector's timeout or before the deadline;
- ``error``: the system answered with an error (its message, secrets removed), ``permanent``
  saying whether asking again could help;
- ``unsupported``: a connector that answers no live look-ups (a batch extract).

Answers are cached in Redis per (connector, external id) for the connector's ``cache_seconds``
(0: never); a part served from the cache says so and how old it is.

Every database read happens in the caller's thread (so it sees the caller's transaction); the
pool's threads only talk to the back-ends. A call that misses its time keeps running in its
thread until the connector's own client gives up; its answer is dropped.
"""

from __future__ import annotations

import json
import logging
import re
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from cea.common.redact import redact_cards_value
from integration.aggregation.breaker import CLOSED, Decision, breaker_allow, breaker_failure, breaker_success
from integration.connectors.base import BaseConnector, ConnectorError, connector_for, customer_system_of
from integration.connectors.models import Connector
from records.customers.models import Customer
from records.holdings.selectors import source_records_of_customer

logger = logging.getLogger(__name__)

OK = "ok"
NOT_LINKED, CIRCUIT_OPEN, TIMEOUT, ERROR, UNSUPPORTED = "not_linked", "circuit_open", "timeout", "error", "unsupported"
REASONS = (NOT_LINKED, CIRCUIT_OPEN, TIMEOUT, ERROR, UNSUPPORTED)
CLIENT_TIMEOUT_GRACE_SECONDS = 0.5


@dataclass(frozen=True)
class AggregatePart:
    """One system's part of the view: its data (``status == "ok"``) or why it is missing."""

    connector: str
    label: str
    system: str
    external_id: str
    status: str  # "ok" or one of REASONS
    data: dict[str, Any] | None = None
    message: str = ""
    permanent: bool = False
    cached: bool = False
    age_seconds: float | None = None
    elapsed_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def holdings(self) -> list[dict[str, Any]]:
        """The holdings the system sent (``data["holdings"]``), each a dict of canonical fields."""
        listed = (self.data or {}).get("holdings") or []
        return [holding for holding in listed if isinstance(holding, dict)]


@dataclass(frozen=True)
class CustomerAggregate:
    customer_id: int
    parts: list[AggregatePart] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def complete(self) -> bool:
        """Every linked system answered (systems that do not know the customer do not count)."""
        return all(part.ok for part in self.parts if part.status not in (NOT_LINKED, UNSUPPORTED))

    def part(self, connector: str) -> AggregatePart | None:
        return next((part for part in self.parts if part.connector == connector), None)


# --- Redis: the cache ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


def cache_key(connector_id: int, external_id: str) -> str:
    return f"{settings.REDIS_PREFIX}:aggregate:cache:{connector_id}:{external_id}"


def _as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"))


def _cached(connector: Connector, external_id: str) -> tuple[dict[str, Any], float] | None:
    """The cached answer and its age in seconds, or ``None``."""
    if connector.cache_seconds <= 0:
        return None
    try:
        raw = _client().get(cache_key(connector.pk, external_id))
    except redis.RedisError:
        logger.warning("The aggregate cache is unavailable", exc_info=True)
        return None
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
        return entry["data"], max(time.time() - float(entry["fetched_at"]), 0.0)
    except (ValueError, KeyError, TypeError):
        logger.warning("Aggregate cache entry %s is unreadable: asked again", cache_key(connector.pk, external_id))
        return None


def _cache(connector: Connector, external_id: str, data_json: str, fetched_at: float) -> None:
    if connector.cache_seconds <= 0:
        return
    entry = f'{{"fetched_at":{fetched_at!r},"data":{data_json}}}'
    try:
        _client().set(cache_key(connector.pk, external_id), entry, ex=connector.cache_seconds)
    except redis.RedisError:
        logger.warning("The aggregate cache is unavailable", exc_info=True)


# --- Messages without secrets -----------------------------------------------------------------

_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
_SECRET_PARAMS = re.compile(
    r"(?P<name>(?:api[_-]?key|access[_-]?token|token|password|passwd|secret|client[_-]?secret|sig)=)[^&\s]*[^&\s.,;)]",
    re.IGNORECASE,
)


def safe_message(message: str, backend: BaseConnector | None) -> str:
    """``message`` without the connector's secret, URL credentials or secret-looking parameters."""
    text = _URL_USERINFO.sub(r"\g<scheme>***@", str(message))
    text = _SECRET_PARAMS.sub(r"\g<name>***", text)
    if backend is not None:
        try:
            secret = backend.secret()
        except ConnectorError:
            secret = ""
        if secret:
            text = text.replace(secret, "***")
    return text[:300]


# --- Asking the back-ends -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.CEA_AGGREGATE_WORKERS, thread_name_prefix="aggregate")


def _answers_live(backend: BaseConnector) -> bool:
    return type(backend).fetch_customer is not BaseConnector.fetch_customer


def _fetch(backend: BaseConnector, external_id: str) -> tuple[str, float]:
    """The back-end's answer as JSON text, and when it arrived (epoch seconds); the connector is closed after.

    Card data in the answer is masked (``cea.common.redact``) before it is cached or shown: a
    billing system may hold a card's number on its record.
    """
    try:
        data = backend.fetch_customer(external_id)
        if not isinstance(data, dict):
            raise ConnectorError("The system answered with something other than a record.", permanent=True)
        return _as_json(redact_cards_value(data)), time.time()
    finally:
        close = getattr(backend, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # a connection that will not close is not the caller's failure
                logger.warning("Aggregate: closing %s failed", backend.config.name, exc_info=True)


def _backend(connector: Connector) -> BaseConnector:
    """A connector object of its own for one call (it is closed after the call)."""
    backend = connector_for(connector)
    # The wait in customer_aggregate enforces the connector's timeout; the client's own, a little
    # longer, only frees the thread. Were they equal, a timeout would race to show as an error.
    backend.timeout = connector.timeout_seconds + CLIENT_TIMEOUT_GRACE_SECONDS
    return backend


@dataclass
class _Call:
    connector: Connector
    backend: BaseConnector
    external_id: str
    future: Future
    started: float
    cutoff: float
    deadline_bound: bool
    deadline_seconds: float


def _part(connector: Connector, external_id: str, status: str, **fields) -> AggregatePart:
    return AggregatePart(
        connector=connector.name,
        label=connector.label or connector.name,
        system=connector.system,
        external_id=external_id,
        status=status,
        **fields,
    )


def customer_aggregate(customer: Customer, *, deadline: float | None = None) -> CustomerAggregate:
    """The customer's view across all active connectors (see the module's docstring).

    ``deadline``: seconds from now by which the answer comes back (default
    ``CEA_AGGREGATE_DEADLINE_MS``). The caller has checked access (``records.access``). Never
    raises for a back-end's failure: each shows as its part's reason. Parts are ordered by
    connector name, then external id.
    """
    started = time.monotonic()
    limit = deadline if deadline is not None else settings.CEA_AGGREGATE_DEADLINE_MS / 1000
    overall = started + max(limit, 0.0)

    connectors = list(Connector.objects.filter(is_active=True).order_by("name"))
    links = _links(customer, connectors)
    parts: dict[tuple[str, str], AggregatePart] = {}
    calls: list[_Call] = []
    for connector in connectors:
        answered, asked = _ask(connector, links.get(customer_system_of(connector), []), overall, limit)
        parts.update(answered)
        calls += asked
    parts.update(_collect(calls))

    ordered = [parts[key] for key in sorted(parts)]
    return CustomerAggregate(
        customer_id=customer.pk, parts=ordered, elapsed_ms=round((time.monotonic() - started) * 1000, 3)
    )


def _links(customer: Customer, connectors: list[Connector]) -> dict[str, list[str]]:
    """The customer's external ids in each of the connectors' systems."""
    links: dict[str, list[str]] = {}
    for system, external_id in (
        source_records_of_customer(customer=customer)
        .filter(system__in={customer_system_of(c) for c in connectors})
        .values_list("system", "external_id")
    ):
        links.setdefault(system, []).append(external_id)
    return links


def _ask(
    connector: Connector, external_ids: list[str], overall: float, limit: float
) -> tuple[dict[tuple[str, str], AggregatePart], list[_Call]]:
    """The parts known without a call (not linked, unsupported, cached, circuit open), and the calls sent."""
    if not external_ids:
        message = f"{connector.system} has no record of this customer."
        return {(connector.name, ""): _part(connector, "", NOT_LINKED, message=message)}, []
    try:
        backend = _backend(connector)
    except ConnectorError as error:
        message = safe_message(error.message, None)
        return {
            (connector.name, external_id): _part(connector, external_id, ERROR, message=message, permanent=True)
            for external_id in external_ids
        }, []
    parts: dict[tuple[str, str], AggregatePart] = {}
    calls: list[_Call] = []
    for external_id in external_ids:
        part = _known_without_asking(connector, backend, external_id)
        if part is not None:
            parts[connector.name, external_id] = part
        else:
            calls.append(_call(connector, external_id, overall, limit))
    return parts, calls


def _known_without_asking(connector: Connector, backend: BaseConnector, external_id: str) -> AggregatePart | None:
    """The part when no call is made: the kind answers no live look-ups, the cache has it, or the circuit is open."""
    if not _answers_live(backend):
        return _part(
            connector, external_id, UNSUPPORTED, message="This system answers no live look-ups.", permanent=True
        )
    hit = _cached(connector, external_id)
    if hit is not None:
        data, age = hit
        return _part(connector, external_id, OK, data=data, cached=True, age_seconds=round(age, 3))
    decision = _allow(connector)
    if not decision.call:
        return _part(
            connector,
            external_id,
            CIRCUIT_OPEN,
            message=f"{connector.label or connector.name} keeps failing; it is asked again in "
            f"{max(decision.retry_in, 0.1):.0f} s.",
        )
    return None


def _call(connector: Connector, external_id: str, overall: float, limit: float) -> _Call:
    """The call sent to the pool with a back-end object of its own; it ends at its timeout or the deadline."""
    now = time.monotonic()
    own = now + connector.timeout_seconds
    backend = _backend(connector)
    return _Call(
        connector=connector,
        backend=backend,
        external_id=external_id,
        future=_executor().submit(_fetch, backend, external_id),
        started=now,
        cutoff=min(own, overall),
        deadline_bound=overall < own,
        deadline_seconds=limit,
    )


def _collect(calls: list[_Call]) -> dict[tuple[str, str], AggregatePart]:
    """Each call's part as it finishes, or a timeout at its cutoff."""
    parts: dict[tuple[str, str], AggregatePart] = {}
    pending = {call.future: call for call in calls}
    while pending:
        now = time.monotonic()
        for future, call in list(pending.items()):
            if not future.done() and now >= call.cutoff:
                del pending[future]
                parts[call.connector.name, call.external_id] = _timed_out(call)
        if not pending:
            break
        next_cutoff = min(call.cutoff for call in pending.values())
        done, _ = wait(list(pending), timeout=max(next_cutoff - now, 0), return_when=FIRST_COMPLETED)
        for future in done:
            call = pending.pop(future)
            parts[call.connector.name, call.external_id] = _finished(call)
    return parts


def _allow(connector: Connector) -> Decision:
    """The breaker's decision; without Redis there is no shared breaker, and every call goes out."""
    try:
        return breaker_allow(connector.pk, trial_seconds=connector.timeout_seconds + 1)
    except redis.RedisError:
        logger.warning("The circuit breakers are unavailable", exc_info=True)
        return Decision(state=CLOSED)


def _record(connector: Connector, *, failed: bool) -> None:
    try:
        if failed:
            breaker_failure(connector.pk)
        else:
            breaker_success(connector.pk)
    except redis.RedisError:
        logger.warning("The circuit breakers are unavailable", exc_info=True)


def _timed_out(call: _Call) -> AggregatePart:
    call.future.cancel()  # if it has not started yet (a busy pool), it never will
    _record(call.connector, failed=True)
    waited = call.cutoff - call.started
    message = (
        f"No answer before the deadline ({call.deadline_seconds:g} s)."
        if call.deadline_bound
        else f"No answer within {call.connector.timeout_seconds:g} s."
    )
    logger.warning("Aggregate: %s timed out after %.3f s", call.connector.name, waited)
    return _part(call.connector, call.external_id, TIMEOUT, message=message, elapsed_ms=round(waited * 1000, 3))


def _finished(call: _Call) -> AggregatePart:
    elapsed_ms = round((time.monotonic() - call.started) * 1000, 3)
    connector = call.connector
    try:
        data_json, fetched_at = call.future.result()
    except ConnectorError as error:
        # A permanent error is an answer: the system is up and refused the request.
        _record(connector, failed=not error.permanent)
        return _part(
            connector,
            call.external_id,
            ERROR,
            message=safe_message(error.message, call.backend),
            permanent=error.permanent,
            elapsed_ms=elapsed_ms,
        )
    except Exception:
        logger.exception("Aggregate: connector %s failed", connector.name)
        _record(connector, failed=True)
        return _part(connector, call.external_id, ERROR, message="The connector failed.", elapsed_ms=elapsed_ms)
    _record(connector, failed=False)
    _cache(connector, call.external_id, data_json, fetched_at)
    return _part(connector, call.external_id, OK, data=json.loads(data_json), age_seconds=0.0, elapsed_ms=elapsed_ms)
