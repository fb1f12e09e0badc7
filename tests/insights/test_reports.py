"""The report pages: figures by role and team, the comparison, exports exact for known data, drill-down."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from engagement.routing.models import PresenceChange
from insights.kpis.rollup import contact_rollup_rebuild
from insights.reports.exports import safe_cell
from insights.reports.tables import interval_end
from tests.accounts.factories import TeamFactory, UserFactory
from tests.engagement.factories import AgentProfileFactory
from tests.insights.factories import T0, contact
from tests.support import session_client

pytestmark = pytest.mark.django_db
URL = "/insights/reports/"
HOUR = dt.timedelta(hours=1)
# T0 is 2026-03-02 09:00 UTC; the tests run in UTC (TIME_ZONE), so the day starts at 00:00+00:00.
DAY = {"start": "2026-03-02", "end": "2026-03-02", "interval": "day"}


@pytest.fixture
def teams():
    north, south = TeamFactory(name="north"), TeamFactory(name="south")
    anna = UserFactory(username="anna", teams=[north])
    bob = UserFactory(username="bob", teams=[south])
    contact(team=north, agent=anna, wait=10, talk=120, queue="billing")
    contact(team=north, agent=anna, wait=30, talk=240, queue="=cmd")
    contact(team=south, agent=bob, wait=50, talk=60, queue="billing")
    contact(team=south, agent=bob, queued_at=T0 - dt.timedelta(days=1), talk=100)
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    return {"north": north, "south": south, "anna": anna, "bob": bob}


def _get(client, path=URL, **params):
    return client.get(path, {"kpis": ["handled", "aht"], **DAY, **params})


def test_the_report_shows_a_chart_its_table_and_formulas(teams):
    # Given an admin / When they open the report for the day by team
    response = _get(session_client(UserFactory(role="admin")), group_by="team")
    # Then the table lists each team's figures, the chart has its data island and summary
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="report-chart-data"' in html and 'role="img"' in html
    table = response.context["table"]
    figures = {row.group_label: [cell.value for cell in row.cells] for row in table.rows}
    assert figures == {"north": [2, 180.0], "south": [1, 60.0]}
    assert "Contacts handled" in html and 'data-testid="report-definitions"' in html


def test_a_supervisor_sees_their_teams_and_is_refused_another_team(teams):
    # Given the south supervisor
    client = session_client(UserFactory(role="supervisor", teams=[teams["south"]]))
    # When they open the day's report / Then only south's contact counts
    response = _get(client)
    [row] = response.context["table"].rows
    assert row.cells[0].value == 1
    # And asking for north by filter, or for one of north's agents, is refused
    assert _get(client, team=teams["north"].pk).status_code == 403
    assert _get(client, agent=teams["anna"].pk).status_code == 403
    assert _get(client, agent=teams["bob"].pk).status_code == 200


def test_an_agent_sees_only_their_own_figures(teams):
    # Given anna / When she opens the report
    client = session_client(teams["anna"])
    [row] = _get(client).context["table"].rows
    # Then her two contacts count, and another agent's figures are refused
    assert row.cells[0].value == 2
    assert _get(client, agent=teams["bob"].pk).status_code == 403


def test_the_htmx_request_swaps_the_result_and_pushes_the_permalink(teams):
    # Given an admin / When htmx asks for the report
    response = session_client(UserFactory(role="admin")).get(
        URL, {"kpis": "handled", **DAY}, headers={"HX-Request": "true"}
    )
    # Then only the result comes back, and the URL carries the selection
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert "kpis=handled" in response["HX-Push-Url"] and "start=2026-03-02" in response["HX-Push-Url"]


def test_an_invalid_selection_says_what_to_correct(teams):
    response = _get(session_client(UserFactory(role="admin")), end="2026-03-01")
    assert response.status_code == 400
    assert b"The last day must not be before the first." in response.content


def test_compare_lines_up_the_previous_day(teams):
    # Given / When the day is compared with the one before
    response = _get(session_client(UserFactory(role="admin")), compare="on")
    [row] = response.context["table"].rows
    # Then each figure has the previous day's beside it, and the totals too
    assert [(cell.value, cell.previous) for cell in row.cells] == [(3, 1), (140.0, 100.0)]
    assert [(cell.value, cell.previous) for cell in response.context["table"].totals] == [(3, 1), (140.0, 100.0)]


def test_the_csv_export_is_exact(teams):
    # Given an admin / When they export the day by queue
    response = _get(session_client(UserFactory(role="admin")), path=URL + "export.csv", group_by="queue")
    # Then the CSV has one row per queue, the formula-like queue quoted
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="report-20260302-20260302.csv"'
    assert response.content.decode() == (
        "Interval start,Queue,Contacts handled (count),Average handle time (seconds)\r\n"
        "2026-03-02T00:00:00+00:00,'=cmd,1,240\r\n"
        "2026-03-02T00:00:00+00:00,billing,2,90\r\n"
    )


def test_the_xlsx_export_has_the_figures_and_the_definitions(teams):
    response = _get(session_client(UserFactory(role="admin")), path=URL + "export.xlsx", compare="on")
    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook["Report"].iter_rows(values_only=True))
    assert rows == [
        (
            "Interval start",
            "Contacts handled (count)",
            "Contacts handled (count), previous period",
            "Average handle time (seconds)",
            "Average handle time (seconds), previous period",
        ),
        ("2026-03-02T00:00:00+00:00", 3, 1, 140, 100),
    ]
    assert [row[0] for row in workbook["Definitions"].iter_rows(values_only=True)] == [
        "KPI",
        "Contacts handled",
        "Average handle time",
    ]
    assert ("Scope", "Every team's contacts") in set(workbook["Selection"].iter_rows(values_only=True))


def test_the_conversation_export_is_scoped(teams):
    # Given the north supervisor / When they export the day's conversations
    client = session_client(UserFactory(role="supervisor", teams=[teams["north"]]))
    response = _get(client, path=URL + "conversations.csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    # Then north's two contacts only, one row each
    assert lines[0].startswith("Interaction,Started,Answered,Ended,Channel")
    assert len(lines) == 3
    assert all(",north,anna," in line for line in lines[1:])
    assert lines[2].endswith(",30,240") and "'=cmd" in lines[2]


def test_the_conversation_xlsx_export_has_the_csvs_columns_and_states_its_selection(teams):
    # Given the north supervisor / When they export the day's conversations of anna as CSV and as XLSX
    client = session_client(UserFactory(role="supervisor", teams=[teams["north"]]))
    csv = b"".join(_get(client, path=URL + "conversations.csv", agent=teams["anna"].pk).streaming_content)
    response = _get(client, path=URL + "conversations.xlsx", agent=teams["anna"].pk)
    # Then the workbook holds the same rows under the same columns, numbers as numbers
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="conversations-20260302-20260302.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Conversations", "Selection"]
    rows = list(workbook["Conversations"].iter_rows(values_only=True))
    expected = [line.split(",") for line in csv.decode().splitlines()]
    assert [[("" if value is None else str(value)) for value in row] for row in rows] == expected
    assert len(rows) == 3 and rows[2][-2:] == (30, 240) and "'=cmd" in rows[2]
    # And the selection sheet states the range, the filter by name and whose contacts these are
    assert list(workbook["Selection"].iter_rows(values_only=True)) == [
        ("From", "2026-03-02"),
        ("To (included)", "2026-03-02"),
        ("Time zone", "UTC"),
        ("Filter: Agent", str(teams["anna"])),
        ("Filters", "1 (above)"),
        ("Scope", "Contacts of the teams north"),
        ("Exported by", str(response.wsgi_request.user)),
    ]


def test_the_conversation_xlsx_export_is_refused_beyond_the_users_teams(teams):
    # Given the south supervisor / When they ask for north's conversations / Then it is refused
    client = session_client(UserFactory(role="supervisor", teams=[teams["south"]]))
    assert _get(client, path=URL + "conversations.xlsx", team=teams["north"].pk).status_code == 403
    # And without a filter only south's contact is exported
    workbook = load_workbook(io.BytesIO(_get(client, path=URL + "conversations.xlsx").content))
    assert [row[7:9] for row in workbook["Conversations"].iter_rows(min_row=2, values_only=True)] == [("south", "bob")]


def test_an_agents_xlsx_export_holds_their_own_contacts(teams):
    # Given bob / When he exports the day's conversations / Then his one contact, his scope stated
    workbook = load_workbook(io.BytesIO(_get(session_client(teams["bob"]), path=URL + "conversations.xlsx").content))
    assert [row[8] for row in workbook["Conversations"].iter_rows(min_row=2, values_only=True)] == ["bob"]
    assert ("Scope", f"The contacts {teams['bob']} handled") in set(workbook["Selection"].iter_rows(values_only=True))
    assert ("Filters", "none") in set(workbook["Selection"].iter_rows(values_only=True))


def test_drill_down_lists_the_contacts_behind_a_figure(teams):
    # Given an admin's report by team / When they follow north's figure
    admin = session_client(UserFactory(role="admin"))
    table = _get(admin, group_by="team").context["table"]
    north = next(row for row in table.rows if row.group_label == "north")
    response = admin.get(north.drill_url)
    # Then north's two contacts are listed
    assert response.status_code == 200
    assert [interaction.agent.username for interaction in response.context["page"]] == ["anna", "anna"]


def test_drill_down_into_another_team_is_refused(teams):
    admin = session_client(UserFactory(role="admin"))
    table = _get(admin, group_by="team").context["table"]
    north = next(row for row in table.rows if row.group_label == "north")
    south_lead = session_client(UserFactory(role="supervisor", teams=[teams["south"]]))
    assert south_lead.get(north.drill_url).status_code == 403


@pytest.mark.parametrize(
    ("value", "shown"), [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("ok", "ok"), (-1, -1)]
)
def test_formula_like_cells_are_quoted(value, shown):
    assert safe_cell(value) == shown


def test_drill_down_into_a_blank_group_lists_the_contacts_without_one(teams):
    # Given contacts with and without a wrap-up code / When an admin follows the blank code's figure
    contact(team=teams["north"], agent=teams["anna"], wrap_up_code="refund")
    contact_rollup_rebuild(now=T0 + dt.timedelta(hours=1))
    admin = session_client(UserFactory(role="admin"))
    rows = {row.group_label: row for row in _get(admin, group_by="wrap_up_code").context["table"].rows}
    assert {label: row.cells[0].value for label, row in rows.items()} == {"(none)": 3, "refund": 1}
    blank = admin.get(rows["(none)"].drill_url)
    refund = admin.get(rows["refund"].drill_url)
    # Then each lists as many contacts as its figure counts
    assert blank.context["page"].paginator.count == 3
    assert [interaction.wrap_up_code for interaction in refund.context["page"]] == ["refund"]


def test_an_agents_drill_down_lists_only_their_contacts(teams):
    # Given bob's report of the day / When he follows his figure
    bob = session_client(teams["bob"])
    [row] = _get(bob).context["table"].rows
    # Then only his contact of the day is listed
    assert [interaction.agent.username for interaction in bob.get(row.drill_url).context["page"]] == ["bob"]


def test_a_local_day_has_23_hours_when_the_clocks_go_forward(settings):
    # Given Paris, where summer time starts on 29 March 2026
    settings.TIME_ZONE = "Europe/Paris"
    start = dt.datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Paris"))
    # When / Then the day's interval ends 23 hours later, and a month's on the 1st of the next
    # (in UTC: Python subtracts two times of the same zone as wall-clock times)
    assert interval_end(start, "day").astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=23)
    assert interval_end(start, "month") == dt.datetime(2026, 4, 1, tzinfo=ZoneInfo("Europe/Paris"))


def test_without_a_selection_the_page_shows_the_last_seven_days_with_their_permalink(teams, monkeypatch):
    # Given a day after the contacts / When an admin opens the bare page
    monkeypatch.setattr("insights.reports.forms.local_today", lambda: dt.date(2026, 3, 3))
    response = session_client(UserFactory(role="admin")).get(URL)
    # Then the default KPIs of the seven days up to it, whose permalink and exports carry the selection
    assert response.status_code == 200
    assert [row.interval_label for row in response.context["table"].rows] == ["2026-03-01", "2026-03-02"]
    assert response.context["query"] == (
        "kpis=handled&kpis=aht&kpis=service_level&start=2026-02-25&end=2026-03-03&interval=day"
    )


def test_unchecking_every_kpi_says_to_choose_one(teams):
    response = session_client(UserFactory(role="admin")).get(URL, {**DAY}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert b"kpis" in response.content


def test_a_grouping_the_kpi_cannot_have_is_explained_on_the_page(teams):
    # Given occupancy (agents' time has no queue) / When it is asked by queue
    response = _get(session_client(UserFactory(role="admin")), kpis="occupancy", group_by="queue")
    # Then the page stays, with the selector's reason
    assert response.status_code == 400
    assert b"can be grouped and filtered by team and agent only" in response.content
    assert b'data-testid="report-form"' in response.content


def test_the_filters_offer_the_supervisors_teams_and_agents_only(teams):
    # Given the north supervisor / When they open the report
    lead = UserFactory(role="supervisor", teams=[teams["north"]], first_name="Lea", last_name="Lead")
    form = session_client(lead).get(URL).context["form"]
    # Then north and its people are offered, not south or bob
    assert form.fields["team"].widget.choices == [("", "Every team"), (teams["north"].pk, "north")]
    agents = form.fields["agent"].widget.choices
    assert agents[0] == ("", "Every agent")
    assert sorted(name for _, name in agents[1:]) == sorted([teams["anna"].get_full_name(), "Lea Lead"])


def test_the_chart_has_a_line_per_kpi_and_group_on_a_panel_per_unit(teams):
    # Given an admin / When they compare the day's handled, AHT and service level by team
    response = _get(
        session_client(UserFactory(role="admin")),
        kpis=["handled", "aht", "service_level"],
        group_by="team",
        compare="on",
    )
    chart = response.context["chart"]
    # Then each unit has its panel, in the KPIs' order
    assert chart["labels"] == ["2026-03-02"]
    assert chart["panels"] == [
        {"unit": "count", "axis": "Count"},
        {"unit": "seconds", "axis": "Seconds"},
        {"unit": "percent", "axis": "%"},
    ]
    # And every KPI has a line per team on its unit's panel, with its previous-period line dashed beside it
    lines = {line["name"]: (line["panel"], line["previous"], line["values"]) for line in chart["series"]}
    assert lines == {
        "Contacts handled — north": (0, False, [2]),
        "Contacts handled — north (previous period)": (0, True, [None]),
        "Contacts handled — south": (0, False, [1]),
        "Contacts handled — south (previous period)": (0, True, [1]),
        "Average handle time — north": (1, False, [180.0]),
        "Average handle time — north (previous period)": (1, True, [None]),
        "Average handle time — south": (1, False, [60.0]),
        "Average handle time — south (previous period)": (1, True, [100.0]),
        "Service level — north": (2, False, [50.0]),  # waits 10 s and 30 s, target 20 s
        "Service level — north (previous period)": (2, True, [None]),
        "Service level — south": (2, False, [0.0]),
        "Service level — south (previous period)": (2, True, [100.0]),
    }
    # And each point links to the contacts behind its figure; the summary names every KPI
    aht = next(line for line in chart["series"] if line["name"] == "Average handle time — north")
    assert aht["links"][0].startswith("/insights/reports/contacts/?") and aht["links"][0].endswith("&kpi=aht")
    summary = response.context["chart_summary"]
    assert summary.startswith("Chart of 3 KPIs by day, one line per team, dashed lines for the previous period:")
    assert "Contacts handled from 1 to 2; Average handle time from 60.0 s to 180.0 s" in summary
    assert 'class="report-chart panels-3"' in response.content.decode()


def test_a_figure_without_a_denominator_is_a_dash_a_blank_cell_and_a_gap(teams):
    # Given anna logged in 09:00–10:00 (available), bob never logged in (no presence recorded)
    profile = AgentProfileFactory(user=teams["anna"])
    PresenceChange.objects.create(agent=profile, presence="available", started_at=T0, ended_at=T0 + HOUR)
    PresenceChange.objects.create(agent=profile, presence="offline", started_at=T0 + HOUR)
    contact_rollup_rebuild(now=T0 + 2 * HOUR)
    admin = session_client(UserFactory(role="admin"))
    # When an admin reads the day's occupancy by agent, on the page and as CSV
    page = _get(admin, kpis="occupancy", group_by="agent")
    csv = _get(admin, path=URL + "export.csv", kpis="occupancy", group_by="agent").content.decode()
    # Then anna's 260 s on calls (09:00:10–09:02:10 and 09:00:30–09:04:30) of 3,600 s logged in
    # is 7.2 %; bob's has no denominator: "—", a blank cell and a gap
    cells = {row.group_label: row.cells[0] for row in page.context["table"].rows}
    assert {name: (cell.denominator, cell.display) for name, cell in cells.items()} == {
        str(teams["anna"]): (3600, "7.2%"),
        str(teams["bob"]): (0, "—"),
    }
    assert csv.splitlines()[1:] == [
        f"2026-03-02T00:00:00+00:00,{teams['anna']},7.2222",
        f"2026-03-02T00:00:00+00:00,{teams['bob']},",
    ]
    lines = {line["name"]: line["values"] for line in page.context["chart"]["series"]}
    assert lines == {f"Occupancy — {teams['anna']}": [260 * 100 / 3600], f"Occupancy — {teams['bob']}": [None]}


def test_a_conversation_workbook_beyond_a_worksheets_rows_is_refused(teams, monkeypatch):
    # Given a worksheet of 3 rows at most (a header and 2 conversations) / When the day's 3 are asked as XLSX
    monkeypatch.setattr("insights.reports.views.XLSX_MAX_ROWS", 3)
    response = _get(session_client(UserFactory(role="admin")), path=URL + "conversations.xlsx")
    # Then it is refused with the way out
    assert response.status_code == 400
    assert b"A workbook holds at most 2 conversations: export CSV or choose fewer days." in response.content
