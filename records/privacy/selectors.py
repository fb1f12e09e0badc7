from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import can_supervise, is_admin, team_ids_of
from records.access import require_signed_in, row_id
from records.privacy.models import LegalHold, PrivacyRequest


def legal_hold_active(*, customer_id: int) -> bool:
    """Whether a customer, or any of their cases, is under an active (unreleased) legal hold."""
    return (
        LegalHold.objects.filter(released_at__isnull=True)
        .filter(Q(customer_id=customer_id) | Q(case__customer_id=customer_id))
        .exists()
    )


def customers_on_hold_ids() -> set[int]:
    """Customers held themselves or through one of their cases: retention skips all of their data."""
    held = LegalHold.objects.filter(released_at__isnull=True)
    direct = held.filter(customer_id__isnull=False).values_list("customer_id", flat=True)
    through_cases = held.filter(case_id__isnull=False).values_list("case__customer_id", flat=True)
    return set(direct) | set(through_cases)


def privacy_requests_visible_to(user: Any) -> QuerySet[PrivacyRequest]:
    """Administrators see every request; supervisors those on their teams' customers; agents none."""
    require_signed_in(user)
    requests = PrivacyRequest.objects.select_related("customer", "requested_by", "approved_by")
    if is_admin(user):
        return requests
    if not can_supervise(user):
        return requests.none()
    return requests.filter(customer__team_id__in=team_ids_of(user))


def access_privacy_request(user: Any, request_id: Any) -> PrivacyRequest:
    """A request by id the user may see: ``NotFound`` (404) or ``PermissionDenied`` (403)."""
    pk = row_id(request_id)
    request = privacy_requests_visible_to(user).filter(pk=pk).first() if pk is not None else None
    if request is None:
        if pk is not None and PrivacyRequest.objects.filter(pk=pk).exists():
            raise PermissionDenied("This privacy request is on a customer of a team you are not in.")
        raise NotFound(f"No privacy request {request_id}.")
    return request
