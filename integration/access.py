"""Check, then do, for integration: every interface fetches webhook subscriptions and deliveries here.

Admins manage every webhook subscription; an integration client those it made; anybody else none.
Unknown ids raise ``NotFound`` (404); another client's subscription raises ``PermissionDenied`` (403).
"""

from __future__ import annotations

from django.db.models import QuerySet

from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import Role, role_of
from integration.webhooks.models import WebhookDelivery, WebhookSubscription


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
