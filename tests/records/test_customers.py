import pytest

from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from records.customers.models import Consent, Customer
from records.customers.services import customer_create, customer_set_consent, customer_set_scores, customer_update
from records.identities.models import Identity
from records.journey.models import JourneyEvent
from tests.records.factories import CustomerFactory


@pytest.mark.django_db
def test_create_customer_makes_identities_from_contact_data_and_a_journey(agent, team_a):
    # When
    customer = customer_create(
        actor=agent,
        given_name=" Alice ",
        family_name="Smith",
        email="Alice@Example.com",
        phone="07911 123456",
        team=team_a,
        identities=[{"kind": "account", "value": "acc-1"}],
        language="en-GB",
    )
    # Then
    customer.refresh_from_db()
    assert (customer.given_name, customer.email, customer.phone) == ("Alice", "alice@example.com", "+447911123456")
    assert customer.search_name == "alice smith"
    assert sorted(customer.identities.values_list("kind", "value")) == [
        ("account", "ACC1"),
        ("email", "alice@example.com"),
        ("phone", "+447911123456"),
    ]
    assert list(JourneyEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True)) == [
        "customer.created",
        "identity.added",
        "identity.added",
        "identity.added",
    ]


@pytest.mark.django_db
def test_create_customer_reports_every_bad_field_and_writes_nothing(agent, team_a):
    with pytest.raises(ValidationFailed) as refused:
        customer_create(
            actor=agent,
            given_name="Bob",
            email="bob@",
            phone="12",
            language="English",
            country="GBR",
            value_tier="diamond",
            team=team_a,
        )
    assert set(refused.value.fields) == {"email", "phone", "language", "country", "value_tier"}
    assert Customer.objects.count() == 0
    assert JourneyEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_identity_taken_by_another_customer_rolls_back_the_whole_create(agent, team_a):
    # Given
    customer_create(actor=agent, given_name="Alice", email="alice@example.com", team=team_a)
    # When
    with pytest.raises(Conflict):
        customer_create(actor=agent, given_name="Alicia", email="alice@example.com", team=team_a)
    # Then
    assert Customer.objects.count() == 1
    assert Identity.objects.count() == 1


@pytest.mark.django_db
def test_an_agent_cannot_place_a_customer_in_another_team(agent, team_b):
    with pytest.raises(PermissionDenied):
        customer_create(actor=agent, given_name="Eve", team=team_b)
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_update_records_what_changed(agent, team_a):
    # Given
    customer = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    # When
    customer_update(actor=agent, customer=customer, family_name="Jones", city="Leeds", given_name="Alice")
    # Then
    event = JourneyEvent.objects.filter(customer=customer, kind="customer.updated").get()
    assert event.payload == {"fields": ["family_name", "city"]}
    customer.refresh_from_db()
    assert customer.search_name == "alice jones"


@pytest.mark.django_db
def test_update_without_a_change_writes_nothing(agent, team_a):
    customer = customer_create(actor=agent, given_name="Alice", team=team_a)
    customer_update(actor=agent, customer=customer, given_name="Alice")
    assert not JourneyEvent.objects.filter(kind="customer.updated").exists()


@pytest.mark.django_db
def test_update_refuses_unknown_fields_and_name_removal(agent, team_a):
    customer = customer_create(actor=agent, given_name="Alice", team=team_a)
    with pytest.raises(ValidationFailed):
        customer_update(actor=agent, customer=customer, status="merged")
    with pytest.raises(ValidationFailed):
        customer_update(actor=agent, customer=customer, given_name="")
    customer.refresh_from_db()
    assert customer.given_name == "Alice"


@pytest.mark.django_db
def test_consent_is_kept_per_channel_and_purpose_with_its_time(agent):
    # Given
    customer = CustomerFactory()
    customer_set_consent(actor=agent, customer=customer, channel="email", purpose="marketing", granted=True)
    # When: withdrawn later
    customer_set_consent(
        actor=agent, customer=customer, channel="email", purpose="marketing", granted=False, source="call"
    )
    # Then
    consent = Consent.objects.get(customer=customer)
    assert (consent.granted, consent.source) == (False, "call")
    with pytest.raises(ValidationFailed) as refused:
        customer_set_consent(actor=agent, customer=customer, channel="pigeon", purpose="spam", granted=True)
    assert set(refused.value.fields) == {"channel", "purpose"}


@pytest.mark.django_db
def test_scores_are_merged_and_time_stamped():
    customer = CustomerFactory(scores={"churn_risk": 0.2})
    customer_set_scores(actor=None, customer=customer, scores={"sentiment_trend": -0.4})
    customer.refresh_from_db()
    assert customer.scores == {"churn_risk": 0.2, "sentiment_trend": -0.4}
    assert customer.scores_updated_at is not None
