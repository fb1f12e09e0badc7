"""The demo's customers behave like people of a few kinds, and walk through the journey's stages.

Each demo customer has an archetype: how they like to be reached (their contacts' channel mix),
their value tier and segment, how often they get in touch, and how far and how fast they go
through the stages of the journey — awareness, consideration, purchase, onboarding, then loyalty
and advocacy, or lapsing when they go quiet. The archetype is the generator's secret: it is not
written on the customer. Insights' demo personas (rules on behaviour: channel mix, tier, contact
frequency) find the kinds again, and its stage rules read the journey events below, which are the
ones a website, a shop and the back-ends send through the journey API.

Some customers of each kind are new: they became customers (leads) inside the demo's window and
start from awareness; the others are long-standing and, inside the window, may buy again, join
the loyalty scheme and recommend the company. Some of each kind go quiet at a moment inside the
window: nothing of theirs happens after it (what the churn model learns and the lapsed stage shows).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from cea.common.channels import Channel

# No model is imported here: the sample systems' runner reads the archetypes without Django's apps
# (integration/sample_systems/seed.py); value tiers are records.customers.models.ValueTier's values.

# The steps a new customer may take, in order: (stage reached, journey event kind, what it says).
FUNNEL = (
    ("consideration", "product.viewed", "Viewed a product"),
    ("consideration", "quote.requested", "Asked for a quote"),
    ("purchase", "order.placed", "Placed an order"),
    ("onboarding", "account.activated", "Activated their account"),
    ("onboarding", "onboarding.completed", "Completed onboarding"),
    ("loyalty", "loyalty.enrolled", "Joined the loyalty scheme"),
    ("advocacy", "review.posted", "Posted a review"),
)
STAGES_AFTER_AWARENESS = ("consideration", "purchase", "onboarding", "loyalty", "advocacy")


@dataclass(frozen=True)
class Archetype:
    name: str
    channels: dict[str, int]  # weights of their contacts' channels
    tiers: dict[str, int]  # weights of their value tiers
    segments: tuple[str, ...]
    activity: float  # how many contacts, relative to the average customer
    new_share: float  # the share who become customers inside the window
    quiet_share: float  # the share who go quiet inside the window: no contact, case or step after it
    advance: dict[str, float]  # the chance to go on to each stage from the one before
    pace_days: tuple[float, float]  # days between two steps, from … to
    order_value: tuple[int, int]  # an order's amount, from … to


ARCHETYPES: dict[str, Archetype] = {
    "digital native": Archetype(
        name="digital native",
        channels={Channel.CHAT: 45, Channel.MOBILE_APP: 25, Channel.SOCIAL: 15, Channel.EMAIL: 10, Channel.VOICE: 5},
        tiers={"standard": 70, "silver": 25, "gold": 5},
        segments=("young professional", "student"),
        activity=1.2,
        new_share=0.35,
        quiet_share=0.15,
        advance={"consideration": 0.85, "purchase": 0.6, "onboarding": 0.9, "loyalty": 0.35, "advocacy": 0.45},
        pace_days=(0.5, 5),
        order_value=(20, 150),
    ),
    "loyal traditionalist": Archetype(
        name="loyal traditionalist",
        channels={Channel.VOICE: 60, Channel.BRANCH: 20, Channel.EMAIL: 15, Channel.CHAT: 5},
        tiers={"standard": 35, "silver": 40, "gold": 20, "platinum": 5},
        segments=("retired", "family"),
        activity=0.9,
        new_share=0.1,
        quiet_share=0.08,
        advance={"consideration": 0.7, "purchase": 0.55, "onboarding": 0.8, "loyalty": 0.7, "advocacy": 0.3},
        pace_days=(4, 20),
        order_value=(60, 400),
    ),
    "value seeker": Archetype(
        name="value seeker",
        channels={Channel.EMAIL: 40, Channel.WEB_FORM: 20, Channel.CHAT: 25, Channel.VOICE: 15},
        tiers={"standard": 90, "silver": 10},
        segments=("retail", "student", "family"),
        activity=0.6,
        new_share=0.3,
        quiet_share=0.35,
        advance={"consideration": 0.9, "purchase": 0.3, "onboarding": 0.7, "loyalty": 0.15, "advocacy": 0.1},
        pace_days=(2, 12),
        order_value=(10, 80),
    ),
    "busy parent": Archetype(
        name="busy parent",
        channels={Channel.SMS: 25, Channel.MOBILE_APP: 25, Channel.CHAT: 25, Channel.VOICE: 25},
        tiers={"standard": 60, "silver": 30, "gold": 10},
        segments=("family",),
        activity=1.0,
        new_share=0.2,
        quiet_share=0.2,
        advance={"consideration": 0.75, "purchase": 0.5, "onboarding": 0.6, "loyalty": 0.4, "advocacy": 0.2},
        pace_days=(1, 10),
        order_value=(30, 250),
    ),
    "tech enthusiast": Archetype(
        name="tech enthusiast",
        channels={Channel.CHAT: 30, Channel.SOCIAL: 20, Channel.IOT: 15, Channel.MOBILE_APP: 20, Channel.EMAIL: 15},
        tiers={"standard": 40, "silver": 30, "gold": 22, "platinum": 8},
        segments=("young professional", "small business"),
        activity=1.6,
        new_share=0.25,
        quiet_share=0.1,
        advance={"consideration": 0.9, "purchase": 0.7, "onboarding": 0.85, "loyalty": 0.5, "advocacy": 0.6},
        pace_days=(0.5, 4),
        order_value=(100, 900),
    ),
}


# Which system sends each kind of event through the journey API.
SOURCES = {
    "campaign": "marketing",
    "product": "web",
    "quote": "web",
    "review": "web",
    "order": "shop",
    "account": "shop",
    "onboarding": "shop",
    "loyalty": "shop",
    "referral": "shop",
}


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: str
    channel: str
    summary: str
    payload: dict[str, object]

    @property
    def source(self) -> str:
        return SOURCES.get(self.kind.split(".")[0], "records")


class JourneyWalker:
    """Lays out one customer's steps through the stages, from their own random draws (``rng``), so
    that adding steps leaves the rest of the demo's draws as they were."""

    def __init__(self, *, rng: random.Random, start: datetime, now: datetime) -> None:
        self.rng, self.start, self.now = rng, start, now

    def _channel(self, archetype: Archetype) -> str:
        return self.rng.choices(list(archetype.channels), weights=list(archetype.channels.values()))[0]

    def _later(self, archetype: Archetype, moment: datetime) -> datetime:
        return moment + timedelta(days=self.rng.uniform(*archetype.pace_days))

    def _payload(self, archetype: Archetype, kind: str) -> dict[str, object]:
        if kind == "order.placed":
            amount = Decimal(self.rng.randint(*archetype.order_value)) + Decimal(self.rng.randint(0, 99)) / 100
            return {"amount": float(amount), "currency": "GBP"}
        if kind == "review.posted":
            return {"rating": self.rng.choice((4, 5, 5))}
        return {}

    def _step(self, archetype: Archetype, at: datetime, kind: str, summary: str) -> Step:
        return Step(
            at=at, kind=kind, channel=self._channel(archetype), summary=summary, payload=self._payload(archetype, kind)
        )

    def new_customer(self, archetype: Archetype, created_at: datetime) -> list[Step]:
        """A lead's walk from awareness (a campaign click at ``created_at``) as far as they go."""
        steps = [
            Step(
                at=created_at, kind="campaign.clicked", channel=Channel.EMAIL, summary="Clicked a campaign", payload={}
            )
        ]
        moment, stage = created_at, "awareness"
        for reached, kind, summary in FUNNEL:
            if reached != stage and self.rng.random() > archetype.advance[reached]:
                break
            moment = self._later(archetype, moment)
            if moment >= self.now:
                break
            steps.append(self._step(archetype, moment, kind, summary))
            stage = reached
        return steps

    def long_standing(self, archetype: Archetype) -> list[Step]:
        """Inside the window, a long-standing customer may buy again, join the scheme and recommend us."""
        steps: list[Step] = []
        moment = self.start + timedelta(days=self.rng.uniform(0, (self.now - self.start).days or 1))
        if self.rng.random() < archetype.advance["purchase"]:
            steps.append(self._step(archetype, moment, "order.placed", "Placed another order"))
            if self.rng.random() < archetype.advance["loyalty"]:
                moment = self._later(archetype, moment)
                steps.append(self._step(archetype, moment, "loyalty.enrolled", "Joined the loyalty scheme"))
                if self.rng.random() < archetype.advance["advocacy"]:
                    moment = self._later(archetype, moment)
                    steps.append(self._step(archetype, moment, "referral.made", "Recommended us to a friend"))
        return [step for step in steps if step.at < self.now]
