"""REST API for a customer's journey timeline (newest first, cursor-paginated)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import ValidationFailed
from cea.common.serializers import CharField, ModelSerializer
from records.access import access_customer
from records.journey.models import JourneyEvent
from records.journey.selectors import journey_timeline


class JourneyEventSerializer(ModelSerializer):
    class Meta:
        model = JourneyEvent
        fields = ["id", "occurred_at", "source_system", "channel", "kind", "summary", "payload"]


class TimelinePageSerializer(serializers.Serializer):
    results = JourneyEventSerializer(many=True)
    next_cursor = CharField(allow_null=True)


def encode_cursor(event: JourneyEvent) -> str:
    return base64.urlsafe_b64encode(f"{event.occurred_at.isoformat()}|{event.pk}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        occurred_at, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        moment = datetime.fromisoformat(occurred_at)
        if moment.tzinfo is None:  # the cursors given out carry an offset; a naive time is forged
            raise ValueError(occurred_at)
        return moment, int(event_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor is not one this API gave out.", fields={"cursor": "Invalid cursor."}
        ) from None


class TimelineQuerySerializer(serializers.Serializer):
    cursor = CharField(required=False, help_text="next_cursor of the previous page")
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50, help_text="1-200, default 50")
    kind = serializers.ListField(child=CharField(max_length=60), required=False, help_text="Only events of these kinds")


class CustomerTimelineApi(APIView):
    scope_resource = "customers"

    @extend_schema(
        parameters=[TimelineQuerySerializer],
        responses=TimelinePageSerializer,
    )
    def get(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        # A parameter sent empty is left out, as the schema says (allowEmptyValue); ``kind=`` too.
        given = {name: value for name, value in request.query_params.dict().items() if value != ""}
        kinds = [kind for kind in request.query_params.getlist("kind") if kind != ""]
        params = TimelineQuerySerializer(data={**given, "kind": kinds})
        params.is_valid(raise_exception=True)
        cursor = params.validated_data.get("cursor")
        limit = params.validated_data["limit"]
        events = journey_timeline(
            customer_id=customer.pk,
            before=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
            kinds=params.validated_data.get("kind") or None,
        )
        page, more = events[:limit], len(events) > limit
        return Response(
            {
                "results": JourneyEventSerializer(page, many=True).data,
                "next_cursor": encode_cursor(page[-1]) if more else None,
            }
        )
