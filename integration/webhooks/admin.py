"""The console for outbound webhooks: subscriptions (secret write-only) and their delivery logs.

Edits go through the webhook services. A subscription's secret is never shown back: leave it
blank on creation to have one generated (shown once, on the page that answers the form, never in a cookie), type one
to set it, leave it blank on a change to keep it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, gettext_lazy

from cea.common.admin import RoleModelAdmin, SecretOnceMixin, run_service_action
from cea.common.errors import ApplicationError
from cea.common.roles import Role
from integration.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from integration.webhooks.services import (
    webhook_delivery_redeliver,
    webhook_subscription_check,
    webhook_subscription_create,
    webhook_subscription_disable,
    webhook_subscription_enable,
    webhook_subscription_update,
)

ADMINS = (Role.ADMIN,)


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)
    new_secret = forms.CharField(
        required=False,
        label=gettext_lazy("Secret"),
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy("Never shown back. Blank: generate one (new subscription) or keep it (existing one)."),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "events"]

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned.get(name) for name in ("name", "url", "events")}
        if cleaned.get("new_secret"):
            fields["secret"] = cleaned["new_secret"]
        try:
            webhook_subscription_check(fields=fields)
        except ApplicationError as error:
            for name, problems in error.fields.items():
                self.add_error({"secret": "new_secret"}.get(name, name), problems)
        return cleaned


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(SecretOnceMixin, RoleModelAdmin):
    form = WebhookSubscriptionForm
    view_roles = change_roles = add_roles = delete_roles = ADMINS
    list_display = ["name", "url", "is_active", "failures_in_row", "disabled_reason", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["is_active", "failures_in_row", "disabled_at", "disabled_reason", "created_by"]
    actions = ["enable", "disable"]

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        secret = data.get("new_secret") or None
        try:
            if change:
                fields = {"name": data["name"], "url": data["url"], "events": data["events"]}
                if secret:
                    fields["secret"] = secret
                # ``obj`` already holds the form's values; the service compares with the stored row.
                stored = WebhookSubscription.objects.get(pk=obj.pk)
                webhook_subscription_update(actor=request.user, subscription=stored, **fields)
            else:
                created, shown = webhook_subscription_create(
                    actor=request.user, name=data["name"], url=data["url"], events=data["events"], secret=secret
                )
                obj.pk = created.pk
                if not secret:
                    self.show_secret_once(
                        request,
                        intro=gettext("The signing secret of %(name)s, shown once: copy it now.")
                        % {"name": created.name},
                        secret=shown,
                    )
        except ApplicationError as error:  # the form checked the fields; a refusal here is rare
            self.message_user(request, error.message, messages.ERROR)

    def save_related(self, request, form, formsets, change) -> None:
        # Deliveries are read-only; nothing else is related.
        return None

    @admin.action(description=gettext_lazy("Enable the selected subscriptions (their waiting deliveries are sent)"))
    def enable(self, request, queryset) -> None:
        run_service_action(
            self,
            request,
            queryset,
            lambda subscription: webhook_subscription_enable(actor=request.user, subscription=subscription),
            gettext("{count} subscriptions enabled."),
        )

    @admin.action(description=gettext_lazy("Disable the selected subscriptions"))
    def disable(self, request, queryset) -> None:
        run_service_action(
            self,
            request,
            queryset,
            lambda subscription: webhook_subscription_disable(
                actor=request.user, subscription=subscription, reason=f"Disabled by {request.user}."
            ),
            gettext("{count} subscriptions disabled."),
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RoleModelAdmin):
    view_roles = change_roles = ADMINS
    add_roles = delete_roles = ()
    list_display = ["pk", "subscription", "event", "status", "attempts", "response_status", "created_at"]
    list_filter = ["status", "event"]
    list_select_related = ["subscription"]
    search_fields = ["event_id"]
    readonly_fields = [
        "subscription",
        "event",
        "event_id",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "response_status",
        "response_body",
        "last_error",
        "created_at",
        "delivered_at",
    ]
    fields = readonly_fields
    actions = ["redeliver"]

    @admin.action(description="Send the selected deliveries again")
    def redeliver(self, request, queryset) -> None:
        run_service_action(
            self,
            request,
            queryset,
            lambda delivery: webhook_delivery_redeliver(actor=request.user, delivery=delivery),
            "{count} deliveries sent again.",
        )
