"""Reads of back-office work: what a user may see, and what the desk shows beside the conversation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from cea.accounts.types import AnyUser
from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import sees_everything, team_ids_of
from engagement.access import conversation_visible
from engagement.backoffice.models import BackofficeWork
from engagement.conversations.models import Conversation
from engagement.outbound.models import Callback, CallbackOutcome, CallbackStatus
from records.access import require_signed_in, row_id


def backoffice_work_visible_to(*, user: AnyUser) -> QuerySet[BackofficeWork]:
    """Back-office work of the user's teams, or handled by them (administrators and clients: all)."""
    require_signed_in(user)
    work = BackofficeWork.objects.select_related("case", "team", "customer", "conversation")
    if sees_everything(user):
        return work
    return work.filter(Q(team_id__in=team_ids_of(user)) | Q(conversation__agent_id=user.pk))


def access_backoffice_work(*, user: AnyUser, work_id: object) -> BackofficeWork:
    """One back-office work the user may see: ``NotFound`` if there is none, ``PermissionDenied`` if
    it is another team's (and not on their desk)."""
    pk = row_id(work_id)
    work = (
        BackofficeWork.objects.select_related("conversation", "conversation__customer").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if work is None:
        raise NotFound(f"No back-office work {work_id}.")
    if not conversation_visible(user, work.conversation):
        raise PermissionDenied("This work belongs to a team you are not in.")
    return work


def callbacks_visible_to(*, user: AnyUser) -> QuerySet[Callback]:
    """Callbacks of the user's teams' customers (administrators and clients: all)."""
    require_signed_in(user)
    callbacks = Callback.objects.select_related("customer")
    if sees_everything(user):
        return callbacks
    return callbacks.filter(customer__team_id__in=team_ids_of(user))


def backoffice_panel(*, conversation: Conversation) -> dict[str, Any] | None:
    """What the desk shows beside a back-office or callback conversation (``None`` for others)."""
    work = BackofficeWork.objects.select_related("case").filter(conversation=conversation).first()
    if work is not None:
        return {"work": work, "case": work.case, "callback": None}
    callback = Callback.objects.filter(conversation=conversation).first()
    if callback is not None:
        return {
            "work": None,
            "case": None,
            "callback": callback,
            "callback_open": callback.status == CallbackStatus.QUEUED,
            "outcomes": CallbackOutcome.choices,
        }
    return None


# Who may read the answer of ``POST callbacks/offered/`` cross-origin: the channels above this layer
# register a check (the chat widget's site keys: engagement.webchat.services.register).
OriginCheck = Callable[..., bool]
_callback_offer_origin_checks: list[OriginCheck] = []


def register_callback_offer_origin_check(check: OriginCheck) -> None:
    """Add ``check(site_key=…, origin=…) -> bool`` (once) to the callback offer's cross-origin checks."""
    if check not in _callback_offer_origin_checks:
        _callback_offer_origin_checks.append(check)


def callback_offer_origin_allowed(*, site_key: str, origin: str) -> bool:
    """Whether a page at ``origin`` booking with ``site_key`` may read the booking's answer."""
    return bool(site_key and origin) and any(
        check(site_key=site_key, origin=origin) for check in _callback_offer_origin_checks
    )
