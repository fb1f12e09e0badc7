"""REST API for identities and for finding a customer from an identifier."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import NotFound
from cea.common.serializers import CharField
from records.access import access_customer, customer_visible
from records.audit.access import customer_access_record
from records.customers.serializers import CustomerSerializer, IdentityInputSerializer, IdentitySerializer
from records.identities.models import IdentityKind
from records.identities.selectors import customer_lookup, customer_lookup_any
from records.identities.services import identity_add, identity_remove


class CustomerIdentitiesApi(APIView):
    scope_resource = "customers"

    @extend_schema(responses=IdentitySerializer(many=True))
    def get(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        return Response(IdentitySerializer(customer.identities.all(), many=True).data)

    @extend_schema(request=IdentityInputSerializer, responses={201: IdentitySerializer})
    def post(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        serializer = IdentityInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity = identity_add(actor=request.user, customer=customer, **serializer.validated_data)
        return Response(IdentitySerializer(identity).data, status=status.HTTP_201_CREATED)


class CustomerIdentityDetailApi(APIView):
    scope_resource = "customers"

    @extend_schema(responses={204: None})
    def delete(self, request, customer_id: int, identity_id: int):
        customer = access_customer(request.user, customer_id)
        identity = customer.identities.filter(pk=identity_id).first()
        if identity is None:
            raise NotFound(f"Customer {customer.pk} has no identity {identity_id}.")
        identity_remove(actor=request.user, identity=identity)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LookupMatchSerializer(serializers.Serializer):
    kind = CharField()
    customer = CustomerSerializer()


class LookupInputSerializer(serializers.Serializer):
    value = CharField(max_length=255, help_text="The identifier as the customer gave it")
    kind = serializers.ChoiceField(
        choices=IdentityKind.choices, required=False, help_text="Read the value as this kind only"
    )


class LookupApi(APIView):
    """Find customers by an identifier, given in the body of a POST. With ``kind``, that kind only;
    without, every kind that can read the value (national ids included).

    Only customers the user may see are returned; several matches are all returned, never guessed
    between. The identifier never goes in the address: query strings are kept in logs, proxies and
    browser histories, so a GET is refused (405, saying to POST). The POST only reads: a token needs
    ``customers:read``.
    """

    scope_resource = "customers"
    scope_read_methods = ("POST",)
    throttle_scope = "lookup"

    @extend_schema(
        operation_id="lookup",
        request=LookupInputSerializer,
        responses={200: LookupMatchSerializer(many=True)},
        description="The identifier is sent in the body, never in the query string.",
    )
    def post(self, request):
        params = LookupInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        kind, value = params.validated_data.get("kind"), params.validated_data["value"]
        if kind:
            customer = customer_lookup(kind=kind, value=value)
            matches = [(kind, customer)] if customer else []
        else:
            matches = customer_lookup_any(value=value)
        visible = [{"kind": k, "customer": c} for k, c in matches if customer_visible(request.user, c)]
        customer_access_record(
            actor=request.user, customer_ids=[m["customer"].pk for m in visible], surface="lookup", detail="identifier"
        )
        return Response(LookupMatchSerializer(visible, many=True).data)

    def http_method_not_allowed(self, request, *args, **kwargs):
        # Only POST is an operation here; a GET is told where the identifier goes instead.
        if request.method == "GET":
            raise exceptions.MethodNotAllowed(
                "GET",
                detail='Send the identifier in the body of a POST to this address ({"value": …, "kind": …}), '
                "never in the query string: addresses are kept in logs and browser histories.",
            )
        return super().http_method_not_allowed(request, *args, **kwargs)
