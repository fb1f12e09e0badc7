"""REST API of the customer access log and the unusual access report (supervisors and administrators).

Session users only: an API token (an integration client) is refused, as the log is about people.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.serializers import CharField, ModelSerializer
from records.audit.access_selectors import customer_accesses, require_access_auditor, unusual_access
from records.audit.models import CustomerAccess


class CustomerAccessSerializer(ModelSerializer):
    class Meta:
        model = CustomerAccess
        fields = [
            "id",
            "at",
            "user_id",
            "username",
            "customer_id",
            "customer_team_id",
            "outside_teams",
            "surface",
            "detail",
            "url",
        ]


class AccessQuerySerializer(serializers.Serializer):
    customer = serializers.IntegerField(required=False, min_value=1, help_text="Reads of this customer")
    user = serializers.IntegerField(required=False, min_value=1, help_text="Reads by this user")


class CustomerAccessListApi(generics.ListAPIView):
    """Who read which customer, newest first: ``?customer=<id>`` and/or ``?user=<id>``.

    Supervisors get the reads of their teams' customers and by their teams' members; administrators all.
    """

    serializer_class = CustomerAccessSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CustomerAccess.objects.none()
        query = AccessQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return customer_accesses(
            viewer=self.request.user,
            customer_id=query.validated_data.get("customer"),
            user_id=query.validated_data.get("user"),
        )

    @extend_schema(parameters=[AccessQuerySerializer])
    def get(self, request, *args, **kwargs):
        require_access_auditor(request.user)
        return super().get(request, *args, **kwargs)


class UnusualDaySerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = CharField()
    day = serializers.DateField()
    customers = serializers.IntegerField()
    own_median = serializers.FloatField(allow_null=True)
    peer_median = serializers.FloatField()
    outside_teams = serializers.IntegerField()
    reasons = serializers.ListField(child=CharField())


class UnusualQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=90, default=14)


class UnusualAccessApi(APIView):
    """Readers' days that stand out: far above their own or their peers' volume, or other teams' customers."""

    @extend_schema(parameters=[UnusualQuerySerializer], responses=UnusualDaySerializer(many=True))
    def get(self, request):
        query = UnusualQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = unusual_access(viewer=request.user, days=query.validated_data["days"])
        return Response(UnusualDaySerializer(days, many=True).data)
