"""Request bodies are bounded: over CEA_MAX_REQUEST_BYTES a request is refused with 413, before it is read.

Under ASGI (how CEA is served) the cap sits in front of Django (``cea/asgi.py``): a declared
Content-Length over the cap is refused without reading, and a streamed body is counted as it
arrives. Django's own check (``cea.common.middleware``) does the same for the test client and WSGI.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from cea.asgi import application
from records.customers.models import Customer
from tests.support import assert_error, token_client

pytestmark = pytest.mark.django_db

# The ASGI application runs Django in threads of its own: the rows must be committed for it to see them.
through_asgi = pytest.mark.django_db(transaction=True)

LIMIT = 4096
CUSTOMERS = "/api/v1/customers/"


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.CEA_MAX_REQUEST_BYTES = LIMIT


def _customer_body(team, padding: int) -> bytes:
    return json.dumps({"given_name": "Bob", "family_name": "Jones", "team": team.pk, "notes": "x" * padding}).encode()


def _token(user) -> str:
    return token_client(user, scopes=["customers:write"])._credentials["HTTP_AUTHORIZATION"]


async def _asgi_post(path: str, chunks: list[bytes], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """POST through the ASGI application as a server would, the body in ``chunks`` (streamed without a length)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (name.lower().encode(), value.encode()) for name, value in {"host": "testserver", **headers}.items()
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    for number, chunk in enumerate(chunks):
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": number < len(chunks) - 1})
    start = await communicator.receive_output(timeout=10)
    body = b""
    while True:
        message = await communicator.receive_output(timeout=10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(timeout=10)
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body


def _too_large(status: int, headers: dict[str, str], body: bytes) -> dict:
    assert status == 413, body
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error == {
        "code": "too_large",
        "message": f"The request body is larger than the {LIMIT} bytes this server accepts.",
    }
    return error


@through_asgi
def test_asgi_refuses_a_declared_length_over_the_cap_without_reading_the_body(agent, team_a):
    # When: the request says it will send a gigabyte, and sends nothing (a server that read first would wait)
    status, headers, body = async_to_sync(_asgi_post)(
        CUSTOMERS,
        [],
        {"content-type": "application/json", "content-length": str(1024**3), "authorization": _token(agent)},
    )
    # Then
    _too_large(status, headers, body)
    assert Customer.objects.count() == 0


@through_asgi
def test_asgi_counts_a_streamed_body_and_refuses_it_past_the_cap(admin_user, team_a):
    # Given: a body without Content-Length, in chunks, larger than the cap
    oversize = _customer_body(team_a, padding=2 * LIMIT)
    chunks = [oversize[i : i + 1000] for i in range(0, len(oversize), 1000)]
    # When
    status, headers, body = async_to_sync(_asgi_post)(
        CUSTOMERS, chunks, {"content-type": "application/json", "authorization": _token(admin_user)}
    )
    # Then: refused, nothing written
    _too_large(status, headers, body)
    assert Customer.objects.count() == 0


@through_asgi
def test_asgi_passes_a_streamed_body_under_the_cap(admin_user, team_a):
    # Given: the same request, small enough, in two chunks
    small = _customer_body(team_a, padding=10)
    # When
    status, _, body = async_to_sync(_asgi_post)(
        CUSTOMERS,
        [small[:50], small[50:]],
        {"content-type": "application/json", "content-length": str(len(small)), "authorization": _token(admin_user)},
    )
    # Then
    assert status == 201, body
    assert Customer.objects.get().given_name == "Bob"


@through_asgi
def test_asgi_refuses_an_oversize_page_request_with_a_page(agent):
    status, headers, body = async_to_sync(_asgi_post)(
        "/accounts/login/",
        [b"username=a&password=" + b"x" * (2 * LIMIT)],
        {"content-type": "application/x-www-form-urlencoded"},
    )
    assert status == 413
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert f"The request body is larger than the {LIMIT} bytes this server accepts." in body.decode()


def test_django_refuses_a_content_length_over_the_cap_in_the_error_shape(admin_user, team_a):
    # When: through Django's own handler (the test client; WSGI)
    client = token_client(admin_user, scopes=["customers:write"])
    response = client.post(CUSTOMERS, _customer_body(team_a, padding=2 * LIMIT), content_type="application/json")
    # Then
    error = assert_error(response, 413, "too_large")
    assert error["message"] == f"The request body is larger than the {LIMIT} bytes this server accepts."
    assert Customer.objects.count() == 0


def test_django_refuses_an_oversize_page_request_with_a_page(client):
    response = client.post("/accounts/login/", {"username": "a", "password": "x" * (2 * LIMIT)})
    assert response.status_code == 413
    assert f"The request body is larger than the {LIMIT} bytes this server accepts." in response.content.decode()


def test_a_body_over_the_form_data_limit_is_413_in_the_error_shape(settings, client):
    # Given: under the cap, over DATA_UPLOAD_MAX_MEMORY_SIZE (the signed webhooks read the raw body)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    # When
    response = client.post(
        "/api/v1/engagement/webhooks/no-such-source/", b"{" + b" " * 2000 + b"}", content_type="application/json"
    )
    # Then
    error = assert_error(response, 413, "too_large")
    assert error["message"] == "The request body is larger than the 1000 bytes this server accepts."
