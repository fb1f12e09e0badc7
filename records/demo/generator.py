"""Build the demo data set: teams, agents, SLA policies, customers with identities and consent,
cases with notes, interactions with transcripts, and the journey events that tell each story.

Deterministic: the same seed and sizes give the same people, cases and conversations (times
are laid out backwards from the moment of loading, over ``days``). Rows are written with
``bulk_create`` in batches inside one transaction, so a failed load leaves nothing behind.
The audit triggers still record every insert, under the context ``job=demo_data``.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cea.accounts.models import Team, User
from cea.accounts.services import team_create, user_create
from cea.common.channels import Channel, Direction
from cea.common.roles import Role
from records.audit.bulk import audited_copy
from records.audit.context import audited
from records.cases.models import Case, CaseCategory, CaseNote, CasePriority, CaseStatus, NoteVisibility, SlaPolicy
from records.cases.services import next_case_reference
from records.customers.models import Consent, ConsentPurpose, Customer, ValueTier
from records.customers.services import search_name_of
from records.demo import vocabulary as words
from records.demo.arrivals import ArrivalShape, DemoRota
from records.demo.journeys import ARCHETYPES, Archetype, JourneyWalker
from records.holdings.services import copy_rows
from records.identities.models import Identity, IdentityKind
from records.identities.normalise import hash_national_id
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent

BATCH = 5000
AGENTS_PER_TEAM = 10
SLA_TARGETS = {  # priority: (first response minutes, resolution minutes)
    CasePriority.URGENT: (15, 4 * 60),
    CasePriority.HIGH: (60, 24 * 60),
    CasePriority.NORMAL: (4 * 60, 3 * 24 * 60),
    CasePriority.LOW: (24 * 60, 10 * 24 * 60),
}
CHANNEL_WEIGHTS = {
    Channel.VOICE: 35,
    Channel.CHAT: 25,
    Channel.EMAIL: 20,
    Channel.SMS: 5,
    Channel.SOCIAL: 5,
    Channel.WEB_FORM: 4,
    Channel.MOBILE_APP: 3,
    Channel.BRANCH: 2,
    Channel.IOT: 1,
}
STATUS_WEIGHTS = {
    CaseStatus.NEW: 10,
    CaseStatus.OPEN: 20,
    CaseStatus.PENDING: 10,
    CaseStatus.RESOLVED: 25,
    CaseStatus.CLOSED: 35,
}
TIER_WEIGHTS = {ValueTier.STANDARD: 70, ValueTier.SILVER: 18, ValueTier.GOLD: 9, ValueTier.PLATINUM: 3}
# The queues of the demo's routing (engagement/routing/demo.py) that a team's contacts on a channel
# carry; every other team and channel: "<team> <channel>".
ROUTING_QUEUES: dict[tuple[str, str], str] = {
    ("Retail Support", Channel.VOICE): "orders",
    ("Retail Support", Channel.CHAT): "web-chat",
    ("Billing & Payments", Channel.VOICE): "billing",
    ("Billing & Payments", Channel.CHAT): "billing",
}
# The main queues' traffic besides the storied interactions: each team's share of it by channel.
QUEUE_TRAFFIC_SHARES = {
    ("Retail Support", Channel.VOICE): 0.2,
    ("Retail Support", Channel.CHAT): 0.1,
    ("Billing & Payments", Channel.VOICE): 0.2,
    ("Billing & Payments", Channel.CHAT): 0.1,
    ("Technical Support", Channel.VOICE): 0.2,
    ("Technical Support", Channel.CHAT): 0.1,
    ("Premium Care", Channel.VOICE): 0.06,
    ("Premium Care", Channel.CHAT): 0.04,
}
TRAFFIC_PREFIX = "demo-q"


def queue_name(team: str, channel: str) -> str:
    """The queue a demo contact of ``team`` on ``channel`` carries."""
    return ROUTING_QUEUES.get((team, channel)) or f"{team} {Channel(channel).label}"


@dataclass(frozen=True)
class DemoSize:
    customers: int = 2000
    cases: int = 5000
    interactions: int = 20000
    days: int = 90
    # Contacts on the main voice and chat queues besides the storied interactions (no transcript, no
    # journey event, the caller unidentified): the volume interval forecasts need.
    queue_contacts: int = 0

    @classmethod
    def scaled(cls, scale: float) -> DemoSize:
        return cls(
            customers=round(2000 * scale),
            cases=round(5000 * scale),
            interactions=round(20000 * scale),
            queue_contacts=round(50000 * scale),
        )


def _bulk(model, rows: list, report: Callable[[str], None] | None = None) -> list:
    created = []
    for start in range(0, len(rows), BATCH):
        created.extend(model.objects.bulk_create(rows[start : start + BATCH], batch_size=BATCH))
        if report and len(rows) > BATCH:
            report(f"  {model._meta.verbose_name_plural}: {len(created):,}/{len(rows):,}")
    return created


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class DemoBuilder:
    def __init__(self, *, size: DemoSize, seed: int, now: datetime | None, report: Callable[[str], None]) -> None:
        self.size = size
        self.rng = random.Random(seed)
        # The journeys' own draws (records.demo.journeys), apart from the rest's.
        self.journey_rng = random.Random(seed + 1)
        self.archetypes: dict[int, Archetype | None] = {}
        self.quiet_from: dict[int, datetime] = {}
        self.now = now or timezone.now()
        self.start = self.now - timedelta(days=size.days)
        zone = ZoneInfo(settings.TIME_ZONE)
        self.shape = ArrivalShape(start=self.start, end=self.now, zone=zone)
        self.rota = DemoRota(zone)
        self.report = report
        self.events: list[JourneyEvent] = []

    def _moment(self, after: datetime | None = None, before: datetime | None = None) -> datetime:
        after = max(after or self.start, self.start)
        span = (min(before or self.now, self.now) - after).total_seconds()
        return after + timedelta(seconds=self.rng.uniform(0, max(span, 1)))

    def _arrival(self, channel: str, *, after: datetime, before: datetime | None) -> datetime:
        """When a contact on ``channel`` arrives, in the window and ``[after, before]``, by the centre's shapes."""
        return self.shape.draw(self.rng, channel, max(after, self.start), min(before or self.now, self.now))

    def _quiet_from(self, archetype: Archetype | None, joined: datetime) -> datetime | None:
        """When a customer of ``archetype`` goes quiet (for its share of them), after they joined and
        at least ten days before now; ``None``: they never do."""
        if archetype is None or self.journey_rng.random() >= archetype.quiet_share:
            return None
        earliest = max(joined, self.start) + timedelta(days=3)
        latest = self.now - timedelta(days=10)
        if earliest >= latest:
            return None
        return earliest + (latest - earliest) * self.journey_rng.random()

    def _event(
        self,
        customer_id: int,
        at: datetime,
        kind: str,
        summary: str,
        channel: str = "",
        source: str = "records",
        **payload,
    ) -> None:
        self.events.append(
            JourneyEvent(
                customer_id=customer_id,
                occurred_at=at,
                source_system=source,
                channel=channel,
                kind=kind,
                summary=summary,
                payload=payload,
            )
        )

    # --- people ---------------------------------------------------------------------------

    def teams_and_agents(self) -> tuple[list[Team], dict[int, list[User]]]:
        teams = []
        for name, description in words.TEAMS:
            team = Team.objects.filter(name=name).first() or team_create(name=name, description=description)
            teams.append(team)
        agents: dict[int, list[User]] = {}
        for index, team in enumerate(teams):
            slug = team.name.lower().replace(" & ", "-").replace(" ", "-")
            members = []
            for number in range(1, AGENTS_PER_TEAM + 1):
                username = f"{slug}.agent{number:02d}"
                user = User.objects.filter(username=username).first() or user_create(
                    username=username,
                    role=Role.AGENT,
                    teams=[team],
                    first_name=words.GIVEN_NAMES[(index * 17 + number * 7) % len(words.GIVEN_NAMES)],
                    last_name=words.FAMILY_NAMES[(index * 13 + number * 5) % len(words.FAMILY_NAMES)],
                )
                members.append(user)
            supervisor = f"{slug}.supervisor"
            if not User.objects.filter(username=supervisor).exists():
                user_create(
                    username=supervisor,
                    role=Role.SUPERVISOR,
                    teams=[team],
                    first_name="Supervisor",
                    last_name=team.name,
                )
            agents[team.pk] = members
        return teams, agents

    def sla_policies(self) -> dict[str, SlaPolicy]:
        policies = {}
        for priority, (first, resolution) in SLA_TARGETS.items():
            policies[priority], _ = SlaPolicy.objects.get_or_create(
                name=f"{CasePriority(priority).label} priority",
                defaults={
                    "priority": priority,
                    "first_response_minutes": first,
                    "resolution_minutes": resolution,
                    "is_default_for_priority": True,
                },
            )
        return policies

    def customers(self, teams: list[Team]) -> list[Customer]:
        rng, rows = self.rng, []
        premium = next(team for team in teams if team.name == "Premium Care")
        others = [team for team in teams if team is not premium]
        archetypes = []
        for i in range(self.size.customers):
            archetype = ARCHETYPES.get(rng.choice(words.PERSONAS))
            archetypes.append(archetype)
            given, family = rng.choice(words.GIVEN_NAMES), rng.choice(words.FAMILY_NAMES)
            city, district = rng.choice(words.CITIES)
            tier = _weighted(rng, archetype.tiers if archetype else TIER_WEIGHTS)
            has_email, has_phone = rng.random() < 0.9, rng.random() < 0.85
            rows.append(
                Customer(
                    given_name=given,
                    family_name=family,
                    search_name=search_name_of(given_name=given, family_name=family),
                    date_of_birth=datetime(1940, 1, 1).date() + timedelta(days=rng.randrange(0, 365 * 66)),
                    email=f"{given}.{family}.{i}@example.com".lower() if has_email else "",
                    phone=f"+4474{i:08d}" if has_phone else "",
                    address_line1=f"{rng.randint(1, 240)} {rng.choice(words.STREETS)}",
                    city=city,
                    postcode=f"{district} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                    f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
                    country="GB",
                    language=rng.choice(words.LANGUAGES),
                    preferred_channel=_weighted(rng, CHANNEL_WEIGHTS) if rng.random() < 0.6 else "",
                    preferences={"contact_time": rng.choice(["morning", "afternoon", "evening", "any"])},
                    segment=rng.choice(archetype.segments if archetype else words.SEGMENTS),
                    value_tier=tier,
                    custom_attributes={"customer_since": 1990 + rng.randint(0, 35)},
                    team=premium if tier in (ValueTier.GOLD, ValueTier.PLATINUM) else rng.choice(others),
                    created_at=self._joined(archetype, self.start - timedelta(days=rng.randint(1, 3650))),
                )
            )
        customers = _bulk(Customer, rows, self.report)
        for customer, archetype in zip(customers, archetypes, strict=True):
            self.archetypes[customer.pk] = archetype
            if quiet := self._quiet_from(archetype, customer.created_at):
                self.quiet_from[customer.pk] = quiet
            self._event(customer.pk, customer.created_at, "customer.created", f"Customer {customer.full_name} created")
        return customers

    def _joined(self, archetype: Archetype | None, long_ago: datetime) -> datetime:
        """When a customer of ``archetype`` became one: inside the window for its share of new ones."""
        if archetype is None or self.journey_rng.random() >= archetype.new_share:
            return long_ago
        return self.start + timedelta(days=self.journey_rng.uniform(0, self.size.days * 0.85))

    def journeys(self, customers: list[Customer]) -> None:
        """Each customer's steps through the journey's stages, as their archetype walks them."""
        walker = JourneyWalker(rng=self.journey_rng, start=self.start, now=self.now)
        for customer in customers:
            archetype = self.archetypes.get(customer.pk)
            if archetype is None:
                continue
            new = customer.created_at >= self.start
            steps = walker.new_customer(archetype, customer.created_at) if new else walker.long_standing(archetype)
            quiet = self.quiet_from.get(customer.pk)
            for step in steps:
                if quiet is not None and step.at >= quiet:
                    break
                self._event(
                    customer.pk,
                    step.at,
                    step.kind,
                    step.summary,
                    channel=step.channel,
                    source=step.source,
                    **step.payload,
                )

    def identities_and_consents(self, customers: list[Customer]) -> int:
        rng, identities, consents = self.rng, [], []
        for i, customer in enumerate(customers):
            if customer.email:
                identities.append(
                    Identity(
                        customer=customer,
                        kind=IdentityKind.EMAIL,
                        value=customer.email,
                        label=customer.email,
                        is_primary=True,
                    )
                )
            if customer.phone:
                identities.append(
                    Identity(
                        customer=customer,
                        kind=IdentityKind.PHONE,
                        value=customer.phone,
                        label=customer.phone,
                        is_primary=True,
                    )
                )
            if rng.random() < 0.7:
                account = f"ACC{i:08d}"
                identities.append(Identity(customer=customer, kind=IdentityKind.ACCOUNT, value=account, label=account))
            if rng.random() < 0.2:
                handle = f"{rng.choice(words.SOCIAL_PLATFORMS)}:{customer.given_name.lower()}_{i}"
                identities.append(Identity(customer=customer, kind=IdentityKind.SOCIAL, value=handle, label=handle))
            if rng.random() < 0.1:
                device = f"dev-{i:08d}"
                identities.append(Identity(customer=customer, kind=IdentityKind.DEVICE, value=device, label=device))
            if rng.random() < 0.3:
                digest, label = hash_national_id(f"QQ{i:06d}C")
                identities.append(Identity(customer=customer, kind=IdentityKind.NATIONAL_ID, value=digest, label=label))
            for channel, purpose in rng.sample(
                [
                    (Channel.EMAIL, ConsentPurpose.MARKETING),
                    (Channel.SMS, ConsentPurpose.SERVICE),
                    (Channel.VOICE, ConsentPurpose.RESEARCH),
                    (Channel.EMAIL, ConsentPurpose.SERVICE),
                ],
                k=rng.randint(1, 3),
            ):
                consents.append(
                    Consent(
                        customer=customer,
                        channel=channel,
                        purpose=purpose,
                        granted=rng.random() < 0.7,
                        given_at=customer.created_at,
                        source="import",
                    )
                )
        _bulk(Identity, identities, self.report)
        _bulk(Consent, consents, self.report)
        return len(identities)

    def cases(self, customers: list[Customer], agents: dict[int, list[User]], policies) -> dict[int, list[Case]]:
        rng, rows, notes = self.rng, [], []
        for _ in range(self.size.cases):
            customer = rng.choice(customers)
            category = rng.choice(CaseCategory.values)
            priority = rng.choices(CasePriority.values, weights=[20, 55, 20, 5])[0]
            status = _weighted(rng, STATUS_WEIGHTS)
            created = self._moment(after=customer.created_at, before=self.quiet_from.get(customer.pk))
            policy = policies[priority]
            case = Case(
                reference=next_case_reference(),
                customer=customer,
                subject=rng.choice(words.CASE_SUBJECTS[category]),
                category=category,
                priority=priority,
                status=status,
                sla_policy=policy,
                team=customer.team,
                assignee=rng.choice(agents[customer.team_id]) if rng.random() < 0.85 else None,
                created_at=created,
                first_response_due_at=created + timedelta(minutes=policy.first_response_minutes),
                resolution_due_at=created + timedelta(minutes=policy.resolution_minutes),
                description="Raised from the customer's contact; see the linked interactions.",
            )
            if status != CaseStatus.NEW:
                case.first_responded_at = created + timedelta(
                    minutes=rng.expovariate(1 / policy.first_response_minutes)
                )
                case.first_responded_at = min(case.first_responded_at, self.now)
            if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
                took = timedelta(minutes=rng.expovariate(1 / (policy.resolution_minutes * 0.6)))
                case.resolved_at = min(max(created + took, case.first_responded_at), self.now)
            if status == CaseStatus.CLOSED:
                case.closed_at = min(case.resolved_at + timedelta(days=rng.uniform(0.5, 7)), self.now)
            responded = case.first_responded_at or self.now
            case.first_response_breached = responded > case.first_response_due_at
            case.resolution_breached = (case.resolved_at or self.now) > case.resolution_due_at
            rows.append(case)
        cases = _bulk(Case, rows, self.report)
        by_customer: dict[int, list[Case]] = defaultdict(list)
        for case in cases:
            by_customer[case.customer_id].append(case)
            ref = {"case_id": case.pk, "reference": case.reference}
            self._event(
                case.customer_id,
                case.created_at,
                "case.created",
                f"Case {case.reference} opened: {case.subject}",
                **ref,
                category=case.category,
                priority=case.priority,
            )
            if case.first_responded_at:
                self._event(
                    case.customer_id, case.first_responded_at, "case.open", f"Case {case.reference} new → open", **ref
                )
            if case.resolved_at:
                self._event(
                    case.customer_id, case.resolved_at, "case.resolved", f"Case {case.reference} open → resolved", **ref
                )
            if case.closed_at:
                self._event(
                    case.customer_id, case.closed_at, "case.closed", f"Case {case.reference} resolved → closed", **ref
                )
            for _ in range(rng.randint(0, 2)):
                notes.append(
                    CaseNote(
                        case=case,
                        author=case.assignee,
                        body=rng.choice(words.AGENT_LINES),
                        visibility=rng.choice(NoteVisibility.values),
                    )
                )
        _bulk(CaseNote, notes, self.report)
        return by_customer

    def _transcript(self, *, customer: Customer, agent: User, answered: datetime) -> list[dict[str, str]]:
        """A conversation of two to six turns, the customer first, from ``answered`` on."""
        rng, transcript, moment = self.rng, [], answered
        for turn in range(rng.randint(2, 6)):
            author = "customer" if turn % 2 == 0 else "agent"
            line = rng.choice(words.CUSTOMER_LINES if author == "customer" else words.AGENT_LINES)
            transcript.append(
                {
                    "at": moment.isoformat(),
                    "author": author,
                    "body": line,
                    "author_name": customer.given_name if author == "customer" else agent.first_name,
                }
            )
            moment += timedelta(seconds=rng.randint(10, 90))
        return transcript

    def interactions(
        self, customers: list[Customer], agents: dict[int, list[User]], cases: dict[int, list[Case]]
    ) -> None:
        rng, rows = self.rng, []
        # How often each customer gets in touch, and on which channels, is their archetype's.
        activity = [getattr(self.archetypes.get(customer.pk), "activity", 1.0) for customer in customers]
        for index in range(self.size.interactions):
            customer = rng.choices(customers, weights=activity)[0]
            archetype = self.archetypes.get(customer.pk)
            channel = _weighted(rng, archetype.channels if archetype else CHANNEL_WEIGHTS)
            started = self._arrival(channel, after=customer.created_at, before=self.quiet_from.get(customer.pk))
            waited = timedelta(seconds=rng.expovariate(1 / 45))
            abandoned = channel in (Channel.VOICE, Channel.CHAT) and rng.random() < 0.05
            answered = None if abandoned else started + waited
            handled = timedelta(seconds=rng.gauss(360, 120) if channel == Channel.VOICE else rng.gauss(600, 200))
            ended = (answered or started + waited) + (max(handled, timedelta(seconds=30)) if answered else timedelta())
            agent = None if abandoned else self.rota.pick(rng, agents[customer.team_id], started)
            transcript = (
                self._transcript(customer=customer, agent=agent, answered=answered)
                if agent is not None and answered is not None  # not abandoned
                else []
            )
            wrap_up, disposition = ("abandoned", "abandoned") if abandoned else rng.choice(words.WRAP_UPS)
            own_cases = [case for case in cases.get(customer.pk, ()) if case.created_at <= ended]
            case = rng.choice(own_cases) if own_cases and rng.random() < 0.4 else None
            rows.append(
                Interaction(
                    customer=customer,
                    channel=channel,
                    direction=Direction.OUTBOUND if rng.random() < 0.1 else Direction.INBOUND,
                    external_id=f"demo-{index:08d}",
                    started_at=started,
                    answered_at=answered,
                    ended_at=ended,
                    queue=queue_name(customer.team.name, channel),
                    agent=agent,
                    team=customer.team,
                    transcript=transcript,
                    wrap_up_code=wrap_up,
                    disposition=disposition,
                    context_snapshot={"intent": rng.choice(list(words.CASE_SUBJECTS)), "verified": rng.random() < 0.6},
                    sentiment=round(rng.uniform(-1, 1), 2) if transcript else None,
                    case=case,
                )
            )
        for interaction in _bulk(Interaction, rows, self.report):
            self._event(
                interaction.customer_id,
                interaction.ended_at,
                "interaction.recorded",
                f"{Channel(interaction.channel).label} {interaction.direction} conversation"
                f" ({interaction.disposition})",
                channel=interaction.channel,
                interaction_id=interaction.pk,
                case_id=interaction.case_id,
            )

    def queue_traffic(self, teams: list[Team], agents: dict[int, list[User]]) -> int:
        """The main voice and chat queues' contacts besides the storied ones (``size.queue_contacts``,
        shared by ``QUEUE_TRAFFIC_SHARES``), arriving by the centre's shapes, answered by an agent at
        work (or abandoned), written with one COPY and their audit rows set-wise. Returns the count."""
        rng, rows = self.rng, list[dict]()
        by_name = {team.name: team for team in teams}
        shares = {key: share for key, share in QUEUE_TRAFFIC_SHARES.items() if key[0] in by_name}
        counts = Counter(rng.choices(list(shares), weights=list(shares.values()), k=self.size.queue_contacts))
        for (team_name, channel), count in sorted(counts.items()):
            team = by_name[team_name]
            for _ in range(count):
                rows.append(self._traffic_row(team, channel, agents[team.pk], len(rows)))
        rows.sort(key=lambda row: row["started_at"])
        ids: list[int] = []  # filled in once the rows are in: audited_copy reads it as its block ends
        with audited_copy(Interaction, ids):
            for start in range(0, len(rows), BATCH * 4):
                copy_rows(model=Interaction, rows=rows[start : start + BATCH * 4])
            written = Interaction.objects.filter(external_id__startswith=TRAFFIC_PREFIX)
            ids.extend(written.values_list("pk", flat=True))
        return len(rows)

    def _traffic_row(self, team: Team, channel: str, members: list[User], index: int) -> dict:
        rng = self.rng
        started = self._arrival(channel, after=self.start, before=self.now)
        voice = channel == Channel.VOICE
        waited = timedelta(seconds=rng.expovariate(1 / (30 if voice else 60)))
        abandoned = rng.random() < (0.06 if voice else 0.04)
        handled = timedelta(seconds=max(rng.gauss(330, 110) if voice else rng.gauss(540, 180), 30))
        answered = None if abandoned else started + waited
        agent = None if abandoned else self.rota.pick(rng, members, started)
        wrap_up, disposition = ("abandoned", "abandoned") if abandoned else rng.choice(words.WRAP_UPS)
        return {
            "channel": channel,
            "direction": Direction.INBOUND,
            "external_id": f"{TRAFFIC_PREFIX}{index:08d}",
            "started_at": started,
            "answered_at": answered,
            "ended_at": started + waited + (timedelta() if abandoned else handled),
            "queue": queue_name(team.name, channel),
            "agent_id": agent.pk if agent else None,
            "team_id": team.pk,
            "wrap_up_code": wrap_up,
            "disposition": disposition,
            "context_snapshot": {"intent": rng.choice(list(words.CASE_SUBJECTS)), "verified": False},
        }

    def build(self) -> dict[str, int]:
        teams, agents = self.teams_and_agents()
        policies = self.sla_policies()
        self.report(f"Customers: {self.size.customers:,}")
        customers = self.customers(teams)
        identities = self.identities_and_consents(customers)
        self.journeys(customers)
        self.report(f"Cases: {self.size.cases:,}")
        cases = self.cases(customers, agents, policies) if self.size.cases else {}
        self.report(f"Interactions: {self.size.interactions:,}")
        if self.size.interactions:
            self.interactions(customers, agents, cases)
        if self.size.queue_contacts:
            self.report(f"Queue traffic: {self.size.queue_contacts:,}")
            self.queue_traffic(teams, agents)
        self.report(f"Journey events: {len(self.events):,}")
        _bulk(JourneyEvent, self.events, self.report)
        return {
            "customers": len(customers),
            "identities": identities,
            "cases": self.size.cases,
            "interactions": self.size.interactions,
            "queue_contacts": self.size.queue_contacts,
            "journey_events": len(self.events),
        }


def demo_data_present() -> bool:
    return Customer.objects.exists()


def load_demo_data(
    *,
    size: DemoSize,
    seed: int = 20261123,
    now: datetime | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> dict[str, int]:
    """Load the demo data set in one transaction; return the counts written."""
    counts, _ = load_demo_data_with_archetypes(size=size, seed=seed, now=now, report=report)
    return counts


def load_demo_data_with_archetypes(
    *,
    size: DemoSize,
    seed: int = 20261123,
    now: datetime | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> tuple[dict[str, int], dict[int, str]]:
    """``load_demo_data``, and each customer's archetype by id ("" for none): the generator's secret,
    never written on the customer, for tests that measure how well insights finds the kinds again."""
    with transaction.atomic(), audited(None, job="demo_data"):
        builder = DemoBuilder(size=size, seed=seed, now=now, report=report)
        counts = builder.build()
    return counts, {pk: archetype.name if archetype else "" for pk, archetype in builder.archetypes.items()}
