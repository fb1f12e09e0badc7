"""Transport security in stack mode (HSTS, HTTPS redirect, secure cookies) and the Content-Security-Policy."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys

import pytest

from cea.runtime import embedded
from engagement.webchat.services import demo_site_ensure
from tests.test_settings import REAL_SENDERS, STACK, clean_environment, load_settings

PRODUCTION = {
    **STACK,
    **REAL_SENDERS,
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "cea.example.com",
}


def _deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**clean_environment(), "DJANGO_SETTINGS_MODULE": "cea.settings", **env},
        cwd=embedded.PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_finds_nothing_to_warn_about_in_production():
    # Given: production variables (stack mode, no CEA_DEBUG), preloading HSTS chosen explicitly
    result = _deploy_check({**PRODUCTION, "CEA_HSTS_PRELOAD": "1"})
    # Then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_without_choosing_preload_the_only_deploy_warning_is_the_preload_list():
    result = _deploy_check(PRODUCTION)
    warnings = re.findall(r"\((security\.W\d+)\)", result.stderr + result.stdout)
    assert warnings == ["security.W021"]


def _transport_settings(env: dict[str, str]) -> list[str]:
    code = (
        "import cea.settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_HSTS_PRELOAD, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    result = load_settings(env, code=code)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ["31536000", "True", "False", "True", "True", "True"]),
        ({"CEA_DEBUG": "1"}, ["0", "False", "False", "False", "False", "False"]),
        (
            {"CEA_HSTS_SECONDS": "600", "CEA_HSTS_INCLUDE_SUBDOMAINS": "0", "CEA_SSL_REDIRECT": "0"},
            ["600", "False", "False", "False", "True", "True"],
        ),
        ({"CEA_SECURE_COOKIES": "0", "CEA_HSTS_SECONDS": "0"}, ["0", "False", "False", "True", "False", "False"]),
    ],
)
def test_stack_mode_is_https_only_by_default_and_each_part_can_be_changed(env, expected):
    assert _transport_settings({**PRODUCTION, **env}) == expected


# --- Content-Security-Policy -------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.django_db
def test_pages_carry_a_policy_without_inline_code(client):
    # When
    response = client.get("/accounts/login/")
    # Then
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    page = response.content.decode()
    assert "<style" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []


@pytest.mark.django_db
def test_the_demo_shop_lets_the_widget_add_its_styles_with_the_page_nonce(client):
    # Given
    demo_site_ensure(origins=["http://testserver"])
    # When
    response = client.get("/demo/shop/")
    # Then: no inline style of the page's own; the widget's script tag carries the nonce of the policy
    assert response.status_code == 200
    page = response.content.decode()
    assert "<style" not in page
    nonce = re.search(r'<script src="[^"]*widget\.js"[^>]*nonce="([^"]+)"', page).group(1)
    policy = _policy(response)
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]


@pytest.mark.django_db
def test_the_api_docs_load_swagger_ui_from_this_site_with_no_inline_script(client, admin_user):
    # When
    client.force_login(admin_user)
    page = client.get("/api/docs/")
    script = client.get("/api/docs/", {"script": ""})
    # Then: Swagger UI's files are this site's static files, its start-up script a file of its own
    policy = _policy(page)
    assert page.status_code == 200
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    html = page.content.decode()
    assert "cdn.jsdelivr.net" not in html
    assert re.search(r'<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.js"', html)
    assert re.search(r"<script>", html) is None
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
