"""The console (Django admin) made fit for supervisors: role-aware permissions and team scoping."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction

from cea.common.errors import ApplicationError
from cea.common.roles import Role, role_of


class RoleModelAdmin(admin.ModelAdmin):
    """Permissions by role instead of per-model Django permissions.

    ``view_roles`` may list and open rows, ``change_roles`` may edit, ``add_roles`` may
    create, ``delete_roles`` may delete. Subclasses narrow rows with ``scope_queryset``.
    """

    view_roles: tuple[Role, ...] = (Role.SUPERVISOR, Role.ADMIN)
    change_roles: tuple[Role, ...] = (Role.SUPERVISOR, Role.ADMIN)
    add_roles: tuple[Role, ...] = (Role.SUPERVISOR, Role.ADMIN)
    delete_roles: tuple[Role, ...] = ()

    def _role_in(self, request, roles) -> bool:
        return request.user.is_active and request.user.is_staff and role_of(request.user) in roles

    def has_module_permission(self, request) -> bool:
        return self._role_in(request, self.view_roles)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._role_in(request, self.view_roles)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._role_in(request, self.change_roles)

    def has_add_permission(self, request) -> bool:
        return self._role_in(request, self.add_roles)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._role_in(request, self.delete_roles)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def scope_queryset(self, request, queryset):
        return queryset


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
