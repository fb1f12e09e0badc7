"""REST API for privacy requests (right to erasure, right of access): for signed-in supervisors and
administrators; API tokens have no scope for it."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from records.access import access_customer
from records.privacy.access_export import privacy_access_document
from records.privacy.models import PrivacyRequest
from records.privacy.selectors import access_privacy_request, privacy_requests_visible_to
from records.privacy.serializers import (
    PrivacyRejectSerializer,
    PrivacyRequestInputSerializer,
    PrivacyRequestSerializer,
)
from records.privacy.services import (
    privacy_request_approve,
    privacy_request_carry_out,
    privacy_request_create,
    privacy_request_reject,
)


class PrivacyRequestListApi(generics.ListAPIView):
    """Privacy requests the user may see (admins: all; supervisors: their teams' customers)."""

    serializer_class = PrivacyRequestSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PrivacyRequest.objects.none()
        return privacy_requests_visible_to(self.request.user)

    @extend_schema(request=PrivacyRequestInputSerializer, responses={201: PrivacyRequestSerializer})
    def post(self, request):
        serializer = PrivacyRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = access_customer(request.user, data["customer"])
        created = privacy_request_create(
            actor=request.user, customer=customer, kind=data["kind"], reason=data["reason"]
        )
        return Response(PrivacyRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class PrivacyRequestDetailApi(APIView):
    @extend_schema(responses=PrivacyRequestSerializer)
    def get(self, request, request_id: int):
        return Response(PrivacyRequestSerializer(access_privacy_request(request.user, request_id)).data)


class PrivacyRequestApproveApi(APIView):
    """Approve a request (an administrator who is not its requester)."""

    @extend_schema(request=None, responses=PrivacyRequestSerializer)
    def post(self, request, request_id: int):
        privacy_request = access_privacy_request(request.user, request_id)
        return Response(
            PrivacyRequestSerializer(privacy_request_approve(actor=request.user, request=privacy_request)).data
        )


class PrivacyRequestRejectApi(APIView):
    @extend_schema(request=PrivacyRejectSerializer, responses=PrivacyRequestSerializer)
    def post(self, request, request_id: int):
        privacy_request = access_privacy_request(request.user, request_id)
        serializer = PrivacyRejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rejected = privacy_request_reject(
            actor=request.user, request=privacy_request, reason=serializer.validated_data["reason"]
        )
        return Response(PrivacyRequestSerializer(rejected).data)


class PrivacyRequestCarryOutApi(APIView):
    """Carry out an approved request in the background: 202; the request turns ``done`` when finished."""

    @extend_schema(request=None, responses={202: PrivacyRequestSerializer})
    def post(self, request, request_id: int):
        privacy_request = access_privacy_request(request.user, request_id)
        privacy_request_carry_out(actor=request.user, request=privacy_request)
        return Response(PrivacyRequestSerializer(privacy_request).data, status=status.HTTP_202_ACCEPTED)


class PrivacyRequestExportApi(APIView):
    """The JSON export of a done access request, for its approver (each download is recorded)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, request_id: int):
        privacy_request = access_privacy_request(request.user, request_id)
        document = privacy_access_document(actor=request.user, request=privacy_request)
        response = HttpResponse(json.dumps(document, cls=DjangoJSONEncoder, indent=2), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="customer-{privacy_request.customer_id}-export.json"'
        response["Cache-Control"] = "no-store"
        return response
