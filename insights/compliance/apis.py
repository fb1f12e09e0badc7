"""REST API of the automatic compliance checks, under ``/api/v1/insights/compliance/``.

- ``GET /`` (``?start=&end=``): the report — totals, pass rates per queue, agent and rule, and the
  flagged interactions (failed verdicts) of the period;
- ``GET /interactions/<id>/``: one interaction's verdicts;
- ``GET /rules/``, ``POST /rules/``: the rules (administrators create; the phrase or expression is checked).

Supervisors see their teams' verdicts, admins and integration clients (``insights:read``) all; agents 403.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import PermissionDenied
from cea.common.serializers import CharField, ModelSerializer, SlugField
from insights.compliance.models import ComplianceCheck, ComplianceRule, RuleKind
from insights.compliance.selectors import compliance_report, compliance_scope, interaction_checks, rules_all
from insights.compliance.services import compliance_rule_create
from insights.sentiment.apis import form_errors
from insights.sentiment.forms import PeriodForm
from records.access import access_interaction


class RuleSerializer(ModelSerializer):
    class Meta:
        model = ComplianceRule
        fields = ["id", "key", "name", "queue", "kind", "phrase", "is_regex", "active"]
        read_only_fields = ["id"]


class RuleInputSerializer(serializers.Serializer):
    key = SlugField(max_length=60)
    name = CharField(max_length=200)
    queue = CharField(max_length=100, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    phrase = CharField(max_length=500)
    is_regex = serializers.BooleanField(required=False, default=False)
    active = serializers.BooleanField(required=False, default=True)


class CheckSerializer(ModelSerializer):
    rule_key = CharField(source="rule.key")
    rule_name = CharField(source="rule.name")
    kind = CharField(source="rule.kind")

    class Meta:
        model = ComplianceCheck
        fields = [
            "interaction",
            "rule_key",
            "rule_name",
            "kind",
            "passed",
            "entry_index",
            "excerpt",
            "queue",
            "team",
            "agent",
            "customer_id",
            "interaction_started_at",
        ]


# The schema of one rate row, one class (inline: a field called ``label`` would shadow DRF's own).
RateSerializer = inline_serializer(
    "ComplianceRate",
    {
        "key": CharField(),
        "label": CharField(),
        "checks": serializers.IntegerField(),
        "failed": serializers.IntegerField(),
        "pass_rate": serializers.FloatField(allow_null=True),
    },
).__class__


class ComplianceReportApi(APIView):
    """Pass rates and flagged interactions of the caller's teams (admins: all) in the period."""

    scope_resource = "insights"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="First day (YYYY-MM-DD); default 30 days before end"
            ),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, included; default today"),
        ],
        responses=inline_serializer(
            "ComplianceReport",
            {
                "total": RateSerializer(),
                "by_queue": RateSerializer(many=True),
                "by_agent": RateSerializer(many=True),
                "by_rule": RateSerializer(many=True),
                "flagged": CheckSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        team_ids = compliance_scope(request.user)
        form = PeriodForm(request.query_params)
        if not form.is_valid():
            raise form_errors(form)
        report = compliance_report(team_ids=team_ids, start=form.range_start, end=form.range_end)
        return Response(
            {
                "start": form.cleaned_data["start"],
                "end": form.cleaned_data["end"],
                "total": report.total.as_json(),
                "by_queue": [row.as_json() for row in report.by_queue],
                "by_agent": [row.as_json() for row in report.by_agent],
                "by_rule": [row.as_json() for row in report.by_rule],
                "flagged": CheckSerializer(report.flagged, many=True).data,
            }
        )


class InteractionChecksApi(APIView):
    """One interaction's verdicts (the interaction must be one the caller may see)."""

    scope_resource = "insights"

    @extend_schema(responses=CheckSerializer(many=True))
    def get(self, request, interaction_id: int):
        team_ids = compliance_scope(request.user)
        interaction = access_interaction(request.user, interaction_id)
        if team_ids is not None and interaction.team_id not in team_ids:
            raise PermissionDenied("This interaction belongs to a team you are not in.")
        return Response(CheckSerializer(interaction_checks(interaction_id=interaction.pk), many=True).data)


class RuleListApi(APIView):
    """The compliance rules (supervisors read, administrators create)."""

    scope_resource = "insights"

    @extend_schema(responses=RuleSerializer(many=True))
    def get(self, request):
        compliance_scope(request.user)
        return Response(RuleSerializer(rules_all(), many=True).data)

    @extend_schema(request=RuleInputSerializer, responses={201: RuleSerializer})
    def post(self, request):
        compliance_scope(request.user)
        serializer = RuleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = compliance_rule_create(actor=request.user, fields=serializer.validated_data)
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)
