"""Shapes of the canned responses API."""

from __future__ import annotations

from rest_framework import serializers

from cea.common.api import ROW_ID_MAX
from cea.common.serializers import CharField, ModelSerializer, SlugField, TrueFalseField, WholeNumberField
from engagement.canned.models import SHORTCUT_HELP, CannedResponse


class CannedResponseSerializer(ModelSerializer):
    team_name = CharField(source="team.name", read_only=True, allow_null=True, default=None)
    wrap_up_code = CharField(source="wrap_up_code.code", read_only=True, allow_null=True, default=None)
    personal = serializers.BooleanField(source="is_personal", read_only=True)
    macro = serializers.BooleanField(source="is_macro", read_only=True)

    class Meta:
        model = CannedResponse
        fields = [
            "id",
            "title",
            "shortcut",
            "body",
            "note",
            "wrap_up_code",
            "team",
            "team_name",
            "owner",
            "personal",
            "macro",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CannedResponseInputSerializer(serializers.Serializer):
    """A canned response to create or change (PATCH: any subset). ``team`` makes it shared (supervisors
    of that team and administrators); without it, it is your own."""

    title = CharField(max_length=120)
    shortcut = SlugField(max_length=40, help_text=SHORTCUT_HELP)
    body = CharField(max_length=5000, help_text="Variables: {{customer.first_name}}, {{context.<key>}} …")
    note = CharField(max_length=2000, required=False, allow_blank=True, help_text="A macro's internal note")
    wrap_up_code = SlugField(
        max_length=50, required=False, allow_blank=True, help_text="A macro's wrap-up code, preselected"
    )
    team = WholeNumberField(
        required=False, allow_null=True, min_value=1, max_value=ROW_ID_MAX, help_text="A team's id: a shared text"
    )
    is_active = TrueFalseField(required=False)


class CannedListQuerySerializer(serializers.Serializer):
    q = CharField(
        required=False, allow_blank=True, default="", max_length=100, help_text="Start of a shortcut or part of a title"
    )


class CannedApplyInputSerializer(serializers.Serializer):
    conversation = WholeNumberField(min_value=1, max_value=ROW_ID_MAX, help_text="The conversation it is used on")


class CannedAppliedSerializer(serializers.Serializer):
    text = CharField(help_text="The text with its variables filled, for the reply box")
    missing = serializers.ListField(child=CharField(), help_text="Variables without a value, left as written")
    wrap_up_code = CharField(allow_null=True, help_text="The wrap-up code a macro preselects")
    note = serializers.IntegerField(allow_null=True, help_text="The internal note's message id, if one was added")
