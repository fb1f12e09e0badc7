"""The console scopes every row and every choice to the supervisor's teams; global settings are admins'."""

from __future__ import annotations

import pytest

from cea.common.errors import PermissionDenied
from records.cases.models import Case, SlaPolicy
from records.cases.services import case_create
from records.customers.services import customer_create
from records.journey.models import JourneyEvent
from tests.records.test_console import changelist, form_data

pytestmark = pytest.mark.django_db

INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."


@pytest.fixture
def customers(agent, agent_b, team_a, team_b):
    ours = customer_create(actor=agent, given_name="Alice", family_name="Smith", team=team_a)
    theirs = customer_create(actor=agent_b, given_name="Bea", family_name="Brown", team=team_b)
    return ours, theirs


def _case_post(client, customer, team) -> dict:
    data = form_data(client.get("/admin/records/case/add/"))
    return {**data, "customer": customer.pk, "subject": "Router", "team": team.pk}


def test_a_supervisor_cannot_open_a_case_on_another_teams_customer(client, supervisor, customers, team_a):
    # Given a supervisor of team A and a customer of team B
    _, theirs = customers
    events_before = JourneyEvent.objects.count()
    client.force_login(supervisor)
    # When they post the add form with team B's customer's id in the raw-id field (and their own team)
    response = client.post("/admin/records/case/add/", _case_post(client, theirs, team_a))
    # Then the form refuses the id and nothing is written
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"customer": [INVALID_CHOICE]}
    assert Case.objects.count() == 0
    assert JourneyEvent.objects.count() == events_before


def test_an_admin_opens_a_case_on_any_customer(client, admin_user, customers, team_b):
    _, theirs = customers
    client.force_login(admin_user)
    response = client.post("/admin/records/case/add/", _case_post(client, theirs, team_b))
    assert response.status_code == 302
    assert list(Case.objects.values_list("customer_id", "team_id")) == [(theirs.pk, team_b.pk)]


def test_case_create_refuses_a_customer_the_actor_cannot_see(supervisor, customers, team_a):
    # Given a customer of team B
    _, theirs = customers
    # When a supervisor of team A opens a case on it in their own team, through the service
    with pytest.raises(PermissionDenied) as refused:
        case_create(actor=supervisor, customer=theirs, subject="Router", team=team_a)
    # Then the service refuses it
    assert refused.value.message == "This customer belongs to a team you are not in."
    assert Case.objects.count() == 0


def test_a_supervisor_picks_only_their_teams_and_members(client, supervisor, agent, agent_b, team_a, team_b):
    client.force_login(supervisor)
    form = client.get("/admin/records/case/add/").context["adminform"].form
    assert list(form.fields["team"].queryset) == [team_a]
    assert set(form.fields["assignee"].queryset) == {agent, supervisor}


def test_a_supervisor_sees_only_their_teams_in_the_team_list(client, supervisor, team_a, team_b):
    client.force_login(supervisor)
    assert changelist(client, "/admin/accounts/team/") == [team_a]
    assert client.get(f"/admin/accounts/team/{team_b.pk}/change/").status_code == 302


def test_sla_policies_are_global_read_only_for_supervisors(client, supervisor, admin_user):
    # Given an SLA policy
    policy = SlaPolicy.objects.create(name="Gold", priority="high", first_response_minutes=30, resolution_minutes=240)
    client.force_login(supervisor)
    data = form_data(client.get(f"/admin/records/slapolicy/{policy.pk}/change/"))
    # When a supervisor changes or adds one
    changed = client.post(f"/admin/records/slapolicy/{policy.pk}/change/", {**data, "resolution_minutes": 9999})
    added = client.post("/admin/records/slapolicy/add/", {**data, "name": "Mine"})
    # Then both are refused and nothing changed
    assert (changed.status_code, added.status_code) == (403, 403)
    policy.refresh_from_db()
    assert (policy.resolution_minutes, SlaPolicy.objects.count()) == (240, 1)
    # An admin may change it
    client.force_login(admin_user)
    data = form_data(client.get(f"/admin/records/slapolicy/{policy.pk}/change/"))
    response = client.post(f"/admin/records/slapolicy/{policy.pk}/change/", {**data, "resolution_minutes": 480})
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.resolution_minutes == 480


def test_what_a_supervisor_may_do_in_each_part_of_the_console(client, supervisor):
    # Given a supervisor on the console's index
    client.force_login(supervisor)
    # When they look at what it offers
    app_list = client.get("/admin/").context["app_list"]
    offered = {
        model["object_name"]: {perm for perm, granted in model["perms"].items() if granted and perm != "view"}
        for app in app_list
        for model in app["models"]
    }
    # Then global configuration is read-only, sync, connectors, webhooks, users, tokens and the
    # libraries' own models (schedules, history, sign-in attempts) are not offered at all
    read_only = set()
    assert offered == {
        "Team": read_only,
        "Case": {"add", "change"},
        # A supervisor requests an erasure or an export; administrators decide (records/privacy/requests_admin.py).
        "PrivacyRequest": {"add"},
        "Customer": {"add", "change"},
        "DiscoveryRun": read_only,
        "Interaction": read_only,
        "LegalHold": read_only,
        "RetentionPolicy": read_only,
        "RetentionRun": read_only,
        "SlaPolicy": read_only,
        "PiiPolicy": read_only,
        "OutboxMessage": read_only,
        "AgentProfile": {"add", "change"},
        "BusinessHours": read_only,
        "Callback": read_only,
        "ChannelLoad": read_only,
        "Flow": read_only,
        "KnowledgeArticle": read_only,
        "Offer": read_only,
        "PersonaDefinition": read_only,
        "PresenceChange": read_only,
        "Queue": read_only,
        "ReasonCode": read_only,
        "RecommendedAction": read_only,
        "Skill": read_only,
        "SiteKey": read_only,
        "VerificationLock": {"change"},
        "WebhookSource": read_only,
        "WorkItem": read_only,
        "WrapUpCode": read_only,
        "JourneyStage": read_only,
        "Strategy": read_only,
        "StrategyFiring": read_only,
        # Issue 14's configuration and results: administrators edit, supervisors read.
        "ComplianceCheck": read_only,
        "ComplianceRule": read_only,
        "NegativeTurn": read_only,
        "Scorecard": read_only,
        "SentimentSettings": read_only,
        "Survey": read_only,
        "SurveyConfig": read_only,
        # Issue 15's people side: contracts and time off are the team's; shift templates are global.
        "AgentContract": {"add", "change", "delete"},
        "ShiftTemplate": read_only,
        "TimeOff": {"add"},
        # Issue 15: a supervisor plans their teams' queues.
        "PlanningQueue": {"add", "change"},
        # Issue 16: their teams' shared canned responses are theirs; mailboxes, voice endpoints,
        # out-of-hours answers and back-office work are read-only (administrators configure them).
        "CannedResponse": {"add", "change", "delete"},
        "Mailbox": read_only,
        "VoiceEndpoint": read_only,
        "OutOfHoursAnswer": read_only,
        "BackofficeWork": read_only,
        # Their teams' WhatsApp sources' approved templates (entered as approved at Meta, or synced).
        "MessageTemplate": {"add", "change", "delete"},
    }
    for path in ["/admin/django_celery_beat/periodictask/", "/admin/axes/accessattempt/", "/admin/auth/group/"]:
        assert client.get(path).status_code == 403, path


def test_the_team_filter_lists_only_the_supervisors_teams(client, supervisor, admin_user, customers, team_a, team_b):
    # Given customers of team A and team B
    # When a supervisor of team A and then an admin open the customer list
    client.force_login(supervisor)
    as_supervisor = client.get("/admin/records/customer/").content.decode()
    client.force_login(admin_user)
    as_admin = client.get("/admin/records/customer/").content.decode()
    # Then the supervisor's team filter names team A only; the admin's names both
    assert f"team__id__exact={team_a.pk}" in as_supervisor
    assert f"team__id__exact={team_b.pk}" not in as_supervisor
    assert "Team B" not in as_supervisor
    assert f"team__id__exact={team_b.pk}" in as_admin
