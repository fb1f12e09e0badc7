"""Reads of the stored model runs for the model page and the API (no scikit-learn here)."""

from __future__ import annotations

from dataclasses import dataclass

from insights.scoring.models import ModelRun, ScoreKind

RUNS_SHOWN = 5


@dataclass(frozen=True)
class ModelHistory:
    """A model kind's latest run and the runs before it, newest first."""

    kind: str
    label: str
    latest: ModelRun | None
    previous: list[ModelRun]


def model_histories(*, runs_shown: int = RUNS_SHOWN) -> list[ModelHistory]:
    """Every kind with its ``runs_shown`` newest runs (the fitted pipelines are not read)."""
    histories = []
    for kind in ScoreKind:
        runs = list(
            ModelRun.objects.filter(kind=kind.value).defer("pipeline").order_by("-trained_at", "-id")[:runs_shown]
        )
        histories.append(
            ModelHistory(kind=kind.value, label=str(kind.label), latest=runs[0] if runs else None, previous=runs[1:])
        )
    return histories
