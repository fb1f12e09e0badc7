"""Quality assurance's rows: scorecards and their questions, evaluations with their answers, calibration
sessions and the sampling queue (docs/quality.md).

An evaluation keeps the scorecard *version* it was scored with: ``Evaluation.questions`` is a frozen
copy of the questions (text, weight, answer type, auto-fail) at the time the evaluation began. Editing a
scorecard that already has evaluations of its current version raises its ``version``; the evaluations
keep theirs and their scores never move.
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AnswerType(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no")
    SCALE = "scale", _("Scale 0–N")


class Scorecard(models.Model):
    """A form to evaluate interactions with: questions in sections, each with a weight."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, help_text="Only active scorecards are offered to evaluators.")
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised when questions change after evaluations used the current version."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class ScorecardQuestion(models.Model):
    """One question of a scorecard. ``section`` groups questions (in the order of their first question)."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="questions")
    section = models.CharField(max_length=80, help_text="The section the question is shown under, e.g. Opening.")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    weight = models.PositiveSmallIntegerField(default=1, help_text="More than 0: its share of the score.")
    answer_type = models.CharField(max_length=10, choices=AnswerType.choices, default=AnswerType.YES_NO)
    scale_max = models.PositiveSmallIntegerField(default=5, help_text="For a scale: answers go from 0 to this.")
    allows_na = models.BooleanField(default=True, help_text="May be answered N/A (then it does not count).")
    auto_fail = models.BooleanField(
        default=False, help_text="Yes/no questions only: answered 'no', the whole evaluation scores 0 (failed)."
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="quality_question_weight_positive"),
            models.CheckConstraint(condition=models.Q(scale_max__gt=0), name="quality_question_scale_positive"),
            models.CheckConstraint(
                condition=~models.Q(auto_fail=True, answer_type="scale"), name="quality_auto_fail_yes_no_only"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the agent")
    DISPUTED = "disputed", _("Disputed by the agent")
    DISPUTE_UPHELD = "dispute_upheld", _("Dispute upheld")
    DISPUTE_REJECTED = "dispute_rejected", _("Dispute rejected")


class CalibrationSession(models.Model):
    """Several evaluators score the same interaction with the same scorecard version, independently."""

    interaction = models.ForeignKey("records.Interaction", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="calibrations")
    scorecard_version = models.PositiveIntegerField()
    questions = models.JSONField(default=list)
    evaluators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Calibration {self.pk} of interaction {self.interaction_id}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Evaluation(models.Model):
    """A supervisor's evaluation of one interaction with one scorecard version.

    ``score`` is the weighted percentage of the applicable answers (0 when ``failed`` by an auto-fail
    item, ``fail_reason`` says which). Submitted, it changes only through a dispute's outcome;
    ``original_score`` keeps the score before an upheld dispute amended it. pghistory keeps every change.
    """

    interaction = models.ForeignKey("records.Interaction", on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    queue = models.CharField(max_length=100, blank=True)
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="evaluations")
    scorecard_version = models.PositiveIntegerField()
    questions = models.JSONField(default=list, help_text="The scorecard's questions as they were for this version.")
    calibration = models.ForeignKey(
        CalibrationSession, null=True, blank=True, on_delete=models.CASCADE, related_name="evaluations"
    )
    status = models.CharField(max_length=20, choices=EvaluationStatus.choices, default=EvaluationStatus.DRAFT)
    score = models.FloatField(null=True, blank=True)
    failed = models.BooleanField(default=False)
    fail_reason = models.CharField(max_length=400, blank=True)
    original_score = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    dispute_reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["calibration", "evaluator"],
                condition=models.Q(calibration__isnull=False),
                name="quality_one_calibration_evaluation_each",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "submitted_at"], name="quality_eval_team_submitted"),
            models.Index(fields=["agent", "submitted_at"], name="quality_eval_agent_submitted"),
        ]

    def __str__(self) -> str:
        return f"Evaluation {self.pk} of interaction {self.interaction_id}"


class EvaluationAnswer(models.Model):
    """One answer: ``answer`` is "yes", "no", "na" or a whole number 0…scale_max; ``question_id`` names the
    question in the evaluation's frozen copy."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="answers")
    question_id = models.PositiveIntegerField()
    answer = models.CharField(max_length=10)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "question_id"], name="quality_one_answer_per_question")
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.answer}"


class SampleReason(models.TextChoices):
    RANDOM = "random", _("Random sample")
    LOW_SATISFACTION = "low_satisfaction", _("Low satisfaction")
    NEGATIVE_SENTIMENT = "negative_sentiment", _("Negative sentiment")
    LONG_HANDLE_TIME = "long_handle_time", _("Long handle time")


class SampleItem(models.Model):
    """An interaction picked for evaluation, and why; done when a (non-calibration) evaluation is submitted."""

    interaction = models.ForeignKey("records.Interaction", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    week_start = models.DateField()
    reason = models.CharField(max_length=20, choices=SampleReason.choices)
    detail = models.CharField(max_length=200, blank=True)
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.SET_NULL, related_name="sample_items"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["week_start", "id"]
        constraints = [models.UniqueConstraint(fields=["interaction", "reason"], name="quality_sample_once_per_reason")]
        indexes = [models.Index(fields=["team", "week_start"], name="quality_sample_team_week")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: interaction {self.interaction_id}"
