from __future__ import annotations

import datetime as dt

from django.utils import timezone
from rest_framework import serializers

from cea.common.openapi import BLANK, NOT_BLANK
from cea.common.serializers import CharField, SlugField
from engagement.routing.hours import MAX_CLOSURES, MAX_RANGES
from engagement.routing.models import Presence, Weekday

MAX_OPEN_SPAN_DAYS = 92

AWAY = f"^{Presence.AWAY}$"


class PresenceInputSerializer(serializers.Serializer):
    presence = serializers.ChoiceField(choices=Presence.choices)
    reason = CharField(required=False, allow_blank=True, default="", max_length=40)

    # For the schema: presence_set's rule, a reason with away and only with away (whether the
    # code is an active reason is the database's to say). "away" as a pattern: drf-spectacular
    # turns an enum under "properties" into the field's whole enum component.
    request_schema_rules = {
        "oneOf": [
            {
                "properties": {"presence": {"pattern": AWAY}, "reason": {"pattern": NOT_BLANK}},
                "required": ["reason"],
            },
            {"properties": {"presence": {"not": {"pattern": AWAY}}, "reason": {"pattern": BLANK}}},
        ]
    }


class PresenceSerializer(serializers.Serializer):
    presence = CharField()
    label = CharField()
    reason = CharField()
    reason_label = CharField()
    since = serializers.DateTimeField()
    after_contact_until = serializers.DateTimeField(allow_null=True)
    load_units = serializers.IntegerField()
    capacity_units = serializers.IntegerField()


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    work_item = serializers.IntegerField()
    conversation = serializers.IntegerField()
    channel = CharField()
    channel_label = CharField()
    queue = CharField()
    customer = CharField()
    subject = CharField()
    verification_level = CharField()
    priority = serializers.IntegerField()
    note = CharField()
    transfer = serializers.BooleanField()
    offered_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    seconds = serializers.IntegerField()


class RejectInputSerializer(serializers.Serializer):
    reason = CharField(required=False, allow_blank=True, default="", max_length=200)


class TransferInputSerializer(serializers.Serializer):
    to_queue = SlugField(required=False, allow_blank=True, default="", max_length=100)
    to_agent = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
    note = CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate(self, attrs):
        if bool(attrs["to_queue"]) == (attrs["to_agent"] is not None):
            raise serializers.ValidationError("Give to_queue or to_agent, not both.")
        return attrs


class WrapUpInputSerializer(serializers.Serializer):
    wrap_up_code = SlugField(max_length=50)
    disposition = CharField(required=False, allow_blank=True, default="", max_length=50)
    notes = CharField(required=False, allow_blank=True, default="", max_length=10_000)
    after_contact = serializers.BooleanField(required=False, default=False)


class WorkItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation = serializers.IntegerField(source="conversation_id")
    queue = CharField(source="queue.name")
    status = CharField()
    priority = serializers.IntegerField()
    priority_reasons = serializers.DictField()
    enqueued_at = serializers.DateTimeField()
    wait_seconds = serializers.FloatField(allow_null=True)
    note = CharField()


class QueueStatsSerializer(serializers.Serializer):
    name = CharField()
    label = CharField()
    channel = CharField()
    team = CharField(allow_null=True)
    waiting = serializers.IntegerField()
    offered = serializers.IntegerField()
    oldest_wait_seconds = serializers.FloatField(allow_null=True)
    agents_available = serializers.IntegerField()
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    service_level_target = CharField()
    service_level_percent = serializers.FloatField(allow_null=True)


class CodeSerializer(serializers.Serializer):
    code = CharField()
    label = CharField()


# --- Business hours ---------------------------------------------------------------------------


class ClosingTimeField(serializers.TimeField):
    """A closing time: ``24:00`` (or ``00:00``) is midnight at the end of the day, and is shown as ``24:00``."""

    def to_internal_value(self, value):
        if value in ("24:00", "24:00:00"):
            return dt.time(0, 0)
        return super().to_internal_value(value)

    def to_representation(self, value):
        if value == dt.time(0, 0):
            return "24:00"
        return super().to_representation(value)


class OpeningRangeSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=Weekday.choices, help_text="0 Monday … 6 Sunday")
    opens = serializers.TimeField(format="%H:%M", help_text="Local time, HH:MM")
    closes = ClosingTimeField(format="%H:%M", help_text="Local time, HH:MM, after opens; 24:00 is midnight")


class ClosureSerializer(serializers.Serializer):
    name = CharField(max_length=100, help_text="e.g. Christmas Day")
    first_day = serializers.DateField()
    last_day = serializers.DateField(help_text="Included; the same as first_day for one day")


class BusinessHoursInputSerializer(serializers.Serializer):
    name = SlugField(max_length=100)
    label = CharField(required=False, allow_blank=True, default="", max_length=200)
    time_zone = CharField(
        required=False, default=None, allow_null=True, max_length=64, help_text="IANA name; default: the deployment's"
    )
    ranges = serializers.ListField(child=OpeningRangeSerializer(), max_length=MAX_RANGES)
    closures = serializers.ListField(child=ClosureSerializer(), required=False, default=list, max_length=MAX_CLOSURES)


class BusinessHoursSerializer(serializers.Serializer):
    name = SlugField()
    label = CharField()
    time_zone = CharField()
    ranges = OpeningRangeSerializer(many=True, source="ranges.all")
    closures = ClosureSerializer(many=True, source="closures.all")
    queues = serializers.SerializerMethodField(help_text="The queues that use them (those the reader may see)")

    def get_queues(self, schedule) -> list[str]:
        visible = self.context.get("visible_queues")
        return [queue.name for queue in schedule.queues.all() if visible is None or queue.name in visible]


class QueueHoursQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="Default: now")
    end = serializers.DateTimeField(required=False, help_text="Exclusive; default: 7 days after start")

    def validate(self, attrs):
        start = attrs.get("start") or timezone.now()
        end = attrs.get("end") or start + dt.timedelta(days=7)
        if end <= start:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        if end - start > dt.timedelta(days=MAX_OPEN_SPAN_DAYS):
            raise serializers.ValidationError({"end": f"Ask for at most {MAX_OPEN_SPAN_DAYS} days."})
        return {"start": start, "end": end}


class QueueHoursInputSerializer(serializers.Serializer):
    business_hours = SlugField(allow_null=True, max_length=100, help_text="A schedule's name; null: always open")


class OpenSpanSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class QueueHoursSerializer(serializers.Serializer):
    queue = CharField()
    business_hours = CharField(allow_null=True, help_text="Null: the queue is always open")
    time_zone = CharField(allow_null=True)
    open_now = serializers.BooleanField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    open_spans = OpenSpanSerializer(many=True, help_text="When it is open between start and end")
