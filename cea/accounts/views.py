"""Sign-in and sign-out pages. django-axes pauses sign-in after repeated failures (a cool-off, not a lock)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views

from cea.accounts.services import user_signed_out


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        context["cooloff_minutes"] = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        return context


class LogoutView(auth_views.LogoutView):
    """Signing out also closes the user's live sockets (the desk, live context): they were let in
    by the session that ends here."""

    def post(self, request, *args, **kwargs):
        user_id = request.user.pk if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if user_id is not None:
            user_signed_out(user_id=user_id)
        return response
