"""The servers' request log lines never carry a query string (it may hold national ids, tokens, page addresses)."""

from __future__ import annotations

import logging

import pytest

HOSTILE_QUERY = "site_key=site_x&visitor=tok.abc&page=https%3A%2F%2Fshop.example%2Ftrack%3Fnational_id%3DAB123456C"


@pytest.mark.parametrize(
    ("logger", "message", "args", "written"),
    [
        # uvicorn's websocket lines (logged at INFO even with --no-access-log)
        (
            "uvicorn.error",
            '%s - "WebSocket %s" [accepted]',
            ("203.0.113.9:51234", f"/ws/webchat/?{HOSTILE_QUERY}"),
            '203.0.113.9:51234 - "WebSocket /ws/webchat/" [accepted]',
        ),
        (
            "uvicorn.error",
            '%s - "WebSocket %s" %d',
            ("203.0.113.9:51234", f"/ws/webchat/?{HOSTILE_QUERY}", 403),
            '203.0.113.9:51234 - "WebSocket /ws/webchat/" 403',
        ),
        # uvicorn's access log, should it be switched on
        (
            "uvicorn.access",
            '%s - "%s %s HTTP/%s" %d',
            ("203.0.113.9:51234", "GET", "/api/v1/lookup/?kind=national_id&value=AB123456C", "1.1", 400),
            '203.0.113.9:51234 - "GET /api/v1/lookup/ HTTP/1.1" 400',
        ),
        # Django's development server
        (
            "django.server",
            '"%s" %s %s',
            ("GET /api/v1/customers/?q=AB123456C HTTP/1.1", "200", "52"),
            '"GET /api/v1/customers/ HTTP/1.1" 200 52',
        ),
    ],
)
def test_a_server_request_line_is_logged_without_its_query_string(caplog, logger, message, args, written):
    # When: the server logs the request as it does
    with caplog.at_level(logging.INFO, logger=logger):
        logging.getLogger(logger).info(message, *args)
    # Then
    assert caplog.messages == [written]


def test_other_log_lines_are_left_as_they_are(caplog):
    # When
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        logging.getLogger("uvicorn.error").info("Started server process [%d]: is it up?", 4242)
    # Then
    assert caplog.messages == ["Started server process [4242]: is it up?"]
