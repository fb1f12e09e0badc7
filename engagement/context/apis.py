"""REST API of the context store, under /api/v1/engagement/.

- ``GET|PUT|PATCH|DELETE contexts/<scope>/<id>/`` (scope ``customer`` or ``conversation``)
- ``GET contexts/alias/<alias>/`` (a call id, a chat session …)
- ``GET contexts/limits/``
- ``GET customers/<id>/contexts/`` (the customer's context and their open conversations')

Optimistic concurrency: a write names the version it was made against in the body,
``expected_version`` — required by PUT (it replaces everything), optional for PATCH. A stale
version is refused with 409 ``stale_version`` and nothing changes. Over a size or key limit:
400 ``context_too_large`` or ``invalid``, the limit in the message, nothing written.
Permissions follow the customer (``access_customer``) or the conversation
(``access_conversation``); API tokens need ``context:read`` / ``context:write``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import NotFound
from engagement.access import access_context
from engagement.context.models import ContextScope
from engagement.context.selectors import customer_live_contexts
from engagement.context.serializers import (
    ContextLimitsSerializer,
    ContextPatchSerializer,
    ContextPutSerializer,
    ContextSerializer,
    CustomerContextsSerializer,
    context_representation,
)
from engagement.context.services import context_delete, context_read, context_resolve, context_write, limits
from records.access import access_customer

SCOPE_PARAMETER = OpenApiParameter(
    "scope", OpenApiTypes.STR, OpenApiParameter.PATH, enum=ContextScope.values, description="Whose context"
)
ID_PARAMETER = OpenApiParameter(
    "context_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The customer's or the conversation's id"
)


def _respond(context) -> Response:
    return Response(ContextSerializer(context_representation(context)).data)


@extend_schema(parameters=[SCOPE_PARAMETER, ID_PARAMETER])
class ContextDetailApi(APIView):
    """One live context: read it, replace it (PUT), change some keys (PATCH), clear it (DELETE)."""

    scope_resource = "context"

    @extend_schema(responses=ContextSerializer)
    def get(self, request, scope: str, context_id: int):
        target = access_context(request.user, scope, context_id)
        return _respond(context_read(scope=target.scope, context_id=target.id))

    @extend_schema(request=ContextPutSerializer, responses=ContextSerializer)
    def put(self, request, scope: str, context_id: int):
        return self._write(request, scope, context_id, ContextPutSerializer, replace=True)

    @extend_schema(request=ContextPatchSerializer, responses=ContextSerializer)
    def patch(self, request, scope: str, context_id: int):
        return self._write(request, scope, context_id, ContextPatchSerializer, replace=False)

    @extend_schema(responses={200: ContextSerializer})  # the emptied context, not 204: its version is news
    def delete(self, request, scope: str, context_id: int):
        """Remove every key (the durable log keeps the history); returns the empty context and its version."""
        target = access_context(request.user, scope, context_id)
        return _respond(context_delete(actor=request.user, scope=target.scope, context_id=target.id, source="api"))

    def _write(self, request, scope: str, context_id: int, serializer_class, *, replace: bool) -> Response:
        target = access_context(request.user, scope, context_id)
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        context = context_write(
            actor=request.user,
            scope=target.scope,
            context_id=target.id,
            customer_id=target.customer_id,
            replace=replace,
            source="api",
            **serializer.validated_data,
        )
        return _respond(context)


class ContextAliasApi(APIView):
    """The context an alias (a call id, a chat session …) points at."""

    scope_resource = "context"

    @extend_schema(responses=ContextSerializer)
    def get(self, request, alias: str):
        resolved = context_resolve(alias=alias)
        if resolved is None:
            raise NotFound(f"No context has the alias {alias!r}.")
        target = access_context(request.user, *resolved)
        return _respond(context_read(scope=target.scope, context_id=target.id))


class ContextLimitsApi(APIView):
    """The limits this deployment enforces on contexts (sizes, keys, TTLs)."""

    scope_resource = "context"

    @extend_schema(responses=ContextLimitsSerializer)
    def get(self, request):
        return Response(ContextLimitsSerializer(limits()).data)


class CustomerContextsApi(APIView):
    """A customer's live context and the contexts of their open conversations."""

    scope_resource = "context"

    @extend_schema(responses=CustomerContextsSerializer)
    def get(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        own, conversations = customer_live_contexts(customer_id=customer.pk)
        return Response(
            CustomerContextsSerializer(
                {
                    "customer": context_representation(own),
                    "conversations": [context_representation(context) for context in conversations],
                }
            ).data
        )
