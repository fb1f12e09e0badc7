from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from cea.accounts.models import Team
from cea.common.serializers import CharField, ModelSerializer
from records.cases.models import (
    Case,
    CaseCategory,
    CaseNote,
    CasePriority,
    CaseTransition,
    NoteVisibility,
    SlaPolicy,
    transitions_from,
)
from records.customers.models import Customer


class SlaPolicySerializer(ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "priority",
            "first_response_minutes",
            "resolution_minutes",
            "is_default_for_priority",
            "is_active",
        ]


class CaseSerializer(ModelSerializer):
    customer_name = CharField(source="customer.full_name", read_only=True)
    team_name = CharField(source="team.name", read_only=True, allow_null=True, default=None)
    assignee_username = CharField(source="assignee.username", read_only=True, allow_null=True, default=None)
    allowed_transitions = serializers.SerializerMethodField()
    interaction_ids = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "customer",
            "customer_name",
            "subject",
            "description",
            "category",
            "priority",
            "status",
            "allowed_transitions",
            "sla_policy",
            "first_response_due_at",
            "resolution_due_at",
            "first_responded_at",
            "resolved_at",
            "closed_at",
            "first_response_breached",
            "resolution_breached",
            "team",
            "team_name",
            "assignee",
            "assignee_username",
            "interaction_ids",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_allowed_transitions(self, case: Case) -> list[str]:
        return [transition.value for transition in transitions_from(case.status)]

    def get_interaction_ids(self, case: Case) -> list[int]:
        return [interaction.pk for interaction in case.interactions.all()]


class CaseCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    subject = CharField(max_length=200)
    description = CharField(required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=CaseCategory.choices, default=CaseCategory.GENERAL)
    priority = serializers.ChoiceField(choices=CasePriority.choices, default=CasePriority.NORMAL)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False, allow_null=True
    )
    sla_policy = serializers.PrimaryKeyRelatedField(queryset=SlaPolicy.objects.filter(is_active=True), required=False)


class CaseUpdateSerializer(serializers.Serializer):
    subject = CharField(max_length=200, required=False)
    description = CharField(required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=CaseCategory.choices, required=False)
    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False, allow_null=True
    )
    sla_policy = serializers.PrimaryKeyRelatedField(queryset=SlaPolicy.objects.filter(is_active=True), required=False)


class CaseTransitionSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=CaseTransition.choices)
    note = CharField(required=False, allow_blank=True, default="")


class CaseNoteSerializer(ModelSerializer):
    author_username = CharField(source="author.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = CaseNote
        fields = ["id", "body", "visibility", "author", "author_username", "created_at"]
        read_only_fields = fields


class CaseNoteInputSerializer(serializers.Serializer):
    body = CharField()
    visibility = serializers.ChoiceField(choices=NoteVisibility.choices, default=NoteVisibility.INTERNAL)


class CaseLinkInteractionSerializer(serializers.Serializer):
    interaction_id = serializers.IntegerField()
