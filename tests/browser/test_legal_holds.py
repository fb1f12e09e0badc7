"""A supervisor places a legal hold on a customer from the 360 page and releases it, in place (htmx),
under the strict CSP, with no script error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from records.privacy.models import LegalHold
from tests.accounts.factories import TeamFactory, UserFactory
from tests.browser.helpers import sign_in
from tests.support import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_places_and_releases_a_hold_on_the_360_page(new_context):
    # Given
    team = TeamFactory(name="north")
    lead = UserFactory(username="lead", role="supervisor", teams=[team])
    customer = make_customer(team)
    page = new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, lead, next_path=f"/customers/{customer.pk}/")
    page.goto(f"/customers/{customer.pk}/")
    holds = page.get_by_test_id("legal-holds")
    # When
    holds.get_by_test_id("legal-hold-reason").fill("Litigation 2026/17")
    holds.get_by_role("button", name="Place a legal hold").click()
    # Then
    expect(page.get_by_test_id("legal-hold-notice")).to_have_text("Legal hold placed.")
    expect(page.get_by_test_id("legal-hold")).to_contain_text("Active")
    expect(page.get_by_test_id("legal-hold")).to_contain_text("Litigation 2026/17")
    # When
    page.get_by_test_id("legal-hold-release").click()
    # Then
    expect(page.get_by_test_id("legal-hold-notice")).to_have_text("Legal hold released.")
    expect(page.get_by_test_id("legal-hold")).to_contain_text("Released")
    assert LegalHold.objects.get().released_by_id == lead.pk
    assert errors == []
