"""The demo's routing: skills, queues with bullseye rules and business hours, the demo agents' skills.

Idempotent."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from engagement.routing.defaults import routing_defaults_ensure
from engagement.routing.hours import ClosedDays, WeeklyRange
from engagement.routing.models import (
    AgentProfile,
    AgentSelection,
    AgentSkill,
    BusinessHours,
    Queue,
    RoutingStep,
    Skill,
)
from engagement.routing.services import business_hours_create

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
# Business hours of the demo's phone-style queues: Mon–Fri 08:00–20:00, Sat 09:00–13:00, closed on
# Sundays and on the bank holidays listed (local days). Web chat and general stay always open.
WEEKDAY_HOURS = [(day, dt.time(8), dt.time(20)) for day in range(5)] + [(5, dt.time(9), dt.time(13))]
# England's bank holidays of 2026 and 2027.
BANK_HOLIDAYS = [
    ("New Year's Day", dt.date(2026, 1, 1)),
    ("Good Friday", dt.date(2026, 4, 3)),
    ("Easter Monday", dt.date(2026, 4, 6)),
    ("Early May bank holiday", dt.date(2026, 5, 4)),
    ("Spring bank holiday", dt.date(2026, 5, 25)),
    ("Summer bank holiday", dt.date(2026, 8, 31)),
    ("Christmas Day", dt.date(2026, 12, 25)),
    ("Boxing Day (substitute day)", dt.date(2026, 12, 28)),
    ("New Year's Day", dt.date(2027, 1, 1)),
    ("Good Friday", dt.date(2027, 3, 26)),
    ("Easter Monday", dt.date(2027, 3, 29)),
    ("Early May bank holiday", dt.date(2027, 5, 3)),
    ("Spring bank holiday", dt.date(2027, 5, 31)),
    ("Summer bank holiday", dt.date(2027, 8, 30)),
    ("Christmas Day (substitute day)", dt.date(2027, 12, 27)),
    ("Boxing Day (substitute day)", dt.date(2027, 12, 28)),
]
HOURS_QUEUES = ("billing", "orders")
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
    _business_hours_ensure()
    users = get_user_model().objects.filter(username__in=AGENT_SKILLS)
    for user in users:
        profile, _ = AgentProfile.objects.get_or_create(user=user)
        for skill, proficiency in AGENT_SKILLS[user.username].items():
            AgentSkill.objects.get_or_create(agent=profile, skill=skills[skill], defaults={"proficiency": proficiency})
    return {"queues_created": created, "agents": users.count()}


def _business_hours_ensure() -> None:
    """The demo's office hours, given to the queues of ``HOURS_QUEUES`` that have none yet."""
    schedule = BusinessHours.objects.filter(name="office-hours").first()
    if schedule is None:
        schedule = business_hours_create(
            actor=None,
            name="office-hours",
            label="Office hours (Mon–Fri 08:00–20:00, Sat 09:00–13:00)",
            ranges=[WeeklyRange(day, opens, closes) for day, opens, closes in WEEKDAY_HOURS],
            closures=[ClosedDays(name, day, day) for name, day in BANK_HOLIDAYS],
        )
    Queue.objects.filter(name__in=HOURS_QUEUES, business_hours__isnull=True).update(business_hours=schedule)
