"""Log filters that keep personal data out of the servers' request lines."""

from __future__ import annotations

import logging

# The loggers that write one line per request, with the address as the client sent it: uvicorn's
# websocket lines (written even with --no-access-log) and access log, Django's development server.
REQUEST_LINE_LOGGERS = ("uvicorn.error", "uvicorn.access", "django.server")
_ADDRESS_STARTS = ("/", "http://", "https://", "ws://", "wss://")


def without_query_strings(text: str) -> str:
    """``text`` with the query string cut from every address in it (``/a/?x=1`` → ``/a/``)."""
    if "?" not in text:
        return text
    words = text.split(" ")
    return " ".join(word.split("?", 1)[0] if word.startswith(_ADDRESS_STARTS) else word for word in words)


class QueryStringFilter(logging.Filter):
    """Drop query strings from a request line: they may carry national ids, visitor tokens or the
    address of the customer's page (the widget's websocket), and logs are kept and shipped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(without_query_strings(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif not record.args and isinstance(record.msg, str):
            record.msg = without_query_strings(record.msg)
        return True


def install_query_string_filters() -> None:
    """Put a ``QueryStringFilter`` on each request-line logger, once per process."""
    for name in REQUEST_LINE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, QueryStringFilter) for existing in logger.filters):
            logger.addFilter(QueryStringFilter())
