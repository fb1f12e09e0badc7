"""REST API of legal holds: list and place them on a customer or a case, release one.

Reading needs sight of the customer or case; placing and releasing needs a supervisor (of the
record's team) or an administrator. Integration tokens need ``customers`` / ``cases`` scopes.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.serializers import CharField, ModelSerializer
from records.access import access_case, access_customer
from records.privacy.holds import access_legal_hold, legal_hold_place, legal_hold_release, legal_holds_of
from records.privacy.models import LegalHold


class LegalHoldSerializer(ModelSerializer):
    # Usernames; null once the user is gone (and, for released_by, while the hold is active).
    placed_by = CharField(source="placed_by.username", read_only=True, allow_null=True, default=None)
    released_by = CharField(source="released_by.username", read_only=True, allow_null=True, default=None)
    case_reference = CharField(source="case.reference", read_only=True, allow_null=True, default=None)
    active = serializers.SerializerMethodField()

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "customer",
            "case",
            "case_reference",
            "reason",
            "placed_by",
            "placed_at",
            "released_by",
            "released_at",
            "active",
        ]

    def get_active(self, hold: LegalHold) -> bool:
        return hold.released_at is None


class LegalHoldInputSerializer(serializers.Serializer):
    reason = CharField(max_length=300, help_text="Why the data must be kept: the matter, the request")


class _LegalHoldsApi(APIView):
    """The holds on one target (``target`` fetches it through ``records.access``); POST places one."""

    def target(self, request, key) -> dict:
        raise NotImplementedError

    def _list(self, request, key) -> Response:
        return Response(LegalHoldSerializer(legal_holds_of(**self.target(request, key)), many=True).data)

    def _place(self, request, key) -> Response:
        target = self.target(request, key)
        serializer = LegalHoldInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hold = legal_hold_place(actor=request.user, **target, **serializer.validated_data)
        return Response(LegalHoldSerializer(hold).data, status=status.HTTP_201_CREATED)


class CustomerLegalHoldsApi(_LegalHoldsApi):
    """The holds on a customer (their own and their cases'); POST places one on the customer."""

    scope_resource = "customers"

    def target(self, request, key) -> dict:
        return {"customer": access_customer(request.user, key)}

    @extend_schema(responses=LegalHoldSerializer(many=True))
    def get(self, request, customer_id: int):
        return self._list(request, customer_id)

    @extend_schema(request=LegalHoldInputSerializer, responses={201: LegalHoldSerializer})
    def post(self, request, customer_id: int):
        return self._place(request, customer_id)


class CaseLegalHoldsApi(_LegalHoldsApi):
    """The holds on a case; POST places one."""

    scope_resource = "cases"

    def target(self, request, key) -> dict:
        return {"case": access_case(request.user, key)}

    @extend_schema(responses=LegalHoldSerializer(many=True))
    def get(self, request, case_id: str):
        return self._list(request, case_id)

    @extend_schema(request=LegalHoldInputSerializer, responses={201: LegalHoldSerializer})
    def post(self, request, case_id: str):
        return self._place(request, case_id)


class LegalHoldReleaseApi(APIView):
    """Release a hold: retention and erasure may touch the record again."""

    scope_resource = "customers"

    @extend_schema(request=None, responses=LegalHoldSerializer)
    def post(self, request, hold_id: int):
        hold = access_legal_hold(request.user, hold_id)
        return Response(LegalHoldSerializer(legal_hold_release(actor=request.user, hold=hold)).data)
