"""Quality assurance pages under /insights/quality/ (docs/quality.md).

- ``/insights/quality/``: supervisors and admins get the sampling queue of their teams and the recent
  evaluations; agents are sent to their own evaluations.
- ``evaluations/new?interaction=<id>``: choose the scorecard and start (a draft); ``evaluations/<id>/``:
  the form with the transcript beside it (the evaluator's draft), or the evaluation as read, with
  acknowledge/dispute for the agent and the dispute's resolution for a supervisor of the team.
- ``mine/``: the signed-in user's own evaluations. ``calibrations/``: sessions and their spread.
  ``reports/``: QA score by agent, team, queue or week.

Every object is fetched through ``insights.quality.access`` (role and team); services check again.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from cea.accounts.models import User
from cea.common.errors import ApplicationError, PermissionDenied, ValidationFailed
from cea.common.roles import Role, can_supervise, role_of, team_ids_of
from insights.quality.access import (
    access_calibration,
    access_evaluation,
    access_interaction_to_evaluate,
    calibration_results_visible,
    calibrations_visible_to,
    evaluations_visible_to,
    may_evaluate_team,
    quality_team_ids,
    sample_items_visible_to,
)
from insights.quality.models import Evaluation, EvaluationStatus
from insights.quality.sampling import sample_week, week_start_of
from insights.quality.scoring import sections_of
from insights.quality.selectors import (
    REPORT_GROUPS,
    calibration_results,
    evaluation_answers,
    evaluations_submitted,
    quality_report,
    scorecards_active,
)
from insights.quality.services import (
    AnswerInput,
    calibration_create,
    evaluation_acknowledge,
    evaluation_dispute,
    evaluation_resolve_dispute,
    evaluation_save,
    evaluation_start,
)


def _require_supervisor_page(user) -> None:
    if not can_supervise(user):
        raise PermissionDenied(gettext("This page is for supervisors and administrators."))


def answers_from_post(questions: list[dict], data: QueryDict) -> dict[int, AnswerInput]:
    """The form's answers: ``answer_<id>`` and ``comment_<id>`` per question of the frozen copy."""
    return {
        question["id"]: AnswerInput(
            answer=data.get(f"answer_{question['id']}", ""), comment=data.get(f"comment_{question['id']}", "")
        )
        for question in questions
        if f"answer_{question['id']}" in data or f"comment_{question['id']}" in data
    }


@require_GET
@login_required
def quality_home(request: HttpRequest) -> HttpResponse:
    if not can_supervise(request.user):
        return redirect("insights:quality-mine")
    items = sample_items_visible_to(request.user).order_by("-week_start", "evaluation_id", "id")
    open_items = [item for item in items.filter(evaluation__isnull=True)[:200]]
    recent = evaluations_visible_to(request.user).exclude(status=EvaluationStatus.DRAFT)[:30]
    drafts = evaluations_visible_to(request.user).filter(status=EvaluationStatus.DRAFT, evaluator_id=request.user.pk)
    return render(
        request,
        "insights/quality/home.html",
        {
            "items": open_items,
            "done": items.filter(evaluation__isnull=False).count(),
            "recent": recent,
            "drafts": drafts,
            "disputed": evaluations_visible_to(request.user).filter(status=EvaluationStatus.DISPUTED),
        },
    )


@require_POST
@login_required
def sampling_generate_view(request: HttpRequest) -> HttpResponse:
    _require_supervisor_page(request.user)
    teams, _ = quality_team_ids(request.user)
    counts = sample_week(week_start=week_start_of(timezone.localdate()), team_ids=teams)
    counts_last = sample_week(week_start=week_start_of(timezone.localdate()) - dt.timedelta(days=7), team_ids=teams)
    messages.success(request, f"{counts.total + counts_last.total} interactions added to the queue.")
    return redirect("insights:quality")


@login_required
def evaluation_new(request: HttpRequest) -> HttpResponse:
    """GET: the interaction and the scorecards to choose from; POST: start (or resume) the draft."""
    interaction_id = request.GET.get("interaction") or request.POST.get("interaction", "")
    if not interaction_id:
        raise ValidationFailed("Name the interaction to evaluate (?interaction=<id>).")
    interaction = access_interaction_to_evaluate(request.user, interaction_id)
    if request.method == "POST":
        evaluation = evaluation_start(
            actor=request.user, interaction_id=interaction.pk, scorecard_id=request.POST.get("scorecard", "")
        )
        return redirect("insights:quality-evaluation", evaluation_id=evaluation.pk)
    return render(
        request,
        "insights/quality/new.html",
        {"interaction": interaction, "scorecards": scorecards_active()},
    )


def _evaluation_context(request: HttpRequest, evaluation: Evaluation, problems: dict | None = None) -> dict:
    answers = evaluation_answers(evaluation)
    posted = request.POST if problems else None
    sections = []
    for section, questions in sections_of(evaluation.questions):
        rows = []
        for question in questions:
            stored = answers.get(question["id"])
            answer = posted.get(f"answer_{question['id']}", "") if posted else (stored.answer if stored else "")
            comment = posted.get(f"comment_{question['id']}", "") if posted else (stored.comment if stored else "")
            choices = (
                ["yes", "no"]
                if question["answer_type"] == "yes_no"
                else [str(n) for n in range(question["scale_max"] + 1)]
            )
            if question["allows_na"]:
                choices.append("na")
            rows.append(
                {
                    "q": question,
                    "answer": answer,
                    "comment": comment,
                    "choices": choices,
                    "errors": (problems or {}).get(f"q{question['id']}", []),
                }
            )
        sections.append((section, rows))
    user = request.user
    editing = evaluation.status == EvaluationStatus.DRAFT and evaluation.evaluator_id == user.pk
    return {
        "evaluation": evaluation,
        "interaction": evaluation.interaction,
        "sections": sections,
        "editing": editing,
        "is_agent": evaluation.agent_id == user.pk,
        "may_resolve": evaluation.status == EvaluationStatus.DISPUTED and may_evaluate_team(user, evaluation.team_id),
        "problems": problems,
        "form_errors": (problems or {}).get("answers", []) + (problems or {}).get("comment", []),
    }


@require_GET
@login_required
def evaluation_page(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = access_evaluation(request.user, evaluation_id)
    if evaluation.calibration_id and evaluation.evaluator_id != request.user.pk:
        return redirect("insights:quality-calibration", session_id=evaluation.calibration_id)
    return render(request, "insights/quality/evaluation.html", _evaluation_context(request, evaluation))


@require_POST
@login_required
def evaluation_save_view(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = access_evaluation(request.user, evaluation_id)
    submit = request.POST.get("action") == "submit"
    try:
        saved = evaluation_save(
            actor=request.user,
            evaluation=evaluation,
            answers=answers_from_post(evaluation.questions, request.POST),
            comment=request.POST.get("comment", ""),
            submit=submit,
        )
    except ValidationFailed as problem:
        context = _evaluation_context(request, evaluation, problems=problem.fields or {"answers": [problem.message]})
        context["error"] = problem.message
        return render(request, "insights/quality/evaluation.html", context, status=400)
    if submit:
        messages.success(request, gettext("Evaluation submitted."))
    else:
        messages.success(request, gettext("Draft saved."))
    return redirect("insights:quality-evaluation", evaluation_id=saved.pk)


def _after(request: HttpRequest, evaluation: Evaluation, action, success: str) -> HttpResponse:
    try:
        action()
    except ApplicationError as problem:
        details = "; ".join(message for found in problem.fields.values() for message in found)
        messages.error(request, f"{problem.message} {details}".strip())
    else:
        messages.success(request, success)
    return redirect("insights:quality-evaluation", evaluation_id=evaluation.pk)


@require_POST
@login_required
def evaluation_acknowledge_view(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = access_evaluation(request.user, evaluation_id)
    return _after(
        request,
        evaluation,
        lambda: evaluation_acknowledge(actor=request.user, evaluation=evaluation),
        gettext("Acknowledged."),
    )


@require_POST
@login_required
def evaluation_dispute_view(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = access_evaluation(request.user, evaluation_id)
    reason = request.POST.get("reason", "")
    return _after(
        request,
        evaluation,
        lambda: evaluation_dispute(actor=request.user, evaluation=evaluation, reason=reason),
        gettext("Dispute sent to your supervisor."),
    )


@require_POST
@login_required
def evaluation_resolve_view(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = access_evaluation(request.user, evaluation_id)
    upheld = request.POST.get("outcome") == "upheld"
    amended = answers_from_post(evaluation.questions, request.POST) if upheld else {}
    current = evaluation_answers(evaluation)
    # Only answers the supervisor changed amend the evaluation.
    amended = {
        key: given
        for key, given in amended.items()
        if given.answer and (key not in current or current[key].answer != given.answer)
    }
    return _after(
        request,
        evaluation,
        lambda: evaluation_resolve_dispute(
            actor=request.user,
            evaluation=evaluation,
            upheld=upheld,
            note=request.POST.get("note", ""),
            answers=amended,
        ),
        gettext("Dispute resolved."),
    )


@require_GET
@login_required
def my_evaluations(request: HttpRequest) -> HttpResponse:
    evaluations = evaluations_visible_to(request.user).filter(agent_id=request.user.pk, calibration__isnull=True)
    return render(request, "insights/quality/mine.html", {"evaluations": evaluations.exclude(status="draft")})


@login_required
def calibrations_page(request: HttpRequest) -> HttpResponse:
    sessions = calibrations_visible_to(request.user)
    if request.method == "POST":
        _require_supervisor_page(request.user)
        try:
            session = calibration_create(
                actor=request.user,
                interaction_id=request.POST.get("interaction", ""),
                scorecard_id=request.POST.get("scorecard", ""),
                evaluator_ids=request.POST.getlist("evaluators"),
            )
        except ApplicationError as problem:
            details = "; ".join(message for found in problem.fields.values() for message in found)
            messages.error(request, f"{problem.message} {details}".strip())
            return redirect("insights:quality-calibrations")
        return redirect("insights:quality-calibration", session_id=session.pk)
    if role_of(request.user) == Role.SUPERVISOR:
        colleagues = User.objects.filter(teams__in=team_ids_of(request.user), role=Role.SUPERVISOR).distinct()
    else:
        colleagues = User.objects.filter(role__in=[Role.SUPERVISOR, Role.ADMIN], is_active=True)
    return render(
        request,
        "insights/quality/calibrations.html",
        {"sessions": sessions[:100], "scorecards": scorecards_active(), "colleagues": colleagues.order_by("username")},
    )


@require_GET
@login_required
def calibration_page(request: HttpRequest, session_id: int) -> HttpResponse:
    session = access_calibration(request.user, session_id)
    mine = session.evaluations.filter(evaluator_id=request.user.pk).first()
    visible = calibration_results_visible(request.user, session)
    return render(
        request,
        "insights/quality/calibration.html",
        {
            "session": session,
            "mine": mine,
            "visible": visible,
            "results": calibration_results(session=session) if visible else None,
        },
    )


@require_GET
@login_required
def quality_reports(request: HttpRequest) -> HttpResponse:
    teams, agent_id = quality_team_ids(request.user)
    group_by = request.GET.get("group_by", "agent")
    if group_by not in REPORT_GROUPS:
        raise ValidationFailed(f"Group by one of {', '.join(REPORT_GROUPS)}.")
    start = _date(request.GET.get("from", ""), "from")
    end = _date(request.GET.get("to", ""), "to")
    rows = quality_report(
        evaluations=evaluations_submitted(team_ids=teams, agent_id=agent_id, start=start, end=end), group_by=group_by
    )
    return render(
        request,
        "insights/quality/reports.html",
        {"rows": rows, "group_by": group_by, "groups": list(REPORT_GROUPS), "start": start, "end": end},
    )


def _date(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name!r} must be a date (YYYY-MM-DD).", fields={name: "A date: YYYY-MM-DD."}) from None
