"""Business hours: a schedule's open spans (DST, holidays, several ranges a day), its checks, the REST
API and the console, by role and across teams."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cea.common.errors import ValidationFailed
from engagement.routing.demo import routing_demo_load
from engagement.routing.hours import ClosedDays, WeeklyRange
from engagement.routing.models import BusinessHours, Closure, OpeningRange, Queue
from engagement.routing.selectors import (
    queue_is_open,
    queue_open_spans,
    scheduled_queue_spans,
    scheduled_team_spans,
)
from engagement.routing.services import business_hours_create, business_hours_update
from tests.engagement.factories import QueueFactory
from tests.support import assert_error, session_client, token_client

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
OFFICE = [WeeklyRange(day, dt.time(8), dt.time(20)) for day in range(5)] + [WeeklyRange(5, dt.time(9), dt.time(13))]
# Friday 27 March 2026 is a holiday; the clocks go forward in London on Sunday 29 March.
HOLIDAY = ClosedDays("Spring holiday", dt.date(2026, 3, 27), dt.date(2026, 3, 27))


def _utc(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def office():
    return business_hours_create(
        actor=None, name="office", time_zone="Europe/London", ranges=OFFICE, closures=[HOLIDAY]
    )


def test_open_spans_follow_local_time_across_the_dst_change_and_skip_the_holiday(office):
    # Given a queue on office hours (London), Thursday 26 to Tuesday 31 March 2026
    queue = QueueFactory(name="billing", business_hours=office)
    start = dt.datetime(2026, 3, 26, tzinfo=LONDON)
    end = dt.datetime(2026, 4, 1, tzinfo=LONDON)
    # When its open spans are asked for
    spans = queue_open_spans(queue=queue, start=start, end=end)
    # Then 08:00–20:00 is 08:00–20:00 UTC before the change and 07:00–19:00 UTC after it; Friday (the
    # holiday) and Sunday are closed, Saturday opens 09:00–13:00
    assert [(span.start, span.end) for span in spans] == [
        (_utc(26, 8), _utc(26, 20)),
        (_utc(28, 9), _utc(28, 13)),
        (_utc(30, 7), _utc(30, 19)),
        (_utc(31, 7), _utc(31, 19)),
    ]
    assert queue_is_open(queue=queue, at=_utc(30, 7)) is True
    assert queue_is_open(queue=queue, at=_utc(30, 19)) is False  # closing time is excluded
    assert queue_is_open(queue=queue, at=_utc(27, 12)) is False  # the holiday
    assert queue_is_open(queue=queue, at=_utc(26, 7, 59)) is False


def test_a_queue_without_business_hours_is_always_open(db):
    queue = QueueFactory(name="chat")
    start, end = _utc(26, 0), _utc(27, 0)
    assert [(span.start, span.end) for span in queue_open_spans(queue=queue, start=start, end=end)] == [(start, end)]
    assert queue_is_open(queue=queue, at=_utc(29, 3)) is True
    assert "chat" not in scheduled_queue_spans(start=start, end=end)


def test_several_ranges_a_day_touching_ranges_and_closing_at_midnight(db):
    # Given Monday 09:00–12:00 and 13:00–17:00, and Friday 18:00–24:00 followed by Saturday 00:00–02:00 (UTC)
    ranges = [
        WeeklyRange(0, dt.time(9), dt.time(12)),
        WeeklyRange(0, dt.time(13), dt.time(17)),
        WeeklyRange(4, dt.time(18), dt.time(0)),
        WeeklyRange(5, dt.time(0), dt.time(2)),
    ]
    schedule = business_hours_create(actor=None, name="split", time_zone="UTC", ranges=ranges)
    queue = QueueFactory(name="split", business_hours=schedule)
    # When the week of Monday 2 March 2026 is asked for
    spans = queue_open_spans(queue=queue, start=_utc(2, 0), end=_utc(9, 0))
    # Then the lunch break is closed and the night shift is one span over midnight
    assert [(span.start, span.end) for span in spans] == [
        (_utc(2, 9), _utc(2, 12)),
        (_utc(2, 13), _utc(2, 17)),
        (_utc(6, 18), _utc(7, 2)),
    ]


def test_a_team_is_open_when_one_of_its_queues_is_and_always_when_one_has_no_hours(office, team_a, team_b):
    # Given team A's two queues on office hours and on Saturday-only hours, team B's with one always open
    saturday = business_hours_create(
        actor=None, name="saturday", time_zone="UTC", ranges=[WeeklyRange(5, dt.time(13), dt.time(15))]
    )
    QueueFactory(name="a-office", team=team_a, business_hours=office)
    QueueFactory(name="a-weekend", team=team_a, business_hours=saturday)
    QueueFactory(name="b-office", team=team_b, business_hours=office)
    QueueFactory(name="b-always", team=team_b)
    # When the teams' spans of Saturday 28 March are asked for
    spans = scheduled_team_spans(start=_utc(28, 0), end=_utc(29, 0))
    # Then team A's is the union (09:00–15:00) and team B is not listed (always open)
    assert {team: [(s.start, s.end) for s in team_spans] for team, team_spans in spans.items()} == {
        team_a.pk: [(_utc(28, 9), _utc(28, 15))]
    }


@pytest.mark.parametrize(
    ("ranges", "closures", "time_zone", "field", "words"),
    [
        (
            [WeeklyRange(0, dt.time(8), dt.time(12)), WeeklyRange(0, dt.time(11), dt.time(14))],
            [],
            "UTC",
            "ranges",
            "overlaps",
        ),
        ([WeeklyRange(2, dt.time(18), dt.time(9))], [], "UTC", "ranges", "close after it opens"),
        ([WeeklyRange(2, dt.time(9), dt.time(9))], [], "UTC", "ranges", "close after it opens"),
        ([WeeklyRange(7, dt.time(9), dt.time(17))], [], "UTC", "ranges", "Weekday 7"),
        ([], [], "Mars/Olympus_Mons", "time_zone", "Unknown time zone"),
        ([], [], "../../etc/passwd", "time_zone", "Unknown time zone"),
        ([], [ClosedDays("Backwards", dt.date(2026, 5, 2), dt.date(2026, 5, 1))], "UTC", "closures", "last day"),
        ([], [ClosedDays(" ", dt.date(2026, 5, 1), dt.date(2026, 5, 1))], "UTC", "closures", "needs a name"),
    ],
)
def test_bad_business_hours_are_refused_and_nothing_is_written(ranges, closures, time_zone, field, words):
    # When a schedule with a mistake is created
    with pytest.raises(ValidationFailed) as refused:
        business_hours_create(actor=None, name="bad", time_zone=time_zone, ranges=ranges, closures=closures)
    # Then the field says what is wrong, and nothing is saved
    assert words in " ".join(refused.value.fields[field])
    assert (BusinessHours.objects.count(), OpeningRange.objects.count(), Closure.objects.count()) == (0, 0, 0)


def test_a_refused_update_leaves_the_schedule_as_it_was(office):
    # When an update brings an overlap
    with pytest.raises(ValidationFailed):
        business_hours_update(
            actor=None,
            name="office",
            time_zone="UTC",
            ranges=[WeeklyRange(0, dt.time(8), dt.time(12)), WeeklyRange(0, dt.time(9), dt.time(10))],
        )
    # Then the schedule keeps its time zone, six ranges and holiday
    office.refresh_from_db()
    assert (office.time_zone, office.ranges.count(), office.closures.count()) == ("Europe/London", 6, 1)


def test_a_new_schedule_takes_the_deployments_time_zone(settings, db):
    settings.TIME_ZONE = "America/New_York"
    schedule = business_hours_create(actor=None, name="ny", ranges=OFFICE)
    assert schedule.time_zone == "America/New_York"


# --- REST API -----------------------------------------------------------------------------------

HOURS_URL = "/api/v1/engagement/business-hours/"
OFFICE_JSON = {
    "name": "office",
    "label": "Office hours",
    "time_zone": "Europe/London",
    "ranges": [{"weekday": day, "opens": "08:00", "closes": "20:00"} for day in range(5)]
    + [{"weekday": 5, "opens": "09:00", "closes": "13:00"}],
    "closures": [{"name": "Spring holiday", "first_day": "2026-03-27", "last_day": "2026-03-27"}],
}


def test_an_admin_creates_business_hours_through_the_api(admin_user):
    # When an admin posts office hours
    response = session_client(admin_user).post(HOURS_URL, OFFICE_JSON, format="json")
    # Then they are saved and answered as given
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["time_zone"], len(body["ranges"]), body["queues"]) == (
        "office",
        "Europe/London",
        6,
        [],
    )
    assert body["ranges"][5] == {"weekday": 5, "opens": "09:00", "closes": "13:00"}
    assert body["closures"] == [{"name": "Spring holiday", "first_day": "2026-03-27", "last_day": "2026-03-27"}]
    assert OpeningRange.objects.filter(schedule__name="office").count() == 6


def test_closing_at_24_00_means_midnight(admin_user):
    payload = {"name": "late", "ranges": [{"weekday": 4, "opens": "18:00", "closes": "24:00"}]}
    response = session_client(admin_user).post(HOURS_URL, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["ranges"] == [{"weekday": 4, "opens": "18:00", "closes": "24:00"}]
    assert OpeningRange.objects.get(schedule__name="late").closes == dt.time(0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ranges": [{"weekday": 0, "opens": "09:00", "closes": "12:00"}] * 2}, "ranges"),
        ({"ranges": [{"weekday": 0, "opens": "17:00", "closes": "09:00"}]}, "ranges"),
        ({"ranges": [{"weekday": 0, "opens": "25:00", "closes": "26:00"}]}, "ranges"),
        ({"ranges": [{"weekday": 9, "opens": "09:00", "closes": "12:00"}]}, "ranges"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"closures": [{"name": "Oops", "first_day": "2026-05-02", "last_day": "2026-05-01"}]}, "closures"),
        ({"name": "not a slug"}, "name"),
    ],
)
def test_bad_business_hours_get_a_400_by_field_and_nothing_is_written(admin_user, change, field):
    response = session_client(admin_user).post(HOURS_URL, {**OFFICE_JSON, **change}, format="json")
    error = assert_error(response, 400, "invalid")
    assert field in error["fields"]
    assert BusinessHours.objects.count() == 0 and OpeningRange.objects.count() == 0


def test_a_second_schedule_with_the_same_name_is_refused(admin_user, office):
    error = assert_error(session_client(admin_user).post(HOURS_URL, OFFICE_JSON, format="json"), 400)
    assert "already" in error["fields"]["name"][0]


def test_supervisors_read_business_hours_but_only_admins_write_them(office, supervisor, agent, integration_user):
    # Supervisors and clients read; agents do not
    assert session_client(supervisor).get(HOURS_URL).status_code == 200
    assert token_client(integration_user).get(f"{HOURS_URL}office/").status_code == 200
    assert_error(session_client(agent).get(HOURS_URL), 403)
    # Nobody but an admin writes: supervisors, integration clients (even with the write scope)
    for client in (session_client(supervisor), token_client(integration_user)):
        assert_error(client.post(HOURS_URL, {**OFFICE_JSON, "name": "other"}, format="json"), 403)
        assert_error(client.put(f"{HOURS_URL}office/", {**OFFICE_JSON, "ranges": []}, format="json"), 403)
        assert_error(client.delete(f"{HOURS_URL}office/"), 403)
    assert BusinessHours.objects.count() == 1 and office.ranges.count() == 6


def test_a_supervisor_sees_only_their_teams_and_shared_queues_among_a_schedules_users(
    office, supervisor, team_a, team_b
):
    QueueFactory(name="a-queue", team=team_a, business_hours=office)
    QueueFactory(name="b-queue", team=team_b, business_hours=office)
    QueueFactory(name="shared", business_hours=office)
    body = session_client(supervisor).get(f"{HOURS_URL}office/").json()
    assert body["queues"] == ["a-queue", "shared"]


def test_an_admin_replaces_and_deletes_a_schedule_once_no_queue_uses_it(admin_user, office):
    client = session_client(admin_user)
    queue = QueueFactory(name="billing", business_hours=office)
    # PUT replaces the whole schedule (here: a rename and Saturdays only, no holiday)
    payload = {"name": "weekend", "ranges": [{"weekday": 5, "opens": "10:00", "closes": "14:00"}]}
    response = client.put(f"{HOURS_URL}office/", payload, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["closures"], response.json()["queues"]) == (
        "weekend",
        [],
        ["billing"],
    )
    # A schedule in use is not deleted (409), and is once the queue no longer uses it
    assert_error(client.delete(f"{HOURS_URL}weekend/"), 409, "conflict")
    unset = client.put("/api/v1/engagement/queues/billing/hours/", {"business_hours": None}, format="json")
    assert unset.status_code == 200
    assert client.delete(f"{HOURS_URL}weekend/").status_code == 204
    queue.refresh_from_db()
    assert queue.business_hours is None and not BusinessHours.objects.exists()
    assert_error(client.get(f"{HOURS_URL}weekend/"), 404)


def test_queue_hours_are_read_by_the_queues_team_and_set_by_admins(
    office, supervisor, supervisor_b, admin_user, team_a
):
    # Given team A's queue, not yet on business hours
    QueueFactory(name="a-queue", team=team_a)
    url = "/api/v1/engagement/queues/a-queue/hours/"
    # A supervisor of team B does not see it; nor may team A's supervisor point it to a schedule
    assert_error(session_client(supervisor_b).get(url), 404)
    assert_error(session_client(supervisor).put(url, {"business_hours": "office"}, format="json"), 403)
    assert session_client(supervisor).get(url).json()["business_hours"] is None
    # An admin points it to office hours; an unknown schedule is a 400 and changes nothing
    admin = session_client(admin_user)
    assert_error(admin.put(url, {"business_hours": "nope"}, format="json"), 400)
    assert admin.put(url, {"business_hours": "office"}, format="json").status_code == 200
    # Team A's supervisor reads its spans for a range
    query = {"start": "2026-03-28T00:00:00Z", "end": "2026-03-31T00:00:00Z"}
    body = session_client(supervisor).get(url, query).json()
    assert (body["business_hours"], body["time_zone"]) == ("office", "Europe/London")
    assert body["open_spans"] == [
        {"start": "2026-03-28T09:00:00Z", "end": "2026-03-28T13:00:00Z"},
        {"start": "2026-03-30T07:00:00Z", "end": "2026-03-30T19:00:00Z"},
    ]
    assert_error(session_client(supervisor_b).put(url, {"business_hours": None}, format="json"), 404)
    assert Queue.objects.get(name="a-queue").business_hours == office


def test_queue_hours_refuse_a_bad_range(office, admin_user):
    QueueFactory(name="q", business_hours=office)
    client = session_client(admin_user)
    url = "/api/v1/engagement/queues/q/hours/"
    assert (
        "end"
        in assert_error(client.get(url, {"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}), 400)[
            "fields"
        ]
    )
    assert (
        "end"
        in assert_error(client.get(url, {"start": "2026-01-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"}), 400)[
            "fields"
        ]
    )


# --- The console ------------------------------------------------------------------------------


def _hours_form(name: str, ranges: list[tuple[int, str, str]], closures: list[tuple[str, str, str]] = ()) -> dict:
    data = {
        "name": name,
        "label": "",
        "time_zone": "Europe/London",
        "ranges-TOTAL_FORMS": len(ranges),
        "ranges-INITIAL_FORMS": 0,
        "ranges-MIN_NUM_FORMS": 0,
        "ranges-MAX_NUM_FORMS": 1000,
        "closures-TOTAL_FORMS": len(closures),
        "closures-INITIAL_FORMS": 0,
        "closures-MIN_NUM_FORMS": 0,
        "closures-MAX_NUM_FORMS": 1000,
    }
    for index, (weekday, opens, closes) in enumerate(ranges):
        data |= {f"ranges-{index}-weekday": weekday, f"ranges-{index}-opens": opens, f"ranges-{index}-closes": closes}
    for index, (label, first, last) in enumerate(closures):
        data |= {
            f"closures-{index}-name": label,
            f"closures-{index}-first_day": first,
            f"closures-{index}-last_day": last,
        }
    return data


ADD_URL = "/admin/engagement/businesshours/add/"


def test_an_admin_adds_business_hours_in_the_console(client, admin_user):
    client.force_login(admin_user)
    form = _hours_form(
        "office", [(0, "08:00", "12:00"), (0, "13:00", "20:00")], [("Holiday", "2026-05-04", "2026-05-04")]
    )
    response = client.post(ADD_URL, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = BusinessHours.objects.get(name="office")
    assert (schedule.ranges.count(), schedule.closures.count()) == (2, 1)


@pytest.mark.parametrize(
    ("ranges", "closures", "words"),
    [
        ([(0, "08:00", "12:00"), (0, "11:00", "20:00")], [], "overlaps"),
        ([(0, "20:00", "08:00")], [], "close after it opens"),
        ([], [("Backwards", "2026-05-04", "2026-05-01")], "last day is before"),
    ],
)
def test_the_console_refuses_bad_hours_and_saves_nothing(client, admin_user, ranges, closures, words):
    client.force_login(admin_user)
    response = client.post(ADD_URL, _hours_form("office", ranges, closures))
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not BusinessHours.objects.exists()


def test_the_console_refuses_an_unknown_time_zone(client, admin_user):
    client.force_login(admin_user)
    response = client.post(ADD_URL, {**_hours_form("office", [(0, "08:00", "12:00")]), "time_zone": "Nowhere/Town"})
    assert response.status_code == 200 and "Unknown time zone" in response.content.decode()
    assert not BusinessHours.objects.exists()


def test_supervisors_read_business_hours_in_the_console_but_do_not_change_them(client, supervisor, office):
    supervisor.is_staff = True
    supervisor.save(update_fields=["is_staff"])
    client.force_login(supervisor)
    assert client.get(f"/admin/engagement/businesshours/{office.pk}/change/").status_code == 200
    assert client.post(ADD_URL, _hours_form("mine", [(0, "08:00", "12:00")])).status_code == 403
    assert client.post(f"/admin/engagement/businesshours/{office.pk}/delete/", {"post": "yes"}).status_code == 403
    assert list(BusinessHours.objects.values_list("name", flat=True)) == ["office"]


# --- The demo ---------------------------------------------------------------------------------


def test_the_demo_gives_office_hours_and_bank_holidays_to_billing_and_orders(routing_defaults, settings):
    settings.TIME_ZONE = "Europe/London"
    # When the demo's routing is loaded twice
    routing_demo_load()
    routing_demo_load()
    # Then one schedule serves billing and orders; web chat and general stay always open
    schedule = BusinessHours.objects.get()
    assert sorted(schedule.queues.values_list("name", flat=True)) == ["billing", "orders"]
    assert Queue.objects.get(name="web-chat").business_hours is None
    billing = Queue.objects.get(name="billing")
    # Christmas Day 2026 (a Friday) is closed; the Saturday after opens 09:00–13:00 (UTC in winter)
    spans = queue_open_spans(queue=billing, start=_utc(25, 0, month=12), end=_utc(27, 0, month=12))
    assert [(span.start, span.end) for span in spans] == [(_utc(26, 9, month=12), _utc(26, 13, month=12))]


def test_the_queue_console_page_offers_the_schedules(client, admin_user, office):
    # Given a queue; when an admin opens it in the console
    queue = QueueFactory(name="billing")
    client.force_login(admin_user)
    page = client.get(f"/admin/engagement/queue/{queue.pk}/change/").content.decode()
    # Then business hours are a choice among the schedules, blank meaning always open
    assert 'name="business_hours"' in page and f'value="{office.pk}"' in page
    assert "When the queue is open; blank: always open" in page
