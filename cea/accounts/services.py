"""Writes for users, teams and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from cea.accounts import token_cache
from cea.accounts.models import ApiScope, ApiToken, Team, User
from cea.common.errors import NotFound, PermissionDenied, ValidationFailed
from cea.common.live import (
    DEACTIVATED,
    PASSWORD_CHANGED,
    ROLE_CHANGED,
    SIGNED_OUT,
    TEAMS_CHANGED,
    user_sockets_close_on_commit,
)
from cea.common.roles import Role

TOKEN_PREFIX = "cea"  # noqa: S105 - a public marker, not a secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def team_create(*, name: str, description: str = "") -> Team:
    name = name.strip()
    if not name:
        raise ValidationFailed("A team needs a name.", fields={"name": "This field is required."})
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationFailed("A team with this name exists.", fields={"name": "Already taken."})
    return Team.objects.create(name=name, description=description)


@transaction.atomic
def user_create(
    *,
    username: str,
    role: Role | str,
    password: str | None = None,
    teams: Iterable[Team] = (),
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    validate: bool = True,
) -> User:
    """Create a user with a role; staff access (the admin console) follows the role.

    Integration clients get no password: they authenticate with API tokens only.
    """
    role = _role(role)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed("A user with this username exists.", fields={"username": "Already taken."})
    user = User(username=username, role=role, first_name=first_name, last_name=last_name, email=email)
    _apply_role_flags(user)
    if role == Role.INTEGRATION or not password:
        user.set_unusable_password()
    else:
        if validate:
            try:
                validate_password(password, user)
            except DjangoValidationError as exc:
                raise ValidationFailed("The password is too weak.", fields={"password": exc.messages}) from None
        user.set_password(password)
    user.save()
    user.teams.set(teams)
    return user


def _apply_role_flags(user: User) -> None:
    user.is_staff = user.role in (Role.SUPERVISOR, Role.ADMIN)
    user.is_superuser = user.role == Role.ADMIN


def _role(role: Role | str) -> Role:
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}.", fields={"role": f"Choose one of {', '.join(Role.values)}."})
    return Role(role)


@transaction.atomic
def user_set_role(*, user: User, role: Role | str) -> User:
    """Set the role (staff access follows it). A changed role closes the user's live sockets on commit."""
    role = _role(role)
    before = User.objects.filter(pk=user.pk).values_list("role", flat=True).first()
    user.role = role
    _apply_role_flags(user)
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    if before is not None and before != role:
        user_sockets_close_on_commit(user_id=user.pk, reason=ROLE_CHANGED)
    return user


@transaction.atomic
def user_set_active(*, user: User, is_active: bool) -> User:
    """Activate or deactivate a user. Deactivating closes their live sockets on commit."""
    before = User.objects.filter(pk=user.pk).values_list("is_active", flat=True).first()
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    if before and not is_active:
        user_sockets_close_on_commit(user_id=user.pk, reason=DEACTIVATED)
    return user


@transaction.atomic
def user_set_teams(*, user: User, teams: Iterable[Team]) -> User:
    """Make ``teams`` the user's teams. A change closes their live sockets on commit: what they may
    see follows their teams, and a socket checked its subscriptions under the old ones."""
    teams = list(teams)
    before = set(user.teams.values_list("pk", flat=True))
    user.teams.set(teams)
    if before != {team.pk for team in teams}:
        user_sockets_close_on_commit(user_id=user.pk, reason=TEAMS_CHANGED)
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str | None) -> User:
    """Set the user's password (``None``: no password sign-in at all). Their other sign-ins end
    (Django's session hash) and their live sockets, which a session let in, close on commit."""
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    user_sockets_close_on_commit(user_id=user.pk, reason=PASSWORD_CHANGED)
    return user


def user_signed_out(*, user_id: int) -> None:
    """The user signed out: close their live sockets (on commit), which were let in by the session."""
    user_sockets_close_on_commit(user_id=user_id, reason=SIGNED_OUT)


def api_token_create(
    *, user: User, name: str, scopes: Iterable[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; return it with the plaintext, which is never stored or shown again."""
    scopes = sorted(set(scopes))
    unknown = [scope for scope in scopes if scope not in ApiScope.values]
    if unknown:
        raise ValidationFailed(
            f"Unknown scopes: {', '.join(unknown)}.", fields={"scopes": [f"Unknown scope {s!r}." for s in unknown]}
        )
    if not scopes:
        raise ValidationFailed("A token needs at least one scope.", fields={"scopes": "Choose at least one scope."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiry is in the past.", fields={"expires_at": "Must be in the future."})
    if not name.strip():
        raise ValidationFailed("A token needs a name.", fields={"name": "This field is required."})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=prefix, digest=_digest(secret), scopes=scopes, expires_at=expires_at
    )
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_token_authenticate(*, raw: str) -> ApiToken:
    """The active token for ``raw``; ``PermissionDenied`` if it is unknown, expired or revoked.

    One message for every failure so that a caller learns nothing about which tokens exist. A token
    that authenticated recently comes from a short-lived cache (``cea.accounts.token_cache``) that
    every change of the token or its user invalidates; expiry and activity are checked every time.
    """
    refused = PermissionDenied("Invalid, expired or revoked API token.", code="invalid_token")
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise refused
    _, prefix, secret = parts
    digest = _digest(secret)
    token = token_cache.cached_token(digest)
    if token is not None and hmac.compare_digest(token.prefix, prefix):
        if not token.is_active or not token.user.is_active:
            raise refused
        return token  # its use was recorded when it was cached, less than a minute ago
    # The user's password hash is left out, so that it never reaches the cache (read on access if needed).
    token = ApiToken.objects.select_related("user").defer("user__password").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, digest):
        raise refused
    if not token.is_active or not token.user.is_active:
        raise refused
    now = timezone.now()
    # Record use at most once a minute: no write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    token_cache.remember_token(token)
    return token


def api_token_get(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None:
        raise NotFound("No such API token.")
    if token.user_id != user.pk and not user.is_superuser:
        raise PermissionDenied("This token belongs to another user.")
    return token
