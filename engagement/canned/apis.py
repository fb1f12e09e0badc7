"""REST API of canned responses and macros.

``GET/POST /api/v1/engagement/canned-responses/``, ``GET/PATCH/DELETE .../{id}/`` and
``POST .../{id}/apply/``. For agents, supervisors and administrators (integration clients are
refused): each sees their own texts and their teams' shared ones (``engagement.canned.selectors``);
the services check who may write. API tokens need ``conversations:read`` / ``conversations:write``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.accounts.models import Team
from cea.common.errors import NotFound, ValidationFailed
from engagement.access import access_conversation
from engagement.canned.selectors import access_canned, canned_for_desk, require_canned_user
from engagement.canned.serializers import (
    CannedAppliedSerializer,
    CannedApplyInputSerializer,
    CannedListQuerySerializer,
    CannedResponseInputSerializer,
    CannedResponseSerializer,
)
from engagement.canned.services import canned_apply, canned_create, canned_delete, canned_update
from engagement.routing.models import WrapUpCode

LIST_LIMIT = 200


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The services' fields from the validated input: the wrap-up code and team by reference."""
    fields = dict(data)
    if "wrap_up_code" in fields:
        code = fields.pop("wrap_up_code")
        found = WrapUpCode.objects.filter(code=code).first() if code else None
        if code and found is None:
            raise NotFound(f"No wrap-up code {code!r}.")
        fields["wrap_up_code"] = found
    if "team" in fields:
        team_id = fields.pop("team")
        team = Team.objects.filter(pk=team_id).first() if team_id is not None else None
        if team_id is not None and team is None:
            raise NotFound(f"No team with id {team_id}.")
        fields["team"] = team
    return fields


class CannedListApi(APIView):
    scope_resource = "conversations"

    @extend_schema(parameters=[CannedListQuerySerializer], responses=CannedResponseSerializer(many=True))
    def get(self, request):
        require_canned_user(request.user)
        query = CannedListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = canned_for_desk(user=request.user, text=query.validated_data["q"], limit=LIST_LIMIT)
        return Response(CannedResponseSerializer(found, many=True).data)

    @extend_schema(request=CannedResponseInputSerializer, responses={201: CannedResponseSerializer})
    def post(self, request):
        require_canned_user(request.user)
        serializer = CannedResponseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        canned = canned_create(actor=request.user, **_fields(serializer.validated_data))
        return Response(CannedResponseSerializer(canned).data, status=status.HTTP_201_CREATED)


class CannedDetailApi(APIView):
    scope_resource = "conversations"

    @extend_schema(responses=CannedResponseSerializer)
    def get(self, request, canned_id: str):
        return Response(CannedResponseSerializer(access_canned(request.user, canned_id)).data)

    @extend_schema(request=CannedResponseInputSerializer(partial=True), responses=CannedResponseSerializer)
    def patch(self, request, canned_id: str):
        canned = access_canned(request.user, canned_id)
        serializer = CannedResponseInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = _fields(serializer.validated_data)
        if "team" in fields:
            raise ValidationFailed(
                "A canned response stays shared or personal; make a new one instead.",
                fields={"team": "Cannot be changed."},
            )
        canned = canned_update(actor=request.user, canned=canned, **fields)
        return Response(CannedResponseSerializer(canned).data)

    @extend_schema(responses={204: None})
    def delete(self, request, canned_id: str):
        canned_delete(actor=request.user, canned=access_canned(request.user, canned_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CannedApplyApi(APIView):
    """Fill a canned response's variables for a conversation; a macro also adds its note."""

    scope_resource = "conversations"

    @extend_schema(request=CannedApplyInputSerializer, responses=CannedAppliedSerializer)
    def post(self, request, canned_id: str):
        require_canned_user(request.user)
        serializer = CannedApplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = access_conversation(request.user, serializer.validated_data["conversation"])
        applied = canned_apply(actor=request.user, canned_id=canned_id, conversation=conversation)
        return Response(applied_representation(applied))


def applied_representation(applied) -> dict[str, Any]:
    return CannedAppliedSerializer(
        {
            "text": applied.text,
            "missing": applied.missing,
            "wrap_up_code": applied.wrap_up_code.code if applied.wrap_up_code else None,
            "note": applied.note.pk if applied.note else None,
        }
    ).data
