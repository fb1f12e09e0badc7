"""An erasure request carried out from the browser: a supervisor asks from the customer's 360 page,
an administrator approves it and carries it out in the console, and the 360 page says "erased"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from records.customers.services import customer_create
from tests.accounts.factories import TeamFactory, UserFactory
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _run_action(page, action: str, request_id: int) -> None:
    page.goto("/admin/records/privacyrequest/")
    page.locator(f"input[name=_selected_action][value='{request_id}']").check()
    page.locator("select[name=action]").select_option(action)
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()


def test_a_supervisor_requests_an_erasure_and_an_admin_carries_it_out(new_context):
    # Given a customer of north, their supervisor and an administrator
    north = TeamFactory(name="north")
    lead = UserFactory(username="lead.north", role="supervisor", teams=[north])
    dpo = UserFactory(username="dpo", role="admin")
    customer = customer_create(
        actor=lead, team=north, given_name="Saoirse", family_name="Delacroix-Nakamura", email="saoirse@example.org"
    )

    # When the supervisor asks for the erasure from the customer's 360 page
    supervisor_page = new_context().new_page()
    sign_in(supervisor_page, lead, next_path=f"/customers/{customer.pk}/")
    supervisor_page.get_by_test_id("request-erasure").click()
    expect(supervisor_page.locator("input[name=customer]")).to_have_value(str(customer.pk))
    supervisor_page.locator("textarea[name=reason], input[name=reason]").fill("Asked by email, identity checked")
    supervisor_page.locator("input[name=_save]").click()
    expect(supervisor_page.locator(".messagelist .success")).to_be_visible()
    request_id = customer.privacy_requests.get().pk

    # and the administrator approves it and carries it out
    admin_page = new_context().new_page()
    sign_in(admin_page, dpo, next_path="/admin/records/privacyrequest/")
    _run_action(admin_page, "approve", request_id)
    _run_action(admin_page, "carry_out", request_id)

    # Then the request is done and the 360 page shows an erased customer, without their name
    admin_page.goto(f"/admin/records/privacyrequest/{request_id}/change/")
    expect(admin_page.locator(".field-status .readonly")).to_have_text("Done")
    admin_page.goto(f"/customers/{customer.pk}/")
    expect(admin_page.get_by_test_id("customer-erased")).to_have_text("erased")
    expect(admin_page.get_by_test_id("customer-profile")).to_contain_text(f"Erased customer #{customer.pk}")
    expect(admin_page.get_by_test_id("customer-profile")).not_to_contain_text("Saoirse")
