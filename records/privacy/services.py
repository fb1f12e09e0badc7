"""Privacy requests: a supervisor asks, another person (an administrator) approves or rejects, and
an administrator carries the request out (in a Celery task sent on commit).

Who may do what:
- request: a supervisor, for a customer of their teams; an administrator, for anyone;
- approve, reject, carry out: an administrator, never the requester (four eyes: also a constraint
  in the database);
- download an access request's export: its approver, once it is done.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from cea.common.roles import can_supervise, is_admin
from cea.common.tasks import send_on_commit
from records.access import require_customer_visible
from records.audit.context import audited
from records.customers.models import Customer, CustomerStatus
from records.privacy.models import PrivacyRequest, PrivacyRequestKind, PrivacyRequestStatus
from records.privacy.selectors import legal_hold_active


def user_or_none(actor: Actor) -> User | None:
    """The user row behind ``actor`` (``None`` for the system or an anonymous user)."""
    return actor if isinstance(actor, User) and actor.pk else None


def _require_admin(actor: Actor, action: str) -> None:
    if not is_admin(actor):
        raise PermissionDenied(f"Only an administrator may {action} a privacy request.")


def _require_status(request: PrivacyRequest, *allowed: str, action: str) -> None:
    if request.status not in allowed:
        raise Conflict(
            f"Request #{request.pk} is {request.get_status_display().lower()}: it cannot be {action}.",
            code="privacy_request_status",
        )


def privacy_request_check(*, actor: Actor, customer: Customer, kind: str, reason: str) -> str:
    """The checks of ``privacy_request_create``, for forms to show; returns the cleaned reason."""
    if not can_supervise(actor):
        raise PermissionDenied("Only a supervisor or an administrator may request an erasure or an export.")
    require_customer_visible(actor, customer)
    if kind not in PrivacyRequestKind.values:
        raise ValidationFailed(f"Unknown request kind {kind!r}.", fields={"kind": "Choose erasure or access."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why: the data subject's request.", fields={"reason": "This field is required."})
    if customer.status == CustomerStatus.MERGED:
        raise Conflict(f"Customer {customer.pk} was merged: ask for the customer they were merged into.", code="merged")
    if customer.status == CustomerStatus.ERASED:
        raise Conflict(f"Customer {customer.pk} is already erased.", code="already_erased")
    if kind == PrivacyRequestKind.ERASURE and legal_hold_active(customer_id=customer.pk):
        raise Conflict(
            f"Customer {customer.pk} is under a legal hold: their data cannot be erased until it is released.",
            code="legal_hold_active",
        )
    return reason


def privacy_request_create(*, actor: Actor, customer: Customer, kind: str, reason: str) -> PrivacyRequest:
    """Record a data subject's request. Raises ``PermissionDenied`` (not a supervisor or admin, or
    another team's customer), ``ValidationFailed`` (kind, reason), ``Conflict`` (customer merged or
    already erased, an open request of the same kind, or a legal hold on an erasure)."""
    reason = privacy_request_check(actor=actor, customer=customer, kind=kind, reason=reason)
    with transaction.atomic(), audited(actor):
        open_requests = PrivacyRequest.objects.select_for_update().filter(
            customer=customer, kind=kind, status__in=[PrivacyRequestStatus.REQUESTED, PrivacyRequestStatus.APPROVED]
        )
        if open_requests.exists():
            raise Conflict(f"Customer {customer.pk} already has an open {kind} request.", code="privacy_request_open")
        return PrivacyRequest.objects.create(
            kind=kind,
            customer=customer,
            reason=reason[:300],
            requested_by=user_or_none(actor),
        )


def privacy_request_approve(*, actor: Actor, request: PrivacyRequest) -> PrivacyRequest:
    """Approve a requested request (an administrator other than the requester)."""
    _require_admin(actor, "approve")
    with transaction.atomic(), audited(actor):
        request = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
        _require_status(request, PrivacyRequestStatus.REQUESTED, action="approved")
        if request.requested_by_id == getattr(actor, "pk", None):
            raise PermissionDenied("Four eyes: the approver of a privacy request cannot be its requester.")
        if request.kind == PrivacyRequestKind.ERASURE and legal_hold_active(customer_id=request.customer_id):
            raise Conflict(
                f"Customer {request.customer_id} is under a legal hold: their data cannot be erased until it "
                "is released.",
                code="legal_hold_active",
            )
        request.status = PrivacyRequestStatus.APPROVED
        request.approved_by = user_or_none(actor)
        request.approved_at = timezone.now()
        request.save(update_fields=["status", "approved_by", "approved_at"])
        return request


def privacy_request_reject(*, actor: Actor, request: PrivacyRequest, reason: str) -> PrivacyRequest:
    """Reject a request not carried out yet, saying why."""
    _require_admin(actor, "reject")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why it is rejected.", fields={"reason": "This field is required."})
    with transaction.atomic(), audited(actor):
        request = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
        _require_status(request, PrivacyRequestStatus.REQUESTED, PrivacyRequestStatus.APPROVED, action="rejected")
        if request.requested_by_id == getattr(actor, "pk", None):
            raise PermissionDenied("Four eyes: the requester of a privacy request cannot decide it.")
        request.status = PrivacyRequestStatus.REJECTED
        request.rejected_by = user_or_none(actor)
        request.rejected_at = timezone.now()
        request.rejection_reason = reason[:300]
        request.save(update_fields=["status", "rejected_by", "rejected_at", "rejection_reason"])
        return request


def privacy_request_carry_out(*, actor: Actor, request: PrivacyRequest) -> PrivacyRequest:
    """Send the approved request to the worker (on commit). Refused with ``Conflict`` for a request
    not approved, and for an erasure while a legal hold is active."""
    _require_admin(actor, "carry out")
    request = PrivacyRequest.objects.get(pk=request.pk)
    _require_status(request, PrivacyRequestStatus.APPROVED, action="carried out")
    if request.kind == PrivacyRequestKind.ERASURE and legal_hold_active(customer_id=request.customer_id):
        raise Conflict(
            f"Customer {request.customer_id} is under a legal hold: their data cannot be erased until it is released.",
            code="legal_hold_active",
        )
    from records.tasks import privacy_request_carry_out_task

    send_on_commit(privacy_request_carry_out_task, request.pk, getattr(actor, "pk", None))
    return request
