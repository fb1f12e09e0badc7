"""Reads of recommended actions: a customer's open actions ranked, outcomes per source, and who may see them.

Who may see and decide a customer's actions: the agents and supervisors of the customer's team,
an agent handling a conversation with the customer (they may be of another team: the router
offered it to them), administrators and integration clients (limited by their token's scopes).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cea.accounts.types import AnyUser
from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import sees_everything
from engagement.conversations.models import Conversation, ConversationStatus
from engagement.recommendations.models import RecommendationStatus, RecommendedAction
from records.access import access_customer, require_signed_in, row_id
from records.customers.models import Customer

OUTCOMES = ("offered", "accepted", "dismissed", "expired")


def _open(now: datetime) -> Q:
    return Q(status=RecommendationStatus.OFFERED) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def handles_customer(*, user: AnyUser, customer_id: int) -> bool:
    """Whether ``user`` is the agent of a conversation with the customer that has not ended."""
    return Conversation.objects.filter(
        customer_id=customer_id, agent_id=user.pk, status__in=(ConversationStatus.QUEUED, ConversationStatus.ACTIVE)
    ).exists()


def access_recommendations_customer(user: AnyUser, customer_id: object) -> Customer:
    """The customer whose actions ``user`` may see and decide: ``NotFound``, ``PermissionDenied``."""
    try:
        return access_customer(user, customer_id)
    except PermissionDenied:
        pk = row_id(customer_id)
        if pk is not None and handles_customer(user=user, customer_id=pk):
            return Customer.objects.select_related("team").get(pk=pk)
        raise


def access_recommendation(user: AnyUser, recommendation_id: object) -> RecommendedAction:
    """The action if ``user`` may see its customer's actions: unknown ``NotFound``, another team's
    ``PermissionDenied``."""
    require_signed_in(user)
    pk = row_id(recommendation_id)
    action = RecommendedAction.objects.select_related("customer").filter(pk=pk).first() if pk is not None else None
    if action is None:
        raise NotFound(f"No recommended action with id {recommendation_id}.")
    if not sees_everything(user):
        access_recommendations_customer(user, action.customer_id)
    return action


def recommendations_open_for(
    *, customer_id: int, limit: int = 5, now: datetime | None = None
) -> list[RecommendedAction]:
    """The customer's open actions (offered, not past ``expires_at``), best score first, then newest."""
    now = now or timezone.now()
    return list(
        RecommendedAction.objects.filter(_open(now), customer_id=customer_id).order_by("-score", "-created_at", "-id")[
            :limit
        ]
    )


def recommendations_of(*, customer_id: int) -> QuerySet[RecommendedAction]:
    """Every action ever offered for the customer, newest first (the API's list with ``?status=``)."""
    return RecommendedAction.objects.filter(customer_id=customer_id).order_by("-created_at", "-id")


def recommendation_outcomes(
    *,
    source_keys: Iterable[str],
    since: datetime | None = None,
    now: datetime | None = None,
    team_ids: Iterable[int] | None = None,
) -> dict[str, dict[str, int]]:
    """What became of the actions each source offered (since ``since``, by when they were offered;
    only those offered for customers of ``team_ids`` when given: a supervisor's figures).

    ``offered`` counts every action offered, whatever became of it; ``accepted``, ``dismissed`` and
    ``expired`` are what became of them (an action still ``offered`` past its ``expires_at`` counts
    as expired, swept or not); the rest are still open. Every key asked for is in the answer.
    """
    now = now or timezone.now()
    keys = sorted(set(source_keys))
    rows = RecommendedAction.objects.filter(source_key__in=keys)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if team_ids is not None:
        rows = rows.filter(team_id__in=sorted(team_ids))
    lapsed = Q(status=RecommendationStatus.EXPIRED) | (Q(status=RecommendationStatus.OFFERED) & Q(expires_at__lte=now))
    counts = rows.values("source_key").annotate(
        offered=Count("id"),
        accepted=Count("id", filter=Q(status=RecommendationStatus.ACCEPTED)),
        dismissed=Count("id", filter=Q(status=RecommendationStatus.DISMISSED)),
        expired=Count("id", filter=lapsed),
    )
    outcomes = {key: dict.fromkeys(OUTCOMES, 0) for key in keys}
    for row in counts:
        outcomes[row["source_key"]] = {name: row[name] for name in OUTCOMES}
    return outcomes


def recommendation_acceptances(*, source_key: str, customer_ids: Iterable[int]) -> dict[int, list[datetime]]:
    """When each of these customers accepted an action of the source (``decided_at``), oldest first: what
    insights' strategies read for their ``nba_accepted`` metric. Customers who accepted none are left out."""
    ids = sorted(set(customer_ids))
    accepted: dict[int, list[datetime]] = {}
    if not ids:
        return accepted
    rows = RecommendedAction.objects.filter(
        source_key=source_key, status=RecommendationStatus.ACCEPTED, customer_id__in=ids, decided_at__isnull=False
    ).order_by("customer_id", "decided_at")
    for customer_id, decided_at in rows.values_list("customer_id", "decided_at"):
        if decided_at is not None:  # filtered out above; the type does not know
            accepted.setdefault(customer_id, []).append(decided_at)
    return accepted
