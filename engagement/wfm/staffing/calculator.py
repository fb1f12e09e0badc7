"""The staffing calculator: one interval's requirement for a what-if (volume, AHT, target, model), with
the figures a few agents either side, so a planner sees what one agent more or fewer does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cea.common.days import local_day_bounds
from cea.common.errors import ValidationFailed
from engagement.wfm.forecasting.models import ForecastInterval
from engagement.wfm.planning.models import PlanningQueue, StaffingModel, TargetKind
from engagement.wfm.staffing import erlang
from engagement.wfm.staffing.erlang import StaffingInput, StaffingResult, required_agents, with_shrinkage

NEIGHBOURS = 3


@dataclass(frozen=True)
class CalculationRow:
    """What ``agents`` on contacts achieve (None: the model has no such figure)."""

    agents: int
    service_level: float | None
    asa_seconds: float | None
    occupancy: float | None
    abandon_rate: float | None
    meets_target: bool


@dataclass(frozen=True)
class Calculation:
    traffic_erlangs: float
    result: StaffingResult
    agents_with_shrinkage: float
    shrinkage_percent: float
    neighbours: list[CalculationRow] = field(default_factory=list)


def _row_at(demand: StaffingInput, agents: int, required: int) -> CalculationRow:
    """The figures of ``agents`` (Erlang C and chat from the formulas, Erlang A its closed form)."""
    traffic = demand.traffic
    if demand.model == StaffingModel.ERLANG_A:
        result = erlang.erlang_a(
            demand.arrival_rate_per_s,
            demand.aht_seconds,
            float(demand.patience_seconds or 0),
            agents,
            demand.service_level_seconds,
        )
        return CalculationRow(
            agents, result.service_level, result.asa_seconds, result.occupancy, result.abandon_rate, agents >= required
        )
    if demand.model == StaffingModel.BACKLOG:
        return CalculationRow(agents, None, None, traffic / agents if agents else None, None, agents >= required)
    servers = agents * (demand.concurrency if demand.model == StaffingModel.CHAT else 1)
    stable = servers > traffic
    return CalculationRow(
        agents,
        erlang.service_level(traffic, servers, demand.aht_seconds, demand.service_level_seconds) if stable else 0.0,
        erlang.asa(traffic, servers, demand.aht_seconds) if stable else None,
        min(1.0, traffic / servers) if servers else None,
        None,
        agents >= required,
    )


def staffing_calculate(*, demand: StaffingInput, shrinkage_percent: float) -> Calculation:
    """The requirement of ``demand`` and the figures of up to three agents either side.

    ``ValidationFailed`` when no staffing meets the target (the formulas' ``ValueError``)."""
    try:
        result = required_agents(demand)
        scheduled = with_shrinkage(result.agents, shrinkage_percent)
    except ValueError as error:
        raise ValidationFailed(str(error)) from error
    low = max(1, result.agents - NEIGHBOURS)
    rows = [_row_at(demand, agents, result.agents) for agents in range(low, result.agents + NEIGHBOURS + 1)]
    return Calculation(demand.traffic, result, scheduled, shrinkage_percent, rows if result.agents else [])


def calculator_start(*, planning_queue: PlanningQueue, day: dt.date | None) -> dict[str, Any]:
    """The calculator's starting values from ``planning_queue``: its target and model, and — given a
    ``day`` with a forecast — the busiest interval's planned volume and AHT (by planned volume)."""
    values: dict[str, Any] = {
        "interval_minutes": planning_queue.interval_minutes,
        "model": planning_queue.model,
        "target_kind": planning_queue.target_kind,
        "service_level_percent": planning_queue.service_level_percent,
        "service_level_seconds": planning_queue.service_level_seconds,
        "asa_seconds": planning_queue.asa_seconds,
        "patience_seconds": planning_queue.patience_seconds,
        "concurrency": planning_queue.concurrency,
        "max_occupancy_percent": planning_queue.max_occupancy_percent,
        "shrinkage_percent": planning_queue.shrinkage_percent,
    }
    if day is None:
        return values
    start, end = local_day_bounds(day)
    intervals = ForecastInterval.objects.filter(
        planning_queue=planning_queue, interval_start__gte=start, interval_start__lt=end
    )
    busiest = max(intervals, key=lambda interval: interval.planned_volume, default=None)
    if busiest is not None:
        values.update(
            volume=round(busiest.planned_volume, 2),
            aht_seconds=round(busiest.planned_aht, 1),
            busiest_interval=busiest.interval_start,
        )
    return values


def demand_of(values: dict[str, Any]) -> StaffingInput:
    """A ``StaffingInput`` from validated calculator input (percentages as entered)."""
    return StaffingInput(
        volume=values["volume"],
        aht_seconds=values["aht_seconds"],
        interval_seconds=values["interval_minutes"] * 60,
        model=values["model"],
        target_kind=values["target_kind"],
        service_level_target=values["service_level_percent"] / 100,
        service_level_seconds=values["service_level_seconds"],
        asa_seconds=values.get("asa_seconds") if values["target_kind"] == TargetKind.ASA else None,
        patience_seconds=values.get("patience_seconds"),
        concurrency=values.get("concurrency") or 1,
        max_occupancy=values["max_occupancy_percent"] / 100,
    )


def calculator_problems(values: dict[str, Any]) -> dict[str, list[str]]:
    """Cross-field rules of the calculator's input: an ASA target needs its seconds, Erlang A a patience."""
    problems: dict[str, list[str]] = {}
    if values.get("target_kind") == TargetKind.ASA and not values.get("asa_seconds"):
        problems["asa_seconds"] = ["An ASA target needs its seconds."]
    if values.get("model") == StaffingModel.ERLANG_A and not values.get("patience_seconds"):
        problems["patience_seconds"] = ["Erlang A needs the callers' average patience."]
    return problems
