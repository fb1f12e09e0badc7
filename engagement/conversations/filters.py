import django_filters

from cea.common.api import RowIdFilter
from cea.common.channels import Channel, Direction
from engagement.conversations.models import Conversation, ConversationStatus


class ConversationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ConversationStatus.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    queue = django_filters.CharFilter()
    customer = RowIdFilter(field_name="customer_id")
    agent = RowIdFilter(field_name="agent_id")

    class Meta:
        model = Conversation
        fields = ["status", "channel", "direction", "queue", "customer", "agent"]
