"""factory-boy factories of engagement's rows: queues and their bullseye steps, skills, agents'
routing profiles, web chat site keys, webhook sources, conversations.

A factory builds rows. Where a test needs what a service does besides (a presence's history, a
conversation's journey events, a work item's rank), it calls the service, or a factory built on
one that says so (``RoutableAgentFactory``).
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from cea.common.channels import Channel
from engagement.adapters.models import WebhookSource
from engagement.conversations.models import Conversation
from engagement.routing.models import AgentProfile, AgentSkill, Presence, Queue, RoutingStep, Skill
from engagement.routing.presence import agent_profile_for, presence_set
from engagement.webchat.models import SiteKey
from tests.accounts.factories import UserFactory


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"skill-{n}")


class QueueFactory(factory.django.DjangoModelFactory):
    """A queue (label: its name in title case) and, with ``steps=[{...}, ...]``, its bullseye steps
    (dicts of ``RoutingStep`` fields) in position order."""

    class Meta:
        model = Queue
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"queue-{n}")
    label = factory.LazyAttribute(lambda queue: queue.name.title())

    @factory.post_generation
    def steps(queue, create, steps, **kwargs):
        for position, step in enumerate(steps or ()):
            RoutingStepFactory(queue=queue, position=position, **step)


class RoutingStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingStep

    queue = factory.SubFactory(QueueFactory)
    position = 0


class AgentProfileFactory(factory.django.DjangoModelFactory):
    """A routing profile row (offline, capacity 4, every channel) of a new user: ``username``,
    ``teams`` and ``role`` (agent) are the user's, or pass ``user``."""

    class Meta:
        model = AgentProfile

    class Params:
        username = factory.Sequence(lambda n: f"agent-{n}")
        teams = ()
        role = "agent"

    user = factory.SubFactory(
        UserFactory,
        username=factory.SelfAttribute("..username"),
        teams=factory.SelfAttribute("..teams"),
        role=factory.SelfAttribute("..role"),
    )
    capacity_units = 4
    channels = factory.LazyFunction(list)


class RoutableAgentFactory(AgentProfileFactory):
    """An agent ready for the router: the profile made or kept by ``agent_profile_for`` (``user=``
    an existing user is fine), ``capacity_units`` and ``channels`` set on it, then the presence
    (available unless told; away with the reason "break") set through ``presence_set``, so that its
    history, its idle clock and its routing triggers are as in production; then ``idle_minutes``:
    how long ago they became idle (the longest idle goes first), and ``skills``:
    ``{Skill: proficiency}``. Returns the profile as stored."""

    presence = Presence.AVAILABLE
    idle_minutes = None
    skills = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *, user, presence, capacity_units, channels, idle_minutes, skills):
        profile = agent_profile_for(user)
        model_class.objects.filter(pk=profile.pk).update(capacity_units=capacity_units, channels=list(channels))
        if presence != Presence.OFFLINE:
            reason = "break" if presence == Presence.AWAY else ""
            presence_set(actor=user, agent_user=user, presence=presence, reason_code=reason)
        if idle_minutes is not None:
            idle_since = timezone.now() - timedelta(minutes=idle_minutes)
            model_class.objects.filter(pk=profile.pk).update(idle_since=idle_since)
        for skill, proficiency in skills.items():
            AgentSkill.objects.create(agent=profile, skill=skill, proficiency=proficiency)
        profile.refresh_from_db()
        return profile


class SiteKeyFactory(factory.django.DjangoModelFactory):
    """A web chat site key for the shop at https://shop.example (its key made by the model)."""

    class Meta:
        model = SiteKey

    name = factory.Sequence(lambda n: f"Shop {n}")
    allowed_origins = factory.LazyFunction(lambda: ["https://shop.example"])


class WebhookSourceFactory(factory.django.DjangoModelFactory):
    """A channel provider that posts signed webhooks (SMS unless told)."""

    class Meta:
        model = WebhookSource

    name = factory.Sequence(lambda n: f"source-{n}")
    channel = Channel.SMS
    secret = factory.Sequence(lambda n: f"webhook-secret-{n:04d}-0123456789")


class ConversationFactory(factory.django.DjangoModelFactory):
    """A conversation row (a chat unless told; the team its customer's). Without its start's
    journey events and context: ``conversation_start`` makes those."""

    class Meta:
        model = Conversation

    channel = Channel.CHAT
    customer = None
    team = factory.LazyAttribute(lambda conversation: conversation.customer.team if conversation.customer else None)
