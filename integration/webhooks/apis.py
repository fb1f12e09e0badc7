"""REST API for integrators' webhooks under /api/v1/integration/webhooks/.

Admins and integration clients (tokens with ``webhooks:read`` / ``webhooks:write``) manage
subscriptions; an integration client sees only the subscriptions it made. Everybody else: 403.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.accounts.authentication import TokenScopePermission
from cea.common.errors import ApplicationError
from integration.access import access_webhook_delivery, access_webhook_subscription, webhook_subscriptions_visible_to
from integration.webhooks.selectors import webhook_deliveries_of
from integration.webhooks.serializers import (
    WebhookDeliveryFilterSerializer,
    WebhookDeliverySerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionInputSerializer,
    WebhookSubscriptionSerializer,
)
from integration.webhooks.services import (
    webhook_delivery_redeliver,
    webhook_manage_check,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_enable,
    webhook_subscription_update,
)


class ManagesWebhooks(permissions.BasePermission):
    """Admins and integration clients only."""

    message = "Only administrators and integration clients manage webhooks."

    def has_permission(self, request, view) -> bool:
        try:
            webhook_manage_check(actor=request.user)
        except ApplicationError:
            return False
        return True


class WebhookApi:
    scope_resource = "webhooks"
    permission_classes = [permissions.IsAuthenticated, TokenScopePermission, ManagesWebhooks]


class WebhookSubscriptionListApi(WebhookApi, generics.ListAPIView):
    """The subscriptions you manage; POST makes one and returns its secret once."""

    serializer_class = WebhookSubscriptionSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return webhook_subscriptions_visible_to(None)
        return webhook_subscriptions_visible_to(self.request.user).order_by("name", "id")

    @extend_schema(request=WebhookSubscriptionInputSerializer, responses={201: WebhookSubscriptionCreatedSerializer})
    def post(self, request):
        serializer = WebhookSubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription, secret = webhook_subscription_create(actor=request.user, **serializer.validated_data)
        body = WebhookSubscriptionSerializer(subscription).data
        return Response({**body, "secret": secret}, status=status.HTTP_201_CREATED)


class WebhookSubscriptionDetailApi(WebhookApi, APIView):
    @extend_schema(responses=WebhookSubscriptionSerializer)
    def get(self, request, subscription_id: int):
        subscription = access_webhook_subscription(request.user, subscription_id)
        return Response(WebhookSubscriptionSerializer(subscription).data)

    @extend_schema(request=WebhookSubscriptionInputSerializer, responses=WebhookSubscriptionSerializer)
    def patch(self, request, subscription_id: int):
        """Change the name, URL, events or secret (the secret is never returned)."""
        subscription = access_webhook_subscription(request.user, subscription_id)
        serializer = WebhookSubscriptionInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        subscription = webhook_subscription_update(
            actor=request.user, subscription=subscription, **serializer.validated_data
        )
        return Response(WebhookSubscriptionSerializer(subscription).data)

    @extend_schema(responses={204: None})
    def delete(self, request, subscription_id: int):
        subscription = access_webhook_subscription(request.user, subscription_id)
        webhook_subscription_delete(actor=request.user, subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSubscriptionEnableApi(WebhookApi, APIView):
    """Enable a subscription that was disabled (after failures): its waiting deliveries are sent."""

    @extend_schema(request=None, responses=WebhookSubscriptionSerializer)
    def post(self, request, subscription_id: int):
        subscription = access_webhook_subscription(request.user, subscription_id)
        subscription = webhook_subscription_enable(actor=request.user, subscription=subscription)
        return Response(WebhookSubscriptionSerializer(subscription).data)


class WebhookDeliveryListApi(WebhookApi, generics.ListAPIView):
    """The subscription's delivery log, newest first."""

    serializer_class = WebhookDeliverySerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=["pending", "delivered", "failed"], required=False)]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return webhook_subscriptions_visible_to(None).none()
        subscription = access_webhook_subscription(self.request.user, self.kwargs["subscription_id"])
        filters = WebhookDeliveryFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return webhook_deliveries_of(subscription=subscription, status=filters.validated_data.get("status"))


class WebhookRedeliverApi(WebhookApi, APIView):
    """Send one delivery again now (same event id and body; attempts counted afresh)."""

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    def post(self, request, subscription_id: int, delivery_id: int):
        delivery = access_webhook_delivery(request.user, subscription_id, delivery_id)
        delivery = webhook_delivery_redeliver(actor=request.user, delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
