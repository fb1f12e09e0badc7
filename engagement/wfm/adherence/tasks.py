"""Adherence's Celery tasks: the minute's sweep, one agent after a presence change, the day rollup.

Each takes ids or nothing, is idempotent (a rerun finds the state as it is) and calls one service.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from engagement.wfm.adherence.services import adherence_agent_update, adherence_days_rebuild, adherence_sweep


@shared_task(name="engagement.wfm.adherence.sweep", ignore_result=True)
def sweep() -> dict:
    """Open and close exceptions of every agent on shift; push their rows (every minute)."""
    return adherence_sweep()


@shared_task(
    name="engagement.wfm.adherence.agent_refresh",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
)
def agent_refresh(agent_id: int) -> dict:
    """One agent's adherence after their presence changed."""
    return adherence_agent_update(agent_id=agent_id)


@shared_task(name="engagement.wfm.adherence.rollup", ignore_result=True)
def rollup() -> dict:
    """Rebuild yesterday's and today's ``AdherenceDay`` rows (local days)."""
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    return {str(day): adherence_days_rebuild(day=day) for day in (yesterday, today)}
