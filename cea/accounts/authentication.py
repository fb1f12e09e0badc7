"""DRF authentication with scoped API tokens, and the permission that checks their scopes."""

from __future__ import annotations

from rest_framework import authentication, exceptions, permissions

from cea.accounts.models import ApiToken
from cea.accounts.services import api_token_authenticate
from cea.common.errors import PermissionDenied


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer cea_<prefix>_<secret>``."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode().lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        try:
            token = api_token_authenticate(raw=header[1].decode("ascii", errors="replace"))
        except PermissionDenied as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class TokenScopePermission(permissions.BasePermission):
    """A request made with an API token needs the view's scope: ``<resource>:read`` or ``:write``.

    A view declares ``scope_resource`` (e.g. ``"customers"``); a token request to a view
    without one is refused. A view whose POST only reads (a look-up that takes its input in the
    body, to keep it out of addresses and logs) lists it in ``scope_read_methods``. Browser
    sessions are governed by roles, not scopes.
    """

    message = "This API token lacks the scope for this request."

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiToken):
            return True
        resource = getattr(view, "scope_resource", None)
        if resource is None:
            return False
        reads = request.method in permissions.SAFE_METHODS or request.method in getattr(view, "scope_read_methods", ())
        action = "read" if reads else "write"
        needed = f"{resource}:{action}"
        self.message = f"This API token lacks the scope {needed!r}."
        return needed in request.auth.scopes
