"""All models of workforce management, gathered for engagement/models.py; each lives in its part."""

from engagement.wfm.adherence.models import AdherenceDay, AdherenceException
from engagement.wfm.forecasting.models import BacktestScore, ForecastInterval, ForecastRun, SpecialDay
from engagement.wfm.planning.models import PlanningQueue
from engagement.wfm.scheduling.models import (
    AgentContract,
    Schedule,
    ScheduleCoverage,
    Shift,
    ShiftActivity,
    ShiftTemplate,
    SwapRequest,
    TimeOff,
)
from engagement.wfm.staffing.models import StaffingRequirement

__all__ = [
    "AdherenceDay",
    "AdherenceException",
    "AgentContract",
    "BacktestScore",
    "ForecastInterval",
    "ForecastRun",
    "PlanningQueue",
    "Schedule",
    "ScheduleCoverage",
    "Shift",
    "ShiftActivity",
    "ShiftTemplate",
    "SpecialDay",
    "StaffingRequirement",
    "SwapRequest",
    "TimeOff",
]
