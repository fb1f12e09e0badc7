"""The context store against real Redis: TTL, versions, limits, aliases, durability, live push."""

import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from cea.common.errors import Conflict, ValidationFailed
from engagement.context import store
from engagement.context.models import ContextChange
from engagement.context.services import (
    context_alias,
    context_delete,
    context_read,
    context_resolve,
    context_write,
    live_group,
)
from records.journey.models import JourneyEvent
from tests.records.factories import CustomerFactory
from tests.support import isolated_redis


@pytest.fixture(autouse=True)
def _isolated_redis_keys(settings):
    yield from isolated_redis(settings)


@pytest.mark.django_db
def test_write_then_read_with_versions():
    # When
    first = context_write(actor=None, scope="conversation", context_id=1, values={"intent": "balance", "n": [1, 2]})
    second = context_write(actor=None, scope="conversation", context_id=1, values={"step": "ask"}, expected_version=1)
    # Then
    assert (first.version, second.version) == (1, 2)
    assert context_read(scope="conversation", context_id=1).values == {"intent": "balance", "n": [1, 2], "step": "ask"}


@pytest.mark.django_db
def test_a_stale_version_is_refused_and_nothing_changes():
    context_write(actor=None, scope="conversation", context_id=2, values={"a": 1})
    context_write(actor=None, scope="conversation", context_id=2, values={"a": 2})
    with pytest.raises(Conflict) as refused:
        context_write(actor=None, scope="conversation", context_id=2, values={"a": 3}, expected_version=1)
    assert refused.value.code == "stale_version"
    assert context_read(scope="conversation", context_id=2).values == {"a": 2}
    assert ContextChange.objects.filter(context_id="2").count() == 2


@pytest.mark.django_db
def test_ttl_per_key_expires_entries_and_the_key(settings):
    # Given: one key that lives 1 second and one that lives the default
    context = context_write(
        actor=None,
        scope="conversation",
        context_id=3,
        values={"otp_pending": True, "intent": "x"},
        ttl_seconds={"otp_pending": 1},
    )
    assert context.entries["otp_pending"].expires_at < context.entries["intent"].expires_at
    ttl = store.client().ttl(store.key_of("conversation", "3"))
    assert settings.CEA_CONTEXT_TTL_SECONDS - 5 <= ttl <= settings.CEA_CONTEXT_TTL_SECONDS
    # When: read as if 2 seconds later
    later = store.write("conversation", "3", changes={}, expected_version=None, now=time.time() + 2)
    # Then
    assert later.values == {"intent": "x"}


@pytest.mark.django_db
def test_limits_are_enforced_with_a_clear_error_and_nothing_written(settings):
    # Given
    settings.CEA_CONTEXT_MAX_VALUE_BYTES = 50
    settings.CEA_CONTEXT_MAX_BYTES = 300
    # Then: one value too large
    with pytest.raises(ValidationFailed, match="the limit is 50"):
        context_write(actor=None, scope="conversation", context_id=4, values={"big": "x" * 60})
    # and a context growing past its limit: the write that would cross it is refused
    written = 0
    with pytest.raises(ValidationFailed) as refused:
        for index in range(20):
            context_write(actor=None, scope="conversation", context_id=4, values={f"k{index}": "y" * 30})
            written += 1
    assert refused.value.code == "context_too_large"
    assert "the limit is 300" in refused.value.message
    context = context_read(scope="conversation", context_id=4)
    assert (context.version, len(context.values)) == (written, written)
    assert ContextChange.objects.filter(context_id="4").count() == written


@pytest.mark.django_db
def test_bad_keys_and_ttls_are_refused():
    with pytest.raises(ValidationFailed) as refused:
        context_write(actor=None, scope="conversation", context_id=5, values={"9lives": 1, "ok": 1}, ttl_seconds=0)
    assert set(refused.value.fields) == {"values", "ttl_seconds"}


@pytest.mark.django_db
def test_redis_losing_a_context_loses_nothing_durable(settings):
    # Given
    customer = CustomerFactory()
    context_write(
        actor=None, scope="customer", context_id=customer.pk, customer_id=customer.pk, values={"tier": "gold"}
    )
    context_write(actor=None, scope="customer", context_id=customer.pk, values={"nba": "offer-upgrade", "tier": None})
    # When: Redis forgets everything this test wrote (only its own prefix: the other xdist
    # worker shares the database, and FLUSHDB would empty its caches mid-test)
    for key in store.client().scan_iter(f"{settings.REDIS_PREFIX}:*"):
        store.client().delete(key)
    # Then: rebuilt from the durable log, at the same version
    context = context_read(scope="customer", context_id=customer.pk)
    assert (context.version, context.values, context.customer_id) == (2, {"nba": "offer-upgrade"}, customer.pk)
    assert JourneyEvent.objects.filter(customer=customer, kind="context.changed").count() == 2
    # and the next write continues from there
    assert context_write(actor=None, scope="customer", context_id=customer.pk, values={"x": 1}).version == 3


@pytest.mark.django_db
def test_aliases_and_delete():
    context_write(actor=None, scope="conversation", context_id=6, values={"a": 1})
    context_alias(alias="call:abc", scope="conversation", context_id=6)
    assert context_resolve(alias="call:abc") == ("conversation", "6")
    assert context_delete(actor=None, scope="conversation", context_id=6).values == {}
    assert context_read(scope="conversation", context_id=6).version == 2


@pytest.mark.django_db(transaction=True)
def test_subscribers_get_the_change_after_commit():
    # Given
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live_group(scope="conversation", context_id=7), channel)
    # When
    context_write(actor=None, scope="conversation", context_id=7, values={"intent": "balance"})
    # Then
    event = async_to_sync(layer.receive)(channel)
    assert (event["type"], event["version"], event["values"]) == ("context.changed", 1, {"intent": "balance"})


def test_expired_entries_are_not_rebuilt(db):
    customer = CustomerFactory()
    ContextChange.objects.create(
        scope="customer",
        context_id=str(customer.pk),
        customer=customer,
        version=1,
        source="test",
        changes={
            "old": {"value": 1, "expires_at": (timezone.now() - timedelta(seconds=5)).isoformat()},
            "new": {"value": 2, "expires_at": (timezone.now() + timedelta(hours=1)).isoformat()},
        },
        changed_at=timezone.now(),
    )
    assert context_read(scope="customer", context_id=customer.pk).values == {"new": 2}


# --- The write path of issue 17: no read before the write, one statement, pushes not awaited ------


@pytest.mark.django_db
def test_a_write_to_a_context_redis_lost_continues_from_the_durable_log(settings):
    # Given: two changes, then Redis forgets them, and nothing reads the context in between
    context_write(actor=None, scope="conversation", context_id=21, values={"intent": "balance", "lang": "de"})
    context_write(actor=None, scope="conversation", context_id=21, values={"lang": "fr"})
    for key in store.client().scan_iter(f"{settings.REDIS_PREFIX}:*"):
        store.client().delete(key)
    # When
    context = context_write(actor=None, scope="conversation", context_id=21, values={"step": 3}, expected_version=2)
    # Then: the write continued from the log's version and kept the keys it had
    assert (context.version, context.values) == (3, {"intent": "balance", "lang": "fr", "step": 3})
    assert list(ContextChange.objects.filter(context_id="21").values_list("version", flat=True)) == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_a_log_row_the_database_refuses_leaves_nothing_half_written():
    # Given
    context_write(actor=None, scope="conversation", context_id=22, values={"intent": "balance"})
    # When: the durable log row is refused (a source longer than its column)
    with pytest.raises(Exception, match="too long"):
        context_write(actor=None, scope="conversation", context_id=22, values={"intent": "loan"}, source="x" * 60)
    # Then: no row for it, and the hot copy does not hold it either (rebuilt from the log)
    assert ContextChange.objects.filter(context_id="22").count() == 1
    context = context_read(scope="conversation", context_id=22)
    assert (context.version, context.values) == (1, {"intent": "balance"})


@pytest.mark.django_db(transaction=True)
def test_the_pushes_of_many_writes_arrive_in_the_order_of_their_versions():
    # Given
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live_group(scope="conversation", context_id=23), channel)
    # When: writes one after the other, the writer not waiting for the pushes
    for step in range(20):
        context_write(actor=None, scope="conversation", context_id=23, values={"step": step})

    # Then
    async def received() -> list[int]:
        return [(await layer.receive(channel))["version"] for _ in range(20)]

    assert async_to_sync(received)() == list(range(1, 21))
