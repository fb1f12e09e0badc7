"""REST API for identities and for finding a customer from an identifier."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cea.common.errors import NotFound
from cea.common.serializers import CharField
from records.access import access_customer, customer_visible
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


class LookupApi(APIView):
    """Find customers by an identifier. With ``kind``, that kind only; without, every kind that can read the value.

    Only customers the user may see are returned; several matches are all returned, never guessed between.
    """

    scope_resource = "customers"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "value",
                {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"\S"},
                required=True,
                description="The identifier as the customer gave it (not blank)",
            ),
            OpenApiParameter("kind", str, enum=IdentityKind.values, description="Read the value as this kind only"),
        ],
        responses=LookupMatchSerializer(many=True),
    )
    def get(self, request):
        params = LookupQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        kind, value = params.validated_data.get("kind"), params.validated_data["value"]
        if kind:
            customer = customer_lookup(kind=kind, value=value)
            matches = [(kind, customer)] if customer else []
        else:
            matches = customer_lookup_any(value=value)
        visible = [{"kind": k, "customer": c} for k, c in matches if customer_visible(request.user, c)]
        return Response(LookupMatchSerializer(visible, many=True).data)


class LookupQuerySerializer(serializers.Serializer):
    value = CharField(max_length=255)
    kind = serializers.ChoiceField(choices=IdentityKind.choices, required=False)
