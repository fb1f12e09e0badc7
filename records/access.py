"""Check, then do: every interface fetches records through these helpers.

An agent and a supervisor see the customers and cases of their teams; an admin,
and an integration client (limited by its token's scopes instead), see all.
Unknown ids raise ``NotFound`` (404); ids the user may not see raise
``PermissionDenied`` (403).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cea.accounts.models import Team
from cea.common.errors import NotFound, PermissionDenied, ValidationFailed
from cea.common.queries import one_or_none
from cea.common.roles import can_supervise, role_of, sees_everything, team_ids_of
from records.cases.models import Case, CaseNote
from records.customers.models import Customer
from records.interactions.models import Interaction


def row_id(value) -> int | None:
    """``value`` as a row id if it is written in ASCII digits; ``None`` otherwise.

    ``str.isdigit`` alone accepts characters ``int()`` refuses (``"²"``), which would be a 500.
    """
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else None


def require_signed_in(user) -> None:
    """Every interface's first check: who asks is signed in (or holds a token). ``PermissionDenied``."""
    if role_of(user) is None:
        raise PermissionDenied("Sign in first.", code="not_authenticated")


# --- Customers ------------------------------------------------------------------------------


def customers_visible_to(user) -> QuerySet[Customer]:
    require_signed_in(user)
    customers = Customer.objects.all()
    if sees_everything(user):
        return customers
    return customers.filter(team_id__in=team_ids_of(user))


def customer_visible(user, customer: Customer) -> bool:
    return sees_everything(user) or (customer.team_id is not None and customer.team_id in team_ids_of(user))


def access_customer(user, customer_id, *, rows: QuerySet[Customer] | None = None) -> Customer:
    """The customer ``customer_id`` if ``user`` may see it, read through ``rows`` when given (a
    selector's queryset: the 360's, so that the check and the view read the customer once)."""
    require_signed_in(user)
    customers = rows if rows is not None else Customer.objects.select_related("team", "merged_into")
    pk = row_id(customer_id)
    customer = one_or_none(customers.filter(pk=pk)) if pk is not None else None
    return access_customer_read(user, customer, customer_id)


def access_customer_read(user, customer: Customer | None, customer_id) -> Customer:
    """``access_customer``'s verdict on a customer the caller has read already (``None``: no such row),
    for a check of many users at once (engagement/context/rechecks.py)."""
    require_signed_in(user)
    if customer is None:
        raise NotFound(f"No customer with id {customer_id}.")
    if not customer_visible(user, customer):
        raise PermissionDenied("This customer belongs to a team you are not in.")
    return customer


# --- Cases ----------------------------------------------------------------------------------


def cases_visible_to(user) -> QuerySet[Case]:
    require_signed_in(user)
    cases = Case.objects.all()
    if sees_everything(user):
        return cases
    teams = team_ids_of(user)
    return cases.filter(Q(team_id__in=teams) | Q(assignee_id=user.pk))


def case_visible(user, case: Case) -> bool:
    return (
        sees_everything(user)
        or case.assignee_id == user.pk
        or (case.team_id is not None and case.team_id in team_ids_of(user))
    )


def access_case(user, case_id) -> Case:
    """A case by id or by reference (``CS-…``)."""
    require_signed_in(user)
    cases = Case.objects.select_related("customer", "team", "assignee", "sla_policy")
    key, pk = str(case_id), row_id(case_id)
    if pk is not None:
        case = one_or_none(cases.filter(pk=pk))
    elif "\x00" in key:  # PostgreSQL cannot compare text with NUL; no reference has one
        case = None
    else:
        case = one_or_none(cases.filter(reference=key.upper()))
    if case is None:
        raise NotFound(f"No case {case_id}.")
    if not case_visible(user, case):
        raise PermissionDenied("This case belongs to a team you are not in.")
    return case


def access_case_note(user, case: Case, note_id) -> CaseNote:
    pk = row_id(note_id)
    note = case.notes.filter(pk=pk).first() if pk is not None else None
    if note is None:
        raise NotFound(f"No note {note_id} on case {case.reference}.")
    return note


# --- Interactions ---------------------------------------------------------------------------


def interactions_visible_to(user) -> QuerySet[Interaction]:
    require_signed_in(user)
    interactions = Interaction.objects.all()
    if sees_everything(user):
        return interactions
    teams = team_ids_of(user)
    return interactions.filter(Q(customer__team_id__in=teams) | Q(team_id__in=teams) | Q(agent_id=user.pk))


def access_interaction(user, interaction_id) -> Interaction:
    require_signed_in(user)
    pk = row_id(interaction_id)
    interaction = (
        Interaction.objects.select_related("customer", "agent", "team", "case").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if interaction is None:
        raise NotFound(f"No interaction with id {interaction_id}.")
    teams = team_ids_of(user)
    visible = (
        sees_everything(user)
        or interaction.agent_id == user.pk
        or (interaction.team_id is not None and interaction.team_id in teams)
        or (interaction.customer is not None and interaction.customer.team_id in teams)
    )
    if not visible:
        raise PermissionDenied("This interaction belongs to a team you are not in.")
    return interaction


# --- Actions that need more than visibility -------------------------------------------------


# ``user=None`` is the system itself (a Celery job, a management command): it may do anything.


def require_team_allowed(user, team) -> None:
    """Putting a record in ``team`` needs membership of it (admins and integration clients: any)."""
    if team is None or user is None or sees_everything(user):
        return
    if team.pk not in team_ids_of(user):
        raise PermissionDenied(f"You cannot assign records to the team {team.name!r}: you are not in it.")


def require_team_kept(user, team) -> None:
    """A customer or case an agent or supervisor creates or changes stays in one of their teams.

    ``team=None`` would hide the record from every team (only admins and integration clients see
    records without a team), so only they and the system may set it; any other team needs
    membership (``require_team_allowed``). Raises ``PermissionDenied``.
    """
    if user is None or sees_everything(user):
        return
    if team is None:
        raise PermissionDenied("Only an administrator can leave a record without a team.")
    require_team_allowed(user, team)


def default_team_of(user) -> Team | None:
    """The team a new record of ``user`` goes to when none is given: their only team.

    ``None`` for the system, admins and integration clients (a record may have no team); raises
    ``ValidationFailed`` for someone in several teams or none, who must choose.
    """
    if user is None or sees_everything(user):
        return None
    teams = list(user.teams.all()[:2])
    if len(teams) != 1:
        raise ValidationFailed("Choose the team the record belongs to.", fields={"team": "Choose one of your teams."})
    return teams[0]


def require_customer_visible(user, customer: Customer) -> None:
    """Attaching a record (a case) to ``customer`` needs sight of it, whatever team the record goes to."""
    if user is not None and not customer_visible(user, customer):
        raise PermissionDenied("This customer belongs to a team you are not in.")


def require_supervisor(user, action: str) -> None:
    if user is not None and not (can_supervise(user) or sees_everything(user)):
        raise PermissionDenied(f"Only a supervisor or an administrator may {action}.")
