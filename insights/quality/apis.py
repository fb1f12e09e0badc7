"""REST API of quality assurance under /api/v1/insights/quality/ (docs/quality.md).

Tokens need ``insights:read`` to read and ``insights:write`` to write; every object is checked by role
and team as on the pages (``insights.quality.access``): supervisors their teams', agents their own
evaluations, admins and integration clients everything (clients only read).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import PermissionDenied, ValidationFailed
from cea.common.roles import can_supervise
from insights.quality.access import (
    access_calibration,
    access_evaluation,
    calibration_results_visible,
    calibrations_visible_to,
    evaluations_visible_to,
    quality_team_ids,
    require_quality_reader,
    sample_items_visible_to,
)
from insights.quality.models import EvaluationStatus
from insights.quality.sampling import sample_week, week_start_of
from insights.quality.selectors import (
    REPORT_GROUPS,
    calibration_results,
    evaluations_submitted,
    quality_report,
    scorecards_active,
)
from insights.quality.serializers import (
    CalibrationCreateSerializer,
    CalibrationSerializer,
    DisputeSerializer,
    EvaluationCreateSerializer,
    EvaluationSerializer,
    EvaluationUpdateSerializer,
    ReportRowSerializer,
    ResolveSerializer,
    SampleGenerateSerializer,
    SampleItemSerializer,
    ScorecardSerializer,
    answers_of,
)
from insights.quality.services import (
    calibration_create,
    evaluation_acknowledge,
    evaluation_create,
    evaluation_dispute,
    evaluation_resolve_dispute,
    evaluation_save,
)

PAGE = 200


class ScorecardListApi(APIView):
    """The active scorecards with their current questions (edited in the console)."""

    scope_resource = "insights"

    @extend_schema(responses=ScorecardSerializer(many=True))
    def get(self, request):
        require_quality_reader(request.user)
        return Response(ScorecardSerializer(scorecards_active(), many=True).data)


class EvaluationListApi(APIView):
    """The evaluations you may read, newest first (at most 200); POST starts one (and submits it with
    ``submit: true``)."""

    scope_resource = "insights"

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=list(EvaluationStatus.values)),
            OpenApiParameter("interaction", int),
        ],
        responses=EvaluationSerializer(many=True),
    )
    def get(self, request):
        evaluations = evaluations_visible_to(request.user).prefetch_related("answers")
        wanted = request.query_params.get("status", "")
        if wanted:
            if wanted not in EvaluationStatus.values:
                raise ValidationFailed(
                    f"Status is one of {', '.join(EvaluationStatus.values)}.", fields={"status": "Unknown."}
                )
            evaluations = evaluations.filter(status=wanted)
        interaction = request.query_params.get("interaction", "")
        if interaction:
            if not interaction.isascii() or not interaction.isdigit() or int(interaction) >= 2**63:
                raise ValidationFailed("'interaction' must be an id.", fields={"interaction": "A whole number."})
            evaluations = evaluations.filter(interaction_id=int(interaction))
        return Response(EvaluationSerializer(evaluations[:PAGE], many=True).data)

    @extend_schema(request=EvaluationCreateSerializer, responses={201: EvaluationSerializer})
    def post(self, request):
        serializer = EvaluationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        evaluation = evaluation_create(
            actor=request.user,
            interaction_id=data["interaction"],
            scorecard_id=data["scorecard"],
            answers=answers_of(data["answers"]),
            comment=data["comment"],
            submit=data["submit"],
        )
        return Response(EvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)


class EvaluationDetailApi(APIView):
    """One evaluation; PATCH saves a draft's answers (the evaluator's), ``submit: true`` makes it final."""

    scope_resource = "insights"

    @extend_schema(responses=EvaluationSerializer)
    def get(self, request, evaluation_id: int):
        return Response(EvaluationSerializer(access_evaluation(request.user, evaluation_id)).data)

    @extend_schema(request=EvaluationUpdateSerializer, responses=EvaluationSerializer)
    def patch(self, request, evaluation_id: int):
        evaluation = access_evaluation(request.user, evaluation_id)
        serializer = EvaluationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved = evaluation_save(
            actor=request.user,
            evaluation=evaluation,
            answers=answers_of(data["answers"]),
            comment=data.get("comment"),
            submit=data["submit"],
        )
        return Response(EvaluationSerializer(saved).data)


class EvaluationAcknowledgeApi(APIView):
    """The evaluated agent acknowledges a submitted evaluation."""

    scope_resource = "insights"

    @extend_schema(request=None, responses=EvaluationSerializer)
    def post(self, request, evaluation_id: int):
        evaluation = access_evaluation(request.user, evaluation_id)
        return Response(EvaluationSerializer(evaluation_acknowledge(actor=request.user, evaluation=evaluation)).data)


class EvaluationDisputeApi(APIView):
    """The evaluated agent disputes a submitted evaluation, with a reason."""

    scope_resource = "insights"

    @extend_schema(request=DisputeSerializer, responses=EvaluationSerializer)
    def post(self, request, evaluation_id: int):
        evaluation = access_evaluation(request.user, evaluation_id)
        serializer = DisputeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = evaluation_dispute(
            actor=request.user, evaluation=evaluation, reason=serializer.validated_data["reason"]
        )
        return Response(EvaluationSerializer(saved).data)


class EvaluationResolveApi(APIView):
    """A supervisor of the team (or an admin) resolves a dispute: upheld (with amended answers) or rejected."""

    scope_resource = "insights"

    @extend_schema(request=ResolveSerializer, responses=EvaluationSerializer)
    def post(self, request, evaluation_id: int):
        evaluation = access_evaluation(request.user, evaluation_id)
        serializer = ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved = evaluation_resolve_dispute(
            actor=request.user,
            evaluation=evaluation,
            upheld=data["outcome"] == "upheld",
            note=data["note"],
            answers=answers_of(data["answers"]),
        )
        return Response(EvaluationSerializer(saved).data)


class CalibrationListApi(APIView):
    """Calibration sessions of your teams; POST starts one for two or more evaluators."""

    scope_resource = "insights"

    @extend_schema(responses=CalibrationSerializer(many=True))
    def get(self, request):
        sessions = calibrations_visible_to(request.user).prefetch_related("evaluators")
        return Response(CalibrationSerializer(sessions[:PAGE], many=True).data)

    @extend_schema(request=CalibrationCreateSerializer, responses={201: CalibrationSerializer})
    def post(self, request):
        serializer = CalibrationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session = calibration_create(
            actor=request.user,
            interaction_id=data["interaction"],
            scorecard_id=data["scorecard"],
            evaluator_ids=data["evaluators"],
        )
        return Response(CalibrationSerializer(session).data, status=status.HTTP_201_CREATED)


class CalibrationDetailApi(APIView):
    """A session's results: each score, mean, min, max, standard deviation and per-question agreement —
    hidden (``results: null``) from an evaluator of it until their own evaluation is submitted."""

    scope_resource = "insights"

    @extend_schema(responses=CalibrationSerializer)
    def get(self, request, session_id: int):
        session = access_calibration(request.user, session_id)
        body = CalibrationSerializer(session).data
        body["results"] = None
        if calibration_results_visible(request.user, session):
            results = calibration_results(session=session)
            body["results"] = {
                "scores": [
                    {"evaluator": name, "score": score, "failed": failed, "status": state}
                    for name, score, failed, state in results.scores
                ],
                "mean": results.mean,
                "min": results.minimum,
                "max": results.maximum,
                "std_dev": results.std_dev,
                "questions": [
                    {
                        "question": item.question["id"],
                        "text": item.question["text"],
                        "agree": item.agree,
                        "spread": item.spread,
                        "answers": [{"evaluator": name, "answer": answer} for name, answer in item.answers],
                    }
                    for item in results.questions
                ],
            }
        return Response(body)


class SampleListApi(APIView):
    """The sampling queue of your teams (``open=true``: not yet evaluated); POST samples a week now."""

    scope_resource = "insights"

    @extend_schema(parameters=[OpenApiParameter("open", bool)], responses=SampleItemSerializer(many=True))
    def get(self, request):
        items = sample_items_visible_to(request.user).order_by("-week_start", "id")
        wanted = request.query_params.get("open")
        if wanted not in (None, "", "true", "false"):
            raise ValidationFailed("'open' is true or false.", fields={"open": "true or false."})
        if wanted == "true":
            items = items.filter(evaluation__isnull=True)
        return Response(SampleItemSerializer(items[:PAGE], many=True).data)

    @extend_schema(request=SampleGenerateSerializer, responses={201: ReportRowSerializer})
    def post(self, request):
        sample_items_visible_to(request.user)
        if not can_supervise(request.user):
            raise PermissionDenied("Only supervisors and administrators sample interactions.")
        serializer = SampleGenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        day = serializer.validated_data.get("week_start") or timezone.localdate()
        teams, _ = quality_team_ids(request.user)
        counts = sample_week(week_start=week_start_of(day), team_ids=teams)
        return Response(
            {
                "week_start": week_start_of(day).isoformat(),
                "added": counts.total,
                "random": counts.random,
                "low_satisfaction": counts.low_satisfaction,
                "negative_sentiment": counts.negative_sentiment,
                "long_handle_time": counts.long_handle_time,
            },
            status=status.HTTP_201_CREATED,
        )


class QualityReportApi(APIView):
    """QA score per agent, team, queue or week: evaluations, mean score, auto-fail and dispute rates.
    Supervisors read their teams', agents their own, admins and clients all."""

    scope_resource = "insights"

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", str, enum=list(REPORT_GROUPS)),
            OpenApiParameter("from", dt.date),
            OpenApiParameter("to", dt.date),
        ],
        responses=ReportRowSerializer(many=True),
    )
    def get(self, request):
        teams, agent_id = quality_team_ids(request.user)
        group_by = request.query_params.get("group_by", "agent")
        if group_by not in REPORT_GROUPS:
            raise ValidationFailed(f"Group by one of {', '.join(REPORT_GROUPS)}.", fields={"group_by": "Unknown."})
        start, end = _day(request, "from"), _day(request, "to")
        rows = quality_report(
            evaluations=evaluations_submitted(team_ids=teams, agent_id=agent_id, start=start, end=end),
            group_by=group_by,
        )
        return Response(ReportRowSerializer(rows, many=True).data)


def _day(request, name: str) -> dt.date | None:
    value = request.query_params.get(name, "")
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name!r} must be a date (YYYY-MM-DD).", fields={name: "A date."}) from None
