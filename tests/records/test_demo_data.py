"""The demo data set: consistent, deterministic, loaded once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F

from cea.accounts.models import Team, User
from records.cases.models import Case
from records.customers.models import Customer
from records.demo.generator import DemoSize, load_demo_data
from records.identities.models import Identity
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent

SMALL = DemoSize(customers=60, cases=150, interactions=400, days=30)


@pytest.mark.django_db
def test_a_small_set_is_consistent():
    # When
    counts = load_demo_data(size=SMALL, seed=7)
    # Then: the sizes asked for
    assert (Customer.objects.count(), Case.objects.count(), Interaction.objects.count()) == (60, 150, 400)
    assert counts["identities"] == Identity.objects.count() > 60
    assert counts["journey_events"] == JourneyEvent.objects.count()
    assert Team.objects.count() == 4
    assert User.objects.filter(role="agent").count() == 40
    # and the links make sense: cases and interactions belong to their customer's team
    assert not Case.objects.exclude(team=F("customer__team")).exists()
    assert not Interaction.objects.exclude(team=F("customer__team")).exists()
    assert not Interaction.objects.filter(case__isnull=False).exclude(case__customer=F("customer")).exists()
    assert not Interaction.objects.filter(ended_at__lt=F("started_at")).exists()
    # every customer's story starts with customer.created
    assert JourneyEvent.objects.filter(kind="customer.created").count() == 60
    assert JourneyEvent.objects.filter(kind="interaction.recorded").count() == 400


class _RollBack(Exception):
    pass


def _people(seed: int) -> list[tuple]:
    """Load a set with ``seed``, read its people, and roll the load back."""
    try:
        with transaction.atomic():
            load_demo_data(size=DemoSize(customers=25, cases=10, interactions=10), seed=seed)
            people = list(
                Customer.objects.order_by("id").values_list(
                    "given_name", "family_name", "email", "value_tier", "postcode"
                )
            )
            raise _RollBack
    except _RollBack:
        return people


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_people_and_another_seed_others():
    # When
    first, again, other = _people(7), _people(7), _people(8)
    # Then
    assert len(first) == 25
    assert first == again
    assert first != other


@pytest.mark.django_db
def test_the_command_loads_once():
    # Given
    out = StringIO()
    call_command("load_demo_data", customers=10, cases=5, interactions=5, queue_contacts=20, stdout=out)
    # When
    call_command("load_demo_data", stdout=out)
    # Then
    assert Customer.objects.count() == 10
    assert "Demo data already present" in out.getvalue()


@pytest.mark.django_db
def test_customers_walk_through_the_journey_in_order():
    # When a set is loaded
    load_demo_data(size=DemoSize(customers=300, cases=100, interactions=600, days=90), seed=11)

    # Then new customers (inside the window) start with a campaign click when they became customers
    new = list(Customer.objects.filter(journey_events__kind="campaign.clicked"))
    assert new, "some customers are new leads"
    for customer in new:
        click = JourneyEvent.objects.get(customer=customer, kind="campaign.clicked")
        assert click.occurred_at == customer.created_at
    # And each one's funnel steps come in the funnel's order, never before the customer existed
    order = [
        "campaign.clicked",
        "product.viewed",
        "quote.requested",
        "order.placed",
        "account.activated",
        "onboarding.completed",
        "loyalty.enrolled",
        "review.posted",
    ]
    for customer in new:
        kinds = list(
            JourneyEvent.objects.filter(customer=customer, kind__in=order)
            .order_by("occurred_at")
            .values_list("kind", flat=True)
        )
        assert kinds == order[: len(kinds)]
    assert not Interaction.objects.filter(started_at__lt=F("customer__created_at")).exists()
    assert not Case.objects.filter(created_at__lt=F("customer__created_at")).exists()
    # And every order says how much it was worth
    orders = JourneyEvent.objects.filter(kind="order.placed")
    assert orders.exists()
    assert all(isinstance(event.payload["amount"], float) and event.payload["amount"] > 0 for event in orders)
    # And nobody's persona is written by the generator: insights places customers in personas
    assert not Customer.objects.exclude(persona="").exists()
