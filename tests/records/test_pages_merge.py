"""The 360° page: adding an identifier in place, and a supervisor merging a duplicate."""

import pytest
from django.urls import reverse

from records.customers.models import Customer, CustomerStatus
from records.customers.services import customer_create
from records.identities.models import Identity

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def twins(agent, team_a):
    first = customer_create(
        actor=agent, given_name="Alice", family_name="Smith", team=team_a, postcode="LS1 4AB", email="alice@example.com"
    )
    second = customer_create(
        actor=agent, given_name="Alice", family_name="Smyth", team=team_a, postcode="LS1 4AB", phone="+447911123456"
    )
    return first, second


@pytest.mark.django_db
def test_an_agent_adds_an_identifier_in_place(client, agent, twins):
    # Given
    first, _ = twins
    client.force_login(agent)
    # When
    response = client.post(
        reverse("records:identity-add", args=[first.pk]), {"kind": "account", "value": "acc-77"}, **HTMX
    )
    # Then
    assert response.status_code == 200
    assert "ACC77" in response.content.decode()
    assert Identity.objects.filter(customer=first, kind="account", value="ACC77").exists()


@pytest.mark.django_db
def test_an_identifier_of_another_customer_is_refused_with_a_fragment(client, agent, twins):
    _, second = twins
    client.force_login(agent)
    response = client.post(
        reverse("records:identity-add", args=[second.pk]), {"kind": "email", "value": "ALICE@example.com"}, **HTMX
    )
    assert response.status_code == 409
    assert "already identifies another customer" in response.content.decode()
    assert not Identity.objects.filter(customer=second, kind="email").exists()


@pytest.mark.django_db
def test_a_supervisor_sees_duplicates_and_merges_one(client, supervisor, twins):
    # Given
    first, second = twins
    client.force_login(supervisor)
    page = client.get(reverse("records:customer-360", args=[first.pk])).content.decode()
    assert f'data-testid="merge-{second.pk}"' in page
    # When
    response = client.post(reverse("records:customer-merge", args=[first.pk]), {"merged_id": second.pk}, **HTMX)
    # Then
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("records:customer-360", args=[first.pk])
    second.refresh_from_db()
    assert (second.status, second.merged_into_id) == (CustomerStatus.MERGED, first.pk)
    assert Identity.objects.filter(customer=first, value="+447911123456").exists()


@pytest.mark.django_db
def test_an_agent_is_shown_no_merge_and_cannot_merge(client, agent, twins):
    first, second = twins
    client.force_login(agent)
    page = client.get(reverse("records:customer-360", args=[first.pk])).content.decode()
    assert 'data-testid="customer-duplicates"' not in page
    response = client.post(reverse("records:customer-merge", args=[first.pk]), {"merged_id": second.pk}, **HTMX)
    assert response.status_code == 403
    assert Customer.objects.get(pk=second.pk).status == CustomerStatus.ACTIVE
