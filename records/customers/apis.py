"""REST API for customers: list/search, create, the 360° view, update, consent, duplicates, merge."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from records.access import access_customer, customers_visible_to
from records.audit.access import customer_access_record
from records.customers.filters import CustomerFilter
from records.customers.models import Customer
from records.customers.selectors import (
    customer_360,
    customer_360_rows,
    customer_duplicate_candidates,
    customer_search,
)
from records.customers.serializers import (
    ConsentInputSerializer,
    ConsentSerializer,
    Customer360Serializer,
    CustomerCreateSerializer,
    CustomerInputSerializer,
    CustomerSerializer,
    DuplicateCandidateSerializer,
    MergeInputSerializer,
)
from records.customers.services import customer_create, customer_merge, customer_set_consent, customer_update


class CustomerListApi(generics.ListAPIView):
    """Customers the user may see. ``q`` searches names, email, phone and identifiers."""

    scope_resource = "customers"
    throttle_scope = {"GET": "lookup"}
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["family_name", "given_name", "created_at", "updated_at", "value_tier", "id"]
    ordering = ["family_name", "given_name", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Customer.objects.none()
        customers = customers_visible_to(self.request.user).select_related("team")
        return customer_search(customers=customers, text=self.request.query_params.get("q", ""))

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        shown = page if page is not None else queryset
        customer_access_record(
            actor=self.request.user, customer_ids=[c.pk for c in shown], surface="customer_api", detail="list"
        )
        return page

    @extend_schema(parameters=[OpenApiParameter("q", str, description="Search text")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=CustomerCreateSerializer, responses={201: Customer360Serializer})
    def post(self, request):
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_create(actor=request.user, **serializer.validated_data)
        return Response(
            Customer360Serializer(customer_360(customer_id=customer.pk)).data, status=status.HTTP_201_CREATED
        )


class CustomerDetailApi(APIView):
    scope_resource = "customers"

    @extend_schema(responses=Customer360Serializer)
    def get(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id, rows=customer_360_rows())
        customer_access_record(actor=request.user, customer_ids=[customer.pk], surface="customer_api", detail="detail")
        return Response(Customer360Serializer(customer).data)

    @extend_schema(request=CustomerInputSerializer, responses=Customer360Serializer)
    def patch(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        serializer = CustomerInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer_update(actor=request.user, customer=customer, **serializer.validated_data)
        return Response(Customer360Serializer(customer_360(customer_id=customer.pk)).data)


class CustomerConsentApi(APIView):
    scope_resource = "customers"

    @extend_schema(responses=ConsentSerializer(many=True))
    def get(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        return Response(ConsentSerializer(customer.consents.all(), many=True).data)

    @extend_schema(request=ConsentInputSerializer, responses=ConsentSerializer)
    def post(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        serializer = ConsentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = customer_set_consent(actor=request.user, customer=customer, **serializer.validated_data)
        return Response(ConsentSerializer(consent).data)


class CustomerDuplicatesApi(APIView):
    """Customers that may be the same person as this one, with the reasons, best first."""

    scope_resource = "customers"

    @extend_schema(responses=DuplicateCandidateSerializer(many=True))
    def get(self, request, customer_id: int):
        customer = access_customer(request.user, customer_id)
        candidates = customer_duplicate_candidates(customer=customer, within=customers_visible_to(request.user))
        return Response(DuplicateCandidateSerializer(candidates, many=True).data)


class CustomerMergeApi(APIView):
    """Merge ``merged_id`` into this customer (supervisors, admins, integration clients)."""

    scope_resource = "customers"

    @extend_schema(request=MergeInputSerializer, responses=Customer360Serializer)
    def post(self, request, customer_id: int):
        serializer = MergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        survivor = access_customer(request.user, customer_id)
        merged = access_customer(request.user, serializer.validated_data["merged_id"])
        customer_merge(actor=request.user, survivor_id=survivor.pk, merged_id=merged.pk)
        return Response(Customer360Serializer(customer_360(customer_id=survivor.pk)).data)
