"""How real-time figures travel: the real-time API's answers and the wallboard's websocket frames."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField


class TeamFilterSerializer(serializers.Serializer):
    """``?team=<id>``: only that team's queues (and the shared ones of no team)."""

    team = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Only this team's queues and the shared ones (of no team)",
    )


class PeriodFiguresSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    queued = serializers.IntegerField()
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    short_abandoned = serializers.IntegerField(help_text="Abandoned in under the queue's short-abandon threshold")
    service_level_percent = serializers.FloatField(
        allow_null=True,
        help_text="Under the queue's formula (service_level_variant); contacts still waiting under the target are"
        " left out, those past it count against it as the formula counts them (docs/kpis.md, Real time)",
    )
    average_speed_of_answer_seconds = serializers.FloatField(allow_null=True)


class AwayReasonSerializer(serializers.Serializer):
    code = CharField()
    label = CharField()
    agents = serializers.IntegerField()


class AgentStatesSerializer(serializers.Serializer):
    available = serializers.IntegerField()
    busy = serializers.IntegerField()
    after_contact = serializers.IntegerField()
    away = serializers.IntegerField()
    offline = serializers.IntegerField()
    total = serializers.IntegerField()
    away_reasons = AwayReasonSerializer(many=True)


class QueueFiguresSerializer(serializers.Serializer):
    queue_id = serializers.IntegerField()
    name = CharField()
    label = CharField()
    channel = CharField(help_text="Blank: work of any channel")
    team_id = serializers.IntegerField(allow_null=True, help_text="Null: a shared queue of no team")
    team = CharField(allow_null=True)
    service_level_target_percent = serializers.IntegerField()
    service_level_target_seconds = serializers.IntegerField()
    service_level_variant = CharField(
        help_text="The queue's service-level formula in words, which both periods' service levels follow"
    )
    waiting = serializers.IntegerField()
    offered = serializers.IntegerField(help_text="Reserved for an agent, still in the queue")
    oldest_enqueued_at = serializers.DateTimeField(allow_null=True)
    longest_wait_seconds = serializers.FloatField(allow_null=True)
    today = PeriodFiguresSerializer(help_text="Since local midnight (TIME_ZONE)")
    last_15_minutes = PeriodFiguresSerializer()
    agents = AgentStatesSerializer(
        help_text="Agents who may take its work: its team's; for a shared queue, those of the teams the caller sees"
    )


class TeamBoardSerializer(serializers.Serializer):
    team_id = serializers.IntegerField()
    team = CharField()
    computed_at = serializers.DateTimeField()
    queues = QueueFiguresSerializer(many=True)
    agents = AgentStatesSerializer()
