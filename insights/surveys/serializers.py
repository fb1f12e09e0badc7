"""The survey report's query (the page, its CSV and the API share it) and its answers' shapes."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from cea.common.errors import ValidationFailed
from cea.common.serializers import CharField
from insights.surveys.models import SURVEY_CHANNELS, SkipReason
from insights.surveys.selectors import GROUPS

MAX_DAYS = 366
MAX_ID = 2**63 - 1


class SurveyQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First day (default: 29 days before end)")
    end = serializers.DateField(required=False, help_text="Last day, included (default: today)")
    queue = CharField(required=False, allow_blank=True, max_length=100)
    channel = serializers.ChoiceField(required=False, allow_blank=True, choices=[c.value for c in SURVEY_CHANNELS])
    team = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    agent = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    group_by = serializers.ChoiceField(required=False, choices=list(GROUPS), default="agent")

    def validate(self, attrs):
        end = attrs.get("end") or timezone.localdate()
        start = attrs.get("start") or end - timedelta(days=29)
        if start > end:
            raise serializers.ValidationError({"start": "The first day comes on or before the last."})
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError({"start": f"At most {MAX_DAYS} days at once."})
        return {**attrs, "start": start, "end": end}


def survey_query(data, *, blank_is_unset: bool = False) -> dict:
    """The validated selection as ``surveys_selected``'s arguments plus ``group_by``, or
    ``ValidationFailed`` naming each bad field. ``blank_is_unset``: the page's form, whose empty
    fields mean "any" (the API takes what its schema says)."""
    # A plain dict, not the QueryDict: DRF reads a blank form value of an optional field as unset.
    data = {name: value for name, value in data.items() if not (blank_is_unset and value == "")}
    query = SurveyQuerySerializer(data=data)
    if not query.is_valid():
        fields = {name: " ".join(str(error) for error in errors) for name, errors in query.errors.items()}
        raise ValidationFailed("The selection is not valid.", fields=fields)
    data = query.validated_data
    return {
        "start": data["start"],
        "end": data["end"],
        "queue": data.get("queue") or "",
        "channel": data.get("channel") or "",
        "team_id": data.get("team"),
        "agent_id": data.get("agent"),
        "group_by": data.get("group_by") or "agent",
    }


class SurveyFiguresSerializer(serializers.Serializer):
    key = CharField()
    sent = serializers.IntegerField()
    responses = serializers.IntegerField()
    response_rate = serializers.FloatField(allow_null=True, help_text="responses ÷ sent, percent")
    csat_responses = serializers.IntegerField()
    csat_satisfied = serializers.IntegerField(help_text="CSAT answers of 4 or 5")
    csat = serializers.FloatField(allow_null=True, help_text="csat_satisfied ÷ csat_responses, percent")
    nps_responses = serializers.IntegerField()
    promoters = serializers.IntegerField(help_text="NPS answers of 9 or 10")
    detractors = serializers.IntegerField(help_text="NPS answers of 0 to 6")
    nps = serializers.FloatField(allow_null=True, help_text="(promoters − detractors) ÷ nps_responses, percent")
    ces_responses = serializers.IntegerField()
    ces = serializers.FloatField(allow_null=True, help_text="Average CES answer (1–7)")
    skipped = serializers.DictField(
        child=serializers.IntegerField(), help_text=f"By reason: {', '.join(SkipReason.values)}"
    )


class SurveyReportSerializer(serializers.Serializer):
    group_by = CharField()
    total = SurveyFiguresSerializer()
    groups = SurveyFiguresSerializer(many=True)


class SurveyAnswerSerializer(serializers.Serializer):
    token = CharField(max_length=100)
    score = serializers.IntegerField(help_text="On the survey's scale: CSAT 1–5, NPS 0–10, CES 1–7")
    comment = CharField(required=False, allow_blank=True, default="", max_length=2000)


class SurveyAnsweredSerializer(serializers.Serializer):
    survey = serializers.IntegerField(source="pk")
    kind = CharField()
    score = serializers.IntegerField()
