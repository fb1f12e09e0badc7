"""Legal holds: an active hold on a customer, or on one of their cases, holds the customer."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.privacy.models import LegalHold
from records.privacy.selectors import customers_on_hold_ids, legal_hold_active
from tests.records.factories import CaseFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_hold_on_the_customer_or_one_of_their_cases_holds_them():
    # Given
    held, held_by_case, free = CustomerFactory(), CustomerFactory(), CustomerFactory()
    LegalHold.objects.create(customer=held, reason="Litigation")
    LegalHold.objects.create(case=CaseFactory(customer=held_by_case), reason="Complaint to the regulator")
    # When
    on_hold = customers_on_hold_ids()
    # Then
    assert on_hold == {held.pk, held_by_case.pk}
    assert legal_hold_active(customer_id=held.pk)
    assert legal_hold_active(customer_id=held_by_case.pk)
    assert not legal_hold_active(customer_id=free.pk)


def test_a_released_hold_holds_nobody():
    # Given
    customer = CustomerFactory()
    LegalHold.objects.create(customer=customer, reason="Litigation", released_at=timezone.now())
    # When / Then
    assert not legal_hold_active(customer_id=customer.pk)
    assert customers_on_hold_ids() == set()


def test_a_hold_is_on_a_customer_or_a_case_not_both_nor_neither():
    # Given
    customer = CustomerFactory()
    case = CaseFactory(customer=customer)
    # When / Then
    for target in ({}, {"customer": customer, "case": case}):
        with pytest.raises(IntegrityError), transaction.atomic():
            LegalHold.objects.create(reason="Bad", **target)
