"""Reads behind the report pages: the contacts behind a figure, scoped like the figures themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any, cast

from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from cea.accounts.models import Team, User
from cea.accounts.types import AnyUser
from cea.common.roles import Role, role_of, sees_everything, team_ids_of
from engagement.routing.selectors import interactions_with_routing
from insights.access import figures_scope
from insights.kpis.business_hours import contacts_in_business_hours
from insights.kpis.definitions import KPIS, Source
from insights.kpis.models import AgentRollup, CaseRollup, ContactRollup
from insights.kpis.selectors import kpi_value
from records.access import require_signed_in
from records.interactions.models import Interaction
from records.interactions.selectors import interactions_for_report

# A contact counts in the interval it first queued; it may have started (in self-service) before.
SELF_SERVICE_BOUND = dt.timedelta(days=1)


def report_contacts(
    *,
    user: AnyUser,
    start: dt.datetime,
    end: dt.datetime,
    dimensions: Mapping[str, Sequence[str | int]] | None = None,
    business_hours_only: bool = False,
) -> QuerySet[Interaction]:
    """The contacts that a report's figures for ``[start, end)`` count, as ``user`` may see them.

    A contact counts where the rollups count it (``insights.kpis.rollup``): in the interval it was
    first queued, else the one it started in. Admins see all, supervisors their teams' contacts,
    agents the contacts they handled (``insights.access``'s rule). With ``business_hours_only``, those
    whose interval is in business hours, as the figures count them (``insights.kpis.business_hours``).
    Oldest first.
    """
    scope = figures_scope(user)
    interactions = interactions_for_report(
        started_from=start - SELF_SERVICE_BOUND,
        started_before=end,
        team_ids=scope.team_ids,
        agent_id=scope.agent_id,
        dimensions=dimensions,
    )
    contacts = (
        interactions_with_routing(interactions=interactions)
        .annotate(counted_at=Coalesce("first_enqueued_at", "started_at"))
        .filter(counted_at__gte=start, counted_at__lt=end)
    )
    if business_hours_only:
        contacts = contacts.filter(contacts_in_business_hours(counted_at=F("counted_at"), start=start, end=end))
    return contacts


def _contact_sets() -> dict[str, Q]:
    """The rollup's contact counts as filters on ``report_contacts``: the same rules as
    ``insights.kpis.rollup.CONTACT_ROLLUP_SQL`` (tests/insights/test_drill_down.py checks that each
    set's size is the figure's count)."""
    handled = Q(answered_at__isnull=False)
    queued = Q(direction="inbound", drill_contained=False) & (~Q(queue="") | Q(first_enqueued_at__isnull=False))
    return {
        "inbound": Q(direction="inbound"),
        "queued": queued,
        "answered": queued & handled,
        "handled": handled,
        "abandoned": queued & Q(answered_at__isnull=True) & ~Q(disposition="callback"),
        "fcr_eligible": handled & Q(customer__isnull=False) & ~Q(wrap_up_code=""),
    }


def contacts_behind(*, contacts: QuerySet[Interaction], kpi: str) -> tuple[QuerySet[Interaction], str]:
    """The contacts of ``contacts`` (``report_contacts``) that ``kpi``'s figure counts: its denominator's (or,
    for a count, its own) contacts, and their name ("" when the figure is not a count of contacts, as
    agents' time or cases: then all of ``contacts``)."""
    definition = KPIS[kpi]
    counted = definition.denominator or definition.numerator
    sets = _contact_sets()
    if definition.source != Source.CONTACTS or len(counted) != 1 or counted[0] not in sets:
        return contacts, ""
    contained = ExpressionWrapper(Q(context_snapshot__contained=True), output_field=BooleanField())
    marked = contacts.annotate(drill_contained=Coalesce(contained, Value(False)))
    return marked.filter(sets[counted[0]]), str(CONTACT_SET_NAMES[counted[0]])


CONTACT_SET_NAMES = {
    "inbound": _("inbound contacts"),
    "queued": _("contacts queued"),
    "answered": _("queued contacts answered"),
    "handled": _("contacts handled"),
    "abandoned": _("contacts abandoned"),
    "fcr_eligible": _("handled contacts with a customer and a wrap-up code"),
}


def team_kpi_figures(
    *, team_ids: Collection[int], kpis: Sequence[str], start: dt.datetime, end: dt.datetime
) -> dict[str, float | None]:
    """Each KPI of ``kpis`` over ``[start, end)`` for the teams ``team_ids`` together (sums, then the ratio),
    for the desk's comparison of an agent with their team. The caller decides that the user may see them;
    ``per_agent`` is added for ``handled``: the team's handled contacts per agent who handled any."""
    sources: dict[Source, type[ContactRollup] | type[AgentRollup] | type[CaseRollup]] = {
        Source.CONTACTS: ContactRollup,
        Source.AGENTS: AgentRollup,
        Source.CASES: CaseRollup,
    }
    figures: dict[str, float | None] = {}
    for name in kpis:
        kpi = KPIS[name]
        rows: QuerySet[Any] = sources[kpi.source]._default_manager.filter(
            team_id__in=sorted(team_ids), interval_start__gte=start, interval_start__lt=end
        )
        columns = sorted(set(kpi.numerator + kpi.denominator))
        figure = kpi_value(kpi=kpi, sums=rows.aggregate(**{column: Sum(column) for column in columns}))
        figures[name] = figure.value
        if name == "handled":
            agents = rows.filter(handled__gt=0).values("agent_id").distinct().count()
            figures["handled_per_agent"] = figure.numerator / agents if agents else None
    return figures


def team_member_ids(*, team_ids: Collection[int]) -> list[int]:
    """The ids of the users in any of ``team_ids``."""
    return sorted(set(User.objects.filter(teams__in=sorted(team_ids)).values_list("pk", flat=True)))


def team_names(*, team_ids: Collection[int]) -> dict[int, str]:
    """Each team's name by id."""
    return dict(Team.objects.filter(pk__in=sorted(team_ids)).values_list("pk", "name"))


def user_names(*, user_ids: Collection[int]) -> dict[int, str]:
    """Each user's full name (their username when they have none: ``User.__str__``)."""
    return {user.pk: str(user) for user in User.objects.filter(pk__in=sorted(user_ids))}


def report_filter_choices(*, user: AnyUser) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The teams and the agents ``user`` may filter a report by, as (id, name) pairs by name:
    admins every team and agent, supervisors their teams and their members, agents their teams and themselves."""
    require_signed_in(user)
    teams = Team.objects.order_by("name")
    users = User.objects.filter(role__in=["agent", "supervisor"]).order_by("first_name", "last_name", "username")
    if not sees_everything(user):
        mine = sorted(team_ids_of(user))
        teams = teams.filter(pk__in=mine)
        supervisor = role_of(user) == Role.SUPERVISOR
        users = users.filter(teams__in=mine).distinct() if supervisor else users.filter(pk=cast(int, user.pk))
    return (
        [(team.pk, team.name) for team in teams],
        [(person.pk, person.get_full_name() or person.username) for person in users],
    )
