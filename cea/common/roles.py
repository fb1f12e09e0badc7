"""The roles of CEA's users and the questions every interface asks about them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")
    INTEGRATION = "integration", _("Integration client")


def role_of(user: AbstractBaseUser | AnonymousUser | None) -> Role | None:
    if user is None or not user.is_authenticated:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    return Role(getattr(user, "role", Role.AGENT))


def sees_everything(user) -> bool:
    """Admins and integration clients are not limited to teams (clients are limited by token scopes)."""
    return role_of(user) in (Role.ADMIN, Role.INTEGRATION)


def can_supervise(user) -> bool:
    return role_of(user) in (Role.SUPERVISOR, Role.ADMIN)


def is_admin(user) -> bool:
    return role_of(user) == Role.ADMIN


def remember_team_ids(user, team_ids) -> None:
    """Give ``team_ids_of(user)`` the ids read for many users at once (one query instead of one each)."""
    user._cea_team_ids = frozenset(team_ids)


def team_ids_of(user) -> frozenset[int]:
    """The ids of the user's teams, read once per user object."""
    cached = getattr(user, "_cea_team_ids", None)
    if cached is None:
        cached = frozenset(user.teams.values_list("id", flat=True)) if user.is_authenticated else frozenset()
        user._cea_team_ids = cached
    return cached
