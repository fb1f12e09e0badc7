"""The KPI registry: every KPI once, with its unit, formula, numerator and denominator.

A KPI is a ratio of two sums over contact rollup rows (``insights.kpis.models.ContactRollup``), or
one sum (a count). Because every rollup column is additive, a KPI at any interval and grouping is
the SUM of its numerator column(s) over the rows, divided by the SUM of its denominator column(s):
never an average of averages. docs/kpis.md explains each one and its edge cases; the defaults
follow Amazon Connect's historical metrics definitions
(https://docs.aws.amazon.com/connect/latest/adminguide/historical-metrics-definitions.html).

The service level's formula is per queue (``engagement.routing.models.Queue``): the rollup stores
each contact's numerator and denominator under its queue's formula, and ``service_level_variant``
names the formula in words, so that every figure says how it was computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

if TYPE_CHECKING:
    from engagement.routing.models import Queue


class Unit(StrEnum):
    COUNT = "count"
    SECONDS = "seconds"
    PERCENT = "percent"
    PER_HOUR = "per_hour"


class Source(StrEnum):
    """The rollup a KPI sums: contacts (``ContactRollup``), agents' time (``AgentRollup``) or cases (``CaseRollup``)."""

    CONTACTS = "contacts"
    AGENTS = "agents"
    CASES = "cases"


@dataclass(frozen=True)
class Kpi:
    """One KPI. ``numerator``/``denominator`` are the rollup columns summed (a count has no denominator)."""

    name: str
    label: StrOrPromise
    unit: Unit
    formula: str
    numerator_text: str
    denominator_text: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()
    source: Source = Source.CONTACTS

    @property
    def scale(self) -> int:
        """What the ratio is multiplied by: 100 for a percentage, 3,600 for a rate per hour of seconds."""
        return {Unit.PERCENT: 100, Unit.PER_HOUR: 3600}.get(self.unit, 1)


KPIS: dict[str, Kpi] = {
    kpi.name: kpi
    for kpi in (
        Kpi(
            name="offered",
            label=_("Contacts queued"),
            unit=Unit.COUNT,
            formula="Inbound contacts that entered a queue",
            numerator_text="contacts queued (counted in the interval they were first queued)",
            denominator_text="",
            numerator=("queued",),
        ),
        Kpi(
            name="answered",
            label=_("Contacts answered"),
            unit=Unit.COUNT,
            formula="Queued contacts an agent answered",
            numerator_text="queued contacts with an answer time",
            denominator_text="",
            numerator=("answered",),
        ),
        Kpi(
            name="handled",
            label=_("Contacts handled"),
            unit=Unit.COUNT,
            formula="Contacts an agent answered, inbound or outbound",
            numerator_text="contacts with an answer time",
            denominator_text="",
            numerator=("handled",),
        ),
        Kpi(
            name="abandoned",
            label=_("Contacts abandoned"),
            unit=Unit.COUNT,
            formula="Queued contacts the customer left before an answer (callbacks are not abandons)",
            numerator_text="queued contacts ended unanswered, not turned into a callback",
            denominator_text="",
            numerator=("abandoned",),
        ),
        Kpi(
            name="short_abandoned",
            label=_("Short abandons"),
            unit=Unit.COUNT,
            formula="Abandoned contacts that waited less than the queue's short-abandon threshold",
            numerator_text="abandoned contacts with a wait under the queue's short_abandon_seconds",
            denominator_text="",
            numerator=("short_abandoned",),
        ),
        Kpi(
            name="flowed_out",
            label=_("Contacts flowed out"),
            unit=Unit.COUNT,
            formula="Queued contacts that left the queue unanswered for another queue (overflow, a supervisor's move)",
            numerator_text="contacts queued here that routing moved to another queue before an answer",
            denominator_text="",
            numerator=("flowed_out",),
        ),
        Kpi(
            name="abandonment_rate",
            label=_("Abandonment rate"),
            unit=Unit.PERCENT,
            formula="Abandoned ÷ queued × 100",
            numerator_text="contacts abandoned",
            denominator_text="contacts queued",
            numerator=("abandoned",),
            denominator=("queued",),
        ),
        Kpi(
            name="asa",
            label=_("Average speed of answer"),
            unit=Unit.SECONDS,
            formula="Sum of (answered − enqueued) ÷ answered contacts",
            numerator_text="seconds from enqueue to answer, summed over answered contacts",
            denominator_text="contacts answered",
            numerator=("answer_wait_seconds",),
            denominator=("answered",),
        ),
        Kpi(
            name="service_level",
            label=_("Service level"),
            unit=Unit.PERCENT,
            formula="Per the queue's formula (see variant): by default contacts removed from the queue"
            " within the target (answered, abandoned or turned into a callback) ÷ contacts queued × 100",
            numerator_text="contacts within the target, as the queue's formula counts them",
            denominator_text="contacts in the queue's formula's denominator",
            numerator=("sl_numerator",),
            denominator=("sl_denominator",),
        ),
        Kpi(
            name="aht",
            label=_("Average handle time"),
            unit=Unit.SECONDS,
            formula="(Talk + hold + after-contact work) ÷ handled contacts",
            numerator_text="talk, hold and after-contact seconds of handled contacts",
            denominator_text="contacts handled",
            numerator=("talk_seconds", "hold_seconds", "acw_seconds"),
            denominator=("handled",),
        ),
        Kpi(
            name="after_contact_time",
            label=_("Average after-contact work"),
            unit=Unit.SECONDS,
            formula="After-contact work seconds ÷ handled contacts",
            numerator_text="seconds from a contact's end to its wrap-up",
            denominator_text="contacts handled",
            numerator=("acw_seconds",),
            denominator=("handled",),
        ),
        Kpi(
            name="transfer_rate",
            label=_("Transfer rate"),
            unit=Unit.PERCENT,
            formula="Handled contacts transferred at least once ÷ handled contacts × 100",
            numerator_text="handled contacts with a transfer",
            denominator_text="contacts handled",
            numerator=("transferred",),
            denominator=("handled",),
        ),
        Kpi(
            name="fcr",
            label=_("First-contact resolution"),
            unit=Unit.PERCENT,
            formula="Handled contacts with no repeat contact from the same customer with the same wrap-up"
            " code within N days (CEA_INSIGHTS_FCR_DAYS) ÷ handled contacts with a customer and a wrap-up"
            " code × 100",
            numerator_text="handled contacts not repeated within N days",
            denominator_text="handled contacts with a customer and a wrap-up code",
            numerator=("fcr_resolved",),
            denominator=("fcr_eligible",),
        ),
        Kpi(
            name="csat",
            label=_("CSAT"),
            unit=Unit.PERCENT,
            formula="Contacts whose customer answered the CSAT survey 4 or 5 (satisfied) ÷ contacts with a CSAT"
            " answer × 100",
            numerator_text="contacts with a CSAT answer of 4 or 5",
            denominator_text="contacts with a CSAT answer (1–5)",
            numerator=("csat_satisfied",),
            denominator=("csat_responses",),
        ),
        Kpi(
            name="containment",
            label=_("Self-service containment"),
            unit=Unit.PERCENT,
            formula="Inbound contacts ended in self-service, never queued for an agent ÷ inbound contacts × 100",
            numerator_text="inbound contacts contained in self-service",
            denominator_text="inbound contacts",
            numerator=("contained",),
            denominator=("inbound",),
        ),
        Kpi(
            name="occupancy",
            label=_("Occupancy"),
            unit=Unit.PERCENT,
            formula="Time on contacts ÷ (time on contacts + idle time) × 100, while logged in",
            numerator_text="wall-clock seconds logged in with at least one contact, from its answer to its wrap-up",
            denominator_text="those seconds plus available seconds with no contact",
            numerator=("logged_in_contact_seconds",),
            denominator=("logged_in_contact_seconds", "idle_seconds"),
            source=Source.AGENTS,
        ),
        Kpi(
            name="utilisation",
            label=_("Utilisation"),
            unit=Unit.PERCENT,
            formula="Time on contacts ÷ time logged in × 100",
            numerator_text="wall-clock seconds logged in with at least one contact",
            denominator_text="seconds in any presence but offline",
            numerator=("logged_in_contact_seconds",),
            denominator=("logged_in_seconds",),
            source=Source.AGENTS,
        ),
        Kpi(
            name="conversations_per_agent_hour",
            label=_("Conversations per agent-hour"),
            unit=Unit.PER_HOUR,
            formula="Contacts answered ÷ hours logged in",
            numerator_text="contacts the agents answered",
            denominator_text="hours the agents were logged in (any presence but offline)",
            numerator=("handled",),
            denominator=("logged_in_seconds",),
            source=Source.AGENTS,
        ),
        Kpi(
            name="cases_opened",
            label=_("Cases opened"),
            unit=Unit.COUNT,
            formula="Cases created",
            numerator_text="cases created in the interval",
            denominator_text="",
            numerator=("opened",),
            source=Source.CASES,
        ),
        Kpi(
            name="cases_resolved",
            label=_("Cases resolved"),
            unit=Unit.COUNT,
            formula="Cases resolved (or closed without a resolution)",
            numerator_text="cases resolved or closed in the interval",
            denominator_text="",
            numerator=("resolved",),
            source=Source.CASES,
        ),
        Kpi(
            name="case_backlog",
            label=_("Case backlog"),
            unit=Unit.COUNT,
            formula="Cases open at the end of the interval: all cases opened before it ends − all resolved",
            numerator_text="cases opened up to the interval's end minus cases resolved or closed up to it",
            denominator_text="",
            numerator=("opened",),
            denominator=(),
            source=Source.CASES,
        ),
        Kpi(
            name="case_first_response_sla",
            label=_("Case SLA: first response"),
            unit=Unit.PERCENT,
            formula="Cases first answered by their due time ÷ cases whose first response is decided × 100",
            numerator_text="cases with a first response at or before first_response_due_at",
            denominator_text="cases with a first-response target that were answered or breached",
            numerator=("first_response_met",),
            denominator=("first_response_decided",),
            source=Source.CASES,
        ),
        Kpi(
            name="case_resolution_sla",
            label=_("Case SLA: resolution"),
            unit=Unit.PERCENT,
            formula="Cases resolved by their due time ÷ cases whose resolution is decided × 100",
            numerator_text="cases resolved at or before resolution_due_at",
            denominator_text="cases with a resolution target that were resolved or breached",
            numerator=("resolution_met",),
            denominator=("resolution_decided",),
            source=Source.CASES,
        ),
    )
}
# The backlog is a level, not a flow: the selector adds the cases opened minus resolved before the range.
LEVEL_KPIS = {"case_backlog": ("opened", "resolved")}


class ServiceLevelVariant(StrEnum):
    CONNECT = "connect"
    GENESYS = "genesys"


@dataclass(frozen=True)
class ServiceLevelTerms:
    """A queue's service-level settings, as the rollup applies them to its contacts."""

    formula: str = ServiceLevelVariant.CONNECT
    target_seconds: int = 20
    short_abandon_seconds: int = 5
    answered_after_target: bool = True
    abandons: bool = True
    excludes_short_abandons: bool = False
    flow_outs: bool = False

    @classmethod
    def of(cls, queue: Queue) -> ServiceLevelTerms:
        """``queue``'s service-level settings as terms: the fields the rollup's SQL reads
        (``queue_service_level_settings``), for the figures computed in Python (the real-time ones)."""
        return cls(
            formula=queue.service_level_formula,
            target_seconds=queue.service_level_seconds,
            short_abandon_seconds=queue.short_abandon_seconds,
            answered_after_target=queue.sl_counts_answered_after_target,
            abandons=queue.sl_counts_abandons,
            excludes_short_abandons=queue.sl_excludes_short_abandons,
            flow_outs=queue.sl_counts_flow_outs,
        )

    @property
    def variant(self) -> str:
        """The formula in words (``service_level_variant`` of its key), as every figure states it."""
        return service_level_variant(self.key)

    @property
    def key(self) -> str:
        """A short stable name of the formula, stored with each rollup row (``sl_variant``)."""
        if self.formula == ServiceLevelVariant.CONNECT:
            return f"connect/{self.target_seconds}s"
        terms = [
            "+after" if self.answered_after_target else "-after",
            "+abandons" if self.abandons else "-abandons",
            f"-short<{self.short_abandon_seconds}s" if self.excludes_short_abandons else "+short",
            "+flowouts" if self.flow_outs else "-flowouts",
        ]
        return f"genesys/{self.target_seconds}s/{''.join(terms)}"


def service_level_variant(key: str) -> str:
    """The formula a rollup row's ``sl_variant`` stands for, in words."""
    parts = key.split("/")
    target = parts[1].removesuffix("s") if len(parts) > 1 else "?"
    if parts[0] == ServiceLevelVariant.CONNECT:
        return (
            f"Amazon Connect: contacts answered, abandoned or turned into a callback within {target} s of"
            " being queued ÷ contacts queued"
        )
    terms = parts[2] if len(parts) > 2 else ""
    denominator = [f"answered within {target} s"]
    if "+after" in terms:
        denominator.append("answered later")
    if "+abandons" in terms:
        short = terms.split("-short<")[1].split("s")[0] if "-short<" in terms else None
        denominator.append(f"abandoned (less short abandons under {short} s)" if short else "abandoned")
    if "+flowouts" in terms:
        denominator.append("flowed out")
    return f"Genesys-style: answered within {target} s ÷ ({' + '.join(denominator)})"


@dataclass(frozen=True)
class QueueOutcomes:
    """Counts of one queue's contacts by outcome, for the service level's formulas in plain Python."""

    answered_within: int
    answered_after: int
    abandoned_within: int
    abandoned_after: int
    short_abandoned: int
    callbacks_within: int = 0
    callbacks_after: int = 0
    flowed_out: int = 0


def service_level_fraction(*, outcomes: QueueOutcomes, terms: ServiceLevelTerms) -> tuple[int, int]:
    """(numerator, denominator) of the service level under ``terms``: the rule the rollup's SQL follows.

    Connect: removed from the queue within the target (answered, abandoned, callback) over queued.
    Genesys-style: answered within the target over answered within plus the chosen terms.
    """
    if terms.formula == ServiceLevelVariant.CONNECT:
        queued = (
            outcomes.answered_within
            + outcomes.answered_after
            + outcomes.abandoned_within
            + outcomes.abandoned_after
            + outcomes.callbacks_within
            + outcomes.callbacks_after
            + outcomes.flowed_out
        )
        return outcomes.answered_within + outcomes.abandoned_within + outcomes.callbacks_within, queued
    denominator = outcomes.answered_within
    if terms.answered_after_target:
        denominator += outcomes.answered_after
    if terms.abandons:
        denominator += outcomes.abandoned_within + outcomes.abandoned_after
        if terms.excludes_short_abandons:
            denominator -= outcomes.short_abandoned
    if terms.flow_outs:
        denominator += outcomes.flowed_out
    return outcomes.answered_within, denominator
