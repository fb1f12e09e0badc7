import django_filters

from cea.common.api import IsoDateTimeFilter, RowIdFilter
from records.customers.models import Customer, CustomerStatus


class CustomerFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CustomerStatus.choices)
    segment = django_filters.CharFilter()
    value_tier = django_filters.CharFilter()
    team = RowIdFilter(field_name="team_id")
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Customer
        fields = ["status", "segment", "value_tier", "team", "language"]
