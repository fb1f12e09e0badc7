"""Reads for customers: search, the 360° view, duplicate candidates, behavioural features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from cea.common.channels import Channel
from cea.common.errors import ValidationFailed
from cea.common.replica import reading_connection
from records.cases.models import Case, CaseStatus
from records.customers.models import Customer, CustomerStatus
from records.holdings.models import HoldingKind
from records.identities.models import Identity, IdentityKind
from records.identities.selectors import identities_matching
from records.interactions.models import Interaction

SIMILAR_NAME_THRESHOLD = 0.55


# Identifier kinds a search matches. Searches come in query strings (the API's ``q``, the pages'
# search boxes), which end up in logs and browser histories: a national id is looked up only by
# POST /api/v1/lookup/ (records.identities.apis.LookupApi).
SEARCHED_IDENTITY_KINDS = tuple(kind for kind in IdentityKind.values if kind != IdentityKind.NATIONAL_ID)


def customer_search(*, customers: QuerySet[Customer], text: str) -> QuerySet[Customer]:
    """Customers among ``customers`` whose name, email, phone or an identifier (not a national id) matches ``text``."""
    text = text.strip()
    if not text:
        return customers
    if "\x00" in text:  # PostgreSQL refuses NUL in text: a 400, not a 500
        raise ValidationFailed(
            "The search text has a null character.", fields={"q": "Null characters are not allowed."}
        )
    match = Q(search_name__icontains=text.lower()) | Q(email__iexact=text)
    identity_ids = [identity.pk for identity in identities_matching(value=text, kinds=SEARCHED_IDENTITY_KINDS)]
    if identity_ids:
        match |= Q(pk__in=Identity.objects.filter(pk__in=identity_ids).values("customer_id"))
    if text.isascii() and text.isdigit():  # "²".isdigit() is true, but int() refuses it
        match |= Q(pk=int(text))
    return customers.filter(match)


def _count_of(model: type[Case] | type[Interaction]) -> Coalesce:
    """How many ``model`` rows point at the outer customer: a correlated subquery on its index."""
    rows = model.objects.filter(customer=OuterRef("pk")).order_by().values("customer").annotate(n=Count("*"))
    return Coalesce(Subquery(rows.values("n")), 0)


def customer_360(*, customer_id: int) -> Customer:
    """A customer with identities, consents and open cases loaded for the 360° view."""
    return customer_360_rows().get(pk=customer_id)


def customer_360_rows() -> QuerySet[Customer]:
    """Customers as the 360° view reads them (give it to ``records.access.access_customer`` to check
    and read a customer in one statement).

    The counts are subqueries, not ``Count`` over joins: two joins multiply a customer's cases by
    their interactions before ``DISTINCT`` counts them, and the ``GROUP BY`` that an aggregate needs
    makes Django compile (and hash) every selected column again — the larger part of the request.
    """
    open_cases = Case.objects.filter(status__in=[CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING]).select_related(
        "assignee", "team"
    )
    return (
        Customer.objects.select_related("team", "merged_into")
        .prefetch_related("identities", "consents", Prefetch("cases", queryset=open_cases, to_attr="open_cases"))
        .annotate(case_count=_count_of(Case), interaction_count=_count_of(Interaction))
    )


@dataclass
class DuplicateCandidate:
    customer: Customer
    score: float
    reasons: list[str] = field(default_factory=list)


def customer_duplicate_candidates(
    *, customer: Customer, within: QuerySet[Customer], limit: int = 10
) -> list[DuplicateCandidate]:
    """Other active customers that may be the same person, best first.

    An identifier can belong to one customer only, so "shared identifiers" means one
    customer's contact email/phone being another's identity or contact data; names
    are compared by trigram similarity, strengthened by the same date of birth or postcode.
    """
    others = within.filter(status=CustomerStatus.ACTIVE).exclude(pk=customer.pk)
    candidates: dict[int, DuplicateCandidate] = {}

    def note(other: Customer, score: float, reason: str) -> None:
        entry = candidates.setdefault(other.pk, DuplicateCandidate(customer=other, score=0.0))
        entry.score = min(1.0, entry.score + score)
        entry.reasons.append(reason)

    own_emails = {customer.email} | set(
        customer.identities.filter(kind=IdentityKind.EMAIL).values_list("value", flat=True)
    )
    own_phones = {customer.phone} | set(
        customer.identities.filter(kind=IdentityKind.PHONE).values_list("value", flat=True)
    )
    own_emails.discard("")
    own_phones.discard("")
    if own_emails:
        for other in others.filter(email__in=own_emails):
            note(other, 0.6, f"same email {other.email}")
        owners = Identity.objects.filter(kind=IdentityKind.EMAIL, value__in={customer.email} - {""}).exclude(
            customer=customer
        )
        for other in others.filter(pk__in=owners.values("customer_id")):
            note(other, 0.6, "contact email is their identity")
    if own_phones:
        for other in others.filter(phone__in=own_phones):
            note(other, 0.6, f"same phone {other.phone}")
        owners = Identity.objects.filter(kind=IdentityKind.PHONE, value__in={customer.phone} - {""}).exclude(
            customer=customer
        )
        for other in others.filter(pk__in=owners.values("customer_id")):
            note(other, 0.6, "contact phone is their identity")
    if customer.search_name:
        similar = (
            # trigram_similar (the % operator) walks the trigram index; the threshold then sharpens it.
            others.filter(search_name__trigram_similar=customer.search_name)
            .annotate(similarity=TrigramSimilarity("search_name", customer.search_name))
            .filter(similarity__gte=SIMILAR_NAME_THRESHOLD)
            .order_by("-similarity")[:50]
        )
        for other in similar:
            score = 0.3 * other.similarity
            reason = f"similar name ({other.similarity:.2f})"
            if customer.date_of_birth and other.date_of_birth == customer.date_of_birth:
                score += 0.3
                reason += ", same date of birth"
            if (
                customer.postcode
                and other.postcode.replace(" ", "").upper() == customer.postcode.replace(" ", "").upper()
            ):
                score += 0.2
                reason += ", same postcode"
            note(other, score, reason)
    ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.customer.pk))
    return ranked[:limit]


def customers_served_by(*, team_ids: frozenset[int] | None) -> QuerySet[Customer]:
    """Active customers (not merged tombstones) of ``team_ids`` (``None``: every customer, any team or none)."""
    customers = Customer.objects.filter(status=CustomerStatus.ACTIVE)
    return customers if team_ids is None else customers.filter(team_id__in=sorted(team_ids))


def customer_personas_in_use(*, team_ids: frozenset[int] | None) -> list[str]:
    """The personas the active customers of ``team_ids`` (``None``: all) are placed in, sorted; blank left out."""
    customers = customers_served_by(team_ids=team_ids).exclude(persona="")
    return sorted(customers.values_list("persona", flat=True).distinct())


def customers_in_a_journey_stage() -> QuerySet[Customer]:
    """Customers whose journey stage is set (by insights' stage assignment)."""
    return Customer.objects.exclude(journey_stage="")


# --- Behavioural features (insights' personas read them) ---------------------------------------

RECENT_CONTACT_DAYS = 90
CHANNEL_COLUMNS: tuple[str, ...] = tuple(f"contacts_{channel}" for channel in Channel.values)
HOLDING_COLUMNS: tuple[str, ...] = tuple(f"holdings_of_{kind}" for kind in HoldingKind.values)

_PER_CHANNEL = ", ".join(
    f"count(*) FILTER (WHERE i.channel = '{value}') AS contacts_{value}" for value in Channel.values
)
_PER_KIND = ", ".join(
    f"count(*) FILTER (WHERE h.kind = '{value}') AS holdings_of_{value}" for value in HoldingKind.values
)

# One pass per table: the active customers, their contacts (all time, per channel, and in the last
# RECENT_CONTACT_DAYS days) and their holdings (per kind, with their amounts' sum), joined once per
# customer. Channels and kinds are the models' fixed choices, so each is a column of its own.
_BEHAVIOUR_SQL = f"""
WITH base AS (
    SELECT c.id, c.segment, c.value_tier, c.language, c.country, c.custom_attributes::text AS custom_attributes,
           c.created_at,
           CASE WHEN jsonb_typeof(c.scores -> 'sentiment') = 'number'
                THEN (c.scores ->> 'sentiment')::float8 END AS sentiment
    FROM records_customer c
    WHERE c.status = 'active' AND (%(ids)s::bigint[] IS NULL OR c.id = ANY(%(ids)s::bigint[]))
),
contact_counts AS (
    SELECT i.customer_id, count(*) AS contacts,
           count(*) FILTER (WHERE i.started_at >= %(recent_since)s) AS contacts_90d,
           {_PER_CHANNEL}
    FROM records_interaction i JOIN base ON base.id = i.customer_id
    GROUP BY i.customer_id
),
holding_counts AS (
    SELECT h.customer_id, count(*) AS holdings, coalesce(sum(h.amount), 0)::float8 AS holdings_balance,
           {_PER_KIND}
    FROM records_holding h JOIN base ON base.id = h.customer_id
    GROUP BY h.customer_id
)
SELECT base.id, base.segment, base.value_tier, base.language, base.country, base.custom_attributes,
       floor(extract(epoch FROM (%(now)s - base.created_at)) / 86400)::int AS tenure_days,
       base.sentiment,
       coalesce(contact_counts.contacts, 0) AS contacts,
       coalesce(contact_counts.contacts_90d, 0) AS contacts_90d,
       {", ".join(f"coalesce(contact_counts.{column}, 0) AS {column}" for column in CHANNEL_COLUMNS)},
       coalesce(holding_counts.holdings, 0) AS holdings,
       coalesce(holding_counts.holdings_balance, 0) AS holdings_balance,
       {", ".join(f"coalesce(holding_counts.{column}, 0) AS {column}" for column in HOLDING_COLUMNS)}
FROM base
LEFT JOIN contact_counts ON contact_counts.customer_id = base.id
LEFT JOIN holding_counts ON holding_counts.customer_id = base.id
ORDER BY base.id
"""  # noqa: S608 - the channels and kinds are the models' own choices, not input

BEHAVIOUR_COLUMNS: tuple[str, ...] = (
    "id",
    "segment",
    "value_tier",
    "language",
    "country",
    "custom_attributes",
    "tenure_days",
    "sentiment",
    "contacts",
    "contacts_90d",
    *CHANNEL_COLUMNS,
    "holdings",
    "holdings_balance",
    *HOLDING_COLUMNS,
)


def customer_behaviour_features(*, now: datetime, customer_ids: Sequence[int] | None = None) -> list[tuple[Any, ...]]:
    """Per active customer (all, or those of ``customer_ids``), in id order, one row of
    ``BEHAVIOUR_COLUMNS``, read in one statement (set-based: one pass over each table).

    ``custom_attributes``: the JSON object as text; ``tenure_days``: whole days from the customer's
    creation to ``now``; ``sentiment``: ``scores["sentiment"]`` when it is a number, else ``None``;
    ``contacts``: every recorded interaction, ``contacts_90d`` those started in the
    ``RECENT_CONTACT_DAYS`` days before ``now``, ``contacts_<channel>`` all of them on a channel;
    ``holdings``: the number of holdings, ``holdings_balance`` the sum of their amounts,
    ``holdings_of_<kind>`` the number of a kind.
    """
    params = {
        "ids": list(customer_ids) if customer_ids is not None else None,
        "now": now,
        "recent_since": now - timedelta(days=RECENT_CONTACT_DAYS),
    }
    # Raw SQL: the replica inside reading_from_replica() (persona discovery), as the ORM's reads.
    with reading_connection().cursor() as cursor:
        cursor.execute(_BEHAVIOUR_SQL, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows
