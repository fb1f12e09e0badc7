"""Check, then do: who may evaluate which interaction and see which evaluation.

- Admins evaluate any interaction and see every evaluation; integration clients read every evaluation
  (their token's ``insights:read`` scope) but evaluate none.
- A supervisor evaluates the interactions of their teams (the interaction's team) and sees their
  teams' evaluations (their own drafts included; other evaluators' drafts never).
- An agent sees the submitted evaluations of their own interactions, never drafts, never calibration.
- Calibration evaluations: an evaluator sees the others' only once their own is submitted
  (``calibration_results_visible``).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cea.accounts.types import Actor
from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import Role, is_admin, role_of, sees_everything, team_ids_of
from insights.access import figures_scope
from insights.quality.models import CalibrationSession, Evaluation, EvaluationStatus, SampleItem
from records.access import access_interaction, require_signed_in, row_id
from records.interactions.models import Interaction

MAX_ROW_ID = 2**63


def may_evaluate_team(user: Actor, team_id: int | None) -> bool:
    """Whether ``user`` may evaluate an interaction of ``team_id`` (admins: any; supervisors: their teams')."""
    if user is None:
        return True
    if is_admin(user):
        return True
    return role_of(user) == Role.SUPERVISOR and team_id is not None and team_id in team_ids_of(user)


def require_evaluator(user: Actor, team_id: int | None) -> None:
    if user is not None:
        require_signed_in(user)
    if not may_evaluate_team(user, team_id):
        raise PermissionDenied("Only a supervisor of the interaction's team or an administrator may evaluate it.")


def access_interaction_to_evaluate(user: Actor, interaction_id: object) -> Interaction:
    """The interaction ``user`` evaluates: ``NotFound``, or ``PermissionDenied`` unless theirs to evaluate
    (and not one they handled themselves)."""
    interaction = access_interaction(user, interaction_id)
    require_evaluator(user, interaction.team_id)
    if user is not None and interaction.agent_id is not None and interaction.agent_id == user.pk:
        raise PermissionDenied("You cannot evaluate an interaction you handled yourself.")
    return interaction


def require_quality_reader(user: Actor) -> None:
    require_signed_in(user)


def evaluations_visible_to(user: Actor) -> QuerySet[Evaluation]:
    """The evaluations ``user`` may read (``PermissionDenied`` if not signed in)."""
    require_signed_in(user)
    evaluations = Evaluation.objects.select_related("agent", "team", "evaluator", "scorecard")
    assert user is not None  # signed in
    # Calibration evaluations are read on their session's page (after one's own is submitted).
    submitted = ~Q(status=EvaluationStatus.DRAFT) & Q(calibration__isnull=True)
    if sees_everything(user):
        return evaluations.filter(submitted | Q(evaluator_id=user.pk))
    if role_of(user) == Role.SUPERVISOR:
        teams = sorted(team_ids_of(user))
        return evaluations.filter((Q(team_id__in=teams) & submitted) | Q(evaluator_id=user.pk))
    return evaluations.filter(agent_id=user.pk, calibration__isnull=True).exclude(status=EvaluationStatus.DRAFT)


def access_evaluation(user: Actor, evaluation_id: object) -> Evaluation:
    """One evaluation ``user`` may read: ``NotFound`` for an unknown id, ``PermissionDenied`` for another's."""
    require_signed_in(user)
    pk = row_id(evaluation_id)
    evaluation = Evaluation.objects.filter(pk=pk).first() if pk is not None and pk < MAX_ROW_ID else None
    if evaluation is None:
        raise NotFound(f"No evaluation with id {evaluation_id}.")
    if not evaluations_visible_to(user).filter(pk=evaluation.pk).exists():
        raise PermissionDenied("This evaluation is not yours to see.")
    return evaluation


def require_agent_of(user: Actor, evaluation: Evaluation) -> None:
    """Acknowledging or disputing is for the evaluated agent only."""
    require_signed_in(user)
    if user is None or evaluation.agent_id != user.pk:
        raise PermissionDenied("Only the evaluated agent may acknowledge or dispute an evaluation.")


def calibrations_visible_to(user: Actor) -> QuerySet[CalibrationSession]:
    """Calibration sessions of ``user``'s teams (supervisors), all (admins); agents none (``PermissionDenied``)."""
    require_signed_in(user)
    sessions = CalibrationSession.objects.select_related("scorecard", "team", "created_by")
    if sees_everything(user):
        return sessions
    if role_of(user) != Role.SUPERVISOR:
        raise PermissionDenied("Calibration is for supervisors and administrators.")
    assert user is not None
    return sessions.filter(Q(team_id__in=sorted(team_ids_of(user))) | Q(evaluators=user.pk)).distinct()


def access_calibration(user: Actor, session_id: object) -> CalibrationSession:
    pk = row_id(session_id)
    visible = calibrations_visible_to(user)
    session = CalibrationSession.objects.filter(pk=pk).first() if pk is not None and pk < MAX_ROW_ID else None
    if session is None:
        raise NotFound(f"No calibration session with id {session_id}.")
    if not visible.filter(pk=session.pk).exists():
        raise PermissionDenied("This calibration session belongs to a team you do not supervise.")
    return session


def calibration_results_visible(user: Actor, session: CalibrationSession) -> bool:
    """An evaluator of the session sees the others' scores once their own is submitted; a supervisor of the
    team who does not score in it, and an admin who does not, see them at any time."""
    if user is None:
        return True
    if user.pk is None or not session.evaluators.filter(pk=user.pk).exists():
        return True
    return session.evaluations.filter(evaluator_id=user.pk).exclude(status=EvaluationStatus.DRAFT).exists()


def sample_items_visible_to(user: Actor) -> QuerySet[SampleItem]:
    """The sampling queue: a supervisor's teams', every team for admins and clients; agents none."""
    require_signed_in(user)
    items = SampleItem.objects.select_related("interaction", "agent", "team", "evaluation")
    if sees_everything(user):
        return items
    if role_of(user) != Role.SUPERVISOR:
        raise PermissionDenied("The sampling queue is for supervisors and administrators.")
    return items.filter(team_id__in=sorted(team_ids_of(user)))


def quality_team_ids(user: Actor) -> tuple[frozenset[int] | None, int | None]:
    """Whose quality figures ``user`` reads: ``(team_ids, agent_id)``; ``None`` means no limit (the
    same scope as every other historical figure: ``insights.access.figures_scope``)."""
    scope = figures_scope(user)
    return scope.team_ids, scope.agent_id
