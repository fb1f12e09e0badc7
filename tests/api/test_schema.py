"""The OpenAPI 3 description of the REST API and its Swagger UI."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

pytestmark = pytest.mark.django_db

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def documented_path(route: str) -> str:
    """``api/v1/customers/<int:customer_id>/`` → ``/api/v1/customers/{customer_id}/``."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def api_routes(patterns=None, prefix: str = "") -> list[tuple[str, type]]:
    """Every DRF view routed under /api/v1/, with its full route, walking the project's URLconf."""
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class is not None and issubclass(view_class, APIView):
                routes.append((route, view_class))
    return routes


EXPECTED = {
    documented_path(route): sorted(m for m in HTTP_METHODS if hasattr(view_class, m))
    for route, view_class in api_routes()
}


def test_the_expected_table_covers_every_route_once():
    # EXPECTED is built from the URLconf: one documented path per route, each with at least one method.
    assert len(EXPECTED) == len(api_routes())
    assert "/api/v1/customers/{customer_id}/identities/{identity_id}/" in EXPECTED
    assert EXPECTED["/api/v1/cases/{case_id}/"] == ["get", "patch"]
    assert "/api/v1/engagement/conversations/{conversation_id}/reply/" in EXPECTED
    assert all(EXPECTED.values())


def test_the_schema_is_openapi_3_with_every_path_and_method(anonymous):
    # When
    response = anonymous.get("/api/schema/", {"format": "json"})
    # Then
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "CEA API"
    documented = {
        path: sorted(m for m in operations if m in HTTP_METHODS)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
    }
    assert documented == EXPECTED


def test_the_schema_is_served_as_yaml_by_default(client_for, agent):
    # When
    response = client_for(agent).get("/api/schema/")
    # Then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_the_schema_declares_both_ways_to_authenticate(anonymous):
    # When
    schema = json.loads(anonymous.get("/api/schema/", {"format": "json"}).content)
    # Then
    schemes = schema["components"]["securitySchemes"]
    assert (schemes["apiToken"]["type"], schemes["apiToken"]["scheme"]) == ("http", "bearer")
    assert (schemes["cookieAuth"]["in"], schemes["cookieAuth"]["name"]) == ("cookie", "sessionid")
    operation = schema["paths"]["/api/v1/customers/"]["get"]
    assert operation["security"] == [{"apiToken": []}, {"cookieAuth": []}]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PaginatedCustomerList"
    )
    assert {p["name"] for p in operation["parameters"]} >= {"q", "page", "page_size", "ordering", "status", "team"}


def test_swagger_ui_is_served(anonymous):
    # When
    response = anonymous.get("/api/docs/")
    start_up = anonymous.get("/api/docs/", {"script": ""})
    # Then: the page loads Swagger UI and its start-up script, which reads the schema
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert '<script src="/api/docs/?script="></script>' in page
    assert start_up.status_code == 200
    assert "/api/schema/" in start_up.content.decode()


def test_the_schema_validates_without_warnings(tmp_path):
    # When
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    # Then
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert set(EXPECTED) <= set(schema["paths"])
