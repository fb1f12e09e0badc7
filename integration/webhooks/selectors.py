"""Reading webhooks: the subscriptions a user manages, their delivery logs, deliveries due."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import Role, role_of
from integration.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription


def webhook_subscriptions_visible_to(user) -> QuerySet[WebhookSubscription]:
    """Admins see every subscription; an integration client those it made; anybody else none."""
    role = role_of(user)
    if role == Role.ADMIN:
        return WebhookSubscription.objects.all()
    if role == Role.INTEGRATION:
        return WebhookSubscription.objects.filter(created_by=user)
    return WebhookSubscription.objects.none()


def access_webhook_subscription(user, subscription_id) -> WebhookSubscription:
    """The subscription if ``user`` manages it: unknown → ``NotFound``, another client's → ``PermissionDenied``."""
    try:
        subscription = WebhookSubscription.objects.get(pk=int(subscription_id))
    except (TypeError, ValueError, WebhookSubscription.DoesNotExist):
        raise NotFound("No such webhook subscription.") from None
    if not webhook_subscriptions_visible_to(user).filter(pk=subscription.pk).exists():
        raise PermissionDenied("This webhook subscription is not yours to manage.")
    return subscription


def access_webhook_delivery(user, subscription_id, delivery_id) -> WebhookDelivery:
    """A delivery of a subscription ``user`` manages (``NotFound`` if it is not that subscription's)."""
    subscription = access_webhook_subscription(user, subscription_id)
    try:
        return WebhookDelivery.objects.get(pk=int(delivery_id), subscription=subscription)
    except (TypeError, ValueError, WebhookDelivery.DoesNotExist):
        raise NotFound("No such delivery of this subscription.") from None


def webhook_deliveries_of(subscription: WebhookSubscription, *, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """The subscription's delivery log, newest first."""
    deliveries = WebhookDelivery.objects.filter(subscription=subscription)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-id")


def webhook_deliveries_due(*, now: datetime | None = None, grace_seconds: float = 0, limit: int = 1000) -> list[int]:
    """Ids of pending deliveries of active subscriptions due ``grace_seconds`` ago or earlier, oldest first."""
    cutoff = (now or timezone.now()) - timedelta(seconds=grace_seconds)
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=cutoff, subscription__is_active=True
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
