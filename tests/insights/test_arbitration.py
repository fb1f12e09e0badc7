"""Arbitration between eligible strategies (priority = propensity × context weight × value × lever, top N,
"outranked"), the random control group, and the uplift against it by scikit-uplift; pages and API."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
from sklift.metrics import qini_auc_score, qini_curve, uplift_auc_score

from cea.common.channels import Channel
from engagement.conversations.services import conversation_start
from insights.strategies.arbitration import control_order, in_control
from insights.strategies.index import strategy_index_invalidate
from insights.strategies.models import ArbitrationUplift, Strategy, StrategyFiring
from insights.strategies.uplift import arbitration_uplift_compute
from records.journey.services import journey_record
from tests.insights.strategy_support import NOON, customer, evaluate, strategy
from tests.support import assert_error, session_client, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wallboard_env", "eager_tasks")]

URL = "/api/v1/insights/strategies/"


@pytest.fixture(autouse=True)
def no_control_group(settings):
    settings.CEA_ARBITRATION_CONTROL_PERCENT = 0


def nba(key: str, **fields) -> Strategy:
    return strategy(
        key, action_kind="next_best_action", action_params={"title": key.title(), "detail": "Say it."}, **fields
    )


def on_chat(person):
    return journey_record(
        customer=person, kind="interaction.recorded", channel="chat", summary="chat", source_system="records"
    )


def decided(person) -> dict[str, tuple[str, str, float | None]]:
    rows = StrategyFiring.objects.filter(customer=person).select_related("strategy")
    return {f.strategy.key: (f.outcome, f.reason if f.outcome == "suppressed" else "", f.priority) for f in rows}


@pytest.fixture
def three_actions():
    """Three NBA strategies whose priorities on a chat, in a live conversation, are 2.4, 1.0 and 1.2."""
    nba("alpha", propensity_from="score", context_weights={"chat": 1.5}, value=2, lever=1)
    nba("bravo", value=4, lever=0.5)  # observed 0 of 0: 0.5
    nba("charlie", context_weights={"chat": 0.5, "live": 3}, value=1, lever=2)
    Strategy.objects.filter(key="charlie").update(observed_successes=3, observed_tries=8)  # (3+1)/(8+2) = 0.4
    strategy_index_invalidate()


# --- Ranking ------------------------------------------------------------------------------------


def test_priority_is_the_product_of_the_four_components_and_the_top_n_are_kept(team_a, settings, three_actions):
    # Given Ada, propensity score 0.8, in a live chat; the card keeps 2
    settings.CEA_ARBITRATION_NBA_TOP = 2
    ada = customer(team_a, scores={"propensity": 0.8})
    conversation_start(channel=Channel.CHAT, customer=ada)
    # When a chat interaction of hers is evaluated
    evaluate(on_chat(ada), now=NOON)
    # Then alpha = 0.8 × 1.5 × 2 × 1 = 2.4 and charlie = 0.4 × (0.5 × 3) × 1 × 2 = 1.2 are offered, bravo
    # = 0.5 × 1 × 4 × 0.5 = 1.0 is outranked
    assert decided(ada) == {
        "alpha": ("fired", "", 2.4), "charlie": ("fired", "", 1.2), "bravo": ("suppressed", "outranked", 1.0),
    }  # fmt: skip
    charlie = StrategyFiring.objects.get(strategy__key="charlie").components
    assert charlie == {
        "propensity": 0.4, "propensity_from": "observed", "observed": [3, 8], "context_weight": 1.5,
        "channel": "chat", "live": True, "value": 1.0, "lever": 2.0, "priority": 1.2,
        "rank": 2, "eligible": 3, "control": False,
    }  # fmt: skip
    from engagement.recommendations.selectors import recommendations_open_for

    assert [(a.source_key, a.score) for a in recommendations_open_for(customer_id=ada.pk)] == [
        ("strategy:alpha", 2.4), ("strategy:charlie", 1.2),
    ]  # fmt: skip


def test_without_a_score_or_a_live_conversation_the_components_fall_back(team_a, three_actions):
    # Given Bob, no propensity score, his only conversation ended: alpha's propensity is its observed 0.5
    bob = customer(team_a)
    ended, _ = conversation_start(channel=Channel.CHAT, customer=bob)
    type(ended).objects.filter(pk=ended.pk).update(status="ended")
    evaluate(on_chat(bob), now=NOON)
    # Then alpha 0.5 × 1.5 × 2 = 1.5, bravo 1.0, charlie 0.4 × 0.5 × 2 = 0.4; the card keeps 3 by default
    assert decided(bob) == {
        "alpha": ("fired", "", 1.5), "bravo": ("fired", "", 1.0), "charlie": ("fired", "", 0.4),
    }  # fmt: skip
    alpha, charlie = (StrategyFiring.objects.get(strategy__key=key).components for key in ("alpha", "charlie"))
    assert (alpha["propensity_from"], charlie["live"], charlie["context_weight"]) == ("observed", False, 0.5)


def test_an_admin_tunes_a_lever_through_the_api_and_the_next_occasion_ranks_by_it(
    team_a, settings, admin_user, three_actions
):
    settings.CEA_ARBITRATION_NBA_TOP = 1
    client = session_client(admin_user)
    response = client.patch(f"{URL}bravo/", {"lever": 5, "context_weights": {"chat": 2}}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["lever"], response.json()["context_weights"]) == (5.0, {"chat": 2})
    ada = customer(team_a, scores={"propensity": 0.8})
    evaluate(on_chat(ada), now=NOON)
    # bravo is now 0.5 × 2 × 4 × 5 = 20
    assert decided(ada) == {
        "bravo": ("fired", "", 20.0), "alpha": ("suppressed", "outranked", 2.4),
        "charlie": ("suppressed", "outranked", 0.4),
    }  # fmt: skip


def test_proactive_actions_keep_one_per_occasion_by_default_apart_from_the_card(team_a):
    strategy("boost-small", value=1)
    strategy("boost-big", value=3)
    nba("card")
    ada = customer(team_a)
    evaluate(on_chat(ada), now=NOON)
    assert decided(ada) == {
        "boost-big": ("fired", "", 1.5), "boost-small": ("suppressed", "outranked", 0.5), "card": ("fired", "", 0.5),
    }  # fmt: skip


def test_a_kept_action_still_meets_its_own_holdout(team_a):
    nba("held", holdout_percent=90)
    people = [customer(team_a) for _ in range(10)]
    for person in people:
        evaluate(on_chat(person), now=NOON)
    from insights.strategies.rules import in_holdout

    expected = {p.pk: "held_out" if in_holdout(strategy_key="held", customer_id=p.pk, percent=90) else "fired"
                for p in people}  # fmt: skip
    assert {f.customer_id: f.outcome for f in StrategyFiring.objects.all()} == expected


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lever": -1}, "lever"),
        ({"lever": 101}, "lever"),
        ({"value": "much"}, "value"),
        ({"context_weights": {"fax": 2}}, "context_weights"),
        ({"context_weights": {"chat": -1}}, "context_weights"),
        ({"context_weights": [1, 2]}, "context_weights"),
        ({"propensity_from": "guess"}, "propensity_from"),
        ({"action_params": {"title": "T", "detail": "D", "expires_hours": 0}}, "action_params"),
    ],
)
def test_invalid_components_are_refused_by_field_and_nothing_changes(admin_user, change, field):
    nba("card")
    body = assert_error(session_client(admin_user).patch(f"{URL}card/", change, format="json"), 400)
    assert field in body["fields"], body
    card = Strategy.objects.get(key="card")
    assert (card.lever, card.value, card.context_weights, card.propensity_from) == (1.0, 1.0, {}, "observed")


def test_the_arbitration_key_is_reserved(admin_user):
    response = session_client(admin_user).post(
        URL,
        {"key": "arbitration", "name": "A", "trigger_kind": "event", "event_pattern": "x", "action_kind": "case",
         "action_params": {"subject": "S"}, "metric_kind": "case_resolved"},
        format="json",
    )  # fmt: skip
    assert "key" in assert_error(response, 400)["fields"]
    assert not Strategy.objects.exists()


# --- The random control group ---------------------------------------------------------------------


def test_the_control_split_is_stable_and_near_its_percentage():
    first = [in_control(customer_id=i, percent=5) for i in range(1, 20_001)]
    again = [in_control(customer_id=i, percent=5) for i in range(1, 20_001)]
    assert first == again
    assert 0.045 < sum(first) / len(first) < 0.055  # 5% ± 0.5 point (3 standard errors is 0.46)
    assert not any(in_control(customer_id=i, percent=0) for i in range(1, 1001))


def test_a_control_customer_gets_an_eligible_action_chosen_at_random(team_a, settings, three_actions):
    settings.CEA_ARBITRATION_CONTROL_PERCENT = 50
    settings.CEA_ARBITRATION_NBA_TOP = 1
    # Customers until two are in the control group: which ones are depends on their ids, and the ids on
    # which tests ran before in this process (eight alone left none in control under xdist's order).
    people: list = []
    while len([p for p in people if in_control(customer_id=p.pk, percent=50)]) < 2 and len(people) < 64:
        people.append(customer(team_a, scores={"propensity": 0.8}))
    controls = [p for p in people if in_control(customer_id=p.pk, percent=50)]
    assert len(controls) == 2
    for person in controls:
        happened = on_chat(person)
        evaluate(happened, now=NOON)
        # Then the one kept is the random order's first among the eligible (in key order), group control
        chosen = ["alpha", "bravo", "charlie"][control_order(3, seed=f"event:{happened.pk}:{person.pk}:desk")[0]]
        rows = StrategyFiring.objects.filter(customer=person).select_related("strategy")
        assert {f.strategy.key for f in rows if f.outcome == "fired"} == {chosen}
        assert {f.group for f in rows} == {"control"}
        assert all(f.components["control"] for f in rows)


# --- Uplift -----------------------------------------------------------------------------------------

# (team, group, priority, reached the stage after the firing)
FIRINGS = [
    ("a", "treatment", 0.9, True), ("a", "treatment", 0.8, True), ("a", "treatment", 0.4, False),
    ("a", "control", 0.7, True), ("a", "control", 0.3, False), ("a", "control", 0.6, False),
    ("b", "treatment", 0.5, True), ("b", "treatment", 0.2, False), ("b", "control", 0.1, True),
    ("b", "control", 0.95, False), ("b", "treatment", 0.65, False), ("b", "control", 0.55, False),
]  # fmt: skip


@pytest.fixture
def uplift_firings(team_a, team_b):
    s = strategy("onboard", metric_kind="stage_reached", metric_stage="loyalty", metric_days=30)
    teams = {"a": team_a, "b": team_b}
    for n, (team, group, priority, success) in enumerate(FIRINGS):
        since = NOON + dt.timedelta(days=2) if success else NOON - dt.timedelta(days=2)
        person = customer(teams[team], journey_stage="loyalty", journey_stage_since=since)
        StrategyFiring.objects.create(
            strategy=s, customer=person, occasion=f"u{n}", group=group, outcome="fired", priority=priority, at=NOON
        )
    # not counted: a held-out firing, a suppressed one
    StrategyFiring.objects.create(strategy=s, customer=person, occasion="h", group="holdout", outcome="held_out",
                                  priority=0.5, at=NOON)  # fmt: skip
    StrategyFiring.objects.create(strategy=s, customer=person, occasion="s", group="treatment", outcome="suppressed",
                                  reason="outranked", priority=0.5, at=NOON)  # fmt: skip


def sklift_figures(rows):
    y = np.array([int(r[3]) for r in rows])
    t = np.array([int(r[1] == "treatment") for r in rows])
    score = np.array([r[2] for r in rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        x_curve, y_curve = qini_curve(y, score, t)
        return qini_auc_score(y, score, t), uplift_auc_score(y, score, t), x_curve, y_curve


def test_the_uplift_figures_are_scikit_uplift_s_on_the_same_arrays(settings, team_a, team_b, uplift_firings):
    settings.CEA_ARBITRATION_UPLIFT_MIN = 2
    arbitration_uplift_compute(now=NOON + dt.timedelta(days=31))
    everyone = ArbitrationUplift.objects.get(team=None)
    qini, auuc, x_curve, y_curve = sklift_figures(FIRINGS)
    assert (everyone.treated, everyone.treated_successes, everyone.control, everyone.control_successes) == (6, 3, 6, 2)
    assert everyone.qini_auc == pytest.approx(qini, abs=1e-12) and everyone.uplift_auc == pytest.approx(auuc, abs=1e-12)
    assert everyone.curve == [[int(x), round(float(y), 6)] for x, y in zip(x_curve, y_curve, strict=True)]
    team_rows = [r for r in FIRINGS if r[0] == "a"]
    row_a = ArbitrationUplift.objects.get(team=team_a)
    qini_a, auuc_a, _, _ = sklift_figures(team_rows)
    assert (row_a.treated, row_a.control) == (3, 3)
    assert (row_a.qini_auc, row_a.uplift_auc) == (pytest.approx(qini_a, abs=1e-12), pytest.approx(auuc_a, abs=1e-12))


def test_below_the_minimum_the_uplift_says_not_enough_data(settings, uplift_firings):
    settings.CEA_ARBITRATION_UPLIFT_MIN = 7
    arbitration_uplift_compute(now=NOON + dt.timedelta(days=31))
    everyone = ArbitrationUplift.objects.get(team=None)
    assert (everyone.treated, everyone.control, everyone.qini_auc, everyone.curve) == (6, 6, None, [])
    assert everyone.note == "Not enough data: fewer than 7 firings in the arbitrated or the control group."


# --- Access ------------------------------------------------------------------------------------------


def test_the_arbitration_page_and_api_by_role_team_and_scope(
    settings, client, team_a, admin_user, supervisor, agent, integration_user, uplift_firings
):
    settings.CEA_ARBITRATION_UPLIFT_MIN = 2
    arbitration_uplift_compute(now=NOON + dt.timedelta(days=31))
    client.force_login(admin_user)
    page = client.get("/insights/strategies/arbitration/").content.decode()
    assert page.count('data-testid="uplift-row"') == 3 and "All teams" in page
    assert page.count('data-testid="qini-points"') == 3
    client.force_login(supervisor)
    mine = client.get("/insights/strategies/arbitration/").content.decode()
    assert mine.count('data-testid="uplift-row"') == 1 and "Team A" in mine and "Team B" not in mine
    client.force_login(agent)
    assert client.get("/insights/strategies/arbitration/").status_code == 403

    api = f"{URL}arbitration/"
    everyone = session_client(admin_user).get(api).json()
    assert [row["team"] for row in everyone["uplift"]] == [None, "Team A", "Team B"]
    assert everyone["settings"] == {"proactive_top": 1, "nba_top": 3, "control_percent": 0, "uplift_min": 2}
    assert [s["key"] for s in everyone["strategies"]] == ["onboard"]
    assert [row["team"] for row in session_client(supervisor).get(api).json()["uplift"]] == ["Team A"]
    assert_error(session_client(agent).get(api), 403)
    read = token_client(integration_user, scopes=["insights:read"]).get(api)
    assert read.status_code == 200 and len(read.json()["uplift"]) == 3
    assert_error(token_client(integration_user, scopes=["customers:read"]).get(api), 403)


def test_the_page_says_not_enough_data_before_any_uplift(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/insights/strategies/arbitration/").content.decode()
    assert 'data-testid="not-enough-data"' in page and "Not enough data" in page


def test_the_beat_computes_the_uplift(settings, team_a, uplift_firings):
    from insights.strategies.tasks import compute_uplift

    tasks = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks["insights.strategies.compute_uplift"]["schedule"] == 3600.0
    # 12 firings, 2 teams: the rows of all customers and of each team
    assert compute_uplift.delay().get() == 3
    assert ArbitrationUplift.objects.get(team=None).note.startswith("Not enough data: fewer than 100")


def test_the_strategy_page_shows_the_components_of_its_firings(client, team_a, admin_user, three_actions):
    ada = customer(team_a, scores={"propensity": 0.8})
    evaluate(on_chat(ada), now=NOON)
    client.force_login(admin_user)
    page = client.get("/insights/strategies/charlie/").content.decode()
    assert "priority = propensity (observed: 3 of 8, smoothed) × context weight (chat 0.5, live 3)" in page
    assert '<td data-testid="firing-priority">0.400</td>' in page
    assert "<li>Priority 0.400 = propensity 0.40 × context 0.50 × value 1 × lever 2</li>" in page


def test_time_triggers_meeting_a_customer_at_the_same_occasion_are_arbitrated_together(team_a, settings):
    from insights.strategies.services import strategies_evaluate_time_triggers

    # Given two daily schedules at 09:00 for the same customers, one worth more, and the chunks small
    settings.CEA_STRATEGIES_CUSTOMER_CAP = 10
    for key, value in (("daily-low", 1), ("daily-high", 3)):
        strategy(key, trigger_kind="schedule", event_pattern="", schedule_time=dt.time(9, 0), value=value)
    people = [customer(team_a) for _ in range(3)]
    # When the schedules run
    assert strategies_evaluate_time_triggers(now=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)) == 6
    # Then each customer gets the better one; the other is outranked
    for person in people:
        assert decided(person) == {"daily-high": ("fired", "", 1.5), "daily-low": ("suppressed", "outranked", 0.5)}


def test_time_trigger_chunks_keep_a_customer_s_candidates_together(monkeypatch):
    from insights.strategies import services
    from insights.strategies.evaluation import Candidate
    from records.customers.models import Customer

    monkeypatch.setattr(services, "TIME_TRIGGER_CHUNK", 2)
    s = Strategy(key="s")
    candidates = [Candidate(s, Customer(pk=pk), f"o{n}") for n, pk in enumerate([3, 1, 2, 1, 2, 2])]
    chunks = services._chunks(candidates)
    assert [[(c.customer.pk, c.occasion) for c in chunk] for chunk in chunks] == [
        [(1, "o1"), (1, "o3")], [(2, "o2"), (2, "o4"), (2, "o5")], [(3, "o0")],
    ]  # fmt: skip


def test_the_uplift_reads_next_best_action_acceptances_within_the_window(team_a, agent):
    from django.utils import timezone

    from engagement.recommendations.services import recommendation_decide, recommendation_offer

    # Given an NBA strategy judged on acceptance within a day: Ada (arbitrated) accepts, Bob (control)
    # dismisses, Cleo (arbitrated) accepts three days after her firing
    s = nba("card", metric_kind="nba_accepted", metric_days=1)
    now = timezone.now()
    for person, group, days_ago, accepted in (
        (customer(team_a), "treatment", 0, True), (customer(team_a), "control", 0, False),
        (customer(team_a), "treatment", 3, True),
    ):  # fmt: skip
        at = now - dt.timedelta(days=days_ago, minutes=5)
        StrategyFiring.objects.create(strategy=s, customer=person, occasion=f"o{person.pk}", group=group,
                                      outcome="fired", priority=0.5, at=at)  # fmt: skip
        offered = recommendation_offer(actor=None, customer=person, source_key="strategy:card", title="Card",
                                       detail="", reasons=[], score=0.5)  # fmt: skip
        recommendation_decide(actor=agent, recommendation_id=offered.pk, accepted=accepted)
    # When the uplift is computed
    arbitration_uplift_compute()
    # Then only Ada's acceptance counts
    row = ArbitrationUplift.objects.get(team=None)
    assert (row.treated, row.treated_successes, row.control, row.control_successes) == (2, 1, 1, 0)
