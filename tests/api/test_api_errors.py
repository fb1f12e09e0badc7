"""Under /api/ every refusal is the one JSON error shape, never Django's HTML page; pages keep theirs."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from django.urls import get_resolver

from tests.support import assert_error, make_customer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/v1/no-such-thing/", "/api/v1/customers/not-a-number/", "/api/", "/api/v2/customers/", "/api/v1/cases/1/x/"],
)
def test_an_unknown_path_under_api_is_a_json_404(client_for, admin_user, path):
    # When
    response = client_for(admin_user).get(path)
    # Then
    assert response["Content-Type"] == "application/json"
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "No API endpoint at this address."


def test_an_unknown_path_under_api_is_a_json_404_for_anonymous_callers_too(anonymous):
    # When
    response = anonymous.post("/api/v1/no-such-thing/", {"a": 1}, format="json")
    # Then
    assert_error(response, 404, "not_found")


def test_an_unknown_page_keeps_the_html_404(client_for, admin_user):
    # When
    response = client_for(admin_user).get("/no-such-page/")
    # Then
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_an_endpoint_does_not_have_is_a_json_405(token_client, admin_user):
    # When
    response = token_client(admin_user).put("/api/v1/customers/", {}, format="json")
    # Then
    assert response["Content-Type"] == "application/json"
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"


@pytest.mark.parametrize(
    ("status", "code"), [(400, "bad_request"), (403, "forbidden"), (404, "not_found"), (500, "server_error")]
)
def test_django_error_handlers_answer_json_under_api_and_html_elsewhere(status, code):
    # Given the handlers Django calls when an error escapes a view (or no view matches)
    handler = get_resolver().resolve_error_handler(status)
    arguments = () if status == 500 else (Exception("detail that must not leak"),)
    # When
    api_response = handler(RequestFactory().get("/api/v1/customers/"), *arguments)
    page_response = handler(RequestFactory().get("/customers/"), *arguments)
    # Then
    assert api_response.status_code == status
    assert api_response["Content-Type"] == "application/json"
    error = json.loads(api_response.content)["error"]
    assert error["code"] == code
    assert "detail that must not leak" not in error["message"]
    assert page_response.status_code == status
    assert page_response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("page_size", ["null", "0", "-1", "201", "1.5", "ten"])
def test_a_page_size_that_is_not_a_whole_number_from_1_to_200_is_400(token_client, admin_user, page_size):
    # When
    response = token_client(admin_user).get("/api/v1/customers/", {"page_size": page_size})
    # Then
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"page_size": ["A whole number from 1 to 200."]}


@pytest.mark.parametrize(("query", "expected"), [({"page_size": ""}, 3), ({"page_size": "2"}, 2), ({}, 3)])
def test_a_page_size_left_empty_is_the_default(token_client, admin_user, query, expected):
    # Given
    for name in ("Ann", "Ben", "Cat"):
        make_customer(given_name=name)
    # When
    response = token_client(admin_user).get("/api/v1/customers/", query)
    # Then
    assert response.status_code == 200
    assert len(response.json()["results"]) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/?created_before=9242-02-14T11:47:30%2B18:21",
        "/api/v1/cases/?created_after=2025-01-01T00:00:00-18:00",
        "/api/v1/interactions/?started_before=2025-01-01T00:00:00%2B16:00",
    ],
)
def test_a_time_with_an_offset_postgresql_cannot_store_is_filtered_in_utc_not_a_500(token_client, admin_user, path):
    # When
    response = token_client(admin_user).get(path)
    # Then
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0
