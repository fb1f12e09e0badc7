"""Log filters that keep personal data out of the logs: the servers' request lines without query
strings, and every record's message redacted (card numbers, security codes, IBANs, national ids,
phone numbers, e-mail addresses) with the strict policy."""

from __future__ import annotations

import logging

from cea.common.pii import STRICT_POLICY, redact_text

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


class PiiRedactionFilter(logging.Filter):
    """Redact a record's message (its arguments formatted in), traceback and stack with the strict
    policy: every kind becomes its label ("[CARD]", "[EMAIL]"), whatever the configured policy, as
    logs are kept and shipped. Put on handlers, so that every record written is redacted, from
    whichever logger; a record passing several handlers is redacted once."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_pii_redacted", False):
            return True
        record._pii_redacted = True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging's own error report shows it
            return True
        redacted = redact_text(message, policy=STRICT_POLICY)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, policy=STRICT_POLICY)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, policy=STRICT_POLICY)
        return True


def install_pii_filters() -> None:
    """Put a ``PiiRedactionFilter`` on every handler configured so far that lacks one: those of
    settings.LOGGING have it already; this reaches the servers' own (uvicorn's, celery's)."""
    loggers = [logging.getLogger(), *(
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    )]  # fmt: skip
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(existing, PiiRedactionFilter) for existing in handler.filters):
                handler.addFilter(PiiRedactionFilter())
