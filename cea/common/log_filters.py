"""Log filters that keep personal data out of the logs: the servers' request lines without query
strings, and every record's message redacted (card numbers, security codes, IBANs, national ids,
phone numbers, e-mail addresses) with the strict policy."""

from __future__ import annotations

import logging
from collections.abc import Mapping

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


def _float_mark(index: int) -> str:
    """What stands in for a float argument while a message is redacted: no digits (its index in
    letters), nothing a kind of personal data matches."""
    return "\x00float" + "".join(chr(ord("a") + int(digit)) for digit in str(index)) + "\x00"


def _redacted_message(record: logging.LogRecord) -> tuple[str, str]:
    """``(message, redacted message)`` of a record. A float argument formatted with ``%s`` (a
    duration: Celery's "succeeded in 0.636064650861272s") is kept out of the redaction: its digits
    are a measurement, and one line in twenty read as a phone or card number. One formatted any
    other way (``%d``, ``%.2f``) is redacted with the rest."""
    message = record.getMessage()
    args = record.args
    values = list(args.values()) if isinstance(args, Mapping) else list(args) if isinstance(args, tuple) else []
    floats = [value for value in values if isinstance(value, float)]
    if not floats:
        return message, redact_text(message, policy=STRICT_POLICY)
    marks = iter(range(len(floats)))

    def marked(value: object) -> object:
        return _float_mark(next(marks)) if isinstance(value, float) else value

    marked_args: Mapping | tuple
    if isinstance(args, Mapping):
        marked_args = {key: marked(value) for key, value in args.items()}
    else:
        marked_args = tuple(marked(value) for value in values)
    try:
        text = str(record.msg) % marked_args
    except (TypeError, ValueError, KeyError):  # a float formatted as a number: redact it with the rest
        return message, redact_text(message, policy=STRICT_POLICY)
    redacted = redact_text(text, policy=STRICT_POLICY)
    for index, value in enumerate(floats):
        redacted = redacted.replace(_float_mark(index), str(value))
    return message, redacted


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
            message, redacted = _redacted_message(record)
        except Exception:  # a malformed record: logging's own error report shows it
            return True
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
