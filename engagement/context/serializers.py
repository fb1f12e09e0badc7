"""The context store's REST shapes.

A context travels as ``{"scope", "id", "version", "customer_id", "values": {key: value},
"expires_at": {key: iso time}}``. Writes send ``values``, optionally a TTL for every key written
(``ttl_seconds``) and TTLs per key (``key_ttl_seconds``), and the version they were made
against (``expected_version``): required by PUT, optional for PATCH. A stale version is a 409.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cea.common.api import no_null_characters
from cea.common.serializers import CharField
from engagement.context.models import ContextScope
from engagement.context.services import MAX_TTL_SECONDS
from engagement.context.store import Context


def context_representation(context: Context) -> dict[str, Any]:
    return {
        "scope": context.scope,
        "id": context.id,
        "version": context.version,
        "customer_id": context.customer_id,
        "values": context.values,
        "expires_at": {key: entry.expires_at for key, entry in context.entries.items()},
    }


class ContextSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=ContextScope.choices)
    id = CharField(help_text="The customer's or the conversation's id")
    version = serializers.IntegerField(help_text="0 for a context never written; +1 with every change")
    customer_id = serializers.IntegerField(allow_null=True)
    values = serializers.DictField(child=serializers.JSONField(), help_text="Key → any JSON value")
    expires_at = serializers.DictField(
        child=serializers.DateTimeField(allow_null=True), help_text="Key → when the key expires"
    )


class CustomerContextsSerializer(serializers.Serializer):
    customer = ContextSerializer()
    conversations = ContextSerializer(many=True, help_text="The contexts of the customer's open conversations")


class ContextLimitsSerializer(serializers.Serializer):
    default_ttl_seconds = serializers.IntegerField()
    max_ttl_seconds = serializers.IntegerField()
    max_context_bytes = serializers.IntegerField(help_text="A whole context, as stored")
    max_value_bytes = serializers.IntegerField(help_text="One value, as JSON")
    max_keys = serializers.IntegerField()


class ContextPutSerializer(serializers.Serializer):
    """Replace the whole context with ``values``."""

    values = serializers.DictField(child=serializers.JSONField(), validators=[no_null_characters])
    ttl_seconds = serializers.IntegerField(
        min_value=1,
        max_value=MAX_TTL_SECONDS,
        required=False,
        help_text="TTL of every key written (default: the deployment's default TTL)",
    )
    key_ttl_seconds = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_TTL_SECONDS),
        required=False,
        help_text="TTL per key, overriding ttl_seconds",
    )
    expected_version = serializers.IntegerField(
        min_value=0, help_text="The version this change was made against (0: the context is new); stale → 409"
    )

    def validate(self, attrs: dict) -> dict:
        """Fold the two TTL fields into the service's ``ttl_seconds`` (one for all keys, or per key)."""
        default = attrs.pop("ttl_seconds", None)
        per_key = attrs.pop("key_ttl_seconds", None)
        if per_key:
            attrs["ttl_seconds"] = {**{key: default for key in attrs["values"]}, **per_key}
        else:
            attrs["ttl_seconds"] = default
        return attrs


class ContextPatchSerializer(ContextPutSerializer):
    """Set the keys given; a ``null`` value removes the key."""

    values = serializers.DictField(
        child=serializers.JSONField(allow_null=True), allow_empty=False, validators=[no_null_characters]
    )
    expected_version = serializers.IntegerField(
        min_value=0, required=False, help_text="If given, refuse (409) unless the context is at this version"
    )
