"""The API conventions every app's DRF views share: one error shape, one pagination."""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, filters, pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cea.common.errors import ApplicationError, PayloadTooLarge


def _flatten(detail) -> dict | list | str:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc, context):
    """Map every refusal to ``{"error": {"code", "message", "fields"?}}`` with a 4xx status."""
    if isinstance(exc, ApplicationError):
        return Response({"error": exc.as_dict()}, status=exc.status_code)
    if isinstance(exc, exceptions.Throttled):
        return throttled_response(math.ceil(exc.wait or 1))
    if isinstance(exc, RequestDataTooBig):
        too_large = PayloadTooLarge(limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return Response({"error": too_large.as_dict()}, status=too_large.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, IntegrityError):
        return Response(
            {"error": {"code": "conflict", "message": "The change conflicts with existing data; reload and retry."}},
            status=409,
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = _flatten(exc.detail)
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        body = {"code": "invalid", "message": "The request has invalid fields.", "fields": fields}
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {"code": codes if isinstance(codes, str) else "error", "message": str(getattr(exc, "detail", exc))}
    response.data = {"error": body}
    return response


def throttled_response(retry_after: int) -> Response:
    """429 for a client over its rate (``cea.common.throttling``); when to retry, in the body and ``Retry-After``."""
    body = {
        "code": "throttled",
        "message": f"Too many requests: try again in {retry_after} seconds.",
        "retry_after_seconds": retry_after,
    }
    return Response({"error": body}, status=429, headers={"Retry-After": str(retry_after)})


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering, with per-view aliases.

    ``ordering_aliases = {"priority": "priority_rank"}`` lets a client order by the word it
    knows while the database orders by a rank the view annotates (urgent before low, not a-z).
    """

    def get_ordering(self, request, queryset, view):
        aliases = getattr(view, "ordering_aliases", {})
        ordering = super().get_ordering(request, queryset, view) or []
        return [
            ("-" if term.startswith("-") else "") + aliases.get(term.lstrip("-"), term.lstrip("-")) for term in ordering
        ]


def _has_null_character(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_null_character(key) or _has_null_character(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_null_character(item) for item in value)
    return False


def no_null_characters(value) -> None:
    """Validator for free-form JSON input: PostgreSQL (text and jsonb) refuses ``\\u0000``, so refuse it first.

    DRF's ``CharField`` does this for strings; a ``DictField`` or ``JSONField`` needs it explicitly.
    """
    if _has_null_character(value):
        raise serializers.ValidationError("Null characters are not allowed.")
