import django_filters
from django.db.models import Q

from cea.common.api import IsoDateTimeFilter, RowIdFilter
from records.cases.models import Case, CaseCategory, CasePriority, CaseStatus


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=CasePriority.choices)
    category = django_filters.ChoiceFilter(choices=CaseCategory.choices)
    customer = RowIdFilter(field_name="customer_id")
    team = RowIdFilter(field_name="team_id")
    assignee = RowIdFilter(field_name="assignee_id")
    # A choice, not a BooleanFilter: a value other than true/false is a 400, not "no filter".
    breached = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_breached", label="Any SLA breached"
    )
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields = ["status", "priority", "category", "customer", "team", "assignee"]

    def filter_breached(self, queryset, name, value):
        breached = Q(first_response_breached=True) | Q(resolution_breached=True)
        return queryset.filter(breached) if value == "true" else queryset.exclude(breached)
