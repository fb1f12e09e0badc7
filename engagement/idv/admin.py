"""The console for id&v: verification locks."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from cea.common.admin import RoleModelAdmin, run_service_action
from engagement.idv.models import VerificationLock
from engagement.idv.services import verification_lock_clear


class LockedNowFilter(admin.SimpleListFilter):
    title = "locked now"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", "Locked"), ("no", "Not locked")]

    def queryset(self, request, queryset):
        locked = Q(locked_until__gt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(locked)
        if self.value() == "no":
            return queryset.exclude(locked)
        return queryset


@admin.register(VerificationLock)
class VerificationLockAdmin(RoleModelAdmin):
    """Customers' failed verification attempts and locks: read-only, with one action to clear a lock.

    Supervisors see the customers of their teams, administrators every customer. Clearing goes
    through ``verification_lock_clear``, which writes an ``idv.unlocked`` journey event naming who.
    """

    list_display = ["customer", "failures", "last_failure_at", "locked_until", "locked_now"]
    list_filter = [LockedNowFilter]
    list_select_related = ["customer"]
    search_fields = ["customer__family_name", "customer__given_name", "=customer__id"]
    ordering = ["-locked_until", "-last_failure_at"]
    fields = ["customer", "failures", "last_failure_at", "locked_until"]
    readonly_fields = fields
    actions = ["clear_locks"]
    add_roles = ()
    team_paths = ("customer__team",)

    @admin.display(boolean=True, description="Locked now")
    def locked_now(self, lock: VerificationLock) -> bool:
        return lock.locked_until is not None and lock.locked_until > timezone.now()

    def has_change_permission(self, request, obj=None) -> bool:
        # The list's action needs "change"; a row itself is never edited by hand.
        return obj is None and super().has_change_permission(request)

    @admin.action(description="Clear the verification lock of the selected customers", permissions=["change"])
    def clear_locks(self, request, queryset) -> None:
        run_service_action(
            self,
            request,
            queryset,
            lambda lock: verification_lock_clear(actor=request.user, lock=lock),
            "Cleared {count} verification lock(s).",
        )
