"""Serializers of the quality API (/api/v1/insights/quality/)."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer, TrueFalseField, WholeNumberField
from insights.quality.models import CalibrationSession, Evaluation, SampleItem, Scorecard, ScorecardQuestion
from insights.quality.services import AnswerInput


class QuestionSerializer(ModelSerializer):
    class Meta:
        model = ScorecardQuestion
        fields = ["id", "section", "order", "text", "weight", "answer_type", "scale_max", "allows_na", "auto_fail"]
        read_only_fields = fields


class ScorecardSerializer(ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = Scorecard
        fields = ["id", "name", "description", "version", "is_active", "questions"]
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer):
    question = WholeNumberField(min_value=1, max_value=2**31 - 1, help_text="The question's id.")
    answer = CharField(max_length=10, allow_blank=True, help_text='"yes", "no", "na" or 0…scale_max.')
    comment = CharField(max_length=4000, required=False, allow_blank=True, default="")


def answers_of(validated: list[dict]) -> dict[int, AnswerInput]:
    return {item["question"]: AnswerInput(answer=item["answer"], comment=item.get("comment", "")) for item in validated}


class EvaluationAnswerOutSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question_id")
    answer = CharField()
    comment = CharField()


class EvaluationSerializer(ModelSerializer):
    answers = EvaluationAnswerOutSerializer(many=True, read_only=True)
    evaluator = CharField(source="evaluator.username", default=None, read_only=True)
    agent = CharField(source="agent.username", default=None, read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "interaction",
            "agent",
            "team",
            "queue",
            "evaluator",
            "scorecard",
            "scorecard_version",
            "questions",
            "calibration",
            "status",
            "score",
            "failed",
            "fail_reason",
            "original_score",
            "comment",
            "answers",
            "created_at",
            "submitted_at",
            "acknowledged_at",
            "disputed_at",
            "dispute_reason",
            "resolved_by",
            "resolved_at",
            "resolution_note",
        ]
        read_only_fields = fields


class EvaluationCreateSerializer(serializers.Serializer):
    interaction = WholeNumberField(min_value=1, max_value=2**63 - 1)
    scorecard = WholeNumberField(min_value=1, max_value=2**63 - 1)
    answers = AnswerSerializer(many=True, required=False, default=list)
    comment = CharField(max_length=4000, required=False, allow_blank=True, default="")
    submit = TrueFalseField(required=False, default=False)


class EvaluationUpdateSerializer(serializers.Serializer):
    answers = AnswerSerializer(many=True, required=False, default=list)
    comment = CharField(max_length=4000, required=False, allow_blank=True)
    submit = TrueFalseField(required=False, default=False)


class DisputeSerializer(serializers.Serializer):
    reason = CharField(max_length=4000, allow_blank=True)


class ResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["upheld", "rejected"])
    note = CharField(max_length=4000, allow_blank=True)
    answers = AnswerSerializer(many=True, required=False, default=list)


class CalibrationCreateSerializer(serializers.Serializer):
    interaction = WholeNumberField(min_value=1, max_value=2**63 - 1)
    scorecard = WholeNumberField(min_value=1, max_value=2**63 - 1)
    evaluators = serializers.ListField(child=WholeNumberField(min_value=1, max_value=2**63 - 1), min_length=2)


class CalibrationSerializer(ModelSerializer):
    evaluators = serializers.SerializerMethodField()

    class Meta:
        model = CalibrationSession
        fields = ["id", "interaction", "team", "scorecard", "scorecard_version", "evaluators", "created_at"]
        read_only_fields = fields

    def get_evaluators(self, session: CalibrationSession) -> list[str]:
        return [user.username for user in session.evaluators.all()]


class SampleItemSerializer(ModelSerializer):
    agent = CharField(source="agent.username", default=None, read_only=True)

    class Meta:
        model = SampleItem
        fields = ["id", "interaction", "team", "agent", "week_start", "reason", "detail", "evaluation", "created_at"]
        read_only_fields = fields


class SampleGenerateSerializer(serializers.Serializer):
    week_start = serializers.DateField(
        required=False, help_text="Any day of the week to sample; this week if left out."
    )


class ReportRowSerializer(serializers.Serializer):
    key = CharField()
    evaluations = serializers.IntegerField()
    mean_score = serializers.FloatField(allow_null=True)
    auto_fail_rate = serializers.FloatField()
    dispute_rate = serializers.FloatField()
