"""The demo's routing: skills, queues with bullseye rules, and the demo agents' skills. Idempotent."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from engagement.routing.defaults import routing_defaults_ensure
from engagement.routing.models import AgentProfile, AgentSelection, AgentSkill, Queue, RoutingStep, Skill

SKILLS = {
    "billing": "Bills, balances and payment arrangements",
    "orders": "Orders, deliveries and returns",
    "technical": "Devices and connectivity",
}
# (name, label, channel, selection, steps: (until, skill, min proficiency, overflow to))
QUEUES = [
    ("general", "General", "", AgentSelection.LONGEST_IDLE, []),
    # The demo shop's site key sends its chats here (engagement.webchat.services.demo_site_ensure).
    ("web-chat", "Web chat", "chat", AgentSelection.LONGEST_IDLE, [(30, "orders", 3, None), (None, None, 1, None)]),
    (
        "billing",
        "Billing",
        "",
        AgentSelection.BEST_PROFICIENCY,
        [(20, "billing", 4, None), (60, "billing", 2, None), (None, None, 1, "general")],
    ),
    ("orders", "Orders", "", AgentSelection.LONGEST_IDLE, [(30, "orders", 3, None), (None, None, 1, None)]),
]
AGENT_SKILLS = {
    "demo.agent": {"billing": 4, "orders": 3},
    "demo.supervisor": {"billing": 2, "technical": 5},
}


@transaction.atomic
def routing_demo_load() -> dict:
    routing_defaults_ensure()
    skills = {
        name: Skill.objects.get_or_create(name=name, defaults={"description": text})[0] for name, text in SKILLS.items()
    }
    created = 0
    for name, label, channel, selection, _ in QUEUES:
        _, made = Queue.objects.get_or_create(
            name=name, defaults={"label": label, "channel": channel, "selection": selection}
        )
        created += made
    for name, _, _, _, steps in QUEUES:
        queue = Queue.objects.get(name=name)
        if queue.steps.exists() or not steps:
            continue
        for position, (until, skill, proficiency, overflow) in enumerate(steps):
            RoutingStep.objects.create(
                queue=queue,
                position=position,
                until_seconds=until,
                skill=skills[skill] if skill else None,
                min_proficiency=proficiency,
                overflow_to=Queue.objects.get(name=overflow) if overflow else None,
            )
    users = get_user_model().objects.filter(username__in=AGENT_SKILLS)
    for user in users:
        profile, _ = AgentProfile.objects.get_or_create(user=user)
        for skill, proficiency in AGENT_SKILLS[user.username].items():
            AgentSkill.objects.get_or_create(agent=profile, skill=skills[skill], defaults={"proficiency": proficiency})
    return {"queues_created": created, "agents": users.count()}
