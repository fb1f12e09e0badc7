from __future__ import annotations

from rest_framework import serializers

from cea.accounts.models import Team
from cea.common.api import no_null_characters
from cea.common.channels import Channel
from cea.common.serializers import CharField, ModelSerializer
from records.customers.models import Consent, ConsentPurpose, Customer, ValueTier
from records.customers.services import LANGUAGE_TAG
from records.identities.models import Identity, IdentityKind


class IdentitySerializer(ModelSerializer):
    class Meta:
        model = Identity
        fields = ["id", "kind", "label", "is_primary", "verified_at", "created_at"]


class IdentityInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdentityKind.choices)
    value = CharField(max_length=255)
    is_primary = serializers.BooleanField(default=False)
    verified = serializers.BooleanField(default=False)


class ConsentSerializer(ModelSerializer):
    class Meta:
        model = Consent
        fields = ["channel", "purpose", "granted", "given_at", "source"]


class ConsentInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    granted = serializers.BooleanField()
    given_at = serializers.DateTimeField(required=False)
    source = CharField(max_length=100, required=False, default="")


class CustomerSerializer(ModelSerializer):
    full_name = CharField(read_only=True)
    team_name = CharField(source="team.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Customer
        fields = [
            "id",
            "given_name",
            "family_name",
            "full_name",
            "date_of_birth",
            "email",
            "phone",
            "address_line1",
            "address_line2",
            "city",
            "postcode",
            "country",
            "language",
            "preferred_channel",
            "preferences",
            "segment",
            "persona",
            "value_tier",
            "custom_attributes",
            "scores",
            "scores_updated_at",
            "team",
            "team_name",
            "status",
            "merged_into",
            "merged_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BriefCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = CharField()
    subject = CharField()
    status = CharField()
    priority = CharField()
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    resolution_breached = serializers.BooleanField()


class Customer360Serializer(CustomerSerializer):
    identities = IdentitySerializer(many=True, read_only=True)
    consents = ConsentSerializer(many=True, read_only=True)
    open_cases = BriefCaseSerializer(many=True, read_only=True)
    case_count = serializers.IntegerField(read_only=True)
    interaction_count = serializers.IntegerField(read_only=True)

    class Meta(CustomerSerializer.Meta):
        fields = [
            *CustomerSerializer.Meta.fields,
            "identities",
            "consents",
            "open_cases",
            "case_count",
            "interaction_count",
        ]
        read_only_fields = fields


class CustomerInputSerializer(serializers.Serializer):
    """What a client may set on a profile; types are checked here, meaning in the service."""

    given_name = CharField(max_length=100, required=False, allow_blank=True)
    family_name = CharField(max_length=100, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    email = CharField(max_length=254, required=False, allow_blank=True)
    phone = CharField(max_length=40, required=False, allow_blank=True)
    address_line1 = CharField(max_length=200, required=False, allow_blank=True)
    address_line2 = CharField(max_length=200, required=False, allow_blank=True)
    city = CharField(max_length=100, required=False, allow_blank=True)
    postcode = CharField(max_length=20, required=False, allow_blank=True)
    country = CharField(max_length=2, required=False, allow_blank=True)
    language = CharField(max_length=16, required=False, help_text="BCP 47 language tag, e.g. en, fr-CA")
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    preferences = serializers.DictField(required=False, validators=[no_null_characters])
    segment = CharField(max_length=50, required=False, allow_blank=True)
    persona = CharField(max_length=50, required=False, allow_blank=True)
    value_tier = serializers.ChoiceField(choices=ValueTier.choices, required=False)
    custom_attributes = serializers.DictField(required=False, validators=[no_null_characters])
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)

    # For the schema: the service's language rule (it reports it with every other bad field),
    # around the whitespace DRF trims first.
    request_schema_rules = {"allOf": [{"properties": {"language": {"pattern": rf"^\s*{LANGUAGE_TAG}\s*$"}}}]}


class CustomerCreateSerializer(CustomerInputSerializer):
    identities = IdentityInputSerializer(many=True, required=False)


class MergeInputSerializer(serializers.Serializer):
    merged_id = serializers.IntegerField(help_text="The customer to merge into this one; it becomes a tombstone.")


class DuplicateCandidateSerializer(serializers.Serializer):
    customer = CustomerSerializer()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=CharField())
