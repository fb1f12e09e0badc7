"""Reads of canned responses: what a user may use, and the one they named (check, then do)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from cea.accounts.types import AnyUser
from cea.common.errors import NotFound, PermissionDenied
from cea.common.roles import Role, can_supervise, is_admin, role_of, team_ids_of
from engagement.canned.models import CannedResponse
from records.access import require_signed_in, row_id

# Integration clients have no desk and no personal texts: the canned responses are for people.
CANNED_USERS = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


def require_canned_user(user: AnyUser) -> None:
    require_signed_in(user)
    if role_of(user) not in CANNED_USERS:
        raise PermissionDenied("Canned responses are for agents, supervisors and administrators.")


def canned_visible_to(user: AnyUser) -> QuerySet[CannedResponse]:
    """The user's own personal texts and the shared texts of their teams (an administrator: every team's)."""
    require_canned_user(user)
    shared = Q(team__isnull=False) if is_admin(user) else Q(team_id__in=team_ids_of(user))
    return CannedResponse.objects.filter(shared | Q(owner_id=user.pk)).select_related("team", "wrap_up_code")


def canned_for_desk(*, user: AnyUser, text: str = "", limit: int = 20) -> list[CannedResponse]:
    """Active texts for the desk's picker: personal ones first, then by shortcut; ``text`` matches
    the start of the shortcut or any part of the title."""
    found = canned_visible_to(user).filter(is_active=True)
    text = text.strip().lstrip("/")
    if "\x00" in text:
        text = ""
    if text:
        found = found.filter(Q(shortcut__istartswith=text) | Q(title__icontains=text))
    personal_first = Case(When(owner__isnull=False, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(found.order_by(personal_first, "shortcut", "pk")[:limit])


def access_canned(user: AnyUser, canned_id: object) -> CannedResponse:
    """A canned response ``user`` may use: unknown ``NotFound``; another's personal text or another team's
    shared one ``PermissionDenied``."""
    require_canned_user(user)
    pk = row_id(canned_id)
    canned = CannedResponse.objects.select_related("team", "wrap_up_code").filter(pk=pk).first() if pk else None
    if canned is None:
        raise NotFound(f"No canned response with id {canned_id}.")
    if not canned_visible_to(user).filter(pk=canned.pk).exists():
        raise PermissionDenied("This canned response is another agent's or another team's.")
    return canned


def may_manage_canned(user: AnyUser, canned: CannedResponse) -> bool:
    """A personal text is its owner's to change; a shared one its team's supervisors' and administrators'."""
    if canned.owner_id is not None:
        return canned.owner_id == user.pk
    return is_admin(user) or (can_supervise(user) and canned.team_id in team_ids_of(user))
