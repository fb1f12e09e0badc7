"""The loop in a real browser: an administrator's next-best-action strategy fires on a journey event of a
customer whose conversation is on the agent's desk, the card shows it live with its reasons, the agent
accepts it, and the strategy's page counts the acceptance."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cea.common.live import push_now
from engagement.context.models import ContextScope
from engagement.context.services import context_write, live_group
from insights.strategies.tasks import compute_effects, evaluate_events
from records.journey.services import journey_record
from tests.accounts.factories import UserFactory
from tests.browser.helpers import Desk, eventually, sign_in
from tests.engagement.desktop_support import on_desk
from tests.records.factories import CustomerFactory
from tests.support import session_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_strategy_s_next_best_action_reaches_the_desk_live_and_its_acceptance_counts(
    new_context, asgi_server, settings, team_a, agent
):
    settings.CEA_ARBITRATION_CONTROL_PERCENT = 0  # Ada gets arbitration's choice, not a random one
    # Given an administrator's strategy: on a complaint, offer the loyalty discount on the desk
    admin = UserFactory(username="admin.loop", role="admin")
    made = session_client(admin).post(
        "/api/v1/insights/strategies/",
        {
            "key": "complaint-discount", "name": "Complaint discount", "trigger_kind": "event",
            "event_pattern": "complaint.logged", "action_kind": "next_best_action",
            "action_params": {"title": "Offer a loyalty discount", "detail": "10% off the next renewal."},
            "metric_kind": "nba_accepted", "metric_days": 7, "holdout_percent": 0, "value": 2, "lever": 1.5,
        },
        format="json",
    )  # fmt: skip
    assert made.status_code == 201, made.json()
    # And Ada in a chat on the agent's desk, the desk open and live
    ada = CustomerFactory(team=team_a, given_name="Ada", family_name="Lovelace")
    conversation = on_desk(agent, customer=ada)
    evaluate_events()  # the first run starts the watermark at the newest event
    page = new_context().new_page()
    sign_in(page, agent, next_path="/desk/")
    desk = Desk(page)
    expect(desk.connection).to_have_attribute("data-state", "open")
    card = desk.panel(conversation.pk).locator("[data-testid=next-best-action]")
    expect(card.get_by_test_id("no-recommendations")).to_be_visible()

    # When a complaint of Ada's is recorded and the beat's evaluation runs
    journey_record(customer=ada, kind="complaint.logged", channel="chat", summary="Complaint", source_system="records")
    assert evaluate_events() == 1

    # Then the card shows the action without a reload, scored by its priority 0.5 × 1 × 2 × 1.5, with why
    action = card.get_by_test_id("recommendation")
    expect(action).to_have_count(1)
    expect(action.locator(".recommendation-title")).to_have_text("Offer a loyalty discount")
    expect(action.locator(".score")).to_have_text("1.50")
    expect(action.locator(".reasons li").first).to_have_text(
        "Strategy Complaint discount: on the journey event complaint.logged"
    )
    expect(action.locator(".reasons li").nth(1)).to_have_text(
        "Priority 1.500 = propensity 0.50 × context 1.00 × value 2 × lever 1.5"
    )

    # When the agent accepts it
    action.get_by_test_id("recommendation-accept").click()
    expect(card.locator("[role=status]")).to_have_text("Accepted: Offer a loyalty discount.")
    eventually(
        lambda: ada.recommended_actions.filter(status="accepted").exists() or None, what="the acceptance recorded"
    )
    # And when the push of that decision reaches the desk after its answer, the card stays as the
    # answer rendered it (it is current): a context change pushed after it shows, and by then the
    # card has neither been replaced nor started reading itself again (htmx marks that at once)
    accepted = ada.recommended_actions.get(status="accepted")
    card.evaluate("element => { element.dataset.probe = 'answered' }")
    group = live_group(scope=ContextScope.CUSTOMER, context_id=ada.pk)
    push_now(group, {"type": "recommendations.changed", "customer": ada.pk, "decided": accepted.pk})
    context_write(
        actor=None, scope=ContextScope.CONVERSATION, context_id=conversation.pk, values={"probe": "after-the-push"}
    )
    expect(desk.panel(conversation.pk).get_by_text("after-the-push")).to_be_visible()
    assert card.evaluate("element => element.dataset.probe + ' ' + element.classList.contains('htmx-request')") == (
        "answered false"
    )
    expect(card.locator("[role=status]")).to_have_text("Accepted: Offer a loyalty discount.")
    # While any other change of Ada's actions reads it again
    push_now(group, {"type": "recommendations.changed", "customer": ada.pk, "decided": None})
    expect(card.locator("[role=status]")).to_have_count(0)
    expect(card.get_by_test_id("no-recommendations")).to_be_visible()
    compute_effects()

    # Then the strategy's page counts the acceptance, in its figures and its effect
    admin_page = new_context().new_page()
    sign_in(admin_page, admin, next_path="/insights/strategies/complaint-discount/")
    expect(admin_page.get_by_test_id("nba-offered")).to_have_text("1")
    expect(admin_page.get_by_test_id("nba-accepted")).to_have_text("1")
    all_teams = admin_page.get_by_test_id("effect-row").first
    expect(all_teams.locator("td").nth(1)).to_have_text("1")  # treated
    expect(all_teams.locator("td").nth(2)).to_have_text("100.0%")  # accepted of treated
    expect(admin_page.get_by_test_id("firing-priority").first).to_have_text("1.500")


def test_the_arbitration_page_draws_the_qini_curve_beside_its_table(new_context, settings):
    import datetime as dt

    from insights.strategies.models import StrategyFiring
    from insights.strategies.uplift import arbitration_uplift_compute
    from tests.accounts.factories import TeamFactory
    from tests.insights.strategy_support import NOON, customer, strategy

    # Given arbitrated and control firings, half of them reaching the stage, the uplift computed
    settings.CEA_ARBITRATION_UPLIFT_MIN = 2
    north = TeamFactory(name="north")
    s = strategy("onboard", metric_kind="stage_reached", metric_stage="loyalty", metric_days=30)
    for n, (group, success) in enumerate([("treatment", True), ("treatment", False), ("control", True),
                                          ("control", False), ("treatment", True), ("control", False)]):  # fmt: skip
        since = NOON + dt.timedelta(days=1 if success else -1)
        person = customer(north, journey_stage="loyalty", journey_stage_since=since)
        StrategyFiring.objects.create(strategy=s, customer=person, occasion=f"o{n}", group=group, outcome="fired",
                                      priority=1 - n / 10, at=NOON)  # fmt: skip
    arbitration_uplift_compute(now=NOON + dt.timedelta(days=31))
    admin = UserFactory(username="admin.qini", role="admin")
    page = new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, admin, next_path="/insights/strategies/")
    # When the admin follows the list's link to arbitration
    page.get_by_test_id("arbitration-link").click()
    # Then the Qini curves are drawn (all teams and north, each beside its random line) with their tables
    expect(page.locator("#arbitration-qini-chart svg")).to_be_visible()
    series = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('arbitration-qini-chart'))"
        ".getOption().series.map(s => s.name)"
    )
    assert series == ["All teams", "All teams (random)", "north", "north (random)"]
    expect(page.get_by_test_id("qini-points")).to_have_count(2)
    expect(page.get_by_test_id("qini-auc")).to_have_count(2)
    assert errors == []
