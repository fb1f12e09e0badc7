"""The console for connectors: administrators only; secrets are named, never stored or shown.

``credential_env`` and ``credential_file`` hold the *name* of an environment variable and the
*path* of a secret file, from an allow-list (``integration.connectors.credentials``: a name
prefix, a folder); settings that look like secrets are refused, so that nothing secret is ever
saved in the database or shown back. Saving a connector writes its sync schedule
(``settings["schedule_seconds"]``) into django-celery-beat, where it can be paused or edited.

Each connector shows its aggregated-view circuit breaker as Redis holds it now (read-only), and
an action closes it by hand once the back-end is known to be back.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from cea.common.admin import RoleModelAdmin
from cea.common.errors import ApplicationError
from cea.common.roles import Role
from integration.aggregation.selectors import connector_breaker_view
from integration.aggregation.services import connector_breaker_reset
from integration.connectors.credentials import credential_env_problem, credential_file_problem
from integration.connectors.flatfile.connector import flatfile_settings_check
from integration.connectors.models import Connector, ConnectorKind
from integration.sync.schedules import connector_schedule_ensure, schedule_seconds_of
from integration.sync.services import sync_request

# Setting names that would hold a secret: refused (use credential_env or credential_file).
SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "private_key")


def _secret_settings(value, path: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            if any(word in str(key).lower() for word in SECRET_WORDS) and inner not in (None, ""):
                found.append(where)
            found += _secret_settings(inner, where)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _secret_settings(inner, f"{path}[{index}]")
    return found


class ConnectorForm(forms.ModelForm):
    class Meta:
        model = Connector
        fields = [
            "name",
            "label",
            "kind",
            "system",
            "is_active",
            "settings",
            "mappings",
            "credential_env",
            "credential_file",
            "timeout_seconds",
            "cache_seconds",
        ]

    def clean(self):
        cleaned = super().clean()
        settings, mappings = cleaned.get("settings") or {}, cleaned.get("mappings") or {}
        if not isinstance(settings, dict):
            self.add_error("settings", "Settings are a JSON object.")
            return cleaned
        if not isinstance(mappings, dict):
            self.add_error("mappings", "Mappings are a JSON object of canonical field: source field.")
            return cleaned
        secrets = _secret_settings(settings)
        if secrets:
            self.add_error(
                "settings",
                f"Secrets are not kept in settings ({', '.join(secrets)}): "
                "name an environment variable or a secret file instead.",
            )
        credential_env, credential_file = cleaned.get("credential_env") or "", cleaned.get("credential_file") or ""
        if credential_env and (problem := credential_env_problem(credential_env)):
            self.add_error("credential_env", problem)
        if credential_file and (problem := credential_file_problem(credential_file)):
            self.add_error("credential_file", problem)
        try:
            schedule_seconds_of(Connector(settings=settings))
        except ApplicationError as error:
            self.add_error("settings", error.message)
        if cleaned.get("kind") == ConnectorKind.FLATFILE:
            for field, message in flatfile_settings_check(settings, mappings).items():
                self.add_error(field, message)
        return cleaned


@admin.register(Connector)
class ConnectorAdmin(RoleModelAdmin):
    view_roles = change_roles = add_roles = delete_roles = (Role.ADMIN,)
    form = ConnectorForm
    list_display = ["name", "label", "kind", "system", "is_active", "watermark_at", "circuit_breaker"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "label", "system"]
    readonly_fields = ["watermark", "watermark_at", "circuit_breaker", "created_at", "updated_at"]
    actions = ["run_now", "reset_circuit_breaker"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        connector_schedule_ensure(connector=obj)

    @admin.action(description="Run now (sync on demand)")
    def run_now(self, request, queryset) -> None:
        asked = 0
        for connector in queryset:
            try:
                sync_request(connector=connector)
                asked += 1
            except ApplicationError as error:
                self.message_user(request, f"{connector}: {error.message}", messages.ERROR)
        if asked:
            self.message_user(request, f"Sync asked for {asked} connector(s); see Sync runs.", messages.SUCCESS)

    @admin.display(description="circuit breaker")
    def circuit_breaker(self, connector: Connector) -> str:
        if connector.pk is None:
            return "-"
        return str(connector_breaker_view(connector=connector))

    @admin.action(description="Reset circuit breaker (close it)", permissions=["change"])
    def reset_circuit_breaker(self, request, queryset) -> None:
        closed = 0
        for connector in queryset:
            try:
                connector_breaker_reset(connector=connector)
            except ApplicationError as error:
                self.message_user(request, f"{connector}: {error.message}", messages.ERROR)
                continue
            self.log_change(request, connector, "Reset its circuit breaker (closed it).")
            closed += 1
        if closed:
            self.message_user(request, f"Circuit breaker closed for {closed} connector(s).", messages.SUCCESS)
