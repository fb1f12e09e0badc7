"""REST API for the audit trail of a customer or a case (supervisors and administrators)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.serializers import CharField
from records.access import access_case, access_customer, require_supervisor
from records.audit.selectors import audit_trail


class AuditEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    label = CharField()
    model = CharField()
    object_id = CharField()
    user_id = serializers.IntegerField(allow_null=True)
    username = CharField(allow_null=True)
    url = CharField(allow_null=True)
    changes = serializers.DictField()


class CustomerAuditApi(APIView):
    scope_resource = "customers"

    @extend_schema(responses=AuditEntrySerializer(many=True))
    def get(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        require_supervisor(request.user, "read the audit trail")
        return Response(AuditEntrySerializer(audit_trail(objs=[customer]), many=True).data)


class CaseAuditApi(APIView):
    scope_resource = "cases"

    @extend_schema(responses=AuditEntrySerializer(many=True))
    def get(self, request, case_id: str):
        case = access_case(request.user, case_id)
        require_supervisor(request.user, "read the audit trail")
        return Response(AuditEntrySerializer(audit_trail(objs=[case]), many=True).data)
