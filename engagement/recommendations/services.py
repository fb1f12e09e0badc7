"""Writes of recommended actions: offer one for a customer, decide it (accept or dismiss), expire the old.

Offering is for the system (a strategy's executor, ``actor=None``), administrators, integration
clients and the supervisors of the customer's team. Deciding is for whoever may see the customer's
actions (``selectors.access_recommendations_customer``). Every change tells the desks following the
customer after commit (``recommendations.changed`` on the customer's live group), so the Next
best action card reads again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from cea.accounts.models import User
from cea.accounts.types import Actor
from cea.common.errors import Conflict, PermissionDenied, ValidationFailed
from cea.common.live import push_on_commit
from cea.common.pii import redact_text
from cea.common.roles import Role, can_supervise, is_admin, role_of, team_ids_of
from engagement.context.models import ContextScope
from engagement.context.services import live_group
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.recommendations.models import RecommendationStatus, RecommendedAction
from engagement.recommendations.selectors import access_recommendation
from records.customers.models import Customer
from records.journey.services import journey_record

MAX_REASONS = 20
MAX_REASON_CHARS = 300
MAX_TITLE_CHARS = 200
MAX_SOURCE_KEY_CHARS = 120


def recommendations_changed_on_commit(*, customer_id: int, decided: int | None = None) -> None:
    """After commit, tell the desks and pages following the customer that their actions changed.

    ``decided`` names the action whose decision the change is: the card that decision's answer
    rendered is current already, and keeps its notice rather than reading itself again.
    """
    push_on_commit(
        live_group(scope=ContextScope.CUSTOMER, context_id=customer_id),
        {"type": "recommendations.changed", "customer": customer_id, "decided": decided},
    )


def _require_offerer(actor: Actor, customer: Customer) -> None:
    if actor is None or is_admin(actor) or role_of(actor) == Role.INTEGRATION:
        return
    if can_supervise(actor) and customer.team_id is not None and customer.team_id in team_ids_of(actor):
        return
    raise PermissionDenied("Only the system, administrators and the customer's supervisors offer actions.")


def _offer_problems(
    *, source_key: str, title: str, reasons: Sequence[str], score: float, expires_at: datetime | None
) -> dict[str, str]:
    problems = {}
    if not source_key.strip() or len(source_key) > MAX_SOURCE_KEY_CHARS:
        problems["source_key"] = f"A source key of 1-{MAX_SOURCE_KEY_CHARS} characters, e.g. strategy:<key>."
    if not title.strip() or len(title) > MAX_TITLE_CHARS:
        problems["title"] = f"A title of 1-{MAX_TITLE_CHARS} characters."
    if (
        not isinstance(reasons, list | tuple)
        or len(reasons) > MAX_REASONS
        or not all(isinstance(reason, str) and 0 < len(reason) <= MAX_REASON_CHARS for reason in reasons)
    ):
        problems["reasons"] = f"At most {MAX_REASONS} reasons, each a text of 1-{MAX_REASON_CHARS} characters."
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        problems["score"] = "A finite number."
    if expires_at is not None and expires_at <= timezone.now():
        problems["expires_at"] = "An expiry in the future (or none)."
    return problems


@transaction.atomic
def recommendation_offer(
    *,
    actor: Actor,
    customer: Customer,
    source_key: str,
    title: str,
    detail: str,
    reasons: list[str],
    score: float,
    expires_at: datetime | None = None,
) -> RecommendedAction:
    """Offer an action for ``customer``, or refresh the one ``source_key`` already has open.

    Idempotent per open ``(customer, source_key)``: offered again, the open action takes the new
    title, detail, reasons, score and expiry instead of a second row (an open one already past its
    expiry is marked expired and a new one offered). ``ValidationFailed`` by field, nothing written.
    """
    _require_offerer(actor, customer)
    problems = _offer_problems(source_key=source_key, title=title, reasons=reasons, score=score, expires_at=expires_at)
    if problems:
        raise ValidationFailed("The recommended action is invalid.", fields=problems)
    values = {
        "title": title.strip(),
        "detail": detail,
        "reasons": list(reasons),
        "score": float(score),
        "expires_at": expires_at,
        "team_id": customer.team_id,
    }
    action = _open_locked(customer_id=customer.pk, source_key=source_key)
    if action is None:
        try:
            with transaction.atomic():
                action = RecommendedAction.objects.create(customer=customer, source_key=source_key, **values)
        except IntegrityError:  # offered at the same moment by another worker: refresh theirs
            action = _open_locked(customer_id=customer.pk, source_key=source_key)
            if action is None:
                raise
    if action.pk and any(getattr(action, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(action, name, value)
        action.save(update_fields=[*values.keys(), "updated_at"])
    recommendations_changed_on_commit(customer_id=customer.pk)
    return action


def _open_locked(*, customer_id: int, source_key: str) -> RecommendedAction | None:
    """The open action of the source for the customer, locked; one past its expiry is expired first."""
    action = (
        RecommendedAction.objects.select_for_update()
        .filter(customer_id=customer_id, source_key=source_key, status=RecommendationStatus.OFFERED)
        .first()
    )
    if action is not None and action.expires_at is not None and action.expires_at <= timezone.now():
        action.status = RecommendationStatus.EXPIRED
        action.save(update_fields=["status", "updated_at"])
        return None
    return action


def _desk_conversation(*, actor: User, customer_id: int) -> Conversation | None:
    """The conversation with the customer on the deciding agent's desk now, the newest if several."""
    return (
        Conversation.objects.filter(customer_id=customer_id, agent_id=actor.pk, status=ConversationStatus.ACTIVE)
        .order_by("-created_at", "-id")
        .first()
    )


@transaction.atomic
def recommendation_decide(*, actor: Actor, recommendation_id: int, accepted: bool, note: str = "") -> RecommendedAction:
    """Accept or dismiss an open action, by a user who may see the customer's actions.

    Records who, when, the conversation on their desk with the customer (if any) and a journey event
    ``recommendation.accepted`` / ``recommendation.dismissed`` naming the source. ``NotFound``,
    ``PermissionDenied``; ``Conflict`` when it was already decided (``already_decided``) or has
    expired (``recommendation_expired``). Locks the action's row.
    """
    if not isinstance(actor, User):
        raise PermissionDenied("A signed-in person decides a recommended action.", code="not_authenticated")
    if len(note) > 2000:
        raise ValidationFailed("A note is at most 2000 characters.", fields={"note": "Too long."})
    action = access_recommendation(actor, recommendation_id)
    action = RecommendedAction.objects.select_for_update().select_related("customer").get(pk=action.pk)
    if action.status != RecommendationStatus.OFFERED:
        raise Conflict(
            f"This recommended action was already {action.status}"
            + (f" by {action.decided_by}" if action.decided_by_id else "")
            + ".",
            code="already_decided",
        )
    now = timezone.now()
    if action.expires_at is not None and action.expires_at <= now:
        raise Conflict("This recommended action has expired.", code="recommendation_expired")
    conversation = _desk_conversation(actor=actor, customer_id=action.customer_id)
    action.status = RecommendationStatus.ACCEPTED if accepted else RecommendationStatus.DISMISSED
    action.decided_by = actor
    action.decided_at = now
    action.conversation = conversation
    action.note = redact_text(note)  # an agent's own words: redacted (cea.common.pii) like every note
    action.save(update_fields=["status", "decided_by", "decided_at", "conversation", "note", "updated_at"])
    journey_record(
        customer=action.customer,
        kind=f"recommendation.{action.status}",
        source_system="engagement",
        channel=conversation.channel if conversation else "",
        summary=f"Next best action {action.status}: {action.title}",
        payload={
            "recommendation_id": action.pk,
            "source_key": action.source_key,
            "score": action.score,
            "conversation_id": conversation.pk if conversation else None,
            "decided_by": actor.pk,
        },
        occurred_at=now,
    )
    recommendations_changed_on_commit(customer_id=action.customer_id, decided=action.pk)
    return action


def recommendations_expire(*, now: datetime | None = None) -> int:
    """Mark the open actions past their expiry expired; returns how many. Idempotent (the sweep's task)."""
    now = now or timezone.now()
    return RecommendedAction.objects.filter(status=RecommendationStatus.OFFERED, expires_at__lte=now).update(
        status=RecommendationStatus.EXPIRED, updated_at=now
    )
