"""Writes for cases: create, update, the status state machine, notes, SLA breaches."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cea.accounts.models import Team, User
from cea.accounts.types import Actor
from cea.common.errors import Conflict, ValidationFailed
from cea.common.pii import redact_text
from records.access import require_customer_visible, require_team_allowed, require_team_kept
from records.audit.context import audited
from records.cases.models import (
    TRANSITIONS,
    Case,
    CaseCategory,
    CaseNote,
    CasePriority,
    CaseStatus,
    CaseTransition,
    NoteVisibility,
    SlaPolicy,
    transitions_from,
)
from records.customers.models import Customer, CustomerStatus
from records.journey.services import journey_record

OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING)
UPDATABLE_FIELDS = ("subject", "description", "category", "priority", "team", "assignee", "sla_policy")


def next_case_reference() -> str:
    """``CS-0000123`` from a database sequence: unique and gap-tolerant under concurrency."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('records_case_reference_seq')")
        (number,) = cursor.fetchone()
    return f"CS-{number:07d}"


def sla_policy_for(*, priority: str) -> SlaPolicy | None:
    return SlaPolicy.objects.filter(priority=priority, is_default_for_priority=True, is_active=True).first()


def _apply_sla(case: Case, policy: SlaPolicy | None) -> None:
    """Due times count from the case's creation, so changing priority re-targets, not restarts."""
    case.sla_policy = policy
    if policy is None:
        case.first_response_due_at = case.resolution_due_at = None
        return
    start = case.created_at or timezone.now()
    case.first_response_due_at = start + timedelta(minutes=policy.first_response_minutes)
    case.resolution_due_at = start + timedelta(minutes=policy.resolution_minutes)


def case_check(*, actor: Actor, fields: dict[str, Any]) -> None:
    """Check, before any write, that ``fields`` may be set on a case; forms call it to show errors."""
    _validate(dict(fields))
    if fields.get("team") is not None:
        require_team_allowed(actor, fields["team"])


def _validate(fields: dict[str, Any]) -> None:
    errors = {}
    if "subject" in fields:
        # Redacted (cea.common.pii) before the length check: what is kept is what is checked.
        fields["subject"] = redact_text((fields["subject"] or "").strip())
        if not fields["subject"]:
            errors["subject"] = "A case needs a subject."
        elif len(fields["subject"]) > 200:
            errors["subject"] = "At most 200 characters."
    if "category" in fields and fields["category"] not in CaseCategory.values:
        errors["category"] = f"Choose one of {', '.join(CaseCategory.values)}."
    if "priority" in fields and fields["priority"] not in CasePriority.values:
        errors["priority"] = f"Choose one of {', '.join(CasePriority.values)}."
    assignee, team = fields.get("assignee"), fields.get("team")
    if assignee is not None and team is not None and not assignee.teams.filter(pk=team.pk).exists():
        errors["assignee"] = f"{assignee} is not in the team {team.name}."
    if errors:
        raise ValidationFailed("The case has invalid fields.", fields=errors)


@transaction.atomic
def case_create(
    *,
    actor: Actor,
    customer: Customer,
    subject: str,
    description: str = "",
    category: str = CaseCategory.GENERAL,
    priority: str = CasePriority.NORMAL,
    team: Team | None = None,
    assignee: User | None = None,
    sla_policy: SlaPolicy | None = None,
    source_system: str = "records",
    channel: str = "",
) -> Case:
    """Open a service request for a customer; its SLA comes from ``sla_policy`` or the priority's default."""
    require_customer_visible(actor, customer)
    if customer.status == CustomerStatus.MERGED:
        raise Conflict(f"Customer {customer.pk} was merged into {customer.merged_into_id}; open the case there.")
    # The team defaults to the customer's before validating, so that the assignee is checked against it.
    team = team or customer.team
    fields: dict[str, Any] = {
        "subject": subject,
        "category": category,
        "priority": priority,
        "team": team,
        "assignee": assignee,
    }
    _validate(fields)
    require_team_allowed(actor, team)
    with audited(actor):
        case = Case(
            reference=next_case_reference(),
            customer=customer,
            subject=fields["subject"],
            description=redact_text(description),
            category=category,
            priority=priority,
            team=team,
            assignee=assignee,
            created_by=_user(actor),
            created_at=timezone.now(),
        )
        _apply_sla(case, sla_policy or sla_policy_for(priority=priority))
        case.save()
        journey_record(
            customer=customer,
            kind="case.created",
            summary=f"Case {case.reference} opened: {case.subject}",
            source_system=source_system,
            channel=channel,
            payload={"case_id": case.pk, "reference": case.reference, "category": category, "priority": priority},
        )
    return case


@transaction.atomic
def case_update(*, actor: Actor, case: Case, **fields: Any) -> Case:
    """Change a case's details or ownership; the case row is locked for the change."""
    case = _locked(case)
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown case fields: {', '.join(sorted(unknown))}.")
    if case.status == CaseStatus.CLOSED:
        raise Conflict(f"Case {case.reference} is closed; reopen it first.")
    checked = {**fields, "team": fields.get("team", case.team), "assignee": fields.get("assignee", case.assignee)}
    _validate(checked)
    if "subject" in fields:
        fields["subject"] = checked["subject"]  # trimmed and redacted by the validation, as on create
    if isinstance(fields.get("description"), str):
        fields["description"] = redact_text(fields["description"])
    if "team" in fields:
        require_team_kept(actor, fields["team"])  # no team would hide the case from every team
    changed = [name for name, value in fields.items() if getattr(case, name) != value]
    if not changed:
        return case
    with audited(actor):
        for name in changed:
            setattr(case, name, fields[name])
        if "sla_policy" in changed or ("priority" in changed and "sla_policy" not in fields):
            _apply_sla(case, fields.get("sla_policy") or sla_policy_for(priority=case.priority))
        _refresh_breaches(case, timezone.now())
        case.save()
        journey_record(
            customer=case.customer,
            kind="case.updated",
            summary=f"Case {case.reference} updated: {', '.join(changed)}",
            payload={"case_id": case.pk, "reference": case.reference, "fields": changed},
        )
    return case


def _refresh_breaches(case: Case, now: datetime) -> None:
    first_response_at = case.first_responded_at or now
    if case.first_response_due_at and first_response_at > case.first_response_due_at:
        case.first_response_breached = True
    resolved_at = case.resolved_at or now
    if (
        case.resolution_due_at
        and resolved_at > case.resolution_due_at
        and (case.status in OPEN_STATUSES or case.resolved_at)
    ):
        case.resolution_breached = True


@transaction.atomic
def case_transition(*, actor: Actor, case: Case, transition: str, note: str = "") -> Case:
    """Move a case through the state machine; an invalid transition raises ``Conflict``.

    The status is read from the row locked FOR UPDATE, so two agents acting at once cannot
    both start from the same status.
    """
    case = _locked(case)
    if transition not in CaseTransition.values:
        raise ValidationFailed(
            f"Unknown transition {transition!r}.",
            fields={"transition": f"Choose one of {', '.join(CaseTransition.values)}."},
        )
    sources, target = TRANSITIONS[CaseTransition(transition)]
    if case.status not in sources:
        allowed = ", ".join(transitions_from(case.status)) or "none"
        raise Conflict(
            f"Case {case.reference} is {case.status}: it cannot {transition}. Allowed from {case.status}: {allowed}.",
            code="invalid_transition",
        )
    now = timezone.now()
    previous = case.status
    with audited(actor):
        case.status = target
        if case.first_responded_at is None and target != CaseStatus.NEW:
            case.first_responded_at = now
        if target == CaseStatus.RESOLVED:
            case.resolved_at = now
        elif target == CaseStatus.CLOSED:
            case.closed_at = now
        elif transition == CaseTransition.REOPEN:
            case.resolved_at = case.closed_at = None
        _refresh_breaches(case, now)
        case.save()
        if note.strip():
            CaseNote.objects.create(
                case=case, author=_user(actor), body=redact_text(note.strip()), visibility=NoteVisibility.INTERNAL
            )
        journey_record(
            customer=case.customer,
            kind=f"case.{target}",
            summary=f"Case {case.reference} {previous} → {target}",
            payload={"case_id": case.pk, "reference": case.reference, "from": previous, "to": target},
        )
    return case


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("customer", "team", "assignee").get(pk=case.pk)


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.pk else None


@transaction.atomic
def case_add_note(*, actor: Actor, case: Case, body: str, visibility: str = NoteVisibility.INTERNAL) -> CaseNote:
    """Add a note; an external note is a response to the customer and counts as the first response.

    The note is redacted (``cea.common.pii``) before it is kept.
    """
    body = redact_text((body or "").strip())
    errors = {}
    if not body:
        errors["body"] = "A note needs text."
    if visibility not in NoteVisibility.values:
        errors["visibility"] = f"Choose one of {', '.join(NoteVisibility.values)}."
    if errors:
        raise ValidationFailed("The note has invalid fields.", fields=errors)
    case = _locked(case)
    if case.status == CaseStatus.CLOSED:
        raise Conflict(f"Case {case.reference} is closed; reopen it to add notes.")
    with audited(actor):
        note = CaseNote.objects.create(case=case, author=_user(actor), body=body, visibility=visibility)
        if visibility == NoteVisibility.EXTERNAL and case.first_responded_at is None:
            case.first_responded_at = note.created_at
            _refresh_breaches(case, note.created_at)
            case.save(
                update_fields=["first_responded_at", "first_response_breached", "resolution_breached", "updated_at"]
            )
        journey_record(
            customer=case.customer,
            kind="case.note_added",
            summary=f"{NoteVisibility(visibility).label.split(' ')[0]} note on {case.reference}",
            payload={"case_id": case.pk, "note_id": note.pk, "visibility": visibility},
        )
    return note


def case_mark_breaches(*, now: datetime | None = None) -> int:
    """Flag open cases whose SLA due times have passed; return how many flags were set.

    A case past both its first-response and its resolution due time counts twice.

    Two set-based UPDATEs (the audit triggers record each row): run by a periodic Celery task.
    """
    now = now or timezone.now()
    with transaction.atomic(), audited(None, job="sla_sweep"):
        first = Case.objects.filter(
            status__in=OPEN_STATUSES,
            first_responded_at__isnull=True,
            first_response_due_at__lt=now,
            first_response_breached=False,
        ).update(first_response_breached=True, updated_at=now)
        resolution = Case.objects.filter(
            Q(status__in=OPEN_STATUSES), resolution_due_at__lt=now, resolution_breached=False
        ).update(resolution_breached=True, updated_at=now)
    return first + resolution
