"""The console for channel adapters: webhook sources."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from cea.common.roles import Role
from engagement.adapters.models import WebhookSource
from engagement.adapters.voice_control.models import VoiceEndpoint


class WebhookSourceForm(forms.ModelForm):
    """The secret is write-only: typed when the source is added or rotated, never shown back."""

    secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="The shared secret the provider signs with (HMAC-SHA256). Leave empty to keep the current one.",
    )

    class Meta:
        model = WebhookSource
        fields = ["name", "channel", "provider", "sender_id", "secret", "queue", "team", "is_active"]

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret", "")
        if secret:
            if len(secret) < 16:
                raise forms.ValidationError("Use at least 16 characters.")
            return secret
        if self.instance.pk is None:
            raise forms.ValidationError("A new source needs a secret.")
        return self.instance.secret


@admin.register(WebhookSource)
class WebhookSourceAdmin(RoleModelAdmin):
    """Providers that post signed webhooks (SMS gateways, social platforms, telephony).

    Supervisors may look; administrators configure them, as a secret is an integration credential.
    """

    form = WebhookSourceForm
    list_display = ["name", "channel", "provider", "queue", "team", "is_active", "updated_at"]
    list_filter = ["channel", "is_active"]
    search_fields = ["name", "queue"]
    change_roles = (Role.ADMIN,)
    add_roles = (Role.ADMIN,)
    delete_roles = (Role.ADMIN,)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # A view-only page shows every field's value as text: the secret must not be one of them.
            return [field for field in fields if field != "secret"]
        return fields


@admin.register(VoiceEndpoint)
class VoiceEndpointAdmin(RoleModelAdmin):
    """Where each agent's calls are put through (voice call control): a phone number or a softphone client id.

    Supervisors may look; administrators set them.
    """

    list_display = ["user", "phone_number", "client_id", "updated_at"]
    search_fields = ["user__username", "phone_number", "client_id"]
    autocomplete_fields = ["user"]
    change_roles = (Role.ADMIN,)
    add_roles = (Role.ADMIN,)
    delete_roles = (Role.ADMIN,)
