"""The right of access: everything held on a customer, as JSON and as a readable (printable) page.

Every registered part of personal data (``records.privacy.registry``) exports what it holds. An
access request is carried out like an erasure (approved first, by someone else than the
requester); it then records how much each part holds, never the data itself. The export is built
when its approver downloads it, so no copy of it is stored; each download is recorded.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from cea.accounts.types import Actor
from cea.common.errors import Conflict, PermissionDenied
from records.audit.access import customer_access_record
from records.audit.context import audited
from records.privacy.models import PrivacyRequest, PrivacyRequestKind, PrivacyRequestStatus
from records.privacy.registry import personal_data_parts
from records.privacy.services import user_or_none


def _size(exported: Any) -> int:
    """How many items a part exported: its rows, or the rows of each of its sections."""
    if isinstance(exported, list):
        return len(exported)
    if isinstance(exported, dict):
        return sum(_size(value) if isinstance(value, list | dict) else 1 for value in exported.values())
    return 0 if exported is None else 1


def access_export(*, customer_id: int) -> dict[str, Any]:
    """Every registered part's export for ``customer_id``, by part name."""
    return {
        "customer_id": customer_id,
        "generated_at": timezone.now().isoformat(),
        "parts": {part.name: part.export(customer_id) for part in personal_data_parts()},
    }


def privacy_access_carry_out(*, request_id: int, actor: Actor = None) -> PrivacyRequest:
    """Mark an approved access request done, with the items each part holds. Idempotent."""
    with transaction.atomic(), audited(actor, privacy_request=request_id):
        request = PrivacyRequest.objects.select_for_update().get(pk=request_id)
        if request.status == PrivacyRequestStatus.DONE:
            return request
        if request.kind != PrivacyRequestKind.ACCESS or request.status != PrivacyRequestStatus.APPROVED:
            raise Conflict(
                f"Request #{request.pk} is not an approved access request.", code="privacy_request_not_approved"
            )
        exported = access_export(customer_id=request.customer_id)["parts"]
        request.status = PrivacyRequestStatus.DONE
        request.result = {name: _size(part) for name, part in exported.items()}
        request.carried_out_by = user_or_none(actor)
        request.done_at = timezone.now()
        request.last_error = ""
        request.save(update_fields=["status", "result", "carried_out_by", "done_at", "last_error"])
        return request


def privacy_access_document(*, actor: Actor, request: PrivacyRequest) -> dict[str, Any]:
    """The export of a done access request, for its approver only. ``PermissionDenied``, ``Conflict``."""
    if request.kind != PrivacyRequestKind.ACCESS:
        raise Conflict(f"Request #{request.pk} is not an access request.", code="not_access_request")
    if request.approved_by_id is None or request.approved_by_id != getattr(actor, "pk", None):
        raise PermissionDenied("Only the approver of an access request may download its export.")
    if request.status != PrivacyRequestStatus.DONE:
        raise Conflict(f"Request #{request.pk} is not carried out yet.", code="privacy_request_status")
    customer_access_record(
        actor=actor, customer_ids=[request.customer_id], surface="access_export", detail=f"privacy request {request.pk}"
    )
    return access_export(customer_id=request.customer_id)
