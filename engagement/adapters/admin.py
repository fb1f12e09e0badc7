"""The console for channel adapters: webhook sources, and WhatsApp's message templates."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import RoleModelAdmin, run_service_action
from cea.common.errors import ApplicationError
from cea.common.roles import Role, sees_everything, team_ids_of
from engagement.adapters.models import MessageTemplate, Provider, WebhookSource
from engagement.adapters.outbox import SendError
from engagement.adapters.voice_control.models import VoiceEndpoint
from engagement.adapters.whatsapp import template_placeholders, whatsapp_templates_sync


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
    actions = ["sync_whatsapp_templates"]

    @admin.action(description="Sync WhatsApp message templates from Meta", permissions=["change"])
    def sync_whatsapp_templates(self, request, queryset):
        run_service_action(
            self, request, queryset, _templates_sync, "Templates synced from Meta for {count} source(s)."
        )

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # A view-only page shows every field's value as text: the secret must not be one of them.
            return [field for field in fields if field != "secret"]
        return fields


def _templates_sync(source: WebhookSource) -> None:
    try:
        whatsapp_templates_sync(source)
    except SendError as error:
        raise ApplicationError(f"Meta: {error.reason}") from error


@admin.register(MessageTemplate)
class MessageTemplateAdmin(RoleModelAdmin):
    """WhatsApp's message templates, the only messages sent outside the 24-hour window: each is a
    WhatsApp source's (a team's, through the source). Synced from Meta (the sources' action) or
    entered as approved at Meta; supervisors keep their teams' sources' templates."""

    team_paths = ("source__team",)
    list_display = ["name", "language", "source", "category", "status", "params", "updated_at"]
    list_filter = ["status", "language"]
    search_fields = ["name", "body"]
    fields = ["source", "name", "language", "category", "body", "params", "status", "provider_template_id"]
    delete_roles = (Role.SUPERVISOR, Role.ADMIN)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "source":
            sources = WebhookSource.objects.filter(provider=Provider.WHATSAPP)
            if not sees_everything(request.user):
                sources = sources.filter(team_id__in=team_ids_of(request.user))
            kwargs["queryset"] = sources
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.params = template_placeholders(obj.body)
        super().save_model(request, obj, form, change)


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
