"""The console for records: customers (identities inline, timeline), cases, interactions, SLA policies.

Edits go through the records services, so the console writes the same journey events and
audit context as the API and the pages, and refuses what they refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from cea.common.admin import ParentRoleInline, RoleModelAdmin, run_service_action
from cea.common.errors import ApplicationError
from records.cases.models import Case, CaseNote, CaseTransition, SlaPolicy
from records.cases.services import case_check, case_create, case_transition, case_update
from records.customers.models import Consent, Customer
from records.customers.profile import EDITABLE_FIELDS, SERVICE_FIELDS, Section, fields_in
from records.customers.services import customer_check, customer_create, customer_update
from records.identities.models import Identity
from records.interactions.models import Interaction
from records.journey.selectors import journey_timeline

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec


def _form_errors_from(form: forms.ModelForm, error: ApplicationError) -> None:
    if not error.fields:
        form.add_error(None, error.message)
    for name, messages in error.fields.items():
        form.add_error(name if name in form.fields else None, messages)


# --- Customers ------------------------------------------------------------------------------


class ReadOnlyInline(ParentRoleInline):
    """Rows shown beside their parent; they change through their own services, not here."""

    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class IdentityInline(ReadOnlyInline):
    model = Identity
    fields = ["kind", "label", "is_primary", "verified_at", "created_at"]


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = ["channel", "purpose", "granted", "given_at", "source"]


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = list(EDITABLE_FIELDS)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean(self):
        cleaned = super().clean()
        if self.errors:  # a refused field (another team's id) is the error to show, not what its absence implies
            return cleaned
        changed = {name: cleaned.get(name) for name in self.changed_data if name in EDITABLE_FIELDS}
        try:
            cleaned.update(
                customer_check(actor=self.actor, fields=changed, customer=self.instance.pk and self.instance)
            )
        except ApplicationError as error:
            _form_errors_from(self, error)
        return cleaned


class ServiceFormAdmin(RoleModelAdmin):
    """Hands the signed-in user to the form, whose ``clean()`` runs the service's checks as that user."""

    def construct_change_message(self, request, form, formsets, add=False):
        # The inlines are read-only and never saved (``save_related`` skips them), so they change nothing.
        return super().construct_change_message(request, form, [], add)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class WithActor(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, actor=request.user, **inner)

        return WithActor


@admin.register(Customer)
class CustomerAdmin(ServiceFormAdmin):
    form = CustomerForm
    team_paths = ("team",)
    list_display = ["__str__", "email", "phone", "value_tier", "segment", "team", "status", "created_at"]
    list_filter = ["status", "value_tier", "segment", "team", "language", "preferred_channel"]
    search_fields = ["search_name", "email", "phone", "identities__value", "=id"]
    list_select_related = ["team"]
    inlines = [IdentityInline, ConsentInline]
    readonly_fields = [*SERVICE_FIELDS, "timeline"]
    # The profile's sections (records.customers.profile), then what services alone write.
    fieldsets = cast(
        "_FieldsetSpec",
        [(section.value, {"fields": fields_in(section)}) for section in Section]
        + [("Insights and merge", {"fields": list(SERVICE_FIELDS)}), ("Journey", {"fields": ["timeline"]})],
    )

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_FIELDS}
        if change:
            customer_update(actor=request.user, customer=Customer.objects.get(pk=obj.pk), **fields)
        else:
            obj.pk = customer_create(actor=request.user, **fields).pk

    def save_related(self, request, form, formsets, change):
        # Inlines are read-only; identities and consent change through their services.
        pass

    @admin.display(description="Latest journey events")
    def timeline(self, customer: Customer) -> str:
        if not customer.pk:
            return "—"
        events = journey_timeline(customer_id=customer.pk, limit=20)
        if not events:
            return "Nothing yet."
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{} · {} · {}</li>",
                ((e.occurred_at.strftime("%Y-%m-%d %H:%M"), e.kind, e.summary) for e in events),
            ),
        )


# --- Cases ----------------------------------------------------------------------------------


class CaseNoteInline(ReadOnlyInline):
    model = CaseNote
    fields = ["created_at", "author", "visibility", "body"]


CASE_FIELDS = ("subject", "description", "category", "priority", "team", "assignee", "sla_policy")


class CaseForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = ["customer", *CASE_FIELDS]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned.get(name) for name in CASE_FIELDS if name in cleaned}
        try:
            case_check(actor=self.actor, fields=fields)
        except ApplicationError as error:
            _form_errors_from(self, error)
        return cleaned


def _transition_action(transition: CaseTransition):
    def action(modeladmin, request, queryset):
        run_service_action(
            modeladmin,
            request,
            queryset,
            lambda case: case_transition(actor=request.user, case=case, transition=transition),
            f"{{count}} case(s): {transition.label.lower()}.",
        )

    action.__name__ = f"transition_{transition.value}"
    return admin.action(description=f"{transition.label} selected cases")(action)


@admin.register(Case)
class CaseAdmin(ServiceFormAdmin):
    form = CaseForm
    team_paths = ("team",)
    list_display = [
        "reference",
        "subject",
        "customer",
        "status",
        "priority",
        "category",
        "team",
        "assignee",
        "resolution_due_at",
        "first_response_breached",
        "resolution_breached",
    ]
    list_filter = ["status", "priority", "category", "team", "first_response_breached", "resolution_breached"]
    search_fields = ["reference", "subject", "customer__search_name", "=customer__id"]
    list_select_related = ["customer", "team", "assignee"]
    raw_id_fields = ["customer", "assignee"]
    date_hierarchy = "created_at"
    inlines = [CaseNoteInline]
    readonly_fields = [
        "reference",
        "status",
        "first_response_due_at",
        "resolution_due_at",
        "first_responded_at",
        "resolved_at",
        "closed_at",
        "first_response_breached",
        "resolution_breached",
        "created_at",
    ]
    actions = [_transition_action(t) for t in CaseTransition]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "customer"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in CASE_FIELDS if name in form.cleaned_data}
        if change:
            changed = {name: value for name, value in fields.items() if name in form.changed_data}
            case_update(actor=request.user, case=Case.objects.get(pk=obj.pk), **changed)
        else:
            case = case_create(actor=request.user, customer=form.cleaned_data["customer"], **fields)
            obj.pk = case.pk

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(SlaPolicy)
class SlaPolicyAdmin(RoleModelAdmin):
    """Global: supervisors read the policies, administrators set them."""

    list_display = [
        "name",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "is_default_for_priority",
        "is_active",
    ]
    list_filter = ["priority", "is_active", "is_default_for_priority"]
    search_fields = ["name"]


@admin.register(Interaction)
class InteractionAdmin(RoleModelAdmin):
    """Finished conversations are records of what happened: read-only in the console."""

    change_roles = add_roles = ()
    team_paths = ("team", "customer__team")
    list_display = [
        "started_at",
        "channel",
        "direction",
        "customer",
        "agent",
        "queue",
        "disposition",
        "wrap_up_code",
        "sentiment",
        "case",
    ]
    list_filter = ["channel", "direction", "queue", "disposition", "wrap_up_code", "team"]
    search_fields = ["external_id", "customer__search_name", "=customer__id", "agent__username"]
    list_select_related = ["customer", "agent", "case"]
    date_hierarchy = "started_at"

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# The privacy package's console pages (the redaction policy, privacy requests, legal holds, retention).
import records.privacy.admin  # noqa: E402, F401
