"""Adherence's API and page: live rows, days and exceptions, scoped to the caller's teams; agents refused;
an integration client reads with its token; bad queries get 400 with field messages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from engagement.wfm.adherence.models import AdherenceDay, AdherenceException
from tests.accounts.factories import UserFactory
from tests.engagement.factories import AgentProfileFactory
from tests.engagement.wfm.adherence_support import presence_history, published_shift
from tests.support import assert_error, session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("routing_defaults")]

LONDON = ZoneInfo("Europe/London")
LIVE = reverse("engagement-api:wfm-adherence-live")
DAYS = reverse("engagement-api:wfm-adherence-days")
EXCEPTIONS = reverse("engagement-api:wfm-adherence-exceptions")
PAGE = reverse("engagement:wfm-adherence")
FRAGMENT = reverse("engagement:wfm-adherence-live")


@pytest.fixture
def floor(team_a, team_b):
    """Ann (team A) on shift now and offline 20 minutes (an open exception); Bo (team B) on shift, working."""
    now = datetime.now(tz=LONDON)
    ann = AgentProfileFactory(username="ann", teams=[team_a], user__first_name="Ann", user__last_name="A")
    bo = AgentProfileFactory(username="bo", teams=[team_b], user__first_name="Bo", user__last_name="B")
    for agent, team in ((ann, team_a), (bo, team_b)):
        published_shift(agent, team=team, starts_at=now - timedelta(hours=2), activities=[("work", 300)])
    presence_history(ann, [("available", "", now - timedelta(hours=2)), ("offline", "", now - timedelta(minutes=20))])
    presence_history(bo, [("available", "", now - timedelta(hours=2))])
    AdherenceException.objects.create(
        agent=ann, scheduled="work", actual="offline", started_at=now - timedelta(minutes=20)
    )
    yesterday = now.date() - timedelta(days=1)
    AdherenceDay.objects.create(
        agent=ann,
        day=yesterday,
        team_id=team_a.pk,
        scheduled_seconds=100,
        in_adherence_seconds=90,
        scheduled_work_seconds=80,
        worked_seconds=60,
    )
    AdherenceDay.objects.create(
        agent=bo,
        day=yesterday,
        team_id=team_b.pk,
        scheduled_seconds=100,
        in_adherence_seconds=100,
        scheduled_work_seconds=80,
        worked_seconds=80,
    )
    return ann, bo


def test_a_supervisor_sees_live_rows_of_their_team_only(floor, supervisor):
    ann, _ = floor
    # When
    response = session_client(supervisor).get(LIVE)
    # Then
    assert response.status_code == 200
    rows = response.json()
    assert [(row["agent"], row["scheduled"], row["actual"], row["status"]) for row in rows] == [
        (ann.pk, "work", "off", "out")
    ]
    assert rows[0]["open_exception"] == AdherenceException.objects.get().pk
    # today's part of the shift (it began two hours ago: yesterday, just after midnight), 20 minutes of it out
    now = datetime.now(tz=LONDON)
    midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=LONDON)
    scheduled = (now - max(now - timedelta(hours=2), midnight)).total_seconds()
    out = min(20 * 60, scheduled)
    assert rows[0]["adherence_today"] == pytest.approx((scheduled - out) / scheduled, abs=0.02)


def test_an_admin_sees_every_team_and_can_ask_for_one(floor, admin_user, team_b):
    ann, bo = floor
    client = session_client(admin_user)
    assert {row["agent"] for row in client.get(LIVE).json()} == {ann.pk, bo.pk}
    assert [row["agent"] for row in client.get(LIVE, {"team": team_b.pk}).json()] == [bo.pk]
    bo_row = client.get(LIVE, {"team": team_b.pk}).json()[0]
    assert (bo_row["status"], bo_row["adherence_today"]) == ("in", 1.0)


def test_agents_are_refused(floor, agent):
    client = session_client(agent)
    for url in (LIVE, DAYS, EXCEPTIONS):
        assert_error(client.get(url), 403)
    assert client.get(PAGE).status_code == 403


def test_days_are_scoped_by_the_team_the_agent_was_in(floor, supervisor, admin_user):
    ann, _ = floor
    mine = session_client(supervisor).get(DAYS).json()
    assert [(row["agent"], row["adherence"], row["conformance"]) for row in mine] == [(ann.pk, 0.9, 0.75)]
    assert len(session_client(admin_user).get(DAYS).json()) == 2


def test_bad_day_queries_get_400_with_the_field(floor, supervisor):
    client = session_client(supervisor)
    error = assert_error(client.get(DAYS, {"start": "2026-03-10", "end": "2026-03-01"}), 400)
    assert "start" in error["fields"]
    assert "start" in assert_error(client.get(DAYS, {"start": "yesterday"}), 400)["fields"]
    assert "start" in assert_error(client.get(DAYS, {"start": "2020-01-01", "end": "2026-01-01"}), 400)["fields"]


def test_exceptions_are_scoped_and_filtered(floor, supervisor, team_b):
    ann, _ = floor
    other = UserFactory(username="bea", role="supervisor", teams=[team_b])
    assert [row["agent"] for row in session_client(supervisor).get(EXCEPTIONS, {"open": "true"}).json()] == [ann.pk]
    assert session_client(supervisor).get(EXCEPTIONS, {"open": "false"}).json() == []
    assert session_client(other).get(EXCEPTIONS).json() == []


def test_an_integration_client_reads_with_its_token(floor, integration_user):
    assert len(token_client(integration_user, scopes=["insights:read"]).get(LIVE).json()) == 2
    assert token_client(integration_user, scopes=["customers:read"]).get(LIVE).status_code == 403


def test_the_page_shows_the_supervisors_agents_and_exceptions(floor, supervisor):
    # When
    response = session_client(supervisor).get(PAGE)
    # Then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="adherence-agent"' in html and "Ann A" in html
    assert "Bo B" not in html
    assert 'data-open="yes"' in html
    assert 'data-testid="adherence-day-row"' in html
    fragment = session_client(supervisor).get(FRAGMENT).content.decode()
    assert 'data-status="out"' in fragment and "Bo B" not in fragment


def test_the_page_asks_anonymous_users_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_page_says_when_nothing_is_measured(team_a, supervisor):
    html = session_client(supervisor).get(PAGE).content.decode()
    assert "No scheduled days measured yet." in html and "No exceptions." in html


def test_days_default_to_the_last_week(floor, admin_user):
    old = date.today() - timedelta(days=30)
    AdherenceDay.objects.create(agent=floor[0], day=old, team_id=None, scheduled_seconds=10, in_adherence_seconds=10)
    days = {row["day"] for row in session_client(admin_user).get(DAYS).json()}
    assert str(old) not in days and len(days) == 1
