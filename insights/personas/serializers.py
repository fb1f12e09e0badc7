"""Serializers of the personas API: definitions (with how many of the reader's customers each holds), discovery."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.serializers import CharField, ModelSerializer, TrueFalseField, WholeNumberField
from insights.personas.models import DiscoveredCluster, DiscoveryRun, PersonaDefinition


class PersonaDefinitionSerializer(ModelSerializer):
    customers = serializers.SerializerMethodField(help_text="Active customers in this persona that you may see.")

    class Meta:
        model = PersonaDefinition
        fields = [
            "id",
            "key",
            "name",
            "description",
            "needs",
            "preferences",
            "behaviours",
            "order",
            "rules",
            "is_active",
            "customers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_customers(self, definition: PersonaDefinition) -> int:
        return self.context.get("counts", {}).get(definition.key, 0)


class PersonaDefinitionInputSerializer(serializers.Serializer):
    """Types only; the service checks the rest (key pattern, rules against the features) and says what is wrong."""

    key = CharField(max_length=50, required=False)
    name = CharField(max_length=100, required=False)
    description = CharField(required=False, allow_blank=True)
    needs = CharField(required=False, allow_blank=True)
    preferences = CharField(required=False, allow_blank=True)
    behaviours = CharField(required=False, allow_blank=True)
    order = WholeNumberField(required=False, min_value=0, max_value=2**31 - 1)
    rules = serializers.JSONField(required=False)
    is_active = TrueFalseField(required=False)


class DiscoveredClusterSerializer(ModelSerializer):
    persona_key = CharField(source="persona.key", default=None, read_only=True)

    class Meta:
        model = DiscoveredCluster
        fields = [
            "id",
            "number",
            "size",
            "centroid",
            "distinguishing",
            "summary",
            "status",
            "persona_key",
            "decided_at",
        ]
        read_only_fields = fields


class DiscoveryRunSerializer(ModelSerializer):
    clusters = DiscoveredClusterSerializer(many=True, read_only=True)

    class Meta:
        model = DiscoveryRun
        fields = [
            "id",
            "created_at",
            "customers",
            "features",
            "k",
            "silhouette",
            "silhouettes",
            "random_state",
            "clusters",
        ]
        read_only_fields = fields
