"""Stage assignment: each rule kind, precedence, history entered/left, the watermark, lapses, write-back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from cea.common.errors import ValidationFailed
from insights.journeys.assignment import stages_rebuild, stages_refresh
from insights.journeys.models import JourneyStage, RuleSource, StageRule, StageVisit
from records.holdings.models import Holding
from records.journey.models import JourneyEvent
from records.journey.services import journey_record
from tests.records.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_stages")]

NOW = timezone.now()
T0 = NOW - dt.timedelta(days=30)


@pytest.fixture(autouse=True)
def no_lag(settings):
    settings.CEA_JOURNEY_STAGE_LAG_SECONDS = 0


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def event(customer, kind: str, hours: float, channel: str = "", **payload) -> JourneyEvent:
    return journey_record(
        customer=customer, kind=kind, summary=kind, channel=channel, payload=payload, occurred_at=at(hours)
    )


def visits(customer) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
    return [
        (v.stage_key, v.entered_at, v.left_at)
        for v in StageVisit.objects.filter(customer_id=customer.pk).order_by("entered_at", "id")
    ]


def refresh():
    return stages_refresh(now=timezone.now())


def test_each_rule_kind_places_the_customer_in_its_stage():
    # Given the default rules and one customer per source
    by_source = {
        "customer.created": ("awareness", {}),
        "order.placed": ("purchase", {}),
        "quote.requested": ("consideration", {}),
        "case.created": ("service", {}),
        "case.resolved": ("loyalty", {}),
        "interaction.recorded": ("service", {"channel": "phone"}),
        "referral.sent": ("advocacy", {}),
    }
    customers = {}
    for kind, (_, extra) in by_source.items():
        customers[kind] = CustomerFactory()
        event(customers[kind], kind, 1, **extra)
    holder = CustomerFactory()
    Holding.objects.create(customer=holder, system="crm", kind="product", external_id="P-1")
    # When stages are assigned
    run = refresh()
    # Then each is in the stage of its rule, and the write-back says since when
    for kind, (stage, _) in by_source.items():
        customers[kind].refresh_from_db()
        assert (kind, customers[kind].journey_stage) == (kind, stage)
        assert customers[kind].journey_stage_since == at(1)
    holder.refresh_from_db()
    assert holder.journey_stage == "onboarding"
    assert run.changed == len(by_source) + 1


def test_channel_and_payload_key_narrow_an_event_rule_and_precedence_decides():
    # Given a rule for web orders with a coupon ahead of the default order rule
    advocacy = JourneyStage.objects.get(key="advocacy")
    StageRule.objects.create(stage=advocacy, kind_pattern="order.*", channel="web", payload_key="coupon", precedence=5)
    with_coupon, without, by_phone = CustomerFactory(), CustomerFactory(), CustomerFactory()
    event(with_coupon, "order.placed", 1, channel="web", coupon="X")
    event(without, "order.placed", 1, channel="web")
    event(by_phone, "order.placed", 1, channel="phone", coupon="X")
    # When stages are assigned
    refresh()
    # Then only the order that meets all of the first rule goes to advocacy
    assert [visits(c)[0][0] for c in (with_coupon, without, by_phone)] == ["advocacy", "purchase", "purchase"]


def test_history_records_entered_and_left_and_collapses_repeats():
    # Given a customer who is created, orders twice, opens a case and gets it resolved
    customer = CustomerFactory()
    created = event(customer, "customer.created", 0)
    event(customer, "order.placed", 2)
    event(customer, "order.shipped", 3)
    event(customer, "case.created", 5)
    event(customer, "case.resolved", 8)
    # When stages are assigned
    refresh()
    # Then each move opens a visit and closes the previous one at that moment
    assert visits(customer) == [
        ("awareness", at(0), at(2)),
        ("purchase", at(2), at(5)),
        ("service", at(5), at(8)),
        ("loyalty", at(8), None),
    ]
    assert StageVisit.objects.get(customer_id=customer.pk, stage_key="awareness").event_id == created.pk
    # And the stage change was written to the journey once per change, not matched again
    assert JourneyEvent.objects.filter(customer=customer, kind="stage.entered").count() == 1
    refresh()
    assert len(visits(customer)) == 4


def test_incremental_runs_give_what_one_run_gives_and_a_second_run_changes_nothing():
    # Given events arriving in three batches, stages assigned after each
    customer = CustomerFactory()
    event(customer, "customer.created", 0)
    refresh()
    event(customer, "order.placed", 2)
    event(customer, "case.created", 4)
    refresh()
    event(customer, "case.resolved", 30 * 24)  # 30 days on: not yet lapsed
    first = refresh()
    incremental = visits(customer)
    # When run again, and rebuilt from scratch
    again = refresh()
    assert visits(customer) == incremental
    assert (again.facts, again.entries, again.changed) == (0, 0, 0)
    stages_rebuild(now=timezone.now())
    # Then the history is the same
    assert visits(customer) == incremental
    assert first.entries == 1


def test_inactivity_lapses_a_customer_and_a_new_event_brings_them_back():
    # Given a customer who bought, then nothing for 100 days (the rule says 90)
    customer = CustomerFactory()
    event(customer, "order.placed", 0)
    # When stages are assigned 100 days later
    stages_refresh(now=at(100 * 24))
    # Then they lapsed 90 days after their last event
    assert visits(customer) == [("purchase", at(0), at(90 * 24)), ("lapsed", at(90 * 24), None)]
    customer.refresh_from_db()
    assert customer.journey_stage == "lapsed"
    # And a case opened later moves them on; a rebuild finds the same lapse in the gap
    late = journey_record(customer=customer, kind="case.created", summary="back", occurred_at=at(101 * 24))
    stages_refresh(now=at(102 * 24))
    expected = [
        ("purchase", at(0), at(90 * 24)),
        ("lapsed", at(90 * 24), late.occurred_at),
        ("service", late.occurred_at, None),
    ]
    assert visits(customer) == expected
    stages_rebuild(now=at(102 * 24))
    assert visits(customer) == expected


def test_a_customer_without_a_stage_does_not_lapse():
    # Given a customer whose events match no rule
    customer = CustomerFactory()
    event(customer, "consent.changed", 0)
    event(customer, "consent.changed", 200 * 24)
    # When assigned / Then no visit
    stages_refresh(now=at(400 * 24))
    assert visits(customer) == []


def test_events_of_the_assignment_itself_never_match_a_rule():
    # Given a rule author trying to match stage events
    rule = StageRule(stage=JourneyStage.objects.get(key="loyalty"), source=RuleSource.EVENT, kind_pattern="stage.*")
    # Then it is refused with a reason
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "stage events" in str(error.value.message_dict["kind_pattern"])


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"source": "event", "kind_pattern": ""}, "kind_pattern", "needs a kind pattern"),
        ({"source": "event", "kind_pattern": "Order Placed"}, "kind_pattern", "dotted name"),
        ({"source": "event", "kind_pattern": "*"}, "kind_pattern", "every event"),
        ({"source": "inactivity"}, "inactivity_days", "number of days"),
        ({"source": "case_opened", "inactivity_days": 3}, "inactivity_days", "Only inactivity"),
        ({"source": "case_opened", "kind_pattern": "case.*"}, "kind_pattern", "Only event rules"),
        ({"source": "holding", "payload_key": "x"}, "payload_key", "payload key"),
        ({"source": "case_opened", "holding_kind": "order"}, "holding_kind", "Only holding rules"),
    ],
)
def test_invalid_rules_get_clear_errors(fields, field, words):
    rule = StageRule(stage=JourneyStage.objects.get(key="service"), **fields)
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert words in str(error.value.message_dict[field])


def test_a_late_event_counts_from_the_current_visit():
    # Given a customer already in service, then an order event dated before it arrives
    customer = CustomerFactory()
    event(customer, "case.created", 10)
    refresh()
    event(customer, "order.placed", 5)
    # When assigned / Then history still moves forward in time
    refresh()
    assert visits(customer) == [("service", at(10), at(10)), ("purchase", at(10), None)]


def test_the_beat_task_assigns_and_is_scheduled_every_minute(settings):
    # Given an order event
    from insights.journeys.tasks import assign_stages

    customer = CustomerFactory()
    event(customer, "order.placed", 1)
    # When the task runs (twice) / Then one customer changed stage, then none
    assert (assign_stages(), assign_stages()) == (1, 0)
    schedule = settings.CELERY_BEAT_SCHEDULE["insights: assign journey stages"]
    assert (schedule["task"], schedule["schedule"]) == ("insights.journeys.assign_stages", 60.0)


def test_one_customers_stage_is_set_through_the_single_service():
    from records.customers.services import customer_set_journey_stage

    customer = CustomerFactory()
    assert customer_set_journey_stage(actor=None, customer=customer, stage="loyalty", since=at(2)) is True
    assert (customer.journey_stage, customer.journey_stage_since) == ("loyalty", at(2))
    assert customer_set_journey_stage(actor=None, customer=customer, stage="loyalty", since=at(2)) is False
    # Entering the same stage again (after leaving it) is a new start: the stage triggers key on it
    assert customer_set_journey_stage(actor=None, customer=customer, stage="loyalty", since=at(3)) is True
    assert (customer.journey_stage, customer.journey_stage_since) == ("loyalty", at(3))
    assert JourneyEvent.objects.filter(customer=customer, kind="stage.entered").count() == 2
    with pytest.raises(ValidationFailed):
        customer_set_journey_stage(actor=None, customer=customer, stage="", since=at(3))


def test_holding_kinds_choose_between_purchase_and_onboarding():
    # Given one customer with a new order, another with a new product
    ordered, equipped = CustomerFactory(), CustomerFactory()
    Holding.objects.create(customer=ordered, system="shop", kind="order", external_id="O-1")
    Holding.objects.create(customer=equipped, system="crm", kind="product", external_id="P-2")
    # When assigned / Then the order rule (holding kind "order") and the catch-all holding rule decide
    refresh()
    assert [visits(c)[0][0] for c in (ordered, equipped)] == ["purchase", "onboarding"]
    assert StageVisit.objects.get(customer_id=ordered.pk).event_id is None


def test_batches_of_one_event_give_what_one_batch_gives():
    # Given three customers' stories, interleaved
    customers = [CustomerFactory() for _ in range(3)]
    for hours, kind in enumerate(["customer.created", "order.placed", "case.created", "case.resolved", "review.left"]):
        for index, customer in enumerate(customers):
            if hours <= index + 2:
                event(customer, kind, hours * 10 + index)
    # When assigned in one batch, then again one event id at a time
    stages_rebuild(now=timezone.now())
    whole = [visits(c) for c in customers]
    stages_rebuild(now=timezone.now(), batch=1)
    # Then the histories are the same
    assert [visits(c) for c in customers] == whole
    assert [len(v) for v in whole] == [3, 4, 5]


def locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_run_in_many_batches_holds_as_many_locks_as_one_in_a_few():
    # Given 40 events of 10 customers, assigned once in one batch (every table the run uses is locked)
    customers = [CustomerFactory() for _ in range(10)]
    for hours in range(4):
        for index, customer in enumerate(customers):
            event(customer, "order.placed" if hours % 2 else "case.created", hours * 10 + index)
    stages_rebuild(now=timezone.now())
    one_batch = locks_held()

    # When they are assigned again one event id at a time (40 batches in the same transaction)
    stages_rebuild(now=timezone.now(), batch=1)

    # Then the run reused its two working tables: no lock per batch's dropped tables (there were 700
    # more here before, which filled PostgreSQL's shared lock table in a full test run)
    assert locks_held() - one_batch < 20


def test_the_rebuild_command_assigns_from_the_first_event_and_says_what_it_did():
    from io import StringIO

    from django.core.management import call_command

    customer = CustomerFactory()
    event(customer, "customer.created", 0)
    event(customer, "order.placed", 1)
    out = StringIO()
    call_command("journey_stages_rebuild", stdout=out)
    assert out.getvalue().startswith("2 facts read, 2 stage visits entered, 1 customers changed stage,")
    call_command("journey_stages_rebuild", "--changed", stdout=out)
    assert "0 facts read, 0 stage visits entered, 0 customers changed stage" in out.getvalue()
    assert [v[0] for v in visits(customer)] == ["awareness", "purchase"]


def test_a_rebuild_clears_the_stage_no_rule_gives_any_more():
    # Given a customer placed in purchase by an order, then the order rule switched off
    customer = CustomerFactory()
    event(customer, "order.placed", 1)
    refresh()
    StageRule.objects.filter(kind_pattern="order.*").update(active=False)
    # When the stages are rebuilt
    run = stages_rebuild(now=timezone.now())
    # Then the customer has no stage and no visit
    customer.refresh_from_db()
    assert (customer.journey_stage, customer.journey_stage_since, run.changed) == ("", None, 1)
    assert visits(customer) == []


def test_a_long_run_of_ids_without_events_is_skipped_not_read_batch_by_batch():
    # Given two events a million ids apart (a purge, or a test database's sequence)
    customer = CustomerFactory()
    first = event(customer, "customer.created", 0)
    JourneyEvent.objects.create(
        id=first.pk + 1_000_000, customer=customer, kind="order.placed", summary="order", occurred_at=at(5)
    )
    # When stages are rebuilt in batches of ten ids (without the skip: 100,000 batches)
    run = stages_rebuild(now=timezone.now(), batch=10)
    # Then both events are read, in two batches' time
    assert run.facts == 2
    assert [stage for stage, _, _ in visits(customer)] == ["awareness", "purchase"]
