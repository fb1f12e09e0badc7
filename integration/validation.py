"""Checking the JSON the integration layer keeps: connector settings, flat-file layouts, webhooks.

Each shape is a DRF serializer (``rest_framework``, as the APIs use): its fields say what a
value is, ``error_messages`` say in the domain's words what is wrong, and ``messages_of`` turns
its errors into the sentences a console form or an ``ApplicationError`` shows. Strings,
whole numbers and flags are ``cea.common.serializers``' strict fields (a JSON string, a JSON
integer, a JSON ``true``/``false``), since DRF's own take ``12`` for "12", ``"12"`` for 12 and
``"yes"`` for true.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.settings import api_settings

from cea.common.serializers import CharField

# Every error code of the fields used here: ``one_message`` gives each the same sentence.
_CODES = (
    "required",
    "null",
    "blank",
    "invalid",
    "invalid_choice",
    "not_a_string",
    "not_a_number",
    "not_a_list",
    "not_a_dict",
    "empty",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
)


def one_message(message: str) -> dict[str, Any]:
    """``error_messages`` that answer ``message`` whatever is wrong: missing, null, of the wrong type or out of range.

    ``message`` names its field (``"page_size is a number of lines from 1 to 100000."``).
    """
    return dict.fromkeys(_CODES, message)


def optional_text(message: str, **options: Any) -> CharField:
    """A strict string field that may be left out, empty or ``null`` (the setting's default then applies)."""
    return CharField(required=False, allow_blank=True, allow_null=True, error_messages=one_message(message), **options)


def messages_of(errors: Any, *, item: str = "", path: str = "") -> list[str]:
    """The messages in a serializer's ``errors``, in field order, each said of the list item it is about.

    A message names its own field; one inside a list's item starts with the item's path
    (``holdings[1]: each of holdings has a kind and mappings.``).
    """
    if isinstance(errors, Mapping):
        found = []
        for key, inner in errors.items():
            if isinstance(key, int):
                found += messages_of(inner, item=f"{path}[{key}]", path=f"{path}[{key}]")
            else:
                inner_path = path if key == api_settings.NON_FIELD_ERRORS_KEY else f"{path}.{key}".lstrip(".")
                found += messages_of(inner, item=item, path=inner_path)
        return found
    if isinstance(errors, list):
        return [message for error in errors for message in messages_of(error, item=item, path=path)]
    return [f"{item}: {errors}" if item else str(errors)]
