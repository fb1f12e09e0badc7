"""The API conventions every app's DRF views share: one error shape, one pagination."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re

import django_filters
from django import forms as django_forms
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, filters, pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cea.common.errors import ApplicationError, PayloadTooLarge, ServiceUnavailable, unavailable_from

logger = logging.getLogger(__name__)


def _flatten(detail) -> dict | list | str:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc, context):
    """Map every refusal to ``{"error": {"code", "message", "fields"?}}`` with a 4xx status (503 with
    ``Retry-After`` while the database cannot be reached)."""
    unavailable = unavailable_from(exc)
    if unavailable is not None:
        logger.warning("Database or Redis unavailable: %s", type(exc).__name__, exc_info=exc)
        return unavailable_response(unavailable)
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


def unavailable_response(error: ServiceUnavailable) -> Response:
    retry_after = str(error.retry_after_seconds)
    return Response({"error": error.as_dict()}, status=error.status_code, headers={"Retry-After": retry_after})


def throttled_response(retry_after: int) -> Response:
    """429 for a client over its rate (``cea.common.throttling``); when to retry, in the body and ``Retry-After``."""
    body = {
        "code": "throttled",
        "message": f"Too many requests: try again in {retry_after} seconds.",
        "retry_after_seconds": retry_after,
    }
    return Response({"error": body}, status=429, headers={"Retry-After": str(retry_after)})


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers; a ``page_size`` that is not a whole number from 1 to 200 is refused (400),
    not silently replaced by the default or cut to the maximum."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not raw.isdecimal() or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


ROW_ID_MAX = 2**63 - 1  # PostgreSQL's bigint


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": ROW_ID_MAX})
class RowIdFilter(django_filters.NumberFilter):
    """A filter by a row's id: a whole number from 1 to bigint's largest, as the schema says; anything
    else (a fraction, ``6.46e+218``) is a 400 naming the parameter. django-filter's ``NumberFilter``
    says "number" in the schema and reads a decimal, so a huge float the schema allowed was refused."""

    field_class = django_forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ROW_ID_MAX)
        super().__init__(*args, **kwargs)


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """django-filter's ISO 8601 filter, sending the database UTC: PostgreSQL refuses an offset past
    ±15:59 (a 500) that ISO 8601 and Python accept; a moment UTC cannot hold is refused (400)."""

    def filter(self, qs, value):
        if value:
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError:
                raise exceptions.ValidationError({self.field_name: ["The date and time is out of range."]}) from None
        return super().filter(qs, value)


class OrderingFilter(filters.OrderingFilter):
    """DRF's ordering, with per-view aliases.

    ``ordering_aliases = {"priority": "priority_rank"}`` lets a client order by the word it
    knows while the database orders by a rank the view annotates (urgent before low, not a-z).
    An unknown field is refused (400, naming the fields it may order by) rather than ignored as DRF
    does: a client that misspells a field would otherwise get another order than it asked for.
    """

    def get_ordering(self, request, queryset, view):
        self._refuse_unknown(request, queryset, view)
        aliases = getattr(view, "ordering_aliases", {})
        ordering = super().get_ordering(request, queryset, view) or []
        return [
            ("-" if term.startswith("-") else "") + aliases.get(term.lstrip("-"), term.lstrip("-")) for term in ordering
        ]

    def get_schema_operation_parameters(self, view):
        """DRF's parameter, with the pattern of what the view orders by: one field or more, comma-separated,
        each with an optional ``-`` (descending)."""
        parameters = super().get_schema_operation_parameters(view)
        try:
            valid = [name for name, _ in self.get_valid_fields(view.get_queryset(), view, {"request": view.request})]
        except Exception:
            return parameters
        field = "-?(?:" + "|".join(re.escape(name) for name in sorted(valid, key=len, reverse=True)) + ")"
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], "pattern": f"^{field}(?:,{field})*$"}
            parameter["description"] = f"Order by {', '.join(valid)}; - for descending, commas for several."
        return parameters

    def _refuse_unknown(self, request, queryset, view) -> None:
        # Exactly the schema's pattern: no blanks around a field, no empty field between commas.
        terms = [
            term for value in request.query_params.getlist(self.ordering_param) if value for term in value.split(",")
        ]
        if not terms:
            return
        valid = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
        unknown = [term for term in terms if term.removeprefix("-") not in valid]
        if unknown:
            choices = ", ".join(valid)
            raise exceptions.ValidationError(
                {self.ordering_param: [f"Cannot order by {unknown[0]!r}: order by one of {choices} (- descending)."]}
            )


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


API_PATH_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIX)


def _error_response(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


# Django's error handlers (``handler400`` … ``handler500`` in the root URLconf): what escapes a
# view, or a path no view matches, is the one error shape under /api/ and the HTML page elsewhere.
# The exception's own text is never shown: it may carry internals.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    unavailable = unavailable_from(exception)
    if unavailable is not None:  # e.g. a session save that failed while the database restarted
        logger.warning("Database or Redis unavailable: %s", type(exception).__name__, exc_info=exception)
        return unavailable_page(request, unavailable)
    if _is_api(request):
        return _error_response(400, "bad_request", "The request could not be read.")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _error_response(403, "forbidden", "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _error_response(404, "not_found", "No API endpoint at this address.")
    return defaults.page_not_found(request, exception)


def unavailable_page(request: HttpRequest, error: ServiceUnavailable) -> HttpResponse:
    """503 with ``Retry-After``: the JSON error shape under /api/, a short plain page elsewhere (no
    template: rendering one may need the database that is down)."""
    if _is_api(request):
        response: HttpResponse = JsonResponse({"error": error.as_dict()}, status=error.status_code)
    else:
        response = HttpResponse(error.message, status=error.status_code, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(error.retry_after_seconds)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _error_response(500, "server_error", "The server failed to answer; the error has been logged.")
    return defaults.server_error(request)
