"""Serializers of the webhooks API. A secret is write-only: shown once, in the answer that made it."""

from __future__ import annotations

from django.core.validators import URLValidator
from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer, URLField
from integration.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookSubscription


class WebhookSubscriptionSerializer(ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "name",
            "url",
            "events",
            "is_active",
            "failures_in_row",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = CharField(help_text="The signing secret: shown here once, never again.")

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookSubscriptionInputSerializer(serializers.Serializer):
    name = CharField(max_length=100)
    url = URLField(max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False)
    secret = CharField(
        min_length=16,
        max_length=200,
        required=False,
        write_only=True,
        help_text="At least 16 characters; leave out on creation to have one generated (returned once).",
    )


class WebhookDeliverySerializer(ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "status",
            "attempts",
            "next_attempt_at",
            "response_status",
            "response_body",
            "last_error",
            "created_at",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields


class WebhookDeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)
