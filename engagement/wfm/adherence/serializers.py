"""Adherence's API shapes: the live rows, the days, the exceptions, and the days' query."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from cea.common.serializers import CharField, DayField, ModelSerializer
from engagement.wfm.adherence.models import AdherenceDay, AdherenceException

MAX_DAYS = 366


class LiveRowSerializer(serializers.Serializer):
    agent = serializers.IntegerField()
    user = serializers.IntegerField()
    name = CharField()
    teams = serializers.ListField(child=serializers.IntegerField())
    scheduled = CharField(help_text="The activity scheduled now (work, break, lunch …) or 'off'")
    actual = CharField(help_text="The activity the presence stands for (work, break …, away, off)")
    actual_presence = CharField(help_text="The presence, and the away reason after a colon")
    status = serializers.ChoiceField(choices=["in", "out", "not_scheduled"])
    since = serializers.DateTimeField(allow_null=True)
    shift = serializers.IntegerField(allow_null=True)
    adherence_today = serializers.FloatField(allow_null=True)
    conformance_today = serializers.FloatField(allow_null=True)
    open_exception = serializers.IntegerField(allow_null=True)


class LiveQuerySerializer(serializers.Serializer):
    team = serializers.IntegerField(required=False, min_value=1)


class DaysQuerySerializer(serializers.Serializer):
    start = DayField(required=False)
    end = DayField(required=False)
    agent = serializers.IntegerField(required=False, min_value=1)
    team = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict) -> dict:
        end = attrs.get("end") or timezone.localdate()
        start = attrs.get("start") or end - timedelta(days=6)
        if start > end:
            raise serializers.ValidationError({"start": "The start is after the end."})
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError({"start": f"At most {MAX_DAYS} days at once."})
        return {**attrs, "start": start, "end": end}


class AdherenceDaySerializer(ModelSerializer):
    agent_name = serializers.SerializerMethodField()
    adherence = serializers.FloatField(read_only=True, allow_null=True)
    conformance = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = AdherenceDay
        fields = [
            "agent",
            "agent_name",
            "day",
            "team_id",
            "scheduled_seconds",
            "in_adherence_seconds",
            "scheduled_work_seconds",
            "worked_seconds",
            "exceptions",
            "adherence",
            "conformance",
        ]

    def get_agent_name(self, day: AdherenceDay) -> str:
        return day.agent.user.get_full_name() or day.agent.user.username


class ExceptionsQuerySerializer(serializers.Serializer):
    open = serializers.BooleanField(required=False, allow_null=True, default=None)
    since = serializers.DateTimeField(required=False)
    agent = serializers.IntegerField(required=False, min_value=1)


class AdherenceExceptionSerializer(ModelSerializer):
    agent_name = serializers.SerializerMethodField()

    class Meta:
        model = AdherenceException
        fields = ["id", "agent", "agent_name", "shift", "scheduled", "actual", "started_at", "ended_at"]

    def get_agent_name(self, exception: AdherenceException) -> str:
        return exception.agent.user.get_full_name() or exception.agent.user.username
