"""Serializers of the webhooks API, and the rules of a subscription's fields (the services check with them).

A secret is write-only: shown once, in the answer that made it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer, URLField
from integration.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookSubscription

SECRET_MIN_LENGTH = 16
URL_REFUSED = "Give an http:// or https:// URL."


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


class WebhookEventsField(serializers.ListField):
    """The events a subscription receives: at least one, each a known event, each once (repeats dropped)."""

    default_error_messages = {
        "empty": "Choose at least one event.",
        "null": "Choose at least one event.",
        "unknown": "Unknown events: {events}.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False, **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, list):
            named = dict.fromkeys(event for event in data if isinstance(event, str))
            unknown = [event for event in named if event not in WebhookEvent.values]
            if unknown:
                self.fail("unknown", events=", ".join(unknown))
        return list(dict.fromkeys(super().to_internal_value(data)))


# The API's input, and the rules ``webhook_subscription_check`` applies (partial on a change) for
# the API and the console alike; whether the URL's host is public is the service's to check (it
# resolves the name).
class WebhookSubscriptionInputSerializer(serializers.Serializer):
    """A subscription: its name, the public http(s) URL events are sent to, the events, and a signing secret."""

    name = CharField(
        max_length=100, error_messages={"blank": "This field is required.", "null": "This field is required."}
    )
    url = URLField(max_length=500, error_messages={"invalid": URL_REFUSED, "null": URL_REFUSED})
    events = WebhookEventsField()
    secret = CharField(
        min_length=SECRET_MIN_LENGTH,
        max_length=200,
        required=False,
        write_only=True,
        error_messages={"min_length": f"A secret has at least {SECRET_MIN_LENGTH} characters."},
        help_text=(
            f"At least {SECRET_MIN_LENGTH} characters; leave out on creation to have one generated (returned once)."
        ),
    )

    def validate_url(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise serializers.ValidationError(URL_REFUSED)
        return url


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
