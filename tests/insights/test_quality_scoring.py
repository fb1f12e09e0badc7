"""The score of an evaluation: weighted percentage of the applicable answers, auto-fail, clear problems."""

from __future__ import annotations

from insights.quality.scoring import score_answers, sections_of

QUESTIONS = [
    {"id": 1, "section": "Opening", "text": "Greeting", "weight": 1, "answer_type": "yes_no", "scale_max": 5,
     "allows_na": False, "auto_fail": False},
    {"id": 2, "section": "Resolution", "text": "Resolved", "weight": 2, "answer_type": "scale", "scale_max": 4,
     "allows_na": False, "auto_fail": False},
    {"id": 3, "section": "Resolution", "text": "Empathy", "weight": 1, "answer_type": "yes_no", "scale_max": 5,
     "allows_na": True, "auto_fail": False},
    {"id": 4, "section": "Compliance", "text": "Disclosure", "weight": 1, "answer_type": "yes_no", "scale_max": 5,
     "allows_na": True, "auto_fail": True},
]  # fmt: skip


def test_the_score_is_the_weighted_share_of_the_applicable_questions():
    # Given yes (1 of 1), 3 of 4 on a weight-2 scale (1.5 of 2), N/A (left out), yes (1 of 1)
    result = score_answers(QUESTIONS, {1: "yes", 2: "3", 3: "na", 4: "yes"}, complete=True)
    # Then 3.5 of 4 applicable weight: 87.5 %
    assert (result.score, result.failed, result.problems) == (87.5, False, {})


def test_an_auto_fail_item_answered_no_fails_the_evaluation_with_the_reason():
    result = score_answers(QUESTIONS, {1: "yes", 2: "4", 3: "yes", 4: "no"}, complete=True)
    assert (result.score, result.failed, result.fail_reason) == (0.0, True, "Auto-fail: Disclosure")


def test_a_no_on_an_ordinary_question_only_costs_its_weight():
    result = score_answers(QUESTIONS, {1: "no", 2: "4", 3: "yes", 4: "yes"}, complete=True)
    assert (result.score, result.failed) == (80.0, False)


def test_submitting_needs_every_question_answered_and_valid_answers():
    result = score_answers(QUESTIONS, {1: "maybe", 2: "5", 3: "yes"}, complete=True)
    assert result.score is None
    assert result.problems == {
        "q1": ["Answer yes, no or N/A."],
        "q2": ["Answer a whole number from 0 to 4."],
        "q4": ["Answer this question."],
    }


def test_n_a_is_refused_where_the_question_does_not_allow_it_and_all_n_a_is_refused():
    assert score_answers(QUESTIONS, {1: "na"}, complete=False).problems == {
        "q1": ["This question cannot be answered N/A."]
    }
    only_optional = [QUESTIONS[2], QUESTIONS[3]]
    assert score_answers(only_optional, {3: "na", 4: "na"}, complete=True).problems == {
        "answers": ["At least one question must be answered other than N/A."]
    }


def test_an_answer_to_a_question_not_on_the_version_is_refused():
    assert score_answers(QUESTIONS, {99: "yes"}, complete=False).problems == {
        "q99": ["This question is not on the scorecard version being used."]
    }


def test_a_draft_scores_what_is_answered_so_far():
    assert score_answers(QUESTIONS, {2: "2"}, complete=False).score == 50.0


def test_sections_keep_the_order_of_their_first_question():
    assert [name for name, _ in sections_of(QUESTIONS)] == ["Opening", "Resolution", "Compliance"]
