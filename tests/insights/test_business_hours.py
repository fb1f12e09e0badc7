"""Business hours only: figures computed by hand for a small week with hours, a holiday and a DST change.

The deployment's time zone is Europe/London: the clocks go forward on Sunday 29 March 2026, so
08:00 local is 08:00 UTC before and 07:00 UTC after. Office hours (Mon–Fri 08:00–20:00, Sat
09:00–13:00) with Friday 27 March a holiday are the hours of "billing", team north's only queue;
"web-chat" (no team) has none (always open); team south's "south-desk" has none either.

Every contact is answered (handled). Times are UTC; the local day and whether its interval counts:

| # | queue | team | queued (UTC) | local | interval counts? |
| 1 | billing | north | Thu 26 07:50 | 07:50 | no: the 07:45 interval starts before opening |
| 2 | billing | north | Thu 26 08:05 | 08:05 | yes |
| 3 | billing | north | Thu 26 19:59 | 19:59 | yes: the 19:45 interval starts while open |
| 4 | billing | north | Thu 26 20:00 | 20:00 | no: closing time is closed |
| 5 | billing | north | Fri 27 12:00 | 12:00 | no: the holiday |
| 6 | billing | north | Sat 28 12:50 | 12:50 | yes |
| 7 | web-chat | north | Sun 29 03:00 | 04:00 | yes: no business hours, always open |
| 8 | (none) | south | Sun 29 10:00 | 11:00 | yes: south has a queue without hours |
| 9 | billing | north | Mon 30 07:10 | 08:10 | yes (in winter time 07:10 UTC would be closed) |
| 10 | billing | north | Mon 30 19:10 | 20:10 | no |
| 11 | (none) | north | Thu 26 21:00 | 21:00 | no: north's only queue (billing) is closed |

By local day, handled all hours / business hours only: Thu 26: 5 / 2, Fri 27: 1 / 0, Sat 28: 1 / 1,
Sun 29: 2 / 2, Mon 30: 2 / 1; 11 / 6 in all.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from cea.common.errors import ValidationFailed
from engagement.routing.hours import ClosedDays, WeeklyRange
from engagement.routing.services import business_hours_create
from insights.kpis.business_hours import EXPLANATION
from insights.kpis.models import AgentRollup, CaseRollup
from insights.kpis.rollup import contact_rollup_rebuild
from insights.kpis.selectors import kpi_series
from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import QueueFactory
from tests.insights.factories import contact
from tests.support import assert_error, session_client

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
START = dt.datetime(2026, 3, 26, tzinfo=LONDON)
END = dt.datetime(2026, 3, 31, tzinfo=LONDON)


def _utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
def week(settings):
    settings.TIME_ZONE = "Europe/London"
    north, south = TeamFactory(name="north"), TeamFactory(name="south")
    office = business_hours_create(
        actor=None,
        name="office",
        ranges=[WeeklyRange(day, dt.time(8), dt.time(20)) for day in range(5)]
        + [WeeklyRange(5, dt.time(9), dt.time(13))],
        closures=[ClosedDays("Holiday", dt.date(2026, 3, 27), dt.date(2026, 3, 27))],
    )
    QueueFactory(name="billing", team=north, business_hours=office)
    QueueFactory(name="web-chat")
    QueueFactory(name="south-desk", team=south)
    anna = UserFactory(username="anna", teams=[north])
    bob = UserFactory(username="bob", teams=[south])
    billing = [(26, 7, 50), (26, 8, 5), (26, 19, 59), (26, 20, 0), (27, 12, 0), (28, 12, 50), (30, 7, 10), (30, 19, 10)]
    for day, hour, minute in billing:
        contact(queue="billing", team=north, agent=anna, queued_at=_utc(day, hour, minute))
    contact(queue="web-chat", channel="chat", team=north, agent=anna, queued_at=_utc(29, 3))
    contact(queue="", team=south, agent=bob, direction="outbound", wait=0, queued_at=_utc(29, 10))
    contact(queue="", team=north, agent=anna, direction="outbound", wait=0, queued_at=_utc(26, 21))
    contact_rollup_rebuild(now=_utc(31, 12))
    return {"north": north, "south": south, "anna": anna, "bob": bob}


def _by_day(user, *, kpis=("handled",), business_hours_only=True, **arguments):
    series = kpi_series(
        user=user,
        kpis=list(kpis),
        start=START,
        end=END,
        interval="day",
        business_hours_only=business_hours_only,
        **arguments,
    )
    return {
        (row.interval_start.date().isoformat(), *row.group.values()): {
            name: value.value for name, value in row.values.items()
        }
        for row in series.rows
    }


def test_business_hours_only_counts_the_intervals_that_start_while_open_across_dst_and_a_holiday(week):
    admin = UserFactory(role="admin")
    # All hours: every contact, by local day
    assert {day: values["handled"] for (day,), values in _by_day(admin, business_hours_only=False).items()} == {
        "2026-03-26": 5,
        "2026-03-27": 1,
        "2026-03-28": 1,
        "2026-03-29": 2,
        "2026-03-30": 2,
    }
    # Business hours only: the hand computation of the table above (the holiday has no figures left)
    assert {day: values["handled"] for (day,), values in _by_day(admin).items()} == {
        "2026-03-26": 2,
        "2026-03-28": 1,
        "2026-03-29": 2,
        "2026-03-30": 1,
    }


def test_by_queue_each_queue_follows_its_own_hours(week):
    figures = _by_day(UserFactory(role="admin"), group_by=["queue"])
    assert {key: values["handled"] for key, values in figures.items()} == {
        ("2026-03-26", "billing"): 2,
        ("2026-03-28", "billing"): 1,
        ("2026-03-29", ""): 1,
        ("2026-03-29", "web-chat"): 1,
        ("2026-03-30", "billing"): 1,
    }


def test_a_supervisor_gets_business_hours_figures_of_their_teams_only(week):
    supervisor_south = UserFactory(role="supervisor", teams=[week["south"]])
    assert _by_day(supervisor_south) == {("2026-03-29",): {"handled": 1}}
    supervisor_north = UserFactory(role="supervisor", teams=[week["north"]])
    assert {day: values["handled"] for (day,), values in _by_day(supervisor_north).items()} == {
        "2026-03-26": 2,
        "2026-03-28": 1,
        "2026-03-29": 1,
        "2026-03-30": 1,
    }


def test_agents_time_and_cases_follow_their_teams_queues(week):
    # Given anna (north) logged in for the 07:45 and 08:00 intervals of Thursday and on the holiday, and
    # north's cases opened on Thursday at 07:45 and 10:00 and on the holiday; south's at 03:00 on Sunday
    north, south = week["north"].pk, week["south"].pk
    AgentRollup.objects.all().delete()  # only these agents' rows: the contacts' own are not the point here
    for start, on_contact in ((_utc(26, 7, 45), 300), (_utc(26, 8), 600), (_utc(27, 10), 900)):
        AgentRollup.objects.create(
            interval_start=start,
            agent_id=week["anna"].pk,
            team_id=north,
            logged_in_seconds=900,
            on_contact_seconds=on_contact,
            logged_in_contact_seconds=on_contact,  # logged in all the while
        )
    for start, team in ((_utc(26, 7, 45), north), (_utc(26, 10), north), (_utc(27, 10), north), (_utc(29, 3), south)):
        CaseRollup.objects.create(interval_start=start, team_id=team, opened=1)
    admin = UserFactory(role="admin")
    # When utilisation and cases opened are asked for, business hours only
    figures = _by_day(admin, kpis=("utilisation", "cases_opened"))
    # Then only north's open intervals count (08:00 and 10:00 on Thursday), and south's always
    assert figures == {
        ("2026-03-26",): {"utilisation": pytest.approx(600 / 900 * 100), "cases_opened": 1},
        ("2026-03-29",): {"utilisation": None, "cases_opened": 1},
    }
    assert _by_day(admin, kpis=("utilisation", "cases_opened"), business_hours_only=False)[("2026-03-26",)] == {
        "utilisation": pytest.approx(900 / 1800 * 100),
        "cases_opened": 2,
    }


def test_the_case_backlog_has_no_business_hours_figure(week):
    with pytest.raises(ValidationFailed) as refused:
        _by_day(UserFactory(role="admin"), kpis=("cases_opened", "case_backlog"))
    assert "case_backlog" in refused.value.fields["business_hours_only"][0]


# --- The KPI API and the report ---------------------------------------------------------------

API = "/api/v1/insights/kpis/"
QUERY = {"kpis": ["handled"], "start": START.isoformat(), "end": END.isoformat(), "interval": "day"}


def test_the_kpi_api_takes_business_hours_only_and_says_so(week):
    client = session_client(UserFactory(role="admin"))
    body = client.get(API, {**QUERY, "business_hours_only": "true"}).json()
    assert body["business_hours_only"] is True
    assert [(row["interval_start"][:10], row["values"]["handled"]["value"]) for row in body["rows"]] == [
        ("2026-03-26", 2),
        ("2026-03-28", 1),
        ("2026-03-29", 2),
        ("2026-03-30", 1),
    ]
    assert client.get(API, QUERY).json()["business_hours_only"] is False
    error = assert_error(client.get(API, {**QUERY, "kpis": ["case_backlog"], "business_hours_only": "true"}), 400)
    assert "business_hours_only" in error["fields"]
    assert (
        "business_hours_only" in assert_error(client.get(API, {**QUERY, "business_hours_only": "maybe"}), 400)["fields"]
    )


REPORT = "/insights/reports/"
DAYS = {"kpis": ["handled"], "start": "2026-03-26", "end": "2026-03-30", "interval": "day"}


def test_the_report_states_business_hours_only_on_screen_and_in_its_permalink(week):
    client = session_client(UserFactory(role="admin"))
    response = client.get(REPORT, {**DAYS, "business_hours": "on"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="report-business-hours"' in page and "Business hours only" in page
    assert "business_hours=on" in response.context["query"]
    assert [row.cells[0].value for row in response.context["table"].rows] == [2, 1, 2, 1]
    plain = client.get(REPORT, DAYS).content.decode()
    assert 'data-testid="report-business-hours"' not in plain


def test_the_exports_say_business_hours_only(week):
    client = session_client(UserFactory(role="admin"))
    csv = client.get(REPORT + "export.csv", {**DAYS, "business_hours": "on"})
    assert csv["Content-Disposition"] == 'attachment; filename="report-20260326-20260330-business-hours.csv"'
    assert csv.content.decode().splitlines() == [
        'Interval start,"Contacts handled (count, business hours only)"',
        "2026-03-26T00:00:00+00:00,2",
        "2026-03-28T00:00:00+00:00,1",
        "2026-03-29T00:00:00+00:00,2",
        "2026-03-30T00:00:00+01:00,1",
    ]
    xlsx = client.get(REPORT + "export.xlsx", {**DAYS, "business_hours": "on"})
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook["Report"]["B1"].value == "Contacts handled (count, business hours only)"
    definitions = [row[0] for row in workbook["Definitions"].iter_rows(values_only=True)]
    assert definitions[-1] == EXPLANATION


def test_the_report_refuses_business_hours_for_the_backlog(week):
    client = session_client(UserFactory(role="admin"))
    response = client.get(REPORT, {**DAYS, "kpis": ["case_backlog"], "business_hours": "on"})
    assert response.status_code == 400
    assert "is a level, not a count" in response.content.decode()


def test_the_contacts_behind_a_business_hours_figure_are_the_ones_it_counts(week):
    # Given the business-hours report by day
    client = session_client(UserFactory(role="admin"))
    table = client.get(REPORT, {**DAYS, "business_hours": "on"}).context["table"]
    thursday = table.rows[0]
    assert "business_hours=on" in thursday.drill_url
    # When the figure of Thursday (2) is followed to its contacts
    response = client.get(thursday.drill_url)
    # Then the two contacts it counts are listed (08:05 and 19:59), not the three outside the hours
    page = response.context["page"]
    assert [contact.started_at for contact in page.object_list] == [_utc(26, 8, 5), _utc(26, 19, 59)]
    assert 'data-testid="drill-business-hours"' in response.content.decode()


def test_the_conversations_export_keeps_the_business_hours_contacts(week):
    client = session_client(UserFactory(role="admin"))
    response = client.get(REPORT + "conversations.csv", {**DAYS, "business_hours": "on"})
    assert (
        response["Content-Disposition"] == 'attachment; filename="conversations-20260326-20260330-business-hours.csv"'
    )
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [line.split(",")[1] for line in lines[1:]] == [
        "2026-03-26T08:05:00+00:00",
        "2026-03-26T19:59:00+00:00",
        "2026-03-28T12:50:00+00:00",
        "2026-03-29T04:00:00+01:00",
        "2026-03-29T11:00:00+01:00",
        "2026-03-30T08:10:00+01:00",
    ]
