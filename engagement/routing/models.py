"""Routing and work assignment: queues, skills, agents' capacity and presence, work items and offers.

A conversation that needs an agent becomes a ``WorkItem`` in a ``Queue``. The router offers it to
one agent at a time (an ``Offer``, a reservation) chosen by the queue's ``RoutingStep`` rules,
which widen as the item ages (bullseye). An agent's load is counted in capacity units per channel
(``ChannelLoad``): one voice call fills a default capacity of 4, a chat or an email takes 1.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cea.common.channels import Channel
from cea.common.models import TimeStampedModel
from engagement.routing.hours import MIDNIGHT, ClosedDays, HoursSpec, WeeklyRange, zone_problem


class Skill(TimeStampedModel):
    name = models.SlugField(max_length=60, unique=True, help_text="e.g. billing, spanish, mortgages")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentSelection(models.TextChoices):
    LONGEST_IDLE = "longest_idle", _("Longest idle among matching agents")
    BEST_PROFICIENCY = "best_proficiency", _("Best proficiency, then longest idle")


class ServiceLevelFormula(models.TextChoices):
    CONNECT = "connect", _("Amazon Connect: removed from queue within target (answered, abandoned, callback) ÷ queued")
    GENESYS = "genesys", _("Genesys-style: answered within target ÷ the terms chosen below")


def default_time_zone() -> str:
    """A new schedule's time zone: the deployment's (``TIME_ZONE``)."""
    return settings.TIME_ZONE


class BusinessHours(TimeStampedModel):
    """A named business-hours schedule (Amazon Connect's hours of operation, Zendesk's schedules).

    Weekly ``ranges`` (several a day if need be) and dated ``closures`` (bank holidays), in
    ``time_zone``. Queues point to one (``Queue.business_hours``); a queue without one is always
    open. The rules are in ``engagement.routing.hours``; ``engagement.routing.services`` writes a
    schedule and its ranges and closures together, checked first.
    """

    name = models.SlugField(max_length=100, unique=True)
    label = models.CharField(max_length=200, blank=True)
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        help_text="An IANA name, e.g. Europe/London (default: the deployment's)",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "business hours"
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return self.label or self.name

    def clean(self) -> None:
        problem = zone_problem(self.time_zone)
        if problem:
            raise ValidationError({"time_zone": problem})

    def spec(self) -> HoursSpec:
        """The schedule as a value (reads its ranges and closures; prefetch them for many)."""
        return HoursSpec(
            time_zone=self.time_zone,
            ranges=tuple(WeeklyRange(r.weekday, r.opens, r.closes) for r in self.ranges.all()),
            closures=tuple(ClosedDays(c.name, c.first_day, c.last_day) for c in self.closures.all()),
        )


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningRange(models.Model):
    """Open every ``weekday`` from ``opens`` to ``closes`` (local time; closing at 00:00 is midnight)."""

    schedule = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="ranges")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00: midnight at the end of the day")

    class Meta:
        ordering = ["schedule", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="openingrange_weekday"),
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")) | models.Q(closes=MIDNIGHT),
                name="openingrange_closes_after_opens",
                violation_error_message="A range must close after it opens on the same day (00:00 closes at midnight).",
            ),
        ]

    def __str__(self) -> str:
        return str(WeeklyRange(self.weekday, self.opens, self.closes))


class Closure(models.Model):
    """Closed all day from ``first_day`` to ``last_day`` (both included, local days): a bank holiday."""

    schedule = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="closures")
    name = models.CharField(max_length=100)
    first_day = models.DateField()
    last_day = models.DateField()

    class Meta:
        ordering = ["schedule", "first_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="closure_days_order",
                violation_error_message="The last day is before the first.",
            )
        ]

    def __str__(self) -> str:
        days = f"{self.first_day}" if self.first_day == self.last_day else f"{self.first_day} to {self.last_day}"
        return f"{self.name} ({days})"


class Queue(TimeStampedModel):
    """Where waiting work lines up. ``name`` is what conversations, flows and adapters name.

    The service-level fields say how insights computes this queue's service level (docs/kpis.md):
    Amazon Connect's formula by default, or a Genesys-style one whose denominator terms are chosen
    (``service_level_problems`` checks the combination). ``short_abandon_seconds`` is the
    short-abandon threshold of every report of the queue.
    """

    name = models.SlugField(max_length=100, unique=True)
    label = models.CharField(max_length=200, blank=True)
    channel = models.CharField(
        max_length=20, choices=Channel.choices, blank=True, help_text="Blank: work of any channel"
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queues",
        help_text="Only this team's agents take its work; blank: any agent who matches the rules",
    )
    service_level_percent = models.PositiveSmallIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    service_level_seconds = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1)])
    service_level_formula = models.CharField(
        max_length=10, choices=ServiceLevelFormula.choices, default=ServiceLevelFormula.CONNECT
    )
    short_abandon_seconds = models.PositiveIntegerField(
        default=5, help_text="Contacts abandoned within this many seconds of queueing are short abandons"
    )
    sl_counts_answered_after_target = models.BooleanField(
        default=True, help_text="Genesys-style only: contacts answered after the target count in the denominator"
    )
    sl_counts_abandons = models.BooleanField(
        default=True, help_text="Genesys-style only: abandoned contacts count in the denominator"
    )
    sl_excludes_short_abandons = models.BooleanField(
        default=False, help_text="Genesys-style only: short abandons are left out of the denominator"
    )
    sl_counts_flow_outs = models.BooleanField(
        default=False, help_text="Genesys-style only: contacts that flowed out unanswered count in the denominator"
    )
    selection = models.CharField(max_length=20, choices=AgentSelection.choices, default=AgentSelection.LONGEST_IDLE)
    base_priority = models.IntegerField(default=0)
    ageing_per_minute = models.FloatField(
        default=1.0, validators=[MinValueValidator(0)], help_text="Priority points a waiting item gains per minute"
    )
    offer_timeout_seconds = models.PositiveIntegerField(default=20, validators=[MinValueValidator(3)])
    unavailable_on_timeout = models.BooleanField(
        default=True, help_text="An agent who lets an offer time out is set away (reason: missed offer)"
    )
    after_contact_seconds = models.PositiveIntegerField(
        default=60, help_text="Time limit of after-contact work following a contact of this queue"
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="queues",
        help_text="When the queue is open; blank: always open",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.label or self.name

    def clean(self) -> None:
        problems = service_level_problems(self)
        if problems:
            raise ValidationError(problems)


def service_level_problems(queue: Queue) -> dict[str, str]:
    """What is wrong with a queue's service-level settings, by field (empty when nothing is)."""
    problems: dict[str, str] = {}
    if queue.short_abandon_seconds >= queue.service_level_seconds:
        problems["short_abandon_seconds"] = (
            f"A short abandon must be quicker than the service-level target ({queue.service_level_seconds} s)."
        )
    genesys_terms = {
        "sl_counts_answered_after_target": (queue.sl_counts_answered_after_target, True),
        "sl_counts_abandons": (queue.sl_counts_abandons, True),
        "sl_excludes_short_abandons": (queue.sl_excludes_short_abandons, False),
        "sl_counts_flow_outs": (queue.sl_counts_flow_outs, False),
    }
    if queue.service_level_formula == ServiceLevelFormula.CONNECT:
        for field, (value, default) in genesys_terms.items():
            if value != default:
                problems[field] = "Only the Genesys-style formula has terms to choose: keep the default, or switch."
    elif queue.sl_excludes_short_abandons and not queue.sl_counts_abandons:
        problems["sl_excludes_short_abandons"] = "Short abandons can only be left out when abandons are counted."
    return problems


class RoutingStep(models.Model):
    """One ring of a queue's bullseye. Steps apply in ``position`` order by the item's age in the queue.

    A step holds while the item is younger than ``until_seconds`` (blank on the last step: for
    ever). It asks for ``skill`` at ``min_proficiency`` or better (no skill: any agent of the
    queue), or moves the item to ``overflow_to``.
    """

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    until_seconds = models.PositiveIntegerField(null=True, blank=True)
    skill = models.ForeignKey(Skill, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    min_proficiency = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    overflow_to = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["queue", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_proficiency__gte=1, min_proficiency__lte=5), name="routingstep_proficiency_1_5"
            )
        ]

    def __str__(self) -> str:
        if self.overflow_to_id:
            return f"overflow to {self.overflow_to}"
        want = f"{self.skill} {self.min_proficiency}+" if self.skill_id else "any agent"
        return f"{want} until {self.until_seconds}s" if self.until_seconds else want


class ChannelLoad(models.Model):
    """How many capacity units one conversation of a channel takes (voice 4, chat 1 …)."""

    channel = models.CharField(max_length=20, choices=Channel.choices, unique=True)
    units = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.units}"


class Presence(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy (no new work)")
    AFTER_CONTACT = "after_contact", _("After-contact work")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class ReasonCode(models.Model):
    """Why an agent is away: break, lunch, training … (``system`` codes are set by CEA itself)."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    system = models.BooleanField(default=False, help_text="Set by CEA (e.g. missed offer), not chosen by agents")

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class AgentProfile(TimeStampedModel):
    """An agent as the router sees them: channels, capacity, presence and current load.

    ``load_units`` is the sum of the units of their pending offers and assigned work; it only
    changes with this row locked, so it can never pass ``capacity_units`` by a race.
    ``idle_since`` is when they last got work or became available (longest idle goes first).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing_profile")
    channels = ArrayField(
        models.CharField(max_length=20, choices=Channel.choices),
        default=list,
        blank=True,
        help_text="Channels this agent takes; empty: all",
    )
    capacity_units = models.PositiveSmallIntegerField(default=4, validators=[MinValueValidator(1)])
    presence = models.CharField(max_length=20, choices=Presence.choices, default=Presence.OFFLINE)
    reason = models.ForeignKey(ReasonCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    presence_since = models.DateTimeField(default=timezone.now)
    after_contact_until = models.DateTimeField(null=True, blank=True)
    idle_since = models.DateTimeField(default=timezone.now)
    load_units = models.PositiveSmallIntegerField(default=0)
    # Desktop connections: an agent with none for longer than the grace period goes offline.
    connections = models.PositiveSmallIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user__username"]
        indexes = [
            models.Index(fields=["presence", "idle_since"], name="agentprofile_free"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_presence_display()})"


class AgentSkill(models.Model):
    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agents")
    proficiency = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        ordering = ["skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "skill"], name="agentskill_once"),
            models.CheckConstraint(
                condition=models.Q(proficiency__gte=1, proficiency__lte=5), name="agentskill_proficiency_1_5"
            ),
        ]
        indexes = [models.Index(fields=["skill", "proficiency"], name="agentskill_match")]

    def __str__(self) -> str:
        return f"{self.skill} {self.proficiency}"


class PresenceChange(models.Model):
    """Every presence change, timestamped: the record adherence and reporting read."""

    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="presence_changes")
    presence = models.CharField(max_length=20, choices=Presence.choices)
    reason = models.ForeignKey(ReasonCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    cause = models.CharField(max_length=40, blank=True, help_text="agent, supervisor, disconnect, timer, missed_offer")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["agent", "-started_at"], name="presencechange_agent_recent"),
            # Insights' agents' time reads the periods still open or ended in its window.
            models.Index(fields=["ended_at"], name="presencechange_ended"),
        ]

    def __str__(self) -> str:
        return f"{self.agent.user} {self.presence} at {self.started_at:%H:%M:%S}"


class WorkStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offered to an agent")
    ASSIGNED = "assigned", _("With an agent")
    WRAP_UP = "wrap_up", _("Wrap-up")
    DONE = "done", _("Done")
    TRANSFERRED = "transferred", _("Transferred")
    ABANDONED = "abandoned", _("Abandoned")


OPEN_WORK = (WorkStatus.WAITING, WorkStatus.OFFERED, WorkStatus.ASSIGNED, WorkStatus.WRAP_UP)
# Work that takes an agent's capacity.
LOADED_WORK = (WorkStatus.OFFERED, WorkStatus.ASSIGNED, WorkStatus.WRAP_UP)


class WorkItem(models.Model):
    """One conversation waiting for, offered to, or handled by an agent.

    A conversation has at most one open work item. ``rank`` orders waiting work: priority plus
    ageing is ``priority + rate × age``, so ordering by ``priority − rate × enqueued epoch`` gives
    the same order at any moment and can be indexed. ``entered_queue_at`` is when it joined its
    current queue (the bullseye steps count from it); ``enqueued_at`` is when it first waited.
    """

    conversation = models.ForeignKey("engagement.Conversation", on_delete=models.CASCADE, related_name="work_items")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="work_items")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    units = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=WorkStatus.choices, default=WorkStatus.WAITING)
    priority = models.IntegerField(default=0)
    priority_reasons = models.JSONField(default=dict, blank=True)
    rank = models.FloatField(default=0)
    enqueued_at = models.DateTimeField(default=timezone.now)
    entered_queue_at = models.DateTimeField(default=timezone.now)
    target_agent = models.ForeignKey(
        AgentProfile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A transfer to a named agent: only they are offered it",
    )
    target_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A preferred agent (the last agent): the target is offered it first until then, then its queue",
    )
    agent = models.ForeignKey(AgentProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="work")
    offered_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    wait_seconds = models.FloatField(null=True, blank=True, help_text="From enqueued to answered or abandoned")
    transferred_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True, help_text="A transfer's note to the next agent")

    class Meta:
        ordering = ["-rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=models.Q(status__in=["waiting", "offered", "assigned", "wrap_up"]),
                name="workitem_one_open_per_conversation",
            ),
            models.CheckConstraint(
                condition=models.Q(agent__isnull=False) | ~models.Q(status__in=["offered", "assigned", "wrap_up"]),
                name="workitem_loaded_has_agent",
            ),
        ]
        indexes = [
            # The router's order, tie-break included, so the next item is the index's first row.
            models.Index(
                fields=["queue", "-rank", "id"], name="workitem_waiting_order", condition=models.Q(status="waiting")
            ),
            models.Index(fields=["agent", "status"], name="workitem_agent_status"),
            # Real-time figures read a queue's contacts since local midnight (and the last 15
            # minutes): without it each read scans the queue's whole history (bench/wallboard.py).
            models.Index(fields=["queue", "enqueued_at"], name="workitem_queue_enqueued"),
            # Insights' agents' time reads the contacts whose after-contact work ended in its window.
            models.Index(fields=["ended_at"], name="workitem_ended", condition=models.Q(status="done")),
        ]

    def __str__(self) -> str:
        return f"work {self.pk} ({self.status}) for conversation {self.conversation_id}"


class OfferStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    TIMED_OUT = "timed_out", _("Timed out")
    RESCINDED = "rescinded", _("Rescinded")


class Offer(models.Model):
    """A reservation of one work item for one agent, until they accept, reject or it times out."""

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(max_length=20, choices=OfferStatus.choices, default=OfferStatus.PENDING)
    offered_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    step = models.PositiveSmallIntegerField(default=0, help_text="The bullseye step that matched")

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_item"], condition=models.Q(status="pending"), name="offer_one_pending_per_item"
            )
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="offer_pending_expiry", condition=models.Q(status="pending")),
            models.Index(fields=["agent", "status"], name="offer_agent_status"),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk} of work {self.work_item_id} to {self.agent.user} ({self.status})"


class FlowOutReason(models.TextChoices):
    OVERFLOW = "overflow", _("An overflow step of the queue's rules")
    MOVED = "moved", _("Moved by a supervisor")


class QueueFlowOut(models.Model):
    """Waiting work that left a queue unanswered for another queue: a flow-out of ``from_queue``.

    Written by ``engagement.routing.engine.work_queue_change`` (an overflow step, a supervisor's
    move), in the transaction that moves the item. Work that an agent transfers was answered in its
    queue, and work put back to waiting stays in it: neither is a flow-out. Insights counts the
    contact as queued and flowed out in ``from_queue`` (docs/kpis.md, "Flow-outs").
    """

    work_item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="flow_outs")
    conversation = models.ForeignKey("engagement.Conversation", on_delete=models.CASCADE, related_name="+")
    from_queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    to_queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="+")
    entered_queue_at = models.DateTimeField(help_text="When the work joined the queue it left")
    flowed_out_at = models.DateTimeField()
    reason = models.CharField(max_length=20, choices=FlowOutReason.choices)

    class Meta:
        ordering = ["flowed_out_at", "id"]

    def __str__(self) -> str:
        return f"work {self.work_item_id} flowed out of queue {self.from_queue_id} to {self.to_queue_id}"


class WrapUpCode(models.Model):
    """The outcome an agent picks when wrapping up a contact."""

    code = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label
