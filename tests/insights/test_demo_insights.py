"""The demo tells a true story: the shop's events have stage rules, the starter personas find the demo's
kinds of customer again from behaviour alone, and ``load_demo_insights`` sets it all up once."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from insights.demo.services import DEMO_STRATEGIES
from insights.journeys.assignment import stages_refresh
from insights.journeys.models import JourneyStage, StageRule, StageVisit
from insights.personas.models import DiscoveryRun, PersonaDefinition
from insights.personas.services import personas_assign, personas_starter_ensure
from insights.scoring.models import ModelRun
from insights.strategies.models import Strategy, StrategyFiring, StrategyWatermark
from insights.strategies.services import strategies_evaluate_new_events
from insights.surveys.models import Survey
from records.customers.models import Customer
from records.demo.generator import DemoSize, load_demo_data_with_archetypes
from records.interactions.models import Interaction
from records.journey.models import JourneyEvent
from records.journey.services import journey_record
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_stages")]

SMALL = DemoSize(customers=300, cases=300, interactions=3000, days=90)
# The persona each of the demo's archetypes should land in (records/demo/journeys.py).
PERSONA_OF = {
    "digital native": "digital-native",
    "loyal traditionalist": "loyal-traditionalist",
    "value seeker": "value-seeker",
    "busy parent": "busy-parent",
    "tech enthusiast": "tech-enthusiast",
}
T0 = timezone.now() - dt.timedelta(days=20)


@pytest.fixture(autouse=True)
def no_lag(settings):
    settings.CEA_JOURNEY_STAGE_LAG_SECONDS = 0


def step(customer, kind: str, days: float) -> None:
    journey_record(customer=customer, kind=kind, summary=kind, occurred_at=T0 + dt.timedelta(days=days))


def test_a_shops_events_walk_a_customer_through_the_funnel():
    # Given a customer whose website, shop and marketing system send their events
    customer = CustomerFactory()
    walk = [
        ("campaign.clicked", "awareness"),
        ("product.viewed", "consideration"),
        ("order.placed", "purchase"),
        ("account.activated", "onboarding"),
        ("onboarding.completed", "onboarding"),
        ("loyalty.enrolled", "loyalty"),
        ("referral.made", "advocacy"),
    ]
    for day, (kind, _) in enumerate(walk):
        step(customer, kind, day)
    # When stages are assigned
    stages_refresh(now=timezone.now())
    # Then the customer went through the funnel in order (the two onboarding events are one stay)
    visited = list(StageVisit.objects.filter(customer_id=customer.pk).order_by("entered_at").values_list("stage_key"))
    assert [key for (key,) in visited] == [
        "awareness",
        "consideration",
        "purchase",
        "onboarding",
        "loyalty",
        "advocacy",
    ]
    customer.refresh_from_db()
    assert customer.journey_stage == "advocacy"


def test_the_rules_migration_adds_only_the_missing_patterns_and_never_changes_a_persons_rule():
    # Given a person who maps product views to awareness, and switched the loyalty rule off
    StageRule.objects.filter(kind_pattern__in=["product.*", "loyalty.*"]).delete()
    awareness = JourneyStage.objects.get(key="awareness")
    mine = StageRule.objects.create(stage=awareness, kind_pattern="product.*", precedence=5)
    StageRule.objects.filter(kind_pattern="campaign.*").update(active=False)
    before = StageRule.objects.count()
    # When the migration's step runs again
    import_module("insights.migrations.0013_default_stage_rules_for_shop_events").add_rules(apps, None)
    # Then only the missing loyalty rule is added; the person's rules are as they left them
    assert StageRule.objects.count() == before + 1
    added = StageRule.objects.get(kind_pattern="loyalty.*")
    assert (added.stage.key, added.precedence, added.kind_like, added.active) == ("loyalty", 40, "loyalty.%", True)
    mine.refresh_from_db()
    assert (mine.stage_id, mine.precedence) == (awareness.pk, 5)
    assert not StageRule.objects.get(kind_pattern="campaign.*").active


def test_the_starter_personas_find_the_demos_kinds_of_customer_from_behaviour():
    # Given a small demo set whose customers' kinds only the generator knows
    _, archetypes = load_demo_data_with_archetypes(size=SMALL, seed=7)
    assert not Customer.objects.exclude(persona="").exists()
    # When the starter personas place every customer
    personas_starter_ensure(actor=None)
    personas_assign(actor=None)
    # Then most customers of each kind land in that kind's persona
    placed = dict(Customer.objects.values_list("id", "persona"))
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for customer_id, archetype in archetypes.items():
        confusion[archetype or "(none)"][placed[customer_id]] += 1
    for archetype, counts in sorted(confusion.items()):  # shown with -s: the figures in the report
        total = sum(counts.values())
        print(archetype, total, {persona: f"{n / total:.0%}" for persona, n in counts.most_common()})
    for archetype, persona in PERSONA_OF.items():
        counts = confusion[archetype]
        assert counts[persona] / sum(counts.values()) >= 0.6, (archetype, counts)
    # and a persona is mostly its kind: at least 60% of those placed in it
    for archetype, persona in PERSONA_OF.items():
        members = sum(counts[persona] for counts in confusion.values())
        assert confusion[archetype][persona] / members >= 0.6, (persona, members)


def test_load_demo_insights_sets_up_the_demo_once_and_fires_nothing_from_history():
    # Given the small demo set
    load_demo_data_with_archetypes(size=SMALL, seed=7)
    newest = JourneyEvent.objects.order_by("-id").values_list("id", flat=True).first()
    # When the demo's insights are loaded
    out = StringIO()
    call_command("load_demo_insights", stdout=out)
    # Then each step says what it did and how long it took
    said = out.getvalue()
    for words in ("personas: 7 starter", "persona discovery", "journey stages:", "surveys:", "churn_risk",
                  "propensity", "strategies: 5 created", "watermark", "quality:", "demo evaluations",
                  "Demo insights loaded in", "interactions scored by VADER", "2 demo rules"):  # fmt: skip
        assert words in said, words
    assert said.count(" s)") == 10
    # the surveys report has answers of each kind, and the answered CSATs are on their interactions
    answered = Survey.objects.filter(status="answered")
    assert set(answered.values_list("kind", flat=True)) == {"csat", "nps", "ces"}
    assert Interaction.objects.filter(satisfaction__isnull=False).count() == answered.filter(kind="csat").count()
    # every customer has a persona and a stage, and discovery ran
    assert not Customer.objects.filter(persona="").exists()
    assert not Customer.objects.filter(journey_stage="").exists()
    assert DiscoveryRun.objects.count() == 1
    # the demo strategies exist, each with a holdout
    strategies = Strategy.objects.filter(key__in=[fields["key"] for fields in DEMO_STRATEGIES])
    assert {s.key: s.holdout_percent > 0 for s in strategies} == {fields["key"]: True for fields in DEMO_STRATEGIES}
    # and the event watermark is past every event of the demo and of the load: history fires nothing
    watermark = StrategyWatermark.objects.get(name="journey")
    assert watermark.last_id >= newest
    assert watermark.last_id == JourneyEvent.objects.order_by("-id").values_list("id", flat=True).first()
    assert strategies_evaluate_new_events().events_read == 0
    assert not StrategyFiring.objects.filter(strategy__key="demo-review-ask").exists()


def test_load_demo_insights_a_second_time_does_nothing():
    # Given the demo's insights loaded once
    load_demo_data_with_archetypes(size=SMALL, seed=7)
    call_command("load_demo_insights", stdout=StringIO())
    counts = (
        PersonaDefinition.objects.count(),
        DiscoveryRun.objects.count(),
        ModelRun.objects.count(),
        Strategy.objects.count(),
        StageVisit.objects.count(),
    )
    # When it runs again
    out = StringIO()
    call_command("load_demo_insights", stdout=out)
    # Then it says so and changes nothing
    assert "already loaded" in out.getvalue()
    assert (
        PersonaDefinition.objects.count(),
        DiscoveryRun.objects.count(),
        ModelRun.objects.count(),
        Strategy.objects.count(),
        StageVisit.objects.count(),
    ) == counts


def test_load_demo_insights_needs_the_demo_data():
    # Given no customers
    out = StringIO()
    call_command("load_demo_insights", stdout=out)
    # Then nothing is done, with the reason
    assert "load the demo data first" in out.getvalue()
    assert not Strategy.objects.exists()
