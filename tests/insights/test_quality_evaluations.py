"""Evaluations: draft, submit (immutable), the agent acknowledges or disputes, the supervisor resolves;
every step checked by role and team; scorecard versions kept."""

from __future__ import annotations

import pytest

from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from insights.quality.access import access_evaluation, evaluations_visible_to
from insights.quality.models import EvaluationAnswer, EvaluationStatus
from insights.quality.services import (
    evaluation_acknowledge,
    evaluation_create,
    evaluation_dispute,
    evaluation_resolve_dispute,
    evaluation_save,
    evaluation_start,
    scorecard_questions_changed,
)
from tests.accounts.factories import UserFactory
from tests.insights.quality_support import answers, full, interaction, scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture
def card():
    return scorecard()


@pytest.fixture
def contact(team_a, agent):
    return interaction(team=team_a, agent=agent)


def submitted(supervisor, contact, card, **kwargs):
    return evaluation_create(
        actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk, answers=full(card, **kwargs), submit=True
    )


def test_a_supervisor_evaluates_an_interaction_of_their_team(supervisor, contact, card, agent):
    # Given a draft with two answers saved
    draft = evaluation_start(actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk)
    evaluation_save(actor=supervisor, evaluation=draft, answers=answers(card, Greeting="yes", Resolved="2"))
    # When they answer the rest and submit with a comment
    done = evaluation_save(
        actor=supervisor,
        evaluation=draft,
        answers=answers(card, Empathy="no", Disclosure="yes"),
        comment="Good call.",
        submit=True,
    )
    # Then it is scored (1 + 1 + 0 + 1 of 5) and submitted, for the interaction's agent, team and queue
    assert (done.status, done.score, done.failed) == (EvaluationStatus.SUBMITTED, 60.0, False)
    assert (done.agent_id, done.team_id, done.queue, done.comment) == (
        agent.pk,
        contact.team_id,
        "billing",
        "Good call.",
    )
    assert done.submitted_at is not None
    assert EvaluationAnswer.objects.filter(evaluation=done).count() == 4


def test_an_auto_fail_no_scores_zero_and_says_why(supervisor, contact, card):
    done = submitted(supervisor, contact, card, disclosure="no")
    assert (done.score, done.failed, done.fail_reason) == (0.0, True, "Auto-fail: Disclosure")


def test_a_submission_with_missing_answers_is_refused_and_nothing_is_written(supervisor, contact, card):
    with pytest.raises(ValidationFailed) as refused:
        evaluation_create(
            actor=supervisor,
            interaction_id=contact.pk,
            scorecard_id=card.pk,
            answers=answers(card, Greeting="yes"),
            submit=True,
        )
    assert set(refused.value.fields) == {f"q{q.pk}" for q in card.questions.exclude(text="Greeting")}
    assert evaluations_visible_to(supervisor).count() == 0
    assert EvaluationAnswer.objects.count() == 0


def test_a_submitted_evaluation_cannot_be_changed(supervisor, contact, card):
    done = submitted(supervisor, contact, card)
    with pytest.raises(Conflict):
        evaluation_save(actor=supervisor, evaluation=done, answers=answers(card, Greeting="no"), submit=True)
    done.refresh_from_db()
    assert done.score == 87.5


def test_a_supervisor_of_another_team_can_neither_evaluate_nor_see(supervisor, contact, card, team_b):
    other = UserFactory(role="supervisor", teams=[team_b])
    with pytest.raises(PermissionDenied):
        evaluation_start(actor=other, interaction_id=contact.pk, scorecard_id=card.pk)
    done = submitted(supervisor, contact, card)
    with pytest.raises(PermissionDenied):
        access_evaluation(other, done.pk)
    assert list(evaluations_visible_to(other)) == []


def test_agents_and_integration_clients_cannot_evaluate(agent, integration_user, contact, card):
    for user in (agent, integration_user):
        with pytest.raises(PermissionDenied):
            evaluation_start(actor=user, interaction_id=contact.pk, scorecard_id=card.pk)


def test_an_admin_evaluates_any_team(admin_user, team_b, agent_b, card):
    contact_b = interaction(team=team_b, agent=agent_b)
    done = submitted(admin_user, contact_b, card)
    assert done.evaluator_id == admin_user.pk


def test_the_agent_sees_only_their_own_submitted_evaluations(supervisor, contact, card, agent, team_a):
    colleague = UserFactory(role="agent", teams=[team_a])
    draft = evaluation_start(actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk)
    assert list(evaluations_visible_to(agent)) == []  # a draft is not shown
    done = evaluation_save(actor=supervisor, evaluation=draft, answers=full(card), submit=True)
    assert list(evaluations_visible_to(agent)) == [done]
    assert list(evaluations_visible_to(colleague)) == []
    with pytest.raises(PermissionDenied):
        access_evaluation(colleague, done.pk)


def test_another_supervisor_of_the_team_does_not_see_a_draft(supervisor, contact, card, team_a):
    colleague = UserFactory(role="supervisor", teams=[team_a])
    draft = evaluation_start(actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk)
    with pytest.raises(PermissionDenied):
        access_evaluation(colleague, draft.pk)
    with pytest.raises(PermissionDenied):
        evaluation_save(actor=colleague, evaluation=draft, answers=full(card))


def test_the_agent_acknowledges(supervisor, contact, card, agent):
    done = submitted(supervisor, contact, card)
    acknowledged = evaluation_acknowledge(actor=agent, evaluation=done)
    assert acknowledged.status == EvaluationStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged_at is not None
    with pytest.raises(Conflict):
        evaluation_dispute(actor=agent, evaluation=acknowledged, reason="Too late")


def test_only_the_evaluated_agent_acknowledges_or_disputes(supervisor, contact, card, team_a):
    done = submitted(supervisor, contact, card)
    colleague = UserFactory(role="agent", teams=[team_a])
    for user in (colleague, supervisor):
        with pytest.raises(PermissionDenied):
            evaluation_acknowledge(actor=user, evaluation=done)
        with pytest.raises(PermissionDenied):
            evaluation_dispute(actor=user, evaluation=done, reason="No")


def test_a_dispute_needs_a_reason(supervisor, contact, card, agent):
    done = submitted(supervisor, contact, card)
    with pytest.raises(ValidationFailed) as refused:
        evaluation_dispute(actor=agent, evaluation=done, reason="  ")
    assert refused.value.fields == {"reason": ["A reason is required."]}


def test_an_upheld_dispute_rescores_and_keeps_the_first_score(supervisor, contact, card, agent):
    # Given an auto-failed evaluation the agent disputes
    done = submitted(supervisor, contact, card, disclosure="no")
    disputed = evaluation_dispute(actor=agent, evaluation=done, reason="I did give the disclosure at 09:01.")
    assert (disputed.status, disputed.dispute_reason) == (
        EvaluationStatus.DISPUTED,
        "I did give the disclosure at 09:01.",
    )
    # When the supervisor upholds it, amending the disclosure answer
    resolved = evaluation_resolve_dispute(
        actor=supervisor,
        evaluation=disputed,
        upheld=True,
        note="Heard it on the recording.",
        answers=answers(card, Disclosure="yes"),
    )
    # Then it is re-scored, the first score kept, who and when recorded
    assert (resolved.status, resolved.score, resolved.failed, resolved.original_score) == (
        EvaluationStatus.DISPUTE_UPHELD,
        87.5,
        False,
        0.0,
    )
    assert (resolved.resolved_by, resolved.resolution_note) == (supervisor, "Heard it on the recording.")
    assert resolved.resolved_at is not None


def test_a_rejected_dispute_keeps_the_score(supervisor, contact, card, agent):
    done = submitted(supervisor, contact, card)
    evaluation_dispute(actor=agent, evaluation=done, reason="Unfair")
    resolved = evaluation_resolve_dispute(actor=supervisor, evaluation=done, upheld=False, note="Stands.")
    assert (resolved.status, resolved.score, resolved.original_score) == (EvaluationStatus.DISPUTE_REJECTED, 87.5, None)


def test_a_supervisor_of_another_team_cannot_resolve(supervisor, contact, card, agent, team_b):
    done = submitted(supervisor, contact, card)
    evaluation_dispute(actor=agent, evaluation=done, reason="Unfair")
    with pytest.raises(PermissionDenied):
        evaluation_resolve_dispute(
            actor=UserFactory(role="supervisor", teams=[team_b]), evaluation=done, upheld=False, note="x"
        )


def test_editing_a_used_scorecard_gives_a_new_version_and_old_evaluations_keep_theirs(supervisor, contact, card):
    # Given an evaluation of version 1
    done = submitted(supervisor, contact, card)
    # When a question's weight changes (in the console) and the change is reported
    card.questions.filter(text="Greeting").update(weight=5)
    scorecard_questions_changed(scorecard=card)
    # Then the scorecard is version 2, the evaluation keeps version 1's copy and score
    card.refresh_from_db()
    done.refresh_from_db()
    assert (card.version, done.scorecard_version, done.score) == (2, 1, 87.5)
    assert next(q["weight"] for q in done.questions if q["text"] == "Greeting") == 1
    # And a new evaluation uses version 2
    second = evaluation_start(actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk)
    assert second.scorecard_version == 2


def test_an_unused_scorecard_keeps_its_version_when_edited(card):
    scorecard_questions_changed(scorecard=card)
    card.refresh_from_db()
    assert card.version == 1


def test_an_inactive_or_unknown_scorecard_is_refused(supervisor, contact, card):
    card.is_active = False
    card.save()
    for scorecard_id in (card.pk, 999999, "x"):
        with pytest.raises(ValidationFailed):
            evaluation_start(actor=supervisor, interaction_id=contact.pk, scorecard_id=scorecard_id)


def test_a_supervisor_cannot_evaluate_an_interaction_they_handled(supervisor, team_a, card):
    own = interaction(team=team_a, agent=supervisor)
    with pytest.raises(PermissionDenied) as refused:
        evaluation_start(actor=supervisor, interaction_id=own.pk, scorecard_id=card.pk)
    assert refused.value.message == "You cannot evaluate an interaction you handled yourself."


def test_what_evaluators_and_agents_write_is_stored_without_card_data(supervisor, contact, card, agent):
    # Given an evaluation whose overall comment quotes the customer's card and code
    quoted = "Customer read out 4539 1488 0343 6467 cvv 737 and the agent did not stop them."
    done = submitted(supervisor, contact, card)
    draft = evaluation_start(actor=supervisor, interaction_id=contact.pk, scorecard_id=card.pk)
    kept = evaluation_save(actor=supervisor, evaluation=draft, answers=full(card), comment=quoted)
    # When the agent disputes another one quoting it too
    disputed = evaluation_dispute(actor=agent, evaluation=done, reason=f"I did stop them: {quoted}")
    # Then the card is masked and the code gone, everywhere it was written
    for text in (kept.comment, disputed.dispute_reason):
        assert "4539 1488 0343 6467" not in text and "737" not in text
        assert "453914******6467" in text
