"""The demo history's arrivals have the shapes real centres have (checked from the rows written), its
main queues the volume interval forecasts need, and each contact goes to an agent at work."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from statistics import mean
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import override_settings

from records.demo.arrivals import BANK_HOLIDAYS, demo_shift
from records.demo.generator import TRAFFIC_PREFIX, DemoSize, load_demo_data
from records.interactions.models import Interaction

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
# Eight weeks up to Monday 8 June 2026: the window holds the bank holidays of 4 and 25 May (Mondays).
NOW = dt.datetime(2026, 6, 8, 6, 0, tzinfo=dt.UTC)
SIZE = DemoSize(customers=80, cases=0, interactions=1500, days=56, queue_contacts=12000)


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """The rows of one load (module-wide: loaded once), as (queue, channel, local start, agent, team)."""
    with django_db_blocker.unblock(), override_settings(TIME_ZONE="Europe/London"), transaction.atomic():
        load_demo_data(size=SIZE, seed=5, now=NOW)
        yield [
            (queue, channel, started.astimezone(LONDON), agent, username, external_id)
            for queue, channel, started, agent, username, external_id in Interaction.objects.values_list(
                "queue", "channel", "started_at", "agent_id", "agent__username", "external_id"
            )
        ]
        transaction.set_rollback(True)  # the journey's rows may not be deleted: the load is rolled back


def _full_days() -> list[dt.date]:
    """The local days wholly inside the window."""
    first = (NOW - dt.timedelta(days=SIZE.days)).astimezone(LONDON).date() + dt.timedelta(days=1)
    last = NOW.astimezone(LONDON).date() - dt.timedelta(days=1)
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


def _per_day(rows, channel: str) -> dict[dt.date, int]:
    counts = Counter(started.date() for _, row_channel, started, *_ in rows if row_channel == channel)
    return {day: counts.get(day, 0) for day in _full_days()}


def test_voice_is_heaviest_on_mondays_light_on_saturdays_and_little_on_sundays(history):
    # Given the voice contacts per full local day
    per_day = _per_day(history, "voice")
    by_weekday: dict[int, list[int]] = defaultdict(list)
    for day, count in per_day.items():
        if day not in BANK_HOLIDAYS:
            by_weekday[day.weekday()].append(count)
    # Then Monday's average beats every other weekday's, Saturday is light and Sunday lighter
    monday, saturday, sunday = mean(by_weekday[0]), mean(by_weekday[5]), mean(by_weekday[6])
    assert all(monday > mean(by_weekday[weekday]) for weekday in range(1, 7))
    assert monday > 1.8 * saturday > 0
    assert saturday > 3 * sunday


def test_bank_holidays_are_low(history):
    # Given the two bank holiday Mondays and the other Mondays of the window
    per_day = _per_day(history, "voice")
    holidays = [count for day, count in per_day.items() if day in BANK_HOLIDAYS]
    mondays = [count for day, count in per_day.items() if day.weekday() == 0 and day not in BANK_HOLIDAYS]
    # Then each holiday has under a third of an ordinary Monday's calls
    assert len(holidays) == 2 and len(mondays) >= 5
    assert max(holidays) < mean(mondays) / 3


def test_the_day_peaks_in_the_morning_and_chat_runs_into_the_evening(history):
    # Given the contacts per local hour, by channel
    hours: dict[str, Counter] = defaultdict(Counter)
    for _, channel, started, *_ in history:
        hours[channel][started.hour] += 1
    voice, chat = hours["voice"], hours["chat"]
    # Then 10–12 h is far busier than 20–22 h, for voice most of all; the night is nearly empty
    assert voice[10] + voice[11] > 10 * (voice[20] + voice[21])
    assert chat[10] + chat[11] > 1.2 * (chat[20] + chat[21])
    assert chat[20] + chat[21] > 4 * (voice[20] + voice[21])
    assert sum(voice[hour] for hour in range(6)) < 0.01 * sum(voice.values())


def test_the_main_queues_carry_the_volume_interval_forecasts_need(history):
    # Given the contacts per queue and channel over the full weekdays
    weekdays = [day for day in _full_days() if day.weekday() < 5 and day not in BANK_HOLIDAYS]
    counts = Counter((queue, channel) for queue, channel, started, *_ in history if started.date() in weekdays)
    per_day = {key: count / len(weekdays) for key, count in counts.items()}
    # Then the routing's queues carry them (orders and billing on the phone, web chat), with enough a
    # weekday for 30-minute intervals to average several contacts in opening hours
    # (this set has 12,000 of them in 8 weeks; the default demo 50,000 in 13)
    assert per_day[("orders", "voice")] > 50
    assert per_day[("billing", "voice")] > 50
    assert per_day[("Technical Support Voice", "voice")] > 50
    assert per_day[("web-chat", "chat")] > 25
    assert per_day[("billing", "chat")] > 25
    assert sum(1 for _, _, _, _, _, external_id in history if external_id.startswith(TRAFFIC_PREFIX)) == 12000


def test_contacts_go_to_agents_on_their_shift(history):
    # Given each answered contact's agent (the demo's usernames: "<team>.agentNN")
    answered = [(started, username) for _, _, started, agent, username, _ in history if agent is not None]
    # When their shift that day is read from the demo rota
    at_work = 0
    for started, username in answered:
        position = int(username.rsplit("agent", 1)[1]) - 1
        shift = demo_shift(position, started.date(), LONDON)
        at_work += shift is not None and shift[0] <= started < shift[1]
    # Then nearly every contact (all but the nights' and Sundays' few) reached someone at work
    assert at_work > 0.93 * len(answered)
