"""The engagement console: flows, queues, skills and articles are global, so only admins change them;
agents' routing profiles are scoped to the supervisor's teams."""

from __future__ import annotations

import pytest

from engagement.adapters.models import MessageTemplate
from engagement.routing.models import AgentProfile, Queue, Skill
from engagement.selfservice.models import Flow, KnowledgeArticle
from tests.engagement.factories import AgentProfileFactory, QueueFactory, WebhookSourceFactory
from tests.engagement.test_selfservice_admin import ASK, END, LOOKUP, flow_post
from tests.records.test_console import changelist, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(client, admin_user) -> Flow:
    client.force_login(admin_user)
    assert client.post("/admin/engagement/flow/add/", flow_post([ASK, LOOKUP, END])).status_code == 302
    client.logout()
    return Flow.objects.get(intent="order_status")


def test_a_supervisor_cannot_change_add_or_delete_a_flow(client, supervisor, flow):
    # Given a supervisor who reads the flow's page
    client.force_login(supervisor)
    page = client.get(f"/admin/engagement/flow/{flow.pk}/change/")
    assert page.status_code == 200
    data = form_data(page)
    # When they post it with the first step (the gate) taken out, add another, or delete it
    gate_removed = {**data, "steps-0-DELETE": "on"}
    changed = client.post(f"/admin/engagement/flow/{flow.pk}/change/", gate_removed)
    added = client.post("/admin/engagement/flow/add/", flow_post([ASK, LOOKUP, END], intent="other", menu_key="2"))
    deleted = client.post(f"/admin/engagement/flow/{flow.pk}/delete/", {"post": "yes"})
    # Then each is refused and the flow keeps its three steps
    assert (changed.status_code, added.status_code, deleted.status_code) == (403, 403, 403)
    assert list(Flow.objects.values_list("intent", flat=True)) == ["order_status"]
    assert list(flow.steps.values_list("key", flat=True)) == ["ask-order", "look-up", "done"]


def test_an_admin_changes_a_flow(client, admin_user, flow):
    client.force_login(admin_user)
    data = form_data(client.get(f"/admin/engagement/flow/{flow.pk}/change/"))
    response = client.post(f"/admin/engagement/flow/{flow.pk}/change/", {**data, "description": "Where it is"})
    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.description == "Where it is"


def test_a_supervisor_cannot_change_a_queue_but_an_admin_can(client, supervisor, admin_user, team_a):
    # Given a queue of the supervisor's own team
    queue = QueueFactory(name="billing", label="Billing", team=team_a, service_level_seconds=20)
    client.force_login(supervisor)
    data = form_data(client.get(f"/admin/engagement/queue/{queue.pk}/change/"))
    # When the supervisor posts a change, then an admin does
    refused = client.post(f"/admin/engagement/queue/{queue.pk}/change/", {**data, "service_level_seconds": 999})
    queue.refresh_from_db()
    seconds_after_supervisor = queue.service_level_seconds
    client.force_login(admin_user)
    data = form_data(client.get(f"/admin/engagement/queue/{queue.pk}/change/"))
    accepted = client.post(f"/admin/engagement/queue/{queue.pk}/change/", {**data, "service_level_seconds": 30})
    # Then only the admin's change is saved
    assert (refused.status_code, seconds_after_supervisor) == (403, 20)
    assert accepted.status_code == 302
    queue.refresh_from_db()
    assert queue.service_level_seconds == 30


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/engagement/skill/add/", {"name": "billing", "description": ""}),
        ("/admin/engagement/queue/add/", {"name": "mine", "label": "Mine"}),
        (
            "/admin/engagement/knowledgearticle/add/",
            {"title": "Fees", "keywords": "fees", "body": "None.", "language": "en", "is_published": "on"},
        ),
        ("/admin/engagement/wrapupcode/add/", {"code": "x", "label": "X", "is_active": "on"}),
    ],
)
def test_a_supervisor_cannot_add_global_settings(client, supervisor, path, data):
    client.force_login(supervisor)
    assert client.post(path, data).status_code == 403
    assert (Skill.objects.filter(name="billing").exists(), Queue.objects.filter(name="mine").exists()) == (
        False,
        False,
    )
    assert KnowledgeArticle.objects.count() == 0


def test_a_supervisor_sees_and_sets_up_only_their_teams_agents(client, supervisor, agent, agent_b):
    # Given a routing profile for an agent of each team
    ours = AgentProfileFactory(user=agent)
    theirs = AgentProfileFactory(user=agent_b)
    client.force_login(supervisor)
    # Then the list holds their own agent's only, and the other's cannot be opened
    assert changelist(client, "/admin/engagement/agentprofile/") == [ours]
    assert client.get(f"/admin/engagement/agentprofile/{theirs.pk}/change/").status_code == 302
    # And a profile cannot be made for another team's agent (posted by id)
    theirs.delete()
    data = form_data(client.get("/admin/engagement/agentprofile/add/"))
    response = client.post("/admin/engagement/agentprofile/add/", {**data, "user": agent_b.pk, "capacity_units": 4})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "user": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert list(AgentProfile.objects.values_list("user_id", flat=True)) == [agent.pk]


def test_a_supervisor_sees_only_their_teams_whatsapp_templates(client, supervisor, team_a, team_b):
    # Given: a WhatsApp number and template of the supervisor's team, and another team's
    wa_a = WebhookSourceFactory(name="wa-a", channel="social", provider="whatsapp", sender_id="111", team=team_a)
    approved = MessageTemplate.objects.create(source=wa_a, name="order_update", language="en", body="Hi {{1}}")
    other = WebhookSourceFactory(name="wa-b", channel="social", provider="whatsapp", sender_id="999", team=team_b)
    theirs = MessageTemplate.objects.create(source=other, name="promo", language="en", body="Hi")
    client.force_login(supervisor)
    # When / Then
    assert changelist(client, "/admin/engagement/messagetemplate/") == [approved]
    assert client.get(f"/admin/engagement/messagetemplate/{theirs.pk}/change/").status_code == 302
    form = client.get("/admin/engagement/messagetemplate/add/").context["adminform"].form
    assert list(form.fields["source"].queryset) == [wa_a]
