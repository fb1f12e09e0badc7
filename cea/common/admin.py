"""The console (Django admin) made fit for supervisors: role-aware permissions and team scoping.

Every console page is built on ``RoleModelAdmin`` (and its inlines on ``ParentRoleInline``), so the
rules live here, once:

- A model admin names the lookups from a row to the team that owns it (``team_paths``). A
  supervisor sees, opens and acts on the rows of their own teams only; an administrator sees all.
- Every foreign-key and many-to-many choice (select, raw id, autocomplete) is limited the same way,
  by the scope of the related model's own admin: a posted id outside it is a form error
  ("Select a valid choice"), and nothing is written.
- A relation's list filter offers only the values the user's own rows refer to.
- A model without ``team_paths`` is global configuration (flows, queues, skills, SLA policies,
  connectors …): supervisors may at most read it; only administrators add, change or delete it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse

from cea.common.errors import ApplicationError
from cea.common.roles import Role, is_admin, role_of, sees_everything, team_ids_of

ADMINS: tuple[Role, ...] = (Role.ADMIN,)
SUPERVISORS_AND_ADMINS: tuple[Role, ...] = (Role.SUPERVISOR, Role.ADMIN)


def _is_relation(model, path: str) -> bool:
    """Whether the lookup ``path`` ends on a relation (a foreign key or many-to-many field)."""
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        if not field.is_relation:
            return False
        model = field.related_model
    return True


def _crosses_many(model, path: str) -> bool:
    """Whether the lookup ``path`` goes through a to-many relation (rows may then repeat)."""
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False
        if field.many_to_many or field.one_to_many:
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


class TeamScopeMixin:
    """Rows and choices limited to the signed-in user's teams (for model admins and inlines).

    ``team_paths``: lookups from a row to a team (``("team",)``, ``("customer__team",)``,
    ``("id",)`` for teams themselves); a row is in scope when one of them is one of the user's
    teams. ``None``: the model is not owned by a team, every row is in scope.
    """

    team_paths: tuple[str, ...] | None = None

    def scope_queryset(self, request, queryset):
        if self.team_paths is None or sees_everything(request.user):
            return queryset
        teams = team_ids_of(request.user)
        match = Q(pk__in=[])
        for path in self.team_paths:
            match |= Q(**{f"{path}__in": teams})
        scoped = queryset.filter(match)
        if any(_crosses_many(queryset.model, path) for path in self.team_paths):
            scoped = scoped.distinct()
        return scoped

    def get_field_queryset(self, db, db_field, request):
        """The choices of a relation: what the related model's admin would show this user."""
        queryset = super().get_field_queryset(db, db_field, request)
        related = db_field.remote_field.model
        related_admin = self.admin_site._registry.get(related)
        if not isinstance(related_admin, TeamScopeMixin) or related_admin.team_paths is None:
            return queryset
        if queryset is None:
            queryset = related._default_manager.using(db).all()
        return related_admin.scope_queryset(request, queryset)


class RoleModelAdmin(TeamScopeMixin, admin.ModelAdmin):
    """Permissions by role instead of per-model Django permissions.

    ``view_roles`` may list and open rows, ``change_roles`` may edit, ``add_roles`` may
    create, ``delete_roles`` may delete — and a supervisor writes only where ``team_paths`` says
    which team a row belongs to (global configuration is read-only for them).
    """

    view_roles: tuple[Role, ...] = SUPERVISORS_AND_ADMINS
    change_roles: tuple[Role, ...] = SUPERVISORS_AND_ADMINS
    add_roles: tuple[Role, ...] = SUPERVISORS_AND_ADMINS
    delete_roles: tuple[Role, ...] = ()

    def _role_in(self, request, roles) -> bool:
        return request.user.is_active and request.user.is_staff and role_of(request.user) in roles

    def _may_write(self, request, roles) -> bool:
        return self._role_in(request, roles) and (self.team_paths is not None or is_admin(request.user))

    def has_module_permission(self, request) -> bool:
        return self._role_in(request, self.view_roles)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._role_in(request, self.view_roles)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_write(request, self.change_roles)

    def has_add_permission(self, request) -> bool:
        return self._may_write(request, self.add_roles)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_write(request, self.delete_roles)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def get_list_filter(self, request):
        """A relation's filter offers only what the user's own rows refer to: another team's (or a
        connector's) name is not listed to a supervisor."""
        filters = super().get_list_filter(request)
        if sees_everything(request.user):
            return filters
        related_only = admin.RelatedOnlyFieldListFilter
        return [
            (spec, related_only) if isinstance(spec, str) and _is_relation(self.model, spec) else spec
            for spec in filters
        ]


class ParentRoleInline(TeamScopeMixin, admin.TabularInline):
    """Rows edited beside their parent: whoever may open the parent sees them, whoever may change it edits them."""

    extra = 0

    def _parent(self):
        return self.admin_site.get_model_admin(self.parent_model)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._parent().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._parent().has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._parent().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._parent().has_change_permission(request, obj)


class SecretOnceMixin:
    """Shows a secret made on creation (a token, a signing secret) once, in the answer to the add form.

    Never through ``messages``: their default storage is a cookie, which would carry the secret to
    the browser's cookie jar and back on the next request.
    """

    once_template = "admin/secret_once.html"

    def show_secret_once(self, request, *, intro: str, secret: str) -> None:
        request._cea_secret_once = (intro, secret)

    def response_add(self, request, obj, post_url_continue=None):
        shown = getattr(request, "_cea_secret_once", None)
        if shown is None:
            return super().response_add(request, obj, post_url_continue)
        intro, secret = shown
        opts = self.opts
        context = {
            **self.admin_site.each_context(request),
            "title": f"{opts.verbose_name.capitalize()} created",
            "opts": opts,
            "object": obj,
            "intro": intro,
            "secret": secret,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        }
        # Admin views are never cached (``never_cache``: no-store, private).
        return TemplateResponse(request, self.once_template, context)


def run_service_action(modeladmin, request, queryset, service, success: str) -> None:
    """Apply ``service(obj)`` to each selected row; report refusals per row, keep the successes."""
    done = 0
    for obj in queryset:
        try:
            with transaction.atomic():
                service(obj)
            done += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, success.format(count=done), messages.SUCCESS)


class DraftCheckedForm(forms.ModelForm):
    """A console form whose rows a service validates: the form's values are applied to a copy of the
    row (the draft) and ``draft_errors(draft)`` (the service's own check, a ``{field: message}``)
    becomes the form's errors, so the console says what the API says."""

    draft_errors: Callable[..., dict[str, str]]

    def clean(self):
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        draft = copy.copy(self.instance)
        for name, value in cleaned.items():
            setattr(draft, name, value)
        for name, message in type(self).draft_errors(draft).items():
            self.add_error(name if name in self.fields else None, message)
        return cleaned


class KeyedServiceAdmin(RoleModelAdmin):
    """A console page for rows named by a ``key`` that their services create and update: the key is
    fixed once the row exists, and saving calls ``create(actor, fields)`` or ``update(actor, obj,
    fields)`` with the changed fields (the form checked them already; a race is the only way a
    service refuses here, and its message becomes the form's error)."""

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj is not None else []

    def service_create(self, *, actor, fields: dict):
        raise NotImplementedError

    def service_update(self, *, actor, obj, fields: dict):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        try:
            if change:
                fields = {name: form.cleaned_data[name] for name in form.changed_data if name != "key"}
                saved = self.service_update(actor=request.user, obj=obj, fields=fields)
            else:
                saved = self.service_create(actor=request.user, fields=dict(form.cleaned_data))
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error
        obj.pk = saved.pk
