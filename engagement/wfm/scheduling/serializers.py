"""How schedules travel over the REST API."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, DayField, WholeNumberField
from engagement.wfm.scheduling.services import MAX_TIME_LIMIT_SECONDS


class ScheduleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.IntegerField(source="team_id", allow_null=True)
    team_name = CharField(source="team.name", default="")
    week_start = serializers.DateField()
    status = CharField(help_text="draft, published or superseded")
    solver_status = CharField(help_text="optimal, feasible (the best within the limit), greedy, empty")
    solve_seconds = serializers.FloatField(allow_null=True)
    time_limit_seconds = serializers.IntegerField()
    under_minutes = serializers.FloatField(help_text="Agent-minutes of requirement not covered")
    over_minutes = serializers.FloatField(help_text="Agent-minutes scheduled above the requirement")
    notes = serializers.ListField(child=CharField())
    created_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)


class ShiftActivitySerializer(serializers.Serializer):
    kind = CharField(help_text="work, break, lunch, training, meeting, coaching")
    planning_queue = serializers.IntegerField(source="planning_queue_id", allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class ShiftSerializer(serializers.Serializer):
    """One shift with its activities: in a schedule, in an agent's week and after an edit."""

    id = serializers.IntegerField()
    schedule = serializers.IntegerField(source="schedule_id")
    agent = serializers.IntegerField(source="agent_id", help_text="The agent's routing profile")
    agent_name = serializers.SerializerMethodField()
    template = serializers.IntegerField(source="template_id", allow_null=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    edited_by = serializers.IntegerField(source="edited_by_id", allow_null=True, help_text="Who last edited it by hand")
    edited_at = serializers.DateTimeField(allow_null=True)
    activities = ShiftActivitySerializer(many=True, source="activities.all")

    def get_agent_name(self, shift) -> str:
        return str(shift.agent.user)


class CoverageSerializer(serializers.Serializer):
    planning_queue = serializers.IntegerField(source="planning_queue_id")
    interval_start = serializers.DateTimeField()
    required_agents = serializers.FloatField(
        source="required", help_text="Agents to schedule on contacts (with shrinkage)"
    )
    scheduled_agents = serializers.FloatField(
        source="scheduled", help_text="Agents scheduled on contacts for this queue"
    )
    unmet_agents = serializers.FloatField(source="unmet", help_text="Required minus scheduled, at least 0")


class ScheduleDetailSerializer(ScheduleSerializer):
    shifts = ShiftSerializer(many=True)
    coverage = CoverageSerializer(many=True)


class GenerateInputSerializer(serializers.Serializer):
    team = WholeNumberField(allow_null=True, help_text="The team's id; null: the planning queues of no team")
    week_start = DayField(help_text="The Monday the week starts on (local)")
    time_limit_seconds = WholeNumberField(min_value=1, max_value=MAX_TIME_LIMIT_SECONDS, default=60)
