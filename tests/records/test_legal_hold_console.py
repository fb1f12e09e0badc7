"""Legal holds placed and released on the customer and case pages and the API (supervisors of the
record's team, administrators), and retention policies edited in the console (administrators)."""

from __future__ import annotations

import pytest

from records.privacy.models import LegalHold, RetentionPolicy
from tests.records.factories import CaseFactory
from tests.support import make_customer, session_client

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_supervisor_places_and_releases_a_hold_on_their_teams_customer_through_the_api(supervisor, team_a):
    # Given
    customer = make_customer(team_a)
    api = session_client(supervisor)
    # When
    placed = api.post(f"/api/v1/customers/{customer.pk}/legal-holds/", {"reason": "Litigation 2026/17"}, format="json")
    again = api.post(f"/api/v1/customers/{customer.pk}/legal-holds/", {"reason": "Twice"}, format="json")
    released = api.post(f"/api/v1/legal-holds/{placed.json()['id']}/release/")
    released_again = api.post(f"/api/v1/legal-holds/{placed.json()['id']}/release/")
    listed = api.get(f"/api/v1/customers/{customer.pk}/legal-holds/")
    # Then
    assert placed.status_code == 201
    assert (placed.json()["reason"], placed.json()["placed_by"], placed.json()["active"]) == (
        "Litigation 2026/17",
        "supervisor.a",
        True,
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_held")
    assert (released.status_code, released.json()["released_by"], released.json()["active"]) == (
        200,
        "supervisor.a",
        False,
    )
    assert (released_again.status_code, released_again.json()["error"]["code"]) == (409, "already_released")
    assert [hold["active"] for hold in listed.json()] == [False]


def test_a_hold_on_a_case_is_listed_on_its_customer(supervisor, team_a):
    # Given
    customer = make_customer(team_a)
    case = CaseFactory(customer=customer, team=team_a)
    api = session_client(supervisor)
    # When
    placed = api.post(f"/api/v1/cases/{case.reference}/legal-holds/", {"reason": "Regulator"}, format="json")
    # Then
    assert placed.status_code == 201
    assert [h["case_reference"] for h in api.get(f"/api/v1/customers/{customer.pk}/legal-holds/").json()] == [
        case.reference
    ]
    assert [h["id"] for h in api.get(f"/api/v1/cases/{case.reference}/legal-holds/").json()] == [placed.json()["id"]]


def test_an_agent_sees_holds_but_may_not_place_or_release_them(agent, supervisor, team_a):
    # Given
    customer = make_customer(team_a)
    hold = LegalHold.objects.create(customer=customer, reason="Litigation", placed_by=supervisor)
    api = session_client(agent)
    # When
    listed = api.get(f"/api/v1/customers/{customer.pk}/legal-holds/")
    placed = api.post(f"/api/v1/customers/{customer.pk}/legal-holds/", {"reason": "Mine"}, format="json")
    released = api.post(f"/api/v1/legal-holds/{hold.pk}/release/")
    # Then
    assert [h["id"] for h in listed.json()] == [hold.pk]
    assert placed.status_code == 403
    assert released.status_code == 403
    assert LegalHold.objects.filter(released_at__isnull=True).count() == 1


def test_another_teams_supervisor_cannot_see_place_or_release(supervisor, team_b):
    # Given
    customer = make_customer(team_b)
    hold = LegalHold.objects.create(customer=customer, reason="Litigation")
    api = session_client(supervisor)
    # When / Then
    assert api.get(f"/api/v1/customers/{customer.pk}/legal-holds/").status_code == 403
    assert api.post(f"/api/v1/customers/{customer.pk}/legal-holds/", {"reason": "x"}, format="json").status_code == 403
    assert api.post(f"/api/v1/legal-holds/{hold.pk}/release/").status_code == 403
    assert api.post("/api/v1/legal-holds/999999/release/").status_code == 404
    assert LegalHold.objects.get().released_at is None


def test_an_administrator_holds_any_teams_customer_and_a_blank_reason_is_refused(admin_user, team_b):
    # Given
    customer = make_customer(team_b)
    api = session_client(admin_user)
    # When
    blank = api.post(f"/api/v1/customers/{customer.pk}/legal-holds/", {"reason": "  "}, format="json")
    placed = api.post(f"/api/v1/customers/{customer.pk}/legal-holds/", {"reason": "Subpoena"}, format="json")
    # Then
    assert blank.status_code == 400
    assert placed.status_code == 201
    assert LegalHold.objects.count() == 1


def test_the_customer_page_shows_holds_and_lets_a_supervisor_place_and_release_one(client, supervisor, team_a):
    # Given
    customer = make_customer(team_a)
    client.force_login(supervisor)
    # When
    refused = client.post(f"/customers/{customer.pk}/legal-holds/", {"reason": ""}, **HTMX)
    placed = client.post(f"/customers/{customer.pk}/legal-holds/", {"reason": "Litigation"}, **HTMX)
    hold = LegalHold.objects.get()
    page = client.get(f"/customers/{customer.pk}/")
    released = client.post(f"/legal-holds/{hold.pk}/release/", **HTMX)
    # Then
    assert refused.status_code == 400
    assert 'data-testid="legal-hold-error"' in refused.content.decode()
    assert placed.status_code == 200
    assert "Legal hold placed." in placed.content.decode()
    assert "Litigation" in page.content.decode()
    assert 'data-testid="legal-hold-release"' in page.content.decode()
    assert released.status_code == 200
    assert "Legal hold released." in released.content.decode()
    hold.refresh_from_db()
    assert hold.released_by == supervisor


def test_the_case_page_shows_its_holds_and_an_agent_gets_no_form(client, agent, supervisor, team_a):
    # Given
    case = CaseFactory(customer=make_customer(team_a), team=team_a)
    LegalHold.objects.create(case=case, reason="Complaint to the ombudsman", placed_by=supervisor)
    client.force_login(agent)
    # When
    page = client.get(f"/cases/{case.reference}/").content.decode()
    placed = client.post(f"/cases/{case.reference}/legal-holds/", {"reason": "Mine"}, **HTMX)
    # Then
    assert "Complaint to the ombudsman" in page
    assert 'data-testid="legal-hold-form"' not in page
    assert placed.status_code == 403


def test_an_administrator_sets_a_retention_policy_in_the_console_not_below_its_minimum(client, admin_user):
    # Given
    policy = RetentionPolicy.objects.get(kind="audit")
    client.force_login(admin_user)
    url = f"/admin/records/retentionpolicy/{policy.pk}/change/"
    # When
    too_short = client.post(url, {"keep_days": 30, "enabled": "on"})
    accepted = client.post(url, {"keep_days": 400, "enabled": "on"})
    # Then
    assert too_short.status_code == 200
    assert "at least 365 days" in too_short.content.decode()
    assert accepted.status_code == 302
    policy.refresh_from_db()
    assert (policy.keep_days, policy.enabled, policy.updated_by) == (400, True, admin_user)


def test_a_supervisor_reads_retention_policies_and_runs_but_cannot_change_them(client, supervisor):
    # Given
    policy = RetentionPolicy.objects.get(kind="transcripts")
    client.force_login(supervisor)
    # When
    listed = client.get("/admin/records/retentionpolicy/")
    changed = client.post(f"/admin/records/retentionpolicy/{policy.pk}/change/", {"keep_days": 31, "enabled": "on"})
    runs = client.get("/admin/records/retentionrun/")
    # Then
    assert listed.status_code == 200
    assert changed.status_code == 403
    assert runs.status_code == 200
    policy.refresh_from_db()
    assert (policy.keep_days, policy.enabled) == (730, False)


def test_a_supervisor_sees_only_their_teams_holds_in_the_console(client, supervisor, team_a, team_b):
    # Given
    LegalHold.objects.create(customer=make_customer(team_a), reason="Ours")
    theirs = LegalHold.objects.create(customer=make_customer(team_b), reason="Theirs")
    client.force_login(supervisor)
    # When
    listed = client.get("/admin/records/legalhold/").content.decode()
    other = client.get(f"/admin/records/legalhold/{theirs.pk}/change/")
    # Then
    assert "Ours" in listed and "Theirs" not in listed
    assert other.status_code == 302
