from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.db import models
from rest_framework import serializers

from cea.accounts.models import Team
from cea.common.api import no_null_characters
from cea.common.channels import Channel
from cea.common.serializers import CharField, ModelSerializer
from records.customers.models import Consent, ConsentPurpose, Customer
from records.customers.profile import EDITABLE_FIELDS, PROFILE, SERVICE_FIELDS, Check
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
        fields = ["id", "full_name", *EDITABLE_FIELDS, "team_name", *SERVICE_FIELDS, "created_at", "updated_at"]
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


# Room for a phone number as people write it ("+44 (0)20 7946 0000"); the service stores it in E.164.
PHONE_INPUT_MAX_LENGTH = 40


def _text_input(model_field: models.Field) -> serializers.Field:
    return CharField(
        max_length=cast(int, model_field.max_length),  # a text column has one
        required=False,
        allow_blank=model_field.blank,
        help_text=str(model_field.help_text) or None,
    )


_INPUT_OF_CHECK: dict[Check, Callable[[models.Field], serializers.Field]] = {
    Check.TEXT: _text_input,
    Check.EMAIL: _text_input,  # the service normalises it and says what is wrong with it
    Check.PHONE: lambda model_field: CharField(max_length=PHONE_INPUT_MAX_LENGTH, required=False, allow_blank=True),
    Check.COUNTRY: _text_input,
    Check.LANGUAGE: _text_input,
    Check.DATE: lambda model_field: serializers.DateField(required=False, allow_null=True),
    Check.CHOICE: lambda model_field: serializers.ChoiceField(
        choices=model_field.choices or (), required=False, allow_blank=model_field.blank
    ),
    Check.KEY_VALUES: lambda model_field: serializers.DictField(required=False, validators=[no_null_characters]),
    Check.TEAM: lambda model_field: serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True
    ),
}


class CustomerInputSerializer(serializers.Serializer):
    """What a client may set on a profile; types are checked here, meaning in the service."""

    # For the schema: the service's language rule (it reports it with every other bad field),
    # around the whitespace DRF trims first.
    request_schema_rules = {"allOf": [{"properties": {"language": {"pattern": rf"^\s*{LANGUAGE_TAG}\s*$"}}}]}

    def get_fields(self) -> dict[str, serializers.Field]:
        # The profile's fields (``records.customers.profile.PROFILE``), each typed by its check.
        profile = {
            field.name: _INPUT_OF_CHECK[field.check](cast(models.Field, Customer._meta.get_field(field.name)))
            for field in PROFILE
        }
        return {**profile, **super().get_fields()}


class CustomerCreateSerializer(CustomerInputSerializer):
    identities = IdentityInputSerializer(many=True, required=False)


class MergeInputSerializer(serializers.Serializer):
    merged_id = serializers.IntegerField(help_text="The customer to merge into this one; it becomes a tombstone.")


class DuplicateCandidateSerializer(serializers.Serializer):
    customer = CustomerSerializer()
    score = serializers.FloatField()
    reasons = serializers.ListField(child=CharField())
