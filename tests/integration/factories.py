"""factory-boy factories of integration's rows: connectors, sync runs and their dead letters and
files, write-backs in the outbox, webhook subscriptions and their deliveries.

A factory builds rows. Where a test needs what a service does besides (a subscription's checks
and generated secret, a write-back's journey event), it calls the service.
"""

from __future__ import annotations

import factory

from integration.connectors.models import Connector, ConnectorKind
from integration.outbox.models import OutboxMessage
from integration.sync.models import ProcessedFile, SyncFailure, SyncRun
from integration.webhooks.models import WebhookDelivery, WebhookSubscription


class ConnectorFactory(factory.django.DjangoModelFactory):
    """A REST connector (no settings) of the legacy system named like it."""

    class Meta:
        model = Connector

    name = factory.Sequence(lambda n: f"connector-{n}")
    kind = ConnectorKind.REST
    system = factory.LazyAttribute(lambda connector: connector.name)


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    connector = factory.SubFactory(ConnectorFactory)


class SyncFailureFactory(factory.django.DjangoModelFactory):
    """A dead letter of a run (and of the run's connector)."""

    class Meta:
        model = SyncFailure

    run = factory.SubFactory(SyncRunFactory)
    connector = factory.SelfAttribute("run.connector")
    record_key = factory.Sequence(lambda n: f"C-{n}")
    reason = "bad"


class ProcessedFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessedFile

    connector = factory.SubFactory(ConnectorFactory)
    filename = factory.Sequence(lambda n: f"extract-{n}.dat")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """A pending address change for no customer unless told."""

    class Meta:
        model = OutboxMessage

    connector = factory.SubFactory(ConnectorFactory)
    customer = None
    kind = "address_change"
    payload = factory.LazyFunction(dict)


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    """An active subscription to ``customer.created`` at https://crm.example/hooks."""

    class Meta:
        model = WebhookSubscription

    name = factory.Sequence(lambda n: f"CRM {n}")
    url = "https://crm.example/hooks"
    events = factory.LazyFunction(lambda: ["customer.created"])
    secret = factory.Sequence(lambda n: f"whsec_test_{n:04d}_0123456789")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A pending delivery of a ``customer.created`` event."""

    class Meta:
        model = WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event = "customer.created"
