"""The console for web chat: site keys."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from cea.common.admin import RoleModelAdmin
from cea.common.roles import Role
from engagement.webchat.models import SiteKey
from engagement.webchat.services import origin_normalise
from engagement.webchat.views import widget_src


class SiteKeyForm(forms.ModelForm):
    class Meta:
        model = SiteKey
        fields = ["name", "allowed_origins", "queue", "team", "greeting", "is_active"]

    def clean_allowed_origins(self) -> list[str]:
        origins, wrong = [], []
        for origin in self.cleaned_data["allowed_origins"]:
            normalised = origin_normalise(value=origin)
            if normalised is None:
                wrong.append(origin)
            elif normalised not in origins:
                origins.append(normalised)
        if wrong:
            raise forms.ValidationError(
                f"Not an origin (scheme://host[:port], no path): {', '.join(wrong)}.", code="invalid_origin"
            )
        return origins


@admin.register(SiteKey)
class SiteKeyAdmin(RoleModelAdmin):
    """Websites allowed to embed the chat widget, with the one script tag to paste into them.

    Supervisors look; administrators add and change site keys, since the allowed origins are a
    security setting. The key is generated and never edited (pages already embed it).
    """

    form = SiteKeyForm
    list_display = ["name", "key", "origins", "queue", "team", "is_active"]
    list_filter = ["is_active", "team"]
    search_fields = ["name", "key"]
    fields = ["name", "key", "allowed_origins", "queue", "team", "greeting", "is_active"]
    readonly_fields = ["key"]
    change_roles = (Role.ADMIN,)
    add_roles = (Role.ADMIN,)
    delete_roles = (Role.ADMIN,)
    change_form_template = "admin/engagement/sitekey/change_form.html"

    @admin.display(description="Allowed origins")
    def origins(self, site: SiteKey) -> str:
        return ", ".join(site.allowed_origins)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The snippet names this server as the browser reached it.
        extra_context = {**(extra_context or {}), "widget_src": widget_src(request)}
        return super().changeform_view(request, object_id, form_url, extra_context)
