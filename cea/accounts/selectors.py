"""Reads of users and teams for other apps, without checking who asks."""

from __future__ import annotations

from typing import Any

from django.db.models import Min, QuerySet

from cea.accounts.models import User
from cea.common.errors import PermissionDenied


def first_team_of_users() -> QuerySet[Any, dict[str, Any]]:
    """Each user's first team (the lowest team id): rows ``{"user_id", "first_team_id"}``."""
    return User.teams.through.objects.order_by().values("user_id").annotate(first_team_id=Min("team_id"))


def active_user(*, user_id: int) -> User:
    """The user as the database has them now, for a live socket that checks access again: their role and
    teams of this moment. ``PermissionDenied`` (code ``not_authenticated``) when they no longer exist or
    were deactivated, so a deactivated user's socket subscribes to nothing."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    return user
