"""Celery's broker transport (cea/common/celery_broker.py): a worker survives Redis restarting under it.

The crash it prevents: Celery closes a channel whose connection the broker's loss already tore down,
the close puts the channel's unacknowledged messages back, and kombu's Redis channel, its pool gone,
builds one from a transport whose connection is cleared: ``AttributeError``, which ends the worker.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors
from redis import Redis

from cea.celery import app


@pytest.fixture
def broker():
    connection = Connection(
        settings.CELERY_BROKER_URL,
        transport=settings.CELERY_BROKER_TRANSPORT,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    )
    yield connection
    connection.release()


def test_the_app_uses_the_transport(broker):
    # Given the settings, when Celery opens its broker connection, then it is through this transport
    with app.connection_for_write() as connection:
        assert type(connection.transport).__module__ == "cea.common.celery_broker"
    assert type(broker.transport).__module__ == "cea.common.celery_broker"


def test_closing_a_channel_whose_connection_is_gone_raises_a_connection_error_celery_ignores(broker):
    # Given: a consumer's channel on the real Redis holding a message delivered and not yet acknowledged
    name = f"test-broker-{uuid.uuid4().hex}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
    producer = broker.Producer()
    producer.publish({"task": "late"}, exchange=queue.exchange, routing_key=name, declare=[queue])
    channel = broker.channel()
    message = queue(channel).get(no_ack=False)
    assert message is not None
    delivery_tag = message.delivery_tag

    # When: the broker went away, and the connection was torn down under the channel (its pools
    # dropped, its transport's connection cleared), and Celery then closes the channel as it does
    # before reconnecting, ignoring the broker's connection errors
    channel._disconnect_pools()
    transport_client, channel.connection.client = channel.connection.client, None
    try:
        ignore_errors(broker, channel.close)  # stock kombu: AttributeError ('NoneType' … 'hostname')
    finally:
        channel.connection.client = transport_client

    # Then: nothing escaped, the channel is closed, and the message waits in the unacknowledged index,
    # to go back to the queue after the visibility timeout
    assert channel.closed
    redis = Redis.from_url(settings.CELERY_BROKER_URL)
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    try:
        assert redis.hexists(f"{prefix}unacked", delivery_tag)
    finally:
        redis.hdel(f"{prefix}unacked", delivery_tag)
        redis.zrem(f"{prefix}unacked_index", delivery_tag)
        redis.close()
        with broker.clone() as fresh:
            queue(fresh.default_channel).delete()
