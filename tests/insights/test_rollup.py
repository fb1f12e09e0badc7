"""The contact rollup's runs: incremental from a watermark, idempotent, re-processing late and
corrected data, first-contact resolution restated by a repeat, the rebuild command, DST days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from insights.kpis.models import ContactRollup, QueueRollup, RollupWatermark
from insights.kpis.rollup import contact_rollup_rebuild, contact_rollup_refresh
from insights.kpis.selectors import kpi_series
from insights.kpis.tasks import rollup_contacts
from records.interactions.models import Interaction
from tests.accounts.factories import UserFactory
from tests.insights.factories import T0, contact
from tests.records.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _table() -> list[tuple]:
    return sorted(
        ContactRollup.objects.values_list(
            "interval_start", "queue", "channel", "agent_id", "wrap_up_code", "contacts", "handled", "fcr_resolved"
        )
    )


def test_the_first_run_rolls_everything_up_and_a_second_run_changes_nothing(settings):
    # Given two contacts in two intervals, and no look-back
    settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = 0
    contact(queued_at=T0)
    contact(queued_at=T0 + dt.timedelta(minutes=20))
    # When the rollup runs twice
    first = contact_rollup_refresh(now=timezone.now())
    rows = _table()
    again = contact_rollup_refresh(now=timezone.now())
    # Then the first run built both intervals and the second, finding nothing new, kept the same rows
    assert first.intervals == 2
    assert [row[0] for row in rows] == [T0, T0 + dt.timedelta(minutes=15)]
    assert again.intervals == 0
    assert _table() == rows


def test_a_new_contact_re_computes_only_its_interval(settings):
    # Given a rolled-up contact, and no look-back
    settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = 0
    contact(queued_at=T0)
    contact_rollup_refresh(now=timezone.now())
    watermark = RollupWatermark.objects.get(name="contacts").changed_until
    # When another arrives in the next hour and the task runs
    contact(queued_at=T0 + dt.timedelta(hours=1))
    intervals = rollup_contacts()
    # Then one interval was re-computed and the watermark moved on
    assert intervals == 1
    assert ContactRollup.objects.get(interval_start=T0 + dt.timedelta(hours=1)).contacts == 1
    assert RollupWatermark.objects.get(name="contacts").changed_until > watermark


def test_re_running_a_window_gives_the_same_rows(settings):
    # Given contacts rolled up, and a look-back that re-reads them on every run
    settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = 3600
    for minutes in (0, 3, 16):
        contact(queued_at=T0 + dt.timedelta(minutes=minutes))
    contact_rollup_refresh(now=timezone.now())
    rows = _table()
    # When the runs re-process the same window
    second = contact_rollup_refresh(now=timezone.now())
    # Then the window was re-computed into the same rows, none doubled
    assert second.intervals == 2
    assert _table() == rows
    assert ContactRollup.objects.filter(interval_start=T0).get().contacts == 2


def test_a_correction_is_rolled_up_again():
    # Given a rolled-up contact without a wrap-up code
    interaction = contact(queued_at=T0)
    contact_rollup_refresh(now=timezone.now())
    # When its wrap-up code is set later (updated_at moves) and the rollup runs
    interaction.wrap_up_code = "billing_question"
    interaction.save(update_fields=["wrap_up_code", "updated_at"])
    contact_rollup_refresh(now=timezone.now())
    # Then its interval holds the corrected row only
    assert list(ContactRollup.objects.values_list("wrap_up_code", "contacts")) == [("billing_question", 1)]


def test_a_late_row_committed_behind_the_watermark_is_caught_by_the_look_back(settings):
    # Given a run, then a contact whose change time is just before that run's watermark
    # (a transaction that committed after the run had read past it)
    settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = 900
    run = contact_rollup_refresh(now=timezone.now())
    late = contact(queued_at=T0)
    Interaction.objects.filter(pk=late.pk).update(updated_at=run.changed_until - dt.timedelta(seconds=30))
    # When the next run comes / Then it rolls the late contact up
    contact_rollup_refresh(now=timezone.now())
    assert ContactRollup.objects.get(interval_start=T0).contacts == 1


def test_a_repeat_contact_restates_the_first_contacts_resolution():
    # Given a handled contact resolved at first contact, rolled up
    customer = CustomerFactory()
    contact(queued_at=T0, customer=customer, wrap_up_code="billing_question")
    contact_rollup_refresh(now=timezone.now())
    assert ContactRollup.objects.get(interval_start=T0).fcr_resolved == 1
    # When the customer comes back three days later for the same reason
    contact(queued_at=T0 + dt.timedelta(days=3), customer=customer, wrap_up_code="billing_question")
    contact_rollup_refresh(now=timezone.now())
    # Then the first contact's interval is re-computed: it was not resolved
    assert ContactRollup.objects.get(interval_start=T0).fcr_resolved == 0
    assert ContactRollup.objects.get(interval_start=T0 + dt.timedelta(days=3)).fcr_resolved == 1


def test_the_rebuild_command_restates_from_a_date():
    # Given contacts on two days, rolled up, then a row of the second day damaged
    contact(queued_at=T0)
    contact(queued_at=T0 + dt.timedelta(days=1))
    contact_rollup_rebuild()
    ContactRollup.objects.filter(interval_start__gte=T0 + dt.timedelta(days=1)).update(contacts=99)
    rows_of_first_day = list(ContactRollup.objects.filter(interval_start__lt=T0 + dt.timedelta(days=1)).values())
    # When the rebuild runs from the second day
    call_command("insights_rebuild", "--since", (T0 + dt.timedelta(days=1)).date().isoformat())
    # Then the second day is right again and the first was not touched
    assert ContactRollup.objects.get(interval_start=T0 + dt.timedelta(days=1)).contacts == 1
    assert list(ContactRollup.objects.filter(interval_start__lt=T0 + dt.timedelta(days=1)).values()) == (
        rows_of_first_day
    )


def test_days_are_local_wall_clock_days_with_dst(settings):
    # Given London, whose 29 March 2026 has 23 hours (clocks go forward at 01:00 GMT)
    settings.TIME_ZONE = "Europe/London"
    london = ZoneInfo("Europe/London")
    for local in (
        dt.datetime(2026, 3, 29, 0, 30, tzinfo=london),  # 00:30 GMT
        dt.datetime(2026, 3, 29, 23, 30, tzinfo=london),  # 23:30 BST = 22:30 UTC
        dt.datetime(2026, 3, 30, 0, 30, tzinfo=london),  # 00:30 BST = 23:30 UTC on the 29th
    ):
        contact(queued_at=local.astimezone(dt.UTC))
    contact_rollup_rebuild()
    # When the days are read
    series = kpi_series(
        user=UserFactory(role="admin"),
        kpis=["offered"],
        start=dt.datetime(2026, 3, 29, tzinfo=london),
        end=dt.datetime(2026, 3, 31, tzinfo=london),
        interval="day",
    )
    # Then each contact is in its local day, and the days start at local midnight
    assert [(row.interval_start, row.values["offered"].value) for row in series.rows] == [
        (dt.datetime(2026, 3, 29, tzinfo=london), 2),
        (dt.datetime(2026, 3, 30, tzinfo=london), 1),
    ]
    first_day, second_day = (row.interval_start.astimezone(dt.UTC) for row in series.rows)
    assert second_day - first_day == dt.timedelta(hours=23)


def test_the_queue_rollup_stays_the_sum_of_the_contact_rollup(settings):
    # Given contacts of two agents in two queues, rolled up, then one more contact and a run
    settings.CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = 0
    for minutes, queue in ((0, "billing"), (1, "billing"), (2, "sales"), (20, "sales")):
        contact(queued_at=T0 + dt.timedelta(minutes=minutes), queue=queue, agent=UserFactory(), talk=100 + minutes)
    contact_rollup_refresh(now=timezone.now())
    contact(queued_at=T0 + dt.timedelta(minutes=3), queue="billing", wait=40)
    contact_rollup_refresh(now=timezone.now())

    # When both rollups are summed per interval and queue
    def sums(model):
        return sorted(
            model.objects.values("interval_start", "queue", "channel", "sl_variant")
            .annotate(contacts=Sum("contacts"), talk=Sum("talk_seconds"), sl=Sum("sl_numerator"))
            .values_list("interval_start", "queue", "contacts", "talk", "sl")
        )

    # Then they agree, row for row
    assert sums(QueueRollup) == sums(ContactRollup)
    assert QueueRollup.objects.count() == 3
