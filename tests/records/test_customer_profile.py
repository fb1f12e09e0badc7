"""The customer profile's one list of fields (records.customers.profile) and what is built from it."""

from __future__ import annotations

from django.contrib import admin

from records.customers.models import Customer
from records.customers.profile import EDITABLE_FIELDS, SERVICE_FIELDS
from records.customers.serializers import CustomerCreateSerializer, CustomerInputSerializer, CustomerSerializer

# Columns customer_create and customer_update keep themselves.
KEPT_BY_THE_SERVICES = {"id", "search_name", "created_by", "created_at", "updated_at"}


def test_every_customer_column_is_either_editable_or_set_by_a_service():
    # Given
    columns = {field.name for field in Customer._meta.concrete_fields}
    # Then: a new column fails here until PROFILE (or SERVICE_FIELDS) says who sets it
    assert set(EDITABLE_FIELDS) | set(SERVICE_FIELDS) | KEPT_BY_THE_SERVICES == columns
    assert len(EDITABLE_FIELDS) == len(set(EDITABLE_FIELDS)) == 17
    assert not set(EDITABLE_FIELDS) & set(SERVICE_FIELDS)


def test_the_api_takes_exactly_the_editable_fields_and_shows_them_with_the_services_ones():
    # When
    taken = list(CustomerInputSerializer().fields)
    taken_on_create = list(CustomerCreateSerializer().fields)
    shown = CustomerSerializer.Meta.fields
    # Then
    assert taken == list(EDITABLE_FIELDS)
    assert taken_on_create == [*EDITABLE_FIELDS, "identities"]
    assert set(EDITABLE_FIELDS) | set(SERVICE_FIELDS) <= set(shown)


def test_the_console_edits_the_editable_fields_in_its_sections_and_only_shows_the_services_ones():
    # Given
    customer_admin = admin.site._registry[Customer]
    # When
    sections = {name: options["fields"] for name, options in customer_admin.fieldsets}
    # Then
    assert list(customer_admin.form._meta.fields) == list(EDITABLE_FIELDS)
    assert sorted(sections["Person"] + sections["Contact"] + sections["Profile"]) == sorted(EDITABLE_FIELDS)
    assert sections["Person"] == ["given_name", "family_name", "date_of_birth", "language", "team"]
    assert sections["Insights and merge"] == list(SERVICE_FIELDS)
    assert set(SERVICE_FIELDS) <= set(customer_admin.readonly_fields)
