from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils import timezone

from cea.accounts.models import ApiScope, ApiToken, Team, User
from cea.accounts.services import (
    api_token_create,
    api_token_revoke,
    user_set_active,
    user_set_password,
    user_set_role,
    user_set_teams,
)
from cea.common.admin import RoleModelAdmin, SecretOnceMixin, run_service_action
from cea.common.roles import Role


@admin.register(Team)
class TeamAdmin(RoleModelAdmin):
    """Supervisors see their own teams (and pick only them in other forms); administrators manage teams."""

    change_roles = add_roles = (Role.ADMIN,)
    team_paths = ("id",)
    list_display = ["name", "member_count", "created_at"]
    search_fields = ["name"]

    @admin.display(description="Members")
    def member_count(self, team: Team) -> int:
        return team.members.count()


class PasswordChangeForm(AdminPasswordChangeForm):
    """The console's "change password" through the service, which closes the user's live sockets."""

    def save(self, commit=True):
        usable = self.cleaned_data.get("set_usable_password", True)
        return user_set_password(user=self.user, password=self.cleaned_data["password1"] if usable else None)


@admin.register(User)
class UserAdmin(RoleModelAdmin, DjangoUserAdmin):
    """Users and their roles: administrators only. Staff flags follow the role."""

    view_roles = change_roles = add_roles = (Role.ADMIN,)
    change_password_form = PasswordChangeForm
    # Not a page for supervisors, but the scope of every user choice (assignee, agent) they make.
    team_paths = ("teams",)
    list_display = ["username", "get_full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "teams"]
    search_fields = ["username", "first_name", "last_name", "email"]
    filter_horizontal = ["teams"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Role and teams", {"fields": ["role", "teams", "is_active"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["username", "role", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]

    def save_model(self, request, obj, form, change):
        # Role and activity go through their services, which close the user's live sockets when
        # they change: the form's values are kept aside and the row saved with the stored ones.
        role, is_active = obj.role, obj.is_active
        if change:
            obj.role, obj.is_active = User.objects.values_list("role", "is_active").get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        user_set_role(user=obj, role=role)
        user_set_active(user=obj, is_active=is_active)

    def save_related(self, request, form, formsets, change):
        # Teams through their service too (it closes the user's live sockets when they change).
        teams = form.cleaned_data.pop("teams", None)
        super().save_related(request, form, formsets, change)
        if teams is not None:
            user_set_teams(user=form.instance, teams=teams)


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ["user", "name", "scopes", "expires_at"]

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return expires_at


@admin.register(ApiToken)
class ApiTokenAdmin(SecretOnceMixin, RoleModelAdmin):
    """API tokens: the secret is shown once, on creation; afterwards only its prefix."""

    view_roles = change_roles = add_roles = (Role.ADMIN,)
    form = ApiTokenForm
    list_display = ["name", "prefix", "user", "scope_list", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at", "user"]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "name", "prefix", "scopes", "expires_at", "revoked_at", "last_used_at"] if obj else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["fields"] = []
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="Scopes")
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, plaintext = api_token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data["expires_at"],
        )
        obj.pk = token.pk
        self.show_secret_once(
            request, intro="Token created. Copy it now, it will not be shown again.", secret=plaintext
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        run_service_action(self, request, queryset, lambda t: api_token_revoke(token=t), "{count} token(s) revoked.")
