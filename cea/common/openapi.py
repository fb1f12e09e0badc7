"""The OpenAPI description's conventions: every refusal an operation can give, in the one error shape.

drf-spectacular documents what a view returns when it succeeds; the refusals come from layers
it does not see (authentication, scopes, the exception handler, pagination, throttles, body
limits). ``AutoSchema`` adds them to every operation from what the operation takes, so that the
schema lists each status a client can receive and the body that comes with it.
"""

from __future__ import annotations

import copy

from django.core.exceptions import FieldDoesNotExist
from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from cea.common.serializers import CharField

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"
FORM_MEDIA_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# A string with a character that is not whitespace; and one that is blank once trimmed. Whitespace as
# Python's str.strip() (DRF's trim) knows it: a regular expression's \s of ECMAScript, which clients
# and schema tools read patterns as, leaves out the separators U+001C–U+001F and NEL (U+0085).
WHITESPACE = r"\s\u001c-\u001f\u0085"
NOT_BLANK = rf"[^{WHITESPACE}]"
BLANK = rf"^[{WHITESPACE}]*$"

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`invalid`, with `fields`: the messages per field)",
    "401": "Not signed in, or an unknown, expired or revoked API token",
    "403": "Not allowed: the user's role or team, or an API token without the scope",
    "404": "No such object (`not_found`): in the path, named in the body, or a page past the last",
    "409": "The object's state refuses the change (`conflict`), or it conflicts with existing data",
    "413": "The request body is too large",
    "429": "Too many requests: wait for `Retry-After` seconds",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = CharField(help_text="A machine-readable reason: invalid, forbidden, not_found, conflict, …")
    message = CharField(help_text="A sentence for people")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="With `invalid`: the messages per field (a list, or an object for nested input)",
    )


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API (``cea.common.api.exception_handler``)."""

    error = ErrorDetailSerializer()


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, with the refusals every operation can give.

    - 400 when it takes a body or query parameters; 413 when it takes a body;
    - 401 and 403 when it needs authentication (any refusal of a role, a team or a scope);
    - 404 when it has a path parameter or a body (an unknown object, in the path or named in the
      body) or pages a list (a page past the last);
    - 409 when it writes (a service's ``Conflict``, or an ``IntegrityError`` mapped by the handler);
    - 429 for all (throttles).

    A serializer states the rules across its fields that its ``validate`` enforces, where JSON
    Schema can, as ``request_schema_rules``: keywords (``anyOf``, ``oneOf``, …) added to its
    request component. A string field that DRF trims and refuses blank says so (``pattern: \\S``).

    A view declares more with ``@extend_schema(responses=...)``; what it declares is kept, and
    an error response declared without a body gets the error shape.

    Two more truths: request bodies are JSON (DRF's form parsers also read a flat body, but
    nested objects, lists and ``null`` do not survive form encoding, so forms are not offered);
    an optional query parameter sent empty counts as absent (``allowEmptyValue``), as DRF's
    query serializers, django-filter and the paginator read it.
    """

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if _may_be_blank(field) and schema.get("type") == "string" and "" not in schema.get("enum", [""]):
            schema["enum"] = [*schema["enum"], ""]
        if direction == "request" and _must_not_be_blank(field, schema):
            # DRF trims, then refuses a blank value: "   " is as blank as "".
            schema["pattern"] = NOT_BLANK
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            schema.update(copy.deepcopy(getattr(serializer, "request_schema_rules", {})))
        return schema

    def _insert_field_validators(self, field, schema) -> None:
        super()._insert_field_validators(field, schema)
        if isinstance(field, serializers.ListField) and not field.allow_empty:
            schema.setdefault("minItems", 1)
        if _may_be_blank(field) and schema.get("type") == "string" and "format" in schema:
            # "" is not an email or a URL, but a blank field is "": either the one or the other.
            schema["anyOf"] = [{"format": schema.pop("format")}, {"maxLength": 0}]

    def map_parsers(self) -> list:
        media_types = super().map_parsers()
        if JSON in media_types:
            return [media_type for media_type in media_types if media_type not in FORM_MEDIA_TYPES]
        return media_types

    def _get_parameters(self) -> list[dict]:
        parameters = super()._get_parameters()
        for parameter in parameters:
            # Not for a choice: django-filter and ChoiceField refuse an empty one.
            if parameter["in"] == "query" and not parameter.get("required") and not _is_choice(parameter["schema"]):
                parameter["allowEmptyValue"] = True
        return parameters

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status in self._error_statuses(operation):
            responses.setdefault(status, {"description": ERROR_DESCRIPTIONS[status]})
        error_body = {"application/json": {"schema": self._error_component_ref()}}
        for status, response in responses.items():
            if status.startswith(("4", "5")) and not response.get("content"):
                response["content"] = error_body
        return operation

    def _error_statuses(self, operation: dict) -> list[str]:
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        in_path = any(parameter["in"] == "path" for parameter in parameters)
        in_query = any(parameter["in"] == "query" for parameter in parameters)
        authenticated = any(requirement for requirement in operation.get("security", [{}]))
        statuses = []
        if has_body or in_query:
            statuses.append("400")
        if authenticated:
            statuses += ["401", "403"]
        if in_path or has_body or (self._get_paginator() is not None and self._is_list_view()):
            statuses.append("404")
        if self.method in WRITE_METHODS:
            statuses.append("409")
        if has_body:
            statuses.append("413")
        statuses.append("429")
        return statuses

    def _error_component_ref(self) -> dict:
        return self.resolve_serializer(ErrorSerializer, "response").ref


def _may_be_blank(field) -> bool:
    """The field takes or gives ``""``: ``allow_blank``, or read-only over a model field with ``blank=True``
    (DRF drops ``allow_blank`` from read-only fields, but the value read can still be blank)."""
    if getattr(field, "allow_blank", False):
        return True
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if not field.read_only or model is None or "." in (field.source or ""):
        return False
    try:
        return bool(getattr(model._meta.get_field(field.source), "blank", False))
    except FieldDoesNotExist:
        return False


def _must_not_be_blank(field, schema: dict) -> bool:
    """A writable string that DRF trims and then refuses when blank, with no pattern or format of its own
    (a ``RegexValidator``'s pattern is added to the schema later, and says more)."""
    return (
        isinstance(field, serializers.CharField)  # noqa: TID251 - any string field, ours included
        and not field.read_only
        and not field.allow_blank
        and field.trim_whitespace
        and schema.get("type") == "string"
        and not {"pattern", "format", "enum"} & schema.keys()
        and not any(isinstance(validator, RegexValidator) for validator in field.validators)
    )


def _is_choice(schema: dict) -> bool:
    return "enum" in schema or "enum" in schema.get("items", {})
