"""Strategies' API, pages, console and dry-run: roles, teams, the insights:read scope, validation."""

from __future__ import annotations

import datetime as dt

import pytest

from insights.strategies.effects import strategy_effects_compute
from insights.strategies.models import Strategy, StrategyFiring
from insights.strategies.rules import in_holdout
from insights.strategies.selectors import strategy_dry_run
from records.customers.models import Customer
from tests.accounts.factories import UserFactory
from tests.insights.strategy_support import NOON, consent, customer, evaluate, event, strategy
from tests.support import assert_error, session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env", "eager_tasks")]

URL = "/api/v1/insights/strategies/"
VALID = {
    "key": "win-back",
    "name": "Win back",
    "trigger_kind": "stage_stayed",
    "stage": "lapsed",
    "stay_days": 30,
    "action_kind": "case",
    "action_params": {"subject": "Call to win back"},
    "metric_kind": "retention",
    "metric_days": 60,
}


# --- Reading and writing ------------------------------------------------------------------------


def test_an_admin_creates_a_strategy_and_the_holdout_defaults_to_ten_percent(admin_user):
    response = session_client(admin_user).post(URL, VALID, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["holdout_percent"] == 10
    assert Strategy.objects.get(key="win-back").stay_days == 30


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trigger_kind": "event", "stage": ""}, "event_pattern"),
        ({"stay_days": None}, "stay_days"),
        ({"action_kind": "message", "action_params": {"text": "Hi"}}, "consent_purpose"),
        ({"action_kind": "priority_boost", "action_params": {"points": 80}}, "action_params"),
        ({"action_params": {}}, "action_params"),
        ({"quiet_start": "22:00"}, "quiet_end"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"holdout_percent": 95}, "holdout_percent"),
        ({"metric_kind": "stage_reached"}, "metric_stage"),
        ({"ends_at": "2026-01-01T00:00:00Z", "starts_at": "2026-02-01T00:00:00Z"}, "ends_at"),
        ({"trigger_kind": "score_crossed", "score_key": "churn_risk"}, "score_threshold"),
        ({"audience_value_tiers": ["diamond"]}, "audience_value_tiers"),
        ({"key": "Not A Slug"}, "key"),
    ],
)
def test_invalid_strategies_are_refused_by_field_and_nothing_is_saved(admin_user, change, field):
    response = session_client(admin_user).post(URL, {**VALID, **change}, format="json")
    body = assert_error(response, 400)
    assert field in body["fields"], body
    assert not Strategy.objects.exists()


def test_a_taken_key_is_refused_and_a_key_never_changes(admin_user):
    client = session_client(admin_user)
    assert client.post(URL, VALID, format="json").status_code == 201
    assert "key" in assert_error(client.post(URL, VALID, format="json"), 400)["fields"]
    response = client.patch(f"{URL}win-back/", {"name": "Win them back", "holdout_percent": 20}, format="json")
    assert response.status_code == 200 and response.json()["holdout_percent"] == 20
    assert_error(client.patch(f"{URL}win-back/", {"key": "other"}, format="json"), 400)
    assert_error(client.patch(f"{URL}win-back/", {"cap_days": 0}, format="json"), 400)
    assert Strategy.objects.get().cap_days == 7


def test_supervisors_read_but_do_not_write_agents_neither(supervisor, agent):
    strategy("welcome")
    assert session_client(supervisor).get(URL).status_code == 200
    assert_error(session_client(supervisor).post(URL, VALID, format="json"), 403)
    assert_error(session_client(supervisor).patch(f"{URL}welcome/", {"name": "X"}, format="json"), 403)
    assert_error(session_client(agent).get(URL), 403)
    assert_error(session_client(agent).get(f"{URL}welcome/"), 403)
    assert Strategy.objects.get().name == "Welcome"


def test_an_api_token_needs_insights_read_and_cannot_write(integration_user):
    strategy("welcome")
    assert token_client(integration_user, scopes=["insights:read"]).get(f"{URL}welcome/").status_code == 200
    assert_error(token_client(integration_user, scopes=["customers:read"]).get(URL), 403)
    assert_error(token_client(integration_user, scopes=["insights:read"]).post(URL, VALID, format="json"), 403)
    # a dry-run of an unsaved strategy only reads: the read scope is enough
    assert (
        token_client(integration_user, scopes=["insights:read"])
        .post(f"{URL}dry-run/", VALID, format="json")
        .status_code
        == 200
    )
    assert_error(session_client(integration_user).get(f"{URL}no-such/"), 404)


# --- Figures by team ----------------------------------------------------------------------------


@pytest.fixture
def fired_in_both_teams(team_a, team_b):
    s = strategy("welcome", cap_firings=5)
    for team in (team_a, team_a, team_b):
        evaluate(event(customer(team)), now=NOON)
    strategy_effects_compute(strategy=s)
    return s


def test_a_supervisor_sees_their_teams_firings_and_effects_an_admin_all(
    supervisor, admin_user, team_a, fired_in_both_teams
):
    mine = session_client(supervisor).get(f"{URL}welcome/effect/").json()
    everyone = session_client(admin_user).get(f"{URL}welcome/effect/").json()
    assert (mine["firings"]["fired"], everyone["firings"]["fired"]) == (2, 3)
    assert [row["team"] for row in mine["effects"]] == ["Team A"]
    assert [row["team"] for row in everyone["effects"]] == [None, "Team A", "Team B"]
    assert everyone["effects"][0]["treated"] == 3 and everyone["effects"][0]["effect_claimed"] is False


def test_the_pages_are_for_supervisors_and_admins_scoped_by_team(
    client, supervisor, agent, team_b, fired_in_both_teams
):
    other_supervisor = UserFactory(username="supervisor.b", role="supervisor", teams=[team_b])
    client.force_login(supervisor)
    listing = client.get("/insights/strategies/")
    page = client.get("/insights/strategies/welcome/")
    assert listing.status_code == page.status_code == 200
    assert '<td data-testid="fired">2</td>' in listing.content.decode()
    assert "No effect claimed: fewer than 30 customers" in page.content.decode()
    client.force_login(other_supervisor)
    assert '<td data-testid="fired">1</td>' in client.get("/insights/strategies/").content.decode()
    client.force_login(agent)
    assert client.get("/insights/strategies/").status_code == 403
    assert client.get("/insights/strategies/welcome/").status_code == 403


def test_the_console_lets_admins_edit_and_supervisors_only_read(client, admin_user, supervisor):
    strategy("welcome")
    client.force_login(supervisor)
    assert client.get("/admin/insights/strategy/").status_code == 200
    assert client.get("/admin/insights/strategy/add/").status_code == 403
    client.force_login(admin_user)
    form = {
        "key": "console-made", "name": "From the console", "active": "on", "trigger_kind": "event",
        "event_pattern": "case.*", "action_kind": "priority_boost", "action_params": '{"points": 60}',
        "cap_firings": 1, "cap_days": 7, "time_zone": "UTC", "holdout_percent": 10,
        "metric_kind": "case_resolved", "metric_days": 7, "audience_personas": "", "audience_stages": "",
        "audience_segments": "", "audience_value_tiers": "",
        "propensity_from": "observed", "context_weights": "{}", "value": 1, "lever": 1,
    }  # fmt: skip
    refused = client.post("/admin/insights/strategy/add/", form)
    assert refused.status_code == 200 and "from -50 to 50" in refused.content.decode()
    saved = client.post("/admin/insights/strategy/add/", {**form, "action_params": '{"points": 15}'})
    assert saved.status_code == 302
    made = Strategy.objects.get(key="console-made")
    assert made.action_params == {"points": 15}
    renamed = {**form, "action_params": '{"points": 15}', "name": "Renamed", "holdout_percent": 20}
    changed = client.post(f"/admin/insights/strategy/{made.pk}/change/", renamed)
    assert changed.status_code == 302
    made.refresh_from_db()
    assert (made.name, made.holdout_percent, made.key) == ("Renamed", 20, "console-made")


# --- Dry-run ------------------------------------------------------------------------------------


def test_the_dry_run_counts_by_reason_and_records_nothing(team_a, team_b, admin_user, supervisor):
    s = strategy(
        "offer", action_kind="message", action_params={"text": "An offer"}, consent_purpose="marketing",
        audience_segments=["retail"], holdout_percent=30,
    )  # fmt: skip
    people = [customer(team_a, segment="retail") for _ in range(10)]
    customer(team_a, segment="sme")  # outside the audience
    other_team = customer(team_b, segment="retail")
    consent(other_team, "email")
    for person in people[:8]:
        consent(person, "email")
    capped = people[0]
    StrategyFiring.objects.create(strategy=s, customer=capped, occasion="earlier", group="treatment",
                                  outcome="fired", at=NOON - dt.timedelta(days=1))  # fmt: skip
    consented = people[1:8]
    held = [p for p in consented if in_holdout(strategy_key="offer", customer_id=p.pk, percent=30)]
    # When an admin and a supervisor of team A ask
    everyone = strategy_dry_run(user=admin_user, strategy=s, now=NOON)
    mine = strategy_dry_run(user=supervisor, strategy=s, now=NOON)
    # Then
    other_held = int(in_holdout(strategy_key="offer", customer_id=other_team.pk, percent=30))
    assert (mine.in_audience, mine.capped, mine.no_consent, mine.holdout, mine.quiet_hours) == (10, 1, 2, len(held), 0)
    assert mine.would_fire == 7 - len(held)
    assert {c.pk for c in mine.sample} == {p.pk for p in consented} - {p.pk for p in held}
    assert everyone.in_audience == 11 and everyone.would_fire == mine.would_fire + 1 - other_held
    assert StrategyFiring.objects.count() == 1


def test_the_dry_run_api_takes_a_saved_or_an_unsaved_strategy_and_quiet_hours_count(admin_user, team_a):
    customer(team_a, journey_stage="lapsed", journey_stage_since=NOON - dt.timedelta(days=40))
    strategy("saved", trigger_kind="stage_stayed", event_pattern="", stage="lapsed", stay_days=30)
    client = session_client(admin_user)
    saved = client.get(f"{URL}saved/dry-run/").json()
    assert (saved["in_audience"], saved["would_fire"]) == (1, 1)
    # The sample names no one: ids and teams (a customer's name needs customers:read)
    assert saved["sample"] == [{"id": Customer.objects.get(journey_stage="lapsed").pk, "team_id": team_a.pk}]
    quiet = {**VALID, "quiet_start": "00:00", "quiet_end": "23:59"}
    draft = client.post(f"{URL}dry-run/", quiet, format="json")
    assert draft.status_code == 200, draft.json()
    assert (draft.json()["in_audience"], draft.json()["quiet_hours"]) == (1, 1)
    assert_error(client.post(f"{URL}dry-run/", {**VALID, "stay_days": None}, format="json"), 400)
    assert not Strategy.objects.filter(key="win-back").exists()


def test_the_dry_run_page_fragment(client, supervisor, fired_in_both_teams):
    client.force_login(supervisor)
    response = client.get("/insights/strategies/welcome/dry-run/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="dry-in-audience">2<' in response.content.decode()


def test_the_console_s_firings_log_is_read_only_and_scoped_to_the_supervisor_s_teams(
    client, supervisor, team_b, fired_in_both_teams
):
    client.force_login(supervisor)
    listing = client.get("/admin/insights/strategyfiring/")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2  # team A's two, not team B's one
    other = StrategyFiring.objects.get(customer__team=team_b)
    assert client.get(f"/admin/insights/strategyfiring/{other.pk}/change/").status_code in (302, 404)
    assert client.get("/admin/insights/strategyfiring/add/").status_code == 403


def test_the_dry_run_of_a_score_trigger_counts_numbers_beyond_the_threshold_only(admin_user, team_a):
    low = strategy(
        "low-propensity", trigger_kind="score_crossed", event_pattern="", score_key="propensity",
        score_threshold=0.3, score_direction="below",
    )  # fmt: skip
    customer(team_a, scores={"propensity": 0.1})
    customer(team_a, scores={"propensity": 0.9})
    customer(team_a, scores={"propensity": "low"})  # text is never beyond
    customer(team_a, scores={})
    assert strategy_dry_run(user=admin_user, strategy=low, now=NOON).in_audience == 1


def test_the_strategy_page_draws_the_effect_from_the_same_figures_as_its_table(client, admin_user, fired_in_both_teams):
    client.force_login(admin_user)
    response = client.get("/insights/strategies/welcome/")
    assert response.context["chart"] == [
        {"label": "All teams", "treated": 0.0, "holdout": None},
        {"label": "Team A", "treated": 0.0, "holdout": None},
        {"label": "Team B", "treated": 0.0, "holdout": None},
    ]
    assert 'id="strategy-effect-data"' in response.content.decode()
