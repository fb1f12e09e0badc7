"""What every WFM page shares: signed in (else the sign-in page) and a reader of planning figures (else 403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from engagement.wfm.access import require_wfm_reader


def wfm_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and a supervisor, an admin or an integration client (else ``PermissionDenied``: 403)."""

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        require_wfm_reader(request.user)
        return view(request, *args, **kwargs)

    return login_required(checked)
