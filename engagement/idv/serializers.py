"""Input and output of the ID&V REST API."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cea.common.errors import ValidationFailed
from cea.common.serializers import CharField, RegexField
from engagement.conversations.models import VerificationLevel
from engagement.idv.codes import CODE_DIGITS
from engagement.idv.models import ChallengeMethod
from engagement.idv.services import ANY_KIND, IdentifyOutcome, KnowledgeMethod, knowledge_check_input, otp_method
from records.access import customer_visible
from records.identities.models import IdentityKind

VERIFICATION_METHODS = [
    (otp_method(method=ChallengeMethod.SMS), "One-time passcode by SMS"),
    (otp_method(method=ChallengeMethod.EMAIL), "One-time passcode by email"),
    *KnowledgeMethod.choices,
]

IDENTIFY_KINDS = [(ANY_KIND, "Any kind that can read the value"), *IdentityKind.choices]

# --- Input --------------------------------------------------------------------------------------


class IdentifyInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=IDENTIFY_KINDS,
        default=ANY_KIND,
        help_text="The kind of identifier; `any` tries every kind that can read the value.",
    )
    value = CharField(max_length=255, help_text="Caller number, email address, handle, device id, …")


class OtpStartInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=ChallengeMethod.choices, help_text="Where the code goes: sms or email.")


class OtpCheckInputSerializer(serializers.Serializer):
    code = RegexField(
        rf"^[\s\-]*(?:[0-9][\s\-]*){{{CODE_DIGITS}}}$",
        max_length=20,
        error_messages={"invalid": f"A code is {CODE_DIGITS} digits."},
        help_text=f"The {CODE_DIGITS}-digit code; spaces and dashes ignored.",
    )

    def validate_code(self, value: str) -> str:
        return re.sub(r"[\s\-]", "", value)


class KnowledgeInputSerializer(serializers.Serializer):
    """Either ``date_of_birth`` and ``postcode``, or ``account_digits``."""

    date_of_birth = serializers.DateField(required=False, allow_null=True, help_text="YYYY-MM-DD")
    postcode = CharField(required=False, allow_blank=True, max_length=20, default="")
    account_digits = CharField(
        required=False, allow_blank=True, max_length=10, default="", help_text="The last 4 digits of an account number"
    )

    def validate(self, attrs: dict) -> dict:
        answers = {
            "date_of_birth": attrs.get("date_of_birth"),
            "postcode": attrs.get("postcode", ""),
            "account_digits": attrs.get("account_digits", "").strip(),
        }
        try:
            knowledge_check_input(**answers)
        except ValidationFailed as exc:
            raise serializers.ValidationError(exc.fields or {"non_field_errors": [exc.message]}) from None
        return answers


# --- Output -------------------------------------------------------------------------------------


class IdentifyMatchSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(source="customer.pk")
    kind = CharField(help_text="The kind of identifier that matched (phone, email, account, …)")
    display_name = CharField(source="customer.full_name")


class IdentificationSerializer(serializers.Serializer):
    """What identification found: only customers the user may see are matched, counted or listed."""

    outcome = serializers.ChoiceField(choices=IdentifyOutcome.choices)
    conversation_id = serializers.IntegerField(source="conversation.pk")
    verification_level = serializers.ChoiceField(
        source="conversation.verification_level", choices=VerificationLevel.choices
    )
    customer_id = serializers.SerializerMethodField()
    match_count = serializers.SerializerMethodField()
    matches = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_customer_id(self, identification) -> int | None:
        return identification.customer.pk if identification.customer is not None else None

    @extend_schema_field(serializers.IntegerField())
    def get_match_count(self, identification) -> int:
        return len(identification.matches)

    @extend_schema_field(IdentifyMatchSerializer(many=True))
    def get_matches(self, identification) -> list[dict]:
        user = self.context["user"]
        visible = [match for match in identification.matches if customer_visible(user, match.customer)]
        return IdentifyMatchSerializer(visible, many=True).data


class CodeRequestSerializer(serializers.Serializer):
    """The same answer whether or not the customer is known and a code went out."""

    method = serializers.ChoiceField(choices=ChallengeMethod.choices)
    message = CharField()
    expires_in_seconds = serializers.IntegerField()


class VerificationSerializer(serializers.Serializer):
    verified = serializers.BooleanField()
    conversation_id = serializers.IntegerField(source="conversation.pk")
    customer_id = serializers.IntegerField(source="conversation.customer_id")
    verification_level = serializers.ChoiceField(
        source="conversation.verification_level", choices=VerificationLevel.choices
    )
    method = serializers.ChoiceField(choices=VERIFICATION_METHODS)


class IdvErrorDetailSerializer(serializers.Serializer):
    code = CharField(help_text="invalid, verification_failed, verification_locked, forbidden, …")
    message = CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=CharField()), required=False, help_text="Messages per field"
    )
    retry_after_seconds = serializers.IntegerField(required=False, help_text="When locked: seconds until it lifts")


class IdvErrorSerializer(serializers.Serializer):
    error = IdvErrorDetailSerializer()
