"""The adherence report (/insights/reports/adherence/) and the engagement selectors it reads: adherence and
conformance per agent, team and day over a range, the same as summing the days by hand, scoped to the
supervisor's teams; agents refused; a foreign team refused; a bad range answered with the field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from engagement.wfm.adherence.models import AdherenceDay
from engagement.wfm.adherence.selectors import adherence_by_agent, adherence_by_day, adherence_by_team
from tests.accounts.factories import UserFactory
from tests.engagement.factories import AgentProfileFactory
from tests.support import session_client

pytestmark = pytest.mark.django_db

URL = reverse("insights:report-adherence")
MONDAY = date(2026, 3, 2)


@pytest.fixture
def history(team_a, team_b):
    """Ann and Al (team A) and Bo (team B), three days each, and one day of Ann's outside the range."""
    ann = AgentProfileFactory(username="ann", teams=[team_a], user__first_name="Ann", user__last_name="A")
    al = AgentProfileFactory(username="al", teams=[team_a], user__first_name="Al", user__last_name="A")
    bo = AgentProfileFactory(username="bo", teams=[team_b], user__first_name="Bo", user__last_name="B")
    figures = {
        ann: [(28800, 27000, 25200, 24000, 1), (28800, 28800, 25200, 25200, 0), (28800, 21600, 25200, 20000, 3)],
        al: [(14400, 14400, 13500, 13500, 0), (14400, 12000, 13500, 12600, 1), (0, 0, 0, 0, 0)],
        bo: [(28800, 20000, 25200, 26000, 2), (28800, 28000, 25200, 25000, 0), (28800, 28800, 25200, 25200, 0)],
    }
    team_of = {ann: team_a.pk, al: team_a.pk, bo: team_b.pk}
    for agent, days in figures.items():
        for offset, (scheduled, in_adherence, scheduled_work, worked, exceptions) in enumerate(days):
            AdherenceDay.objects.create(
                agent=agent,
                day=MONDAY + timedelta(days=offset),
                team_id=team_of[agent],
                scheduled_seconds=scheduled,
                in_adherence_seconds=in_adherence,
                scheduled_work_seconds=scheduled_work,
                worked_seconds=worked,
                exceptions=exceptions,
            )
    AdherenceDay.objects.create(
        agent=ann, day=MONDAY - timedelta(days=1), team_id=team_a.pk, scheduled_seconds=100, in_adherence_seconds=0
    )
    return {"ann": ann, "al": al, "bo": bo, "figures": figures}


def by_hand(days: list[tuple]) -> tuple[float | None, float | None, int]:
    scheduled = sum(day[0] for day in days)
    work = sum(day[2] for day in days)
    return (
        sum(day[1] for day in days) / scheduled if scheduled else None,
        sum(day[3] for day in days) / work if work else None,
        sum(day[4] for day in days),
    )


def test_per_agent_figures_are_the_summed_days(history, team_a):
    # When
    rows = adherence_by_agent(start=MONDAY, end=MONDAY + timedelta(days=2), team_ids=[team_a.pk])
    # Then: Ann and Al only, each as summed by hand (the day before the range left out)
    assert [row["name"] for row in rows] == ["Al A", "Ann A"]
    for row, agent in zip(rows, (history["al"], history["ann"]), strict=True):
        adherence, conformance, exceptions = by_hand(history["figures"][agent])
        assert row["adherence"] == pytest.approx(adherence)
        assert row["conformance"] == pytest.approx(conformance)
        assert (row["exceptions"], row["days"]) == (exceptions, 3)


def test_per_team_and_per_day_figures(history, team_a, team_b):
    teams = adherence_by_team(start=MONDAY, end=MONDAY + timedelta(days=2))
    team_a_days = history["figures"][history["ann"]] + history["figures"][history["al"]]
    assert [row["team_id"] for row in teams] == [team_a.pk, team_b.pk]
    assert teams[0]["adherence"] == pytest.approx(by_hand(team_a_days)[0])
    assert teams[1]["conformance"] == pytest.approx(by_hand(history["figures"][history["bo"]])[1])
    days = adherence_by_day(start=MONDAY, end=MONDAY, team_ids=[team_b.pk])
    assert [(row["day"], row["adherence"]) for row in days] == [(MONDAY, pytest.approx(20000 / 28800))]


def test_a_day_with_nothing_scheduled_has_no_percentages(history, team_a):
    rows = adherence_by_day(start=MONDAY + timedelta(days=2), end=MONDAY + timedelta(days=2), team_ids=[team_a.pk])
    # Ann's day counts; Al's empty one adds nothing
    assert rows[0]["adherence"] == pytest.approx(21600 / 28800)
    assert adherence_by_agent(start=date(2020, 1, 1), end=date(2020, 1, 2)) == []


def test_a_supervisor_sees_their_teams_on_the_report(history, supervisor):
    # When
    response = session_client(supervisor).get(URL, {"start": "2026-03-02", "end": "2026-03-04"})
    # Then
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ann A" in html and "Al A" in html and "Bo B" not in html
    adherence, _, _ = by_hand(history["figures"][history["ann"]])
    assert f"{100 * adherence:.1f} %" in html


def test_an_admin_sees_every_team_and_filters_one(history, admin_user, team_b):
    client = session_client(admin_user)
    html = client.get(URL, {"start": "2026-03-02", "end": "2026-03-04"}).content.decode()
    assert "Ann A" in html and "Bo B" in html
    only_b = client.get(URL, {"start": "2026-03-02", "end": "2026-03-04", "team": team_b.pk}).content.decode()
    assert "Bo B" in only_b and "Ann A" not in only_b


def test_agents_and_foreign_teams_are_refused(history, agent, supervisor, team_b):
    assert session_client(agent).get(URL).status_code == 403
    assert session_client(supervisor).get(URL, {"team": team_b.pk}).status_code == 403
    other = UserFactory(username="bea", role="supervisor", teams=[team_b])
    assert "Ann A" not in session_client(other).get(URL, {"start": "2026-03-02"}).content.decode()


def test_a_bad_range_is_answered_with_the_field(history, supervisor):
    client = session_client(supervisor)
    assert client.get(URL, {"start": "2026-03-04", "end": "2026-03-02"}).status_code == 400
    assert client.get(URL, {"start": "2025-01-01", "end": "2026-03-02"}).status_code == 400
