"""REST API of personas under /api/v1/insights/personas/.

Reading (definitions, the latest discovery run) is for supervisors, admins and integration clients
(tokens need ``insights:read``); each definition's ``customers`` counts only the customers the reader
may see (a supervisor's teams'). Writing definitions is for administrators. Agents get 403.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import NotFound
from insights.access import require_customer_insight_reader
from insights.personas.models import PersonaDefinition
from insights.personas.selectors import (
    discovery_clusters,
    discovery_latest,
    persona_customer_counts,
    persona_definitions,
)
from insights.personas.serializers import (
    DiscoveredClusterSerializer,
    DiscoveryRunSerializer,
    PersonaDefinitionInputSerializer,
    PersonaDefinitionSerializer,
)
from insights.personas.services import (
    persona_definition_create,
    persona_definition_delete,
    persona_definition_update,
)
from records.access import customers_visible_to


def _counts(user) -> dict[str, int]:
    return persona_customer_counts(customers=customers_visible_to(user))


def _definition(user, key: str) -> PersonaDefinition:
    require_customer_insight_reader(user, "Personas")
    found = persona_definitions().filter(key=key).first()
    if found is None:
        raise NotFound(f"No persona with the key {key!r}.")
    return found


class PersonaListApi(APIView):
    """The persona definitions in the order they are tried; POST (admins) adds one."""

    scope_resource = "insights"

    @extend_schema(responses=PersonaDefinitionSerializer(many=True))
    def get(self, request):
        require_customer_insight_reader(request.user, "Personas")
        context = {"counts": _counts(request.user)}
        return Response(PersonaDefinitionSerializer(persona_definitions(), many=True, context=context).data)

    @extend_schema(request=PersonaDefinitionInputSerializer, responses={201: PersonaDefinitionSerializer})
    def post(self, request):
        require_customer_insight_reader(request.user, "Personas")
        serializer = PersonaDefinitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        definition = persona_definition_create(actor=request.user, fields=serializer.validated_data)
        context = {"counts": _counts(request.user)}
        return Response(PersonaDefinitionSerializer(definition, context=context).data, status=status.HTTP_201_CREATED)


class PersonaDetailApi(APIView):
    """One persona definition; PATCH and DELETE are for administrators."""

    scope_resource = "insights"

    @extend_schema(responses=PersonaDefinitionSerializer)
    def get(self, request, key: str):
        definition = _definition(request.user, key)
        return Response(PersonaDefinitionSerializer(definition, context={"counts": _counts(request.user)}).data)

    @extend_schema(request=PersonaDefinitionInputSerializer, responses=PersonaDefinitionSerializer)
    def patch(self, request, key: str):
        definition = _definition(request.user, key)
        serializer = PersonaDefinitionInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        definition = persona_definition_update(
            actor=request.user, definition=definition, fields=serializer.validated_data
        )
        return Response(PersonaDefinitionSerializer(definition, context={"counts": _counts(request.user)}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, key: str):
        definition = _definition(request.user, key)
        persona_definition_delete(actor=request.user, definition=definition)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonaDiscoveryApi(APIView):
    """The latest discovery run with its clusters (size, centroid, what sets each apart); 404 before the first."""

    scope_resource = "insights"

    @extend_schema(
        responses={200: DiscoveryRunSerializer, 404: OpenApiResponse(description="No discovery run yet (`not_found`)")}
    )
    def get(self, request):
        require_customer_insight_reader(request.user, "Personas")
        run = discovery_latest()
        if run is None:
            raise NotFound("No discovery run yet.")
        data = DiscoveryRunSerializer(run).data
        data["clusters"] = DiscoveredClusterSerializer(discovery_clusters(run=run), many=True).data
        return Response(data)
