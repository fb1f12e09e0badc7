"""The routing console: a queue's bullseye steps are checked together when the queue is saved."""

from __future__ import annotations

import pytest

from engagement.routing.models import Queue, RoutingStep
from tests.engagement.factories import SkillFactory

pytestmark = pytest.mark.django_db


def _queue_form(name: str, steps: list[dict]) -> dict:
    data = {
        "name": name,
        "label": name.title(),
        "channel": "",
        "team": "",
        "service_level_percent": 80,
        "service_level_seconds": 20,
        # The service level's formula (insights): Amazon Connect's, whose Genesys terms keep their defaults.
        "service_level_formula": "connect",
        "short_abandon_seconds": 5,
        "sl_counts_answered_after_target": "on",
        "sl_counts_abandons": "on",
        "selection": "longest_idle",
        "base_priority": 0,
        "ageing_per_minute": 1.0,
        "offer_timeout_seconds": 20,
        "unavailable_on_timeout": "on",
        "after_contact_seconds": 60,
        "is_active": "on",
        "steps-TOTAL_FORMS": len(steps),
        "steps-INITIAL_FORMS": 0,
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 1000,
    }
    for index, step in enumerate(steps):
        for field, value in step.items():
            data[f"steps-{index}-{field}"] = "" if value is None else value
    return data


@pytest.fixture
def billing(db):
    return SkillFactory(name="billing")


def test_an_admin_saves_a_queue_with_widening_steps(client, admin_user, billing):
    # Given an admin in the console and a general queue to overflow to
    general = Queue.objects.get_or_create(name="general")[0]
    client.force_login(admin_user)
    steps = [
        {"position": 0, "until_seconds": 20, "skill": billing.pk, "min_proficiency": 4, "overflow_to": None},
        {"position": 1, "until_seconds": 60, "skill": billing.pk, "min_proficiency": 2, "overflow_to": None},
        {"position": 2, "until_seconds": None, "skill": None, "min_proficiency": 1, "overflow_to": general.pk},
    ]
    # When they add the billing queue with three steps
    response = client.post("/admin/engagement/queue/add/", _queue_form("billing", steps))
    # Then it is saved with its steps in order
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = list(RoutingStep.objects.filter(queue__name="billing").values_list("until_seconds", "min_proficiency"))
    assert saved == [(20, 4), (60, 2), (None, 1)]


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        (
            [
                {"position": 0, "until_seconds": None, "skill": "billing", "min_proficiency": 4},
                {"position": 1, "until_seconds": 60, "skill": "billing", "min_proficiency": 2},
            ],
            "has no time limit",
        ),
        (
            [
                {"position": 0, "until_seconds": 60, "skill": "billing", "min_proficiency": 4},
                {"position": 1, "until_seconds": 20, "skill": "billing", "min_proficiency": 2},
            ],
            "is not after the step before it",
        ),
    ],
)
def test_steps_that_break_the_rules_are_refused_and_nothing_is_saved(client, admin_user, billing, steps, problem):
    # Given an admin in the console
    client.force_login(admin_user)
    for step in steps:
        step["skill"] = billing.pk
    # When they save a queue whose steps contradict each other
    response = client.post("/admin/engagement/queue/add/", _queue_form("billing", steps))
    # Then the form comes back with the problem, and no queue or step was written
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not Queue.objects.filter(name="billing").exists()
    assert not RoutingStep.objects.exists()


def test_an_agent_cannot_edit_routing(client, agent):
    # Given an agent
    client.force_login(agent)
    # When they open the queues in the console
    response = client.get("/admin/engagement/queue/")
    # Then they are kept out
    assert response.status_code in (302, 403)


def test_the_console_refuses_service_level_terms_that_do_not_fit(client, admin_user):
    # Given an admin in the console
    client.force_login(admin_user)
    form = _queue_form("billing", [])
    # When they save a queue with Connect's formula but a Genesys term changed, and a short-abandon
    # threshold that is not under the target
    form.update({"sl_counts_flow_outs": "on", "short_abandon_seconds": 30})
    response = client.post("/admin/engagement/queue/add/", form)
    # Then the form comes back with both reasons and nothing is saved
    assert response.status_code == 200
    page = response.content.decode()
    assert "Only the Genesys-style formula has terms to choose" in page
    assert "A short abandon must be quicker than the service-level target (20 s)." in page
    assert not Queue.objects.filter(name="billing").exists()
