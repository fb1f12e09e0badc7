"""Reads of users and teams for other apps, without checking who asks."""

from __future__ import annotations

from typing import Any

from django.db.models import Min, QuerySet

from cea.accounts.models import User


def first_team_of_users() -> QuerySet[Any, dict[str, Any]]:
    """Each user's first team (the lowest team id): rows ``{"user_id", "first_team_id"}``."""
    return User.teams.through.objects.order_by().values("user_id").annotate(first_team_id=Min("team_id"))
