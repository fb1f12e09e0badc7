"""Reads for customers: search, the 360° view, duplicate candidates."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Count, Prefetch, Q, QuerySet

from cea.common.errors import ValidationFailed
from records.cases.models import Case, CaseStatus
from records.customers.models import Customer, CustomerStatus
from records.identities.models import Identity, IdentityKind
from records.identities.selectors import identities_matching

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


def customer_360(*, customer_id: int) -> Customer:
    """A customer with identities, consents and open cases loaded for the 360° view."""
    open_cases = Case.objects.filter(status__in=[CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING]).select_related(
        "assignee", "team"
    )
    return (
        Customer.objects.select_related("team", "merged_into")
        .prefetch_related("identities", "consents", Prefetch("cases", queryset=open_cases, to_attr="open_cases"))
        .annotate(case_count=Count("cases", distinct=True), interaction_count=Count("interactions", distinct=True))
        .get(pk=customer_id)
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
