"""Placing and releasing legal holds (services), and reading them (selectors).

Supervisors place and release holds on the customers and cases of their teams (the caller fetched
the target through ``records.access``); administrators on any. Every change is in the audit trail
(``LegalHold`` is tracked by pghistory, under the actor's context).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from cea.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cea.common.pii import redact_text
from cea.common.roles import is_admin
from records.access import case_visible, customer_visible, require_signed_in, require_supervisor, row_id
from records.audit.context import audited
from records.cases.models import Case
from records.customers.models import Customer
from records.privacy.models import LegalHold, RetentionPolicy

REASON_MAX: int = LegalHold._meta.get_field("reason").max_length or 300


@transaction.atomic
def legal_hold_place(*, actor, reason: str, customer: Customer | None = None, case: Case | None = None) -> LegalHold:
    """Hold ``customer`` or ``case`` (exactly one): retention and erasure leave it alone until released.

    Raises ``PermissionDenied`` (not a supervisor or administrator), ``ValidationFailed`` (no reason,
    no target or two), ``Conflict`` (``already_held``: an active hold on the same target).
    """
    require_supervisor(actor, "place a legal hold")
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why the data must be kept (the matter, the request)."
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"At most {REASON_MAX} characters."
    if (customer is None) == (case is None):
        errors["target"] = "Hold a customer or a case, one of them."
    if errors:
        raise ValidationFailed("The legal hold has invalid fields.", fields=errors)
    target = Q(customer=customer) if customer is not None else Q(case=case)
    # Lock the customer's row (a case's customer first, as an erasure does before it checks for holds
    # and then rewrites the cases: no hold slips past an erasure, and the two never deadlock), then
    # the case's: two supervisors holding the same target at once make one hold.
    Customer.objects.select_for_update().filter(pk=customer.pk if customer is not None else case.customer_id).first()  # type: ignore[union-attr]
    if case is not None:
        Case.objects.select_for_update().filter(pk=case.pk).first()
    if LegalHold.objects.filter(target, released_at__isnull=True).exists():
        raise Conflict("It is already on legal hold.", code="already_held")
    with audited(actor):
        return LegalHold.objects.create(
            customer=customer, case=case, reason=redact_text(reason)[:REASON_MAX], placed_by=actor
        )


@transaction.atomic
def legal_hold_release(*, actor, hold: LegalHold) -> LegalHold:
    """Release an active hold. ``Conflict`` (``already_released``) when it was released before."""
    require_supervisor(actor, "release a legal hold")
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise Conflict("This legal hold was released already.", code="already_released")
    hold.released_at, hold.released_by = timezone.now(), actor
    with audited(actor):
        hold.save(update_fields=["released_at", "released_by"])
    return hold


def legal_holds_of(*, customer: Customer | None = None, case: Case | None = None) -> QuerySet[LegalHold]:
    """A customer's holds (their own and their cases') or a case's, active first, then newest."""
    holds = LegalHold.objects.select_related("case", "placed_by", "released_by")
    if customer is not None:
        holds = holds.filter(Q(customer=customer) | Q(case__customer=customer))
    else:
        holds = holds.filter(case=case)
    return holds.order_by(F("released_at").desc(nulls_first=True), "-placed_at", "-id")


def access_legal_hold(user, hold_id) -> LegalHold:
    """A hold by id, if ``user`` may see its customer or case (``NotFound``, ``PermissionDenied``)."""
    require_signed_in(user)
    pk = row_id(hold_id)
    hold = LegalHold.objects.select_related("customer", "case").filter(pk=pk).first() if pk is not None else None
    if hold is None:
        raise NotFound(f"No legal hold {hold_id}.")
    if hold.customer is not None:
        visible = customer_visible(user, hold.customer)
    else:
        visible = hold.case is not None and case_visible(user, hold.case)
    if not visible:
        raise PermissionDenied("This legal hold is on a record of a team you are not in.")
    return hold


# --- Retention policies ---------------------------------------------------------------------


@transaction.atomic
def retention_policy_update(*, actor, policy: RetentionPolicy, keep_days: int, enabled: bool) -> RetentionPolicy:
    """Set how long a kind of data is kept. Administrators only; ``ValidationFailed`` below the kind's minimum."""
    if not is_admin(actor):
        raise PermissionDenied("Only an administrator may change a retention policy.")
    if keep_days < policy.minimum_keep_days:
        raise ValidationFailed(
            "The retention period is too short.",
            fields={"keep_days": f"Keep {policy.get_kind_display().lower()} at least {policy.minimum_keep_days} days."},
        )
    policy.keep_days, policy.enabled, policy.updated_by = keep_days, enabled, actor
    with audited(actor):
        policy.save(update_fields=["keep_days", "enabled", "updated_by", "updated_at"])
    return policy
