import django_filters

from cea.common.api import IsoDateTimeFilter, RowIdFilter
from cea.common.channels import Channel, Direction
from records.interactions.models import Interaction


class InteractionFilter(django_filters.FilterSet):
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    customer = RowIdFilter(field_name="customer_id")
    agent = RowIdFilter(field_name="agent_id")
    case = RowIdFilter(field_name="case_id")
    queue = django_filters.CharFilter()
    started_after = IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = Interaction
        fields = ["channel", "direction", "customer", "agent", "case", "queue", "wrap_up_code", "disposition"]
