"""Forecasts of contacts and handle time per planning queue and interval, their backtests, the
special days that override the models, and the planners' adjustments kept beside the model."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ForecastMethod(models.TextChoices):
    ETS = "ets", _("Holt-Winters / ETS (daily and weekly seasonality)")
    MSTL = "mstl", _("MSTL (several seasonalities)")
    SARIMA = "sarima", _("Seasonal ARIMA")
    SEASONAL_NAIVE = "seasonal_naive", _("Seasonal naive (same interval last week)")
    HISTORICAL_AVERAGE = "historical_average", _("Historical average (same interval and weekday)")


class Horizon(models.TextChoices):
    INTERVAL = "interval", _("1 interval ahead")
    DAY = "day", _("1 day ahead")
    WEEK = "week", _("7 days ahead")
    TWO_WEEKS = "two_weeks", _("14 days ahead")


class RunKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    INTRADAY = "intraday", _("Intraday re-forecast")
    MANUAL = "manual", _("Run by a planner")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class SpecialDay(models.Model):
    """A holiday or special day: the forecast's volume (and handle time) that day are the model's
    times a factor. 0 closes the day. No planning queue: every queue."""

    planning_queue = models.ForeignKey(
        "engagement.PlanningQueue", null=True, blank=True, on_delete=models.CASCADE, related_name="special_days"
    )
    day = models.DateField()
    name = models.CharField(max_length=100)
    volume_factor = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    aht_factor = models.FloatField(default=1.0, validators=[MinValueValidator(0.01)])

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["planning_queue", "day"], name="specialday_unique"),
            models.UniqueConstraint(
                fields=["day"], condition=models.Q(planning_queue__isnull=True), name="specialday_unique_all"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class ForecastRun(models.Model):
    """One fit of a planning queue's models: the history it read, the horizon it wrote, the backtest
    and the method chosen per horizon."""

    planning_queue = models.ForeignKey("engagement.PlanningQueue", on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=20, choices=RunKind.choices, default=RunKind.SCHEDULED)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    history_start = models.DateTimeField(null=True, blank=True)
    history_end = models.DateTimeField(null=True, blank=True)
    horizon_start = models.DateTimeField(null=True, blank=True)
    horizon_end = models.DateTimeField(null=True, blank=True)
    methods = models.JSONField(default=dict, blank=True, help_text="The method chosen per horizon")
    fit_seconds = models.FloatField(null=True, blank=True)
    beats_baselines = models.BooleanField(null=True, help_text="Whether the chosen methods beat both baselines")
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["planning_queue", "-started_at"], name="forecastrun_queue_started")]

    def __str__(self) -> str:
        return f"forecast run {self.pk} of {self.planning_queue_id} ({self.status})"


class BacktestScore(models.Model):
    """One method's accuracy at one horizon, from rolling origins over the recent history."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="scores")
    horizon = models.CharField(max_length=20, choices=Horizon.choices)
    method = models.CharField(max_length=30, choices=ForecastMethod.choices)
    wape = models.FloatField(null=True, help_text="Weighted absolute percentage error of volume, percent")
    mape = models.FloatField(null=True, help_text="Mean absolute percentage error over intervals with contacts")
    aht_wape = models.FloatField(null=True, blank=True)
    origins = models.PositiveIntegerField(default=0)
    chosen = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "horizon", "method"]
        constraints = [models.UniqueConstraint(fields=["run", "horizon", "method"], name="backtestscore_unique")]

    def __str__(self) -> str:
        return f"{self.horizon} {self.method}: WAPE {self.wape}"


class ForecastInterval(models.Model):
    """The forecast of one interval of one planning queue: the model's figures and, beside them,
    a planner's adjustment (which wins where set)."""

    planning_queue = models.ForeignKey(
        "engagement.PlanningQueue", on_delete=models.CASCADE, related_name="forecast_intervals"
    )
    interval_start = models.DateTimeField()
    run = models.ForeignKey(ForecastRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=30, choices=ForecastMethod.choices, blank=True)
    volume = models.FloatField(default=0, validators=[MinValueValidator(0)])
    aht_seconds = models.FloatField(default=0, validators=[MinValueValidator(0)])
    special_day = models.ForeignKey(SpecialDay, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    volume_adjusted = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    aht_adjusted = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adjusted_at = models.DateTimeField(null=True, blank=True)
    adjustment_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["planning_queue", "interval_start"]
        constraints = [
            models.UniqueConstraint(fields=["planning_queue", "interval_start"], name="forecastinterval_unique")
        ]

    def __str__(self) -> str:
        return f"{self.planning_queue_id} {self.interval_start:%Y-%m-%d %H:%M}: {self.planned_volume:.1f}"

    @property
    def planned_volume(self) -> float:
        return self.volume if self.volume_adjusted is None else self.volume_adjusted

    @property
    def planned_aht(self) -> float:
        return self.aht_seconds if self.aht_adjusted is None else self.aht_adjusted
