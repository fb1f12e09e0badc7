"""Who may see and change personas: the API (roles, teams, token scopes), the page, the console,
and the persona with its reasons on the 360 page and the desk's customer panel."""

from __future__ import annotations

import pytest
from django.test import Client

from cea.accounts.models import User
from insights.personas.models import ClusterStatus, DiscoveredCluster, DiscoveryRun, PersonaDefinition
from records.customers.services import customer_set_persona
from tests.accounts.factories import UserFactory
from tests.engagement.desktop_support import parse
from tests.insights.personas_support import persona
from tests.records.factories import CustomerFactory
from tests.support import assert_error, session_client, token_client

pytestmark = pytest.mark.django_db

API = "/api/v1/insights/personas/"
GOLD = [{"feature": "value_tier", "op": "in", "value": ["gold"]}]


@pytest.fixture
def placed(team_a, team_b):
    """Two gold customers of team A, one of team B, all placed in "vip"."""
    persona("vip", order=10, rules=GOLD)
    for team in (team_a, team_a, team_b):
        customer = CustomerFactory(team=team, value_tier="gold")
        customer_set_persona(actor=None, customer=customer, persona="vip", reasons=["value tier gold"])


def counts(response) -> dict[str, int]:
    assert response.status_code == 200, response.content
    return {row["key"]: row["customers"] for row in response.json()}


def test_supervisors_count_their_teams_customers_and_admins_everyone(placed, supervisor, team_b, admin_user):
    supervisor_b = UserFactory(username="supervisor.b", role="supervisor", teams=[team_b])
    assert counts(session_client(supervisor).get(API)) == {"vip": 2}
    assert counts(session_client(supervisor_b).get(API)) == {"vip": 1}
    assert counts(session_client(admin_user).get(API)) == {"vip": 3}


def test_agents_and_anonymous_callers_are_refused(placed, agent):
    assert_error(session_client(agent).get(API), 403)
    assert_error(session_client(agent).get(f"{API}vip/"), 403)
    assert Client().get(API).status_code in (401, 403)


def test_tokens_need_insights_read_and_cannot_write(placed, integration_user):
    reader = token_client(integration_user, scopes=["insights:read"])
    assert counts(reader.get(API)) == {"vip": 3}
    assert reader.get(f"{API}vip/").json()["rules"] == GOLD
    assert_error(token_client(integration_user, scopes=["customers:read"]).get(API), 403)
    assert_error(reader.post(API, {"key": "new", "name": "New"}, format="json"), 403)
    assert not PersonaDefinition.objects.filter(key="new").exists()


def test_an_admin_creates_updates_and_deletes_a_definition(admin_user):
    client = session_client(admin_user)
    created = client.post(
        API,
        {
            "key": "chat-first",
            "name": "Chat first",
            "rules": [{"feature": "channel_share", "channel": "chat", "op": "gte", "value": 0.5}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["order"] == 100
    changed = client.patch(f"{API}chat-first/", {"order": 5, "needs": "Quick answers"}, format="json")
    assert (changed.json()["order"], changed.json()["needs"]) == (5, "Quick answers")
    assert client.delete(f"{API}chat-first/").status_code == 204
    assert not PersonaDefinition.objects.exists()


def test_a_supervisor_reads_but_does_not_write(placed, supervisor):
    client = session_client(supervisor)
    assert_error(client.post(API, {"key": "mine", "name": "Mine"}, format="json"), 403)
    assert_error(client.patch(f"{API}vip/", {"name": "Changed"}, format="json"), 403)
    assert_error(client.delete(f"{API}vip/"), 403)
    assert PersonaDefinition.objects.get(key="vip").name == "Vip"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"key": "x", "name": "X", "rules": [{"feature": "colour", "op": "eq", "value": "red"}]},
            "rules",
            "unknown feature 'colour'",
        ),
        (
            {"key": "x", "name": "X", "rules": [{"feature": "tenure_days", "op": "in", "value": [1]}]},
            "rules",
            "operator 'in'",
        ),
        ({"key": "x", "name": "X", "rules": [{"feature": "sentiment", "op": "gte", "value": 5}]}, "rules", "at most 1"),
        ({"key": "Not A Key", "name": "X"}, "key", "lower-case"),
        ({"key": "x", "name": "X", "order": "1"}, "order", "whole number"),
        ({"name": "X"}, "key", "required"),
    ],
)
def test_bad_definitions_are_refused_with_the_reason_and_nothing_saved(admin_user, body, field, message):
    error = assert_error(session_client(admin_user).post(API, body, format="json"), 400)
    assert message in " ".join(error["fields"][field])
    assert not PersonaDefinition.objects.exists()


def test_a_taken_key_is_a_conflict(placed, admin_user):
    assert_error(session_client(admin_user).post(API, {"key": "vip", "name": "Again"}, format="json"), 409)
    assert PersonaDefinition.objects.get(key="vip").name == "Vip"


def test_the_discovery_api_before_and_after_a_run(admin_user):
    client = session_client(admin_user)
    assert_error(client.get(f"{API}discovery/"), 404)
    run = DiscoveryRun.objects.create(
        customers=10,
        features=["tenure_days"],
        population_mean={},
        population_std={},
        k=2,
        silhouette=0.5,
        silhouettes={"2": 0.5},
        random_state=0,
    )
    DiscoveredCluster.objects.create(
        run=run, number=0, size=4, centroid={"tenure_days": 3}, distinguishing=[], summary="4 customers"
    )
    body = client.get(f"{API}discovery/").json()
    assert (body["k"], [cluster["size"] for cluster in body["clusters"]]) == (2, [4])


# --- The page ---------------------------------------------------------------------------------


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _open_cluster() -> DiscoveredCluster:
    run = DiscoveryRun.objects.create(
        customers=10,
        features=["contacts_90d"],
        population_mean={"contacts_90d": 1},
        population_std={"contacts_90d": 1},
        k=2,
        silhouette=0.5,
        silhouettes={"2": 0.5},
        random_state=0,
    )
    return DiscoveredCluster.objects.create(
        run=run,
        number=0,
        size=4,
        centroid={"contacts_90d": 5},
        distinguishing=[{"feature": "contacts_90d", "z": 4.0, "cluster_mean": 5.0, "population_mean": 1.0}],
        summary="4 customers (40%): more contacts in the last 90 days",
    )


def test_the_page_is_for_supervisors_and_admins_with_counts_in_their_scope(placed, agent, supervisor, admin_user):
    assert _signed_in(agent).get("/insights/personas/").status_code == 403
    mine = parse(_signed_in(supervisor).get("/insights/personas/"))
    assert mine.find(data_testid="persona-vip").find(data_testid="persona-count").text == "2"
    everyone = parse(_signed_in(admin_user).get("/insights/personas/"))
    assert everyone.find(data_testid="persona-vip").find(data_testid="persona-count").text == "3"


def test_an_admin_adopts_a_cluster_from_the_page_and_a_supervisor_may_not(supervisor, admin_user):
    cluster = _open_cluster()
    url = f"/insights/personas/clusters/{cluster.pk}/adopt/"
    page = parse(_signed_in(supervisor).get("/insights/personas/"))
    assert page.find_all(data_testid="adopt") == []
    assert _signed_in(supervisor).post(url, {"key": "busy", "name": "Busy"}).status_code == 403
    assert not PersonaDefinition.objects.exists()
    response = _signed_in(admin_user).post(url, {"key": "busy", "name": "Busy"})
    assert response.status_code == 302
    definition = PersonaDefinition.objects.get(key="busy")
    assert definition.rules == [{"feature": "contacts_90d", "op": "gte", "value": 3}]
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.ADOPTED


def test_adopting_under_a_taken_key_says_so_and_changes_nothing(placed, admin_user):
    cluster = _open_cluster()
    client = _signed_in(admin_user)
    response = client.post(
        f"/insights/personas/clusters/{cluster.pk}/adopt/", {"key": "vip", "name": "Busy"}, follow=True
    )
    page = parse(response)
    assert "A persona with the key 'vip' exists already." in page.find(data_testid="persona-messages").text
    assert PersonaDefinition.objects.get(key="vip").rules == GOLD
    dismissed = client.post(f"/insights/personas/clusters/{cluster.pk}/dismiss/")
    assert dismissed.status_code == 302
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.DISMISSED


# --- The console ------------------------------------------------------------------------------

CONSOLE = "/admin/insights/personadefinition/"


def test_the_console_lets_admins_edit_and_supervisors_read(placed, supervisor, admin_user, agent):
    assert _signed_in(agent).get(CONSOLE).status_code == 302  # not staff: the console's sign-in
    assert _signed_in(supervisor).get(CONSOLE).status_code == 200
    assert _signed_in(supervisor).get(f"{CONSOLE}add/").status_code == 403
    assert _signed_in(admin_user).get(f"{CONSOLE}add/").status_code == 200


def test_the_console_refuses_bad_rules_with_the_reason(admin_user):
    response = _signed_in(admin_user).post(
        f"{CONSOLE}add/",
        {
            "key": "x",
            "name": "X",
            "order": "1",
            "rules": '[{"feature": "colour", "op": "eq", "value": "red"}]',
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "Condition 1 has an unknown feature &#x27;colour&#x27;" in response.content.decode()
    assert not PersonaDefinition.objects.exists()
    saved = _signed_in(admin_user).post(
        f"{CONSOLE}add/",
        {
            "key": "x",
            "name": "X",
            "order": "1",
            "rules": '[{"feature": "segment", "op": "eq", "value": "smb"}]',
            "is_active": "on",
        },
    )
    assert saved.status_code == 302
    assert PersonaDefinition.objects.get(key="x").rules == [{"feature": "segment", "op": "eq", "value": "smb"}]


# --- The 360 page and the desk ----------------------------------------------------------------


def test_the_360_page_and_the_desk_show_the_persona_with_its_reasons_to_its_team_only(agent, agent_b, team_a):
    customer = CustomerFactory(team=team_a)
    customer_set_persona(
        actor=None, customer=customer, persona="digital-vip", reasons=["value tier gold", "62% of contacts on chat"]
    )
    for url in (f"/customers/{customer.pk}/", f"/desk/customers/{customer.pk}/"):
        response = _signed_in(agent).get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, url
        shown = parse(response).find(data_testid="customer-persona")
        assert shown.find("strong").text == "digital-vip"
        assert [item.text for item in shown.find_all("li")] == ["value tier gold", "62% of contacts on chat"]
        assert _signed_in(agent_b).get(url, HTTP_HX_REQUEST="true").status_code == 403


def test_the_persona_is_no_longer_edited_on_the_profile(supervisor, team_a):
    customer = CustomerFactory(team=team_a, persona="vip")
    response = session_client(supervisor).patch(
        f"/api/v1/customers/{customer.pk}/", {"persona": "other"}, format="json"
    )
    assert response.status_code in (200, 400)
    customer.refresh_from_db()
    assert customer.persona == "vip"


def test_the_console_changes_and_deletes_a_definition_through_the_services(admin_user):
    # Given a definition made in the console
    client = _signed_in(admin_user)
    fields = {"key": "x", "name": "X", "order": "1", "rules": "[]", "is_active": "on"}
    assert client.post(f"{CONSOLE}add/", fields).status_code == 302
    definition = PersonaDefinition.objects.get(key="x")

    # When an admin renames it, then deletes it
    renamed = client.post(f"{CONSOLE}{definition.pk}/change/", {**fields, "name": "Explorers"})
    name = PersonaDefinition.objects.get(pk=definition.pk).name
    deleted = client.post(f"{CONSOLE}{definition.pk}/delete/", {"post": "yes"})

    # Then both are done (by persona_definition_update and persona_definition_delete)
    assert (renamed.status_code, name) == (302, "Explorers")
    assert deleted.status_code == 302
    assert not PersonaDefinition.objects.filter(key="x").exists()
