import datetime as dt

import factory
from django.utils import timezone

from records.cases.models import Case, SlaPolicy
from records.cases.services import next_case_reference
from records.customers.models import Customer
from records.customers.services import search_name_of
from records.interactions.models import Interaction


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    search_name = factory.LazyAttribute(lambda c: search_name_of(given_name=c.given_name, family_name=c.family_name))


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy
        django_get_or_create = ("name",)

    name = factory.LazyAttribute(lambda p: f"{p.priority} default")
    priority = "normal"
    first_response_minutes = 60
    resolution_minutes = 24 * 60
    is_default_for_priority = True


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    reference = factory.LazyFunction(next_case_reference)
    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Faker("sentence", nb_words=5)
    team = factory.LazyAttribute(lambda c: c.customer.team)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = "chat"
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=10))
    ended_at = factory.LazyFunction(timezone.now)
