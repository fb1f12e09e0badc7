"""REST API of the aggregated customer view (mounted by cea/urls.py at /api/v1/customers/<id>/aggregate)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from integration.aggregation.aggregate import customer_aggregate
from integration.aggregation.serializers import AggregateInputSerializer, CustomerAggregateSerializer
from records.access import access_customer
from records.audit.access import customer_access_record


class CustomerAggregateApi(APIView):
    """The customer across every connected back-end now: the parts that arrived in time, why others are missing."""

    scope_resource = "customers"
    throttle_scope = "lookup"

    @extend_schema(parameters=[AggregateInputSerializer], responses=CustomerAggregateSerializer)
    def get(self, request, customer_id: int):
        query = AggregateInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        customer = access_customer(request.user, customer_id)
        customer_access_record(actor=request.user, customer_ids=[customer.pk], surface="lookup", detail="aggregate")
        deadline_ms = query.validated_data.get("deadline_ms")
        aggregate = customer_aggregate(customer, deadline=deadline_ms / 1000 if deadline_ms else None)
        return Response(CustomerAggregateSerializer(aggregate).data)
