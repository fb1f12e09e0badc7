"""Calibration (independent scores, then the spread), QA reports by scope, and the personal data hooks."""

from __future__ import annotations

import pytest

from cea.common.errors import PermissionDenied, ValidationFailed
from insights.quality.access import access_calibration, calibration_results_visible, evaluations_visible_to
from insights.quality.models import Evaluation, EvaluationAnswer
from insights.quality.personal_data import erase_for_customer, export_for_customer
from insights.quality.selectors import calibration_results, evaluations_submitted, quality_report
from insights.quality.services import (
    AnswerInput,
    calibration_create,
    evaluation_create,
    evaluation_dispute,
    evaluation_save,
)
from tests.accounts.factories import UserFactory
from tests.insights.quality_support import answers, full, interaction, scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture
def card():
    return scorecard()


def test_each_evaluator_scores_alone_then_sees_the_spread(team_a, agent, supervisor, card):
    # Given a session of two supervisors of team A on one interaction
    second = UserFactory(username="supervisor.a2", role="supervisor", teams=[team_a])
    contact = interaction(team=team_a, agent=agent)
    session = calibration_create(
        actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk, evaluator_ids=[supervisor.pk, second.pk]
    )
    mine, theirs = (session.evaluations.get(evaluator=user) for user in (supervisor, second))
    # When the first submits
    evaluation_save(actor=supervisor, evaluation=mine, answers=full(card), submit=True)
    # Then the second cannot see the results yet, nor the first's evaluation; the first can
    assert calibration_results_visible(second, session) is False
    assert calibration_results_visible(supervisor, session) is True
    assert mine not in evaluations_visible_to(second)
    # When the second submits a different view (greeting no, resolved 1 of 4)
    evaluation_save(
        actor=second,
        evaluation=theirs,
        answers=answers(card, Greeting="no", Resolved="1", Empathy="na", Disclosure="yes"),
        submit=True,
    )
    # Then the spread: 87.5 and 37.5 (1.5 of 4 applicable), mean 62.5, std dev 25
    results = calibration_results(session=session)
    assert [score for _, score, _, _ in results.scores] == [87.5, 37.5]
    assert (results.mean, results.minimum, results.maximum, results.std_dev) == (62.5, 37.5, 87.5, 25.0)
    agreement = {item.question["text"]: (item.agree, item.spread) for item in results.questions}
    assert agreement == {
        "Greeting": (False, 1.0),
        "Resolved": (False, 0.5),
        "Empathy": (True, None),
        "Disclosure": (True, 0.0),
    }
    # And calibration evaluations stay out of the agent's view and the reports
    assert list(evaluations_visible_to(agent)) == []
    assert evaluations_submitted(team_ids=None, agent_id=None).count() == 0


def test_a_session_needs_two_evaluators_who_may_evaluate_the_interaction(team_a, team_b, agent, supervisor, card):
    contact = interaction(team=team_a, agent=agent)
    outsider = UserFactory(role="supervisor", teams=[team_b])
    with pytest.raises(ValidationFailed):
        calibration_create(
            actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk, evaluator_ids=[supervisor.pk]
        )
    with pytest.raises(ValidationFailed) as refused:
        calibration_create(
            actor=supervisor,
            interaction_id=contact.pk,
            scorecard_id=card.pk,
            evaluator_ids=[supervisor.pk, outsider.pk],
        )
    assert "evaluators" in refused.value.fields
    with pytest.raises(PermissionDenied):
        calibration_create(
            actor=outsider, interaction_id=contact.pk, scorecard_id=card.pk, evaluator_ids=[supervisor.pk, outsider.pk]
        )


def test_another_team_s_supervisor_and_agents_cannot_open_a_session(
    team_a, team_b, agent, supervisor, card, admin_user
):
    contact = interaction(team=team_a, agent=agent)
    session = calibration_create(
        actor=admin_user, interaction_id=contact.pk, scorecard_id=card.pk, evaluator_ids=[supervisor.pk, admin_user.pk]
    )
    for user in (UserFactory(role="supervisor", teams=[team_b]), agent):
        with pytest.raises(PermissionDenied):
            access_calibration(user, session.pk)
    assert access_calibration(supervisor, session.pk) == session


def _evaluate(actor, contact, card, **kwargs) -> Evaluation:
    return evaluation_create(
        actor=actor, interaction_id=contact.pk, scorecard_id=card.pk, answers=full(card, **kwargs), submit=True
    )


def test_reports_by_agent_with_auto_fail_and_dispute_rates_in_the_reader_s_scope(
    team_a, team_b, agent, agent_b, supervisor, admin_user, card
):
    # Given two evaluations for agent A (one auto-failed, then disputed) and one for agent B
    failed = _evaluate(supervisor, interaction(team=team_a, agent=agent), card, disclosure="no")
    _evaluate(supervisor, interaction(team=team_a, agent=agent), card)
    evaluation_dispute(actor=agent, evaluation=failed, reason="Disclosure was given")
    _evaluate(admin_user, interaction(team=team_b, agent=agent_b), card)
    # Then the supervisor of team A reads agent A only; the admin both
    supervisors = quality_report(
        evaluations=evaluations_submitted(team_ids={team_a.pk}, agent_id=None), group_by="agent"
    )
    assert supervisors == [
        {"key": "agent.a", "evaluations": 2, "mean_score": 43.8, "auto_fail_rate": 0.5, "dispute_rate": 0.5}
    ]
    admins = quality_report(evaluations=evaluations_submitted(team_ids=None, agent_id=None), group_by="team")
    assert [(row["key"], row["evaluations"]) for row in admins] == [("Team A", 2), ("Team B", 1)]
    by_queue = quality_report(evaluations=evaluations_submitted(team_ids=None, agent_id=agent_b.pk), group_by="queue")
    assert by_queue == [
        {"key": "billing", "evaluations": 1, "mean_score": 87.5, "auto_fail_rate": 0.0, "dispute_rate": 0.0}
    ]


def test_erasure_blanks_free_text_and_keeps_scores(team_a, agent, supervisor, card):
    # Given an evaluation quoting the customer, disputed
    contact = interaction(team=team_a, agent=agent)
    given = full(card)
    first_question = next(iter(given))
    given[first_question] = AnswerInput(answer="yes", comment="Ada said her card ends 4242")
    done = evaluation_create(
        actor=supervisor,
        interaction_id=contact.pk,
        scorecard_id=card.pk,
        answers=given,
        comment="Customer Ada Lovelace was upset",
        submit=True,
    )
    evaluation_dispute(actor=agent, evaluation=done, reason="Ada asked twice")
    exported = export_for_customer(contact.customer_id)
    assert [(row["evaluation"], row["comment"], row["dispute_reason"]) for row in exported] == [
        (done.pk, "Customer Ada Lovelace was upset", "Ada asked twice")
    ]
    assert exported[0]["answer_comments"] == [{"question": first_question, "comment": "Ada said her card ends 4242"}]
    # When erased (twice)
    assert erase_for_customer(contact.customer_id) == 2
    assert erase_for_customer(contact.customer_id) == 0
    # Then the text is gone, history copies included, the score kept
    done.refresh_from_db()
    assert (done.comment, done.dispute_reason, done.score) == ("", "", 87.5)
    assert list(EvaluationAnswer.objects.exclude(comment="")) == []
    history = done.events.all()
    assert history.count() >= 2
    assert set(history.values_list("comment", flat=True)) == {""}
    assert export_for_customer(999999) == []
