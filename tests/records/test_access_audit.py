"""The customer access log: every reading surface records who read which customer; supervisors and
administrators query it by customer and by user, and see unusual access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from records.audit.access import customer_access_record
from records.audit.access_selectors import unusual_access
from records.audit.models import CustomerAccess
from tests.accounts.factories import UserFactory
from tests.support import make_customer, session_client

pytestmark = pytest.mark.django_db


def _reads(**filters) -> list[tuple]:
    return list(
        CustomerAccess.objects.filter(**filters).order_by("id").values_list("username", "customer_id", "surface")
    )


def test_one_call_records_each_customer_once_with_their_team_and_whether_the_reader_is_outside_it(
    agent, team_a, team_b
):
    # Given
    own, other = make_customer(team_a), make_customer(team_b, given_name="Bob")
    # When
    customer_access_record(actor=agent, customer_ids=[own.pk, other.pk, own.pk, 999_999], surface="lookup")
    # Then
    rows = list(
        CustomerAccess.objects.order_by("customer_id").values("customer_id", "customer_team_id", "outside_teams")
    )
    assert rows == [
        {"customer_id": own.pk, "customer_team_id": team_a.pk, "outside_teams": False},
        {"customer_id": other.pk, "customer_team_id": team_b.pk, "outside_teams": True},
    ]


def test_an_administrator_is_never_outside_their_teams(admin_user, team_b):
    # Given
    customer = make_customer(team_b)
    # When
    customer_access_record(actor=admin_user, customer_ids=[customer.pk], surface="customer_api")
    # Then
    assert CustomerAccess.objects.get().outside_teams is False


def test_nothing_to_record_writes_nothing(agent):
    # When
    customer_access_record(actor=agent, customer_ids=[], surface="lookup")
    # Then
    assert CustomerAccess.objects.count() == 0


def test_the_360_page_the_api_and_the_lookup_record_their_reads(client, agent, team_a):
    # Given
    customer = make_customer(team_a, email="alice@example.com")
    client.force_login(agent)
    api = session_client(agent)
    # When
    assert client.get(f"/customers/{customer.pk}/").status_code == 200
    assert api.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    assert api.get("/api/v1/customers/", {"q": "Alice"}).status_code == 200
    assert api.post("/api/v1/lookup/", {"value": "alice@example.com"}, format="json").status_code == 200
    # Then
    assert _reads() == [
        ("agent.a", customer.pk, "customer_360_page"),
        ("agent.a", customer.pk, "customer_api"),
        ("agent.a", customer.pk, "customer_api"),
        ("agent.a", customer.pk, "lookup"),
    ]
    assert list(CustomerAccess.objects.order_by("id").values_list("detail", flat=True)) == [
        "",
        "detail",
        "list",
        "identifier",
    ]
    # Each read names the request's path, a GET's as a POST's (the pages and the API)
    assert list(CustomerAccess.objects.order_by("id").values_list("url", flat=True)) == [
        f"/customers/{customer.pk}/",
        f"/api/v1/customers/{customer.pk}/",
        "/api/v1/customers/",
        "/api/v1/lookup/",
    ]


def test_a_refused_read_is_not_recorded_as_a_read(client, agent, team_b):
    # Given
    customer = make_customer(team_b)
    client.force_login(agent)
    # When
    response = client.get(f"/customers/{customer.pk}/")
    # Then
    assert response.status_code == 403
    assert CustomerAccess.objects.count() == 0


def test_the_access_api_by_customer_and_by_user_for_supervisors_of_their_teams(
    agent, agent_b, supervisor, team_a, team_b
):
    # Given
    own, other = make_customer(team_a), make_customer(team_b, given_name="Bob")
    customer_access_record(actor=agent, customer_ids=[own.pk], surface="customer_360_page")
    customer_access_record(actor=agent_b, customer_ids=[other.pk], surface="customer_360_page")
    api = session_client(supervisor)
    # When
    by_customer = api.get("/api/v1/audit/access/", {"customer": own.pk})
    by_user = api.get("/api/v1/audit/access/", {"user": agent.pk})
    other_team = api.get("/api/v1/audit/access/", {"customer": other.pk})
    everything = api.get("/api/v1/audit/access/")
    # Then
    assert by_customer.status_code == 200
    assert [(r["username"], r["customer_id"]) for r in by_customer.json()["results"]] == [("agent.a", own.pk)]
    assert [(r["username"], r["customer_id"]) for r in by_user.json()["results"]] == [("agent.a", own.pk)]
    assert other_team.json()["results"] == []
    assert [r["username"] for r in everything.json()["results"]] == ["agent.a"]


def test_an_administrator_sees_every_read(agent, agent_b, admin_user, team_a, team_b):
    # Given
    customer_access_record(actor=agent, customer_ids=[make_customer(team_a).pk], surface="lookup")
    customer_access_record(actor=agent_b, customer_ids=[make_customer(team_b).pk], surface="lookup")
    # When
    response = session_client(admin_user).get("/api/v1/audit/access/")
    # Then
    assert sorted(r["username"] for r in response.json()["results"]) == ["agent.a", "agent.b"]


def test_agents_and_integration_clients_may_not_read_the_access_log(agent, integration_user):
    # When / Then
    assert session_client(agent).get("/api/v1/audit/access/").status_code == 403
    assert session_client(agent).get("/api/v1/audit/access/unusual/").status_code == 403
    assert session_client(integration_user).get("/api/v1/audit/access/").status_code == 403


def test_a_bad_filter_is_a_clear_error(supervisor, client):
    # When
    response = session_client(supervisor).get("/api/v1/audit/access/", {"customer": "abc"})
    client.force_login(supervisor)
    page = client.get("/audit/access/", {"customer": "abc"})
    # Then
    assert response.status_code == 400
    assert "customer" in response.json()["error"]["fields"]
    assert page.status_code == 400


def test_the_360_page_shows_supervisors_who_read_the_customer_and_hides_it_from_agents(
    client, agent, supervisor, team_a
):
    # Given
    customer = make_customer(team_a)
    client.force_login(agent)
    client.get(f"/customers/{customer.pk}/")
    # When
    agent_page = client.get(f"/customers/{customer.pk}/").content.decode()
    client.force_login(supervisor)
    supervisor_page = client.get(f"/customers/{customer.pk}/").content.decode()
    # Then
    assert 'data-testid="customer-reads"' not in agent_page
    assert 'data-testid="customer-reads"' in supervisor_page
    assert "agent.a" in supervisor_page


def _reads_on(user, day: dt.date, count: int, *, team, first: int = 0) -> None:
    customers = [make_customer(team, given_name=f"C{first + n}").pk for n in range(count)]
    earlier = set(CustomerAccess.objects.values_list("id", flat=True))
    customer_access_record(actor=user, customer_ids=customers, surface="lookup")
    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    CustomerAccess.objects.exclude(id__in=earlier).update(at=at)


def test_unusual_access_flags_a_day_far_above_the_readers_own_baseline_and_other_teams_reads(
    agent, agent_b, supervisor, admin_user, team_a, team_b
):
    # Given: agent.a reads 5 customers a day for a week, then 30 today; agent.b reads one of team A's today
    today = timezone.now().astimezone(dt.UTC).date()
    for back in range(1, 8):
        _reads_on(agent, today - dt.timedelta(days=back), 5, team=team_a, first=back * 10)
    _reads_on(agent, today, 30, team=team_a, first=1000)
    snoop = make_customer(team_a, given_name="Snooped")
    customer_access_record(actor=agent_b, customer_ids=[snoop.pk], surface="customer_api")
    # When
    for_supervisor = unusual_access(viewer=supervisor, days=14)
    for_admin = unusual_access(viewer=admin_user, days=14)
    # Then
    assert [(d.username, d.day, d.customers, d.own_median) for d in for_supervisor] == [("agent.a", today, 30, 5.0)]
    assert for_supervisor[0].reasons[0] == "30 customers, over 3× their usual 5"
    assert sorted((d.username, d.outside_teams) for d in for_admin) == [("agent.a", 0), ("agent.b", 1)]


def test_the_unusual_access_page_and_api_answer_supervisors(client, supervisor, agent, team_b):
    # Given
    customer_access_record(actor=agent, customer_ids=[make_customer(team_b).pk], surface="lookup")
    client.force_login(supervisor)
    # When
    page = client.get("/audit/unusual/")
    api = session_client(supervisor).get("/api/v1/audit/access/unusual/", {"days": 3})
    # Then
    assert page.status_code == 200
    assert 'data-testid="unusual-access"' in page.content.decode()
    assert [d["username"] for d in api.json()] == ["agent.a"]
    assert api.json()[0]["outside_teams"] == 1


def test_the_access_log_page_lists_reads_for_a_supervisor_and_refuses_an_agent(client, agent, supervisor, team_a):
    # Given
    customer = make_customer(team_a)
    customer_access_record(actor=agent, customer_ids=[customer.pk], surface="desk_panel")
    # When
    client.force_login(supervisor)
    page = client.get("/audit/access/", {"customer": customer.pk})
    client.force_login(agent)
    refused = client.get("/audit/access/")
    # Then
    assert page.status_code == 200
    assert "desk_panel" in page.content.decode()
    assert refused.status_code == 403


def test_the_export_of_conversations_records_the_customers_it_names(client, supervisor, team_a):
    # Given
    from tests.records.factories import InteractionFactory

    customer = make_customer(team_a)
    InteractionFactory(customer=customer, team=team_a)
    client.force_login(supervisor)
    today = timezone.localdate()
    # When
    response = client.get(
        "/insights/reports/conversations.csv",
        {"kpis": ["handled"], "start": str(today), "end": str(today), "interval": "day"},
    )
    # Then
    assert response.status_code == 200
    assert _reads(surface="export") == [("supervisor.a", customer.pk, "export")]


def test_a_user_removed_later_keeps_their_reads_by_name(team_a):
    # Given
    reader = UserFactory(username="leaver", role="agent", teams=[team_a])
    customer = make_customer(team_a)
    customer_access_record(actor=reader, customer_ids=[customer.pk], surface="lookup")
    # When
    reader.delete()
    # Then
    assert _reads() == [("leaver", customer.pk, "lookup")]
