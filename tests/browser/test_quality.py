"""A supervisor evaluates a sampled interaction with its transcript beside the scorecard, submits, sees
the score; the agent then sees the evaluation and acknowledges it — with no error in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from insights.quality.models import Evaluation, EvaluationStatus
from insights.quality.sampling import sample_week, week_start_of
from tests.accounts.factories import TeamFactory, UserFactory
from tests.browser.helpers import sign_in
from tests.insights.quality_support import ids, interaction, scorecard

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_evaluates_a_sampled_interaction_and_the_agent_acknowledges(new_context):
    # Given an unhappy customer's chat of north's agent, sampled into the queue
    north = TeamFactory(name="north")
    agent = UserFactory(username="agent.north", role="agent", teams=[north])
    lead = UserFactory(username="lead.north", role="supervisor", teams=[north])
    contact = interaction(team=north, agent=agent, satisfaction=1)
    sample_week(week_start=week_start_of(contact.ended_at.date()), per_agent=0)
    card = scorecard("Chats")
    questions = ids(card)
    page = new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, lead, next_path="/insights/quality/")

    # When the supervisor opens the queue item and starts an evaluation with "Chats"
    expect(page.get_by_test_id(f"qa-item-{contact.pk}")).to_contain_text("Low satisfaction")
    page.get_by_test_id(f"qa-item-{contact.pk}").get_by_test_id("qa-evaluate").click()
    page.get_by_test_id("qa-scorecard").select_option(label="Chats (v1)")
    page.get_by_test_id("qa-start").click()
    # Then the transcript is beside the form
    expect(page.get_by_test_id("qa-transcript")).to_contain_text("My parcel never came.")
    expect(page.get_by_test_id("qa-form")).to_be_visible()

    # When they answer every question and submit
    page.get_by_test_id(f"qa-answer-{questions['Greeting']}-yes").check()
    page.get_by_test_id(f"qa-answer-{questions['Resolved']}-3").check()
    page.get_by_test_id(f"qa-answer-{questions['Empathy']}-na").check()
    page.get_by_test_id(f"qa-answer-{questions['Disclosure']}-yes").check()
    page.get_by_test_id("qa-comment").fill("Clear and kind.")
    page.get_by_test_id("qa-submit").click()
    # Then the score shows
    expect(page.get_by_test_id("qa-score")).to_contain_text("87.5%")
    expect(page.get_by_test_id("qa-status")).to_have_text("Submitted")

    # When the agent opens their evaluations and acknowledges it
    agent_page = new_context().new_page()
    agent_page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(agent_page, agent, next_path="/insights/quality/mine/")
    evaluation = Evaluation.objects.get()
    agent_page.get_by_test_id(f"qa-evaluation-row-{evaluation.pk}").get_by_role("link").click()
    expect(agent_page.get_by_test_id("qa-score")).to_contain_text("87.5%")
    agent_page.get_by_test_id("qa-acknowledge").click()
    # Then it is acknowledged, and recorded
    expect(agent_page.get_by_test_id("qa-status")).to_have_text("Acknowledged by the agent")
    expect(agent_page.get_by_test_id("qa-acknowledged")).to_be_visible()
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.evaluator_id, evaluation.comment) == (
        EvaluationStatus.ACKNOWLEDGED,
        lead.pk,
        "Clear and kind.",
    )
    assert errors == []
