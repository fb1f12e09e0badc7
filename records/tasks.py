"""Celery tasks of the System of Record. Tasks take ids, are idempotent and retry with backoff."""

from __future__ import annotations

from celery import shared_task

from cea.common.tasks import database_retry
from records.cases.services import case_mark_breaches


@shared_task(
    name="records.cases.mark_sla_breaches",
    **database_retry(backoff_max=300),
)
def mark_sla_breaches() -> int:
    """Flag open cases past their SLA due times; safe to run twice (already-flagged cases are skipped)."""
    return case_mark_breaches()


@shared_task(name="records.privacy.carry_out", **database_retry(backoff_max=300))
def privacy_request_carry_out_task(request_id: int, actor_id: int | None = None) -> dict:
    """Carry out an approved privacy request; a done request is left as it is (idempotent).

    A refusal (a legal hold placed meanwhile) is not retried: ``last_error`` on the request says it.
    """
    from cea.accounts.models import User
    from cea.common.errors import ApplicationError
    from records.privacy.access_export import privacy_access_carry_out
    from records.privacy.erasure import privacy_erasure_carry_out
    from records.privacy.models import PrivacyRequest, PrivacyRequestKind

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    kind = PrivacyRequest.objects.filter(pk=request_id).values_list("kind", flat=True).first()
    carry_out = privacy_erasure_carry_out if kind == PrivacyRequestKind.ERASURE else privacy_access_carry_out
    try:
        return carry_out(request_id=request_id, actor=actor).result
    except ApplicationError as error:
        return {"refused": error.message}
