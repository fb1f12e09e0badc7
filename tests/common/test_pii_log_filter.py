"""Every log record is redacted with the strict policy before any handler writes it."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings

from cea.common.log_filters import PiiRedactionFilter, install_pii_filters


def record(msg, args=(), exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("cea.test", logging.INFO, __file__, 1, msg, args, exc_info)


def test_the_message_and_its_arguments_are_redacted_with_labels_only():
    # Given a record whose arguments carry a card, its code, an e-mail address and a phone number
    entry = record(
        "paid with %s cvv %s by %s (%s), %d items",
        ("4111 1111 1111 1111", "123", "jo@example.com", "+44 7911 123456", 3),
    )

    # When the filter runs
    kept = PiiRedactionFilter().filter(entry)

    # Then the record is kept, its message redacted, card by its label (never first six/last four in logs)
    assert kept is True
    assert entry.getMessage() == "paid with [CARD] cvv [CVV] by [EMAIL] ([PHONE]), 3 items"


def test_a_number_argument_formatted_with_d_is_redacted_too():
    entry = record("card %d", (4111111111111111,))
    PiiRedactionFilter().filter(entry)
    assert entry.getMessage() == "card [CARD]"


def test_a_dict_argument_is_formatted_then_redacted():
    entry = record("%(who)s wrote", ({"who": "jo@example.com"},))
    PiiRedactionFilter().filter(entry)
    assert entry.getMessage() == "[EMAIL] wrote"


def test_a_duration_is_not_taken_for_a_phone_or_card_number_and_the_rest_is_still_redacted():
    # Given Celery's line for a task that succeeded, whose duration's digits read as a phone number,
    # and one whose return value carries an e-mail address and whose duration reads as a card number
    template = "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s"
    plain = record(template, ({"name": "sweep", "id": "a1", "runtime": 0.636064650861272, "return_value": "0"},))
    mixed = record(template, ({"name": "mail", "id": "b2", "runtime": 0.42080111670503895, "return_value": "jo@x.io"},))

    # When the filter runs on both
    for entry in (plain, mixed):
        PiiRedactionFilter().filter(entry)

    # Then the durations are as measured, and the address is redacted
    assert plain.getMessage() == "Task sweep[a1] succeeded in 0.636064650861272s: 0"
    assert mixed.getMessage() == "Task mail[b2] succeeded in 0.42080111670503895s: [EMAIL]"


def test_a_float_formatted_as_a_number_is_redacted_with_the_rest():
    entry = record("card %d by %s", (4111111111111111.0, "+44 7911 123456"))
    PiiRedactionFilter().filter(entry)
    assert entry.getMessage() == "card [CARD] by [PHONE]"


def test_a_message_without_personal_data_keeps_its_template_and_arguments():
    entry = record("queue %s has %d waiting", ("billing", 4))
    PiiRedactionFilter().filter(entry)
    assert (entry.msg, entry.args) == ("queue %s has %d waiting", ("billing", 4))


def test_a_traceback_is_redacted():
    try:
        raise ValueError("bad IBAN DE89 3704 0044 0532 0130 00 for jo@example.com")
    except ValueError:
        import sys

        entry = record("failed", exc_info=sys.exc_info())
    PiiRedactionFilter().filter(entry)
    assert "ValueError: bad IBAN [IBAN] for [EMAIL]" in entry.exc_text
    assert "DE89" not in logging.Formatter().format(entry)


def test_the_configured_policy_does_not_loosen_logs(monkeypatch):
    # Given a configured policy that keeps e-mail addresses
    from cea.common import pii

    monkeypatch.setattr(pii.redact, "_provider", lambda: pii.PiiPolicy(email="keep"))
    entry = record("from %s", ("jo@example.com",))
    PiiRedactionFilter().filter(entry)
    assert entry.getMessage() == "from [EMAIL]"


def test_settings_put_the_filter_on_every_handler():
    assert settings.LOGGING["filters"]["pii"]["()"] == "cea.common.log_filters.PiiRedactionFilter"
    for name, handler in settings.LOGGING["handlers"].items():
        assert "pii" in handler.get("filters", []), name


def test_a_line_written_by_the_configured_console_handler_is_redacted():
    # Given the root logger's console handler from settings.LOGGING, writing into a buffer
    console = next(h for h in logging.getLogger().handlers if any(isinstance(f, PiiRedactionFilter) for f in h.filters))
    buffer = io.StringIO()
    previous = console.setStream(buffer)
    try:
        # When an app logs a customer's message
        logging.getLogger("engagement.test").warning("message from visitor: %s", "my card is 4111-1111-1111-1111")
    finally:
        console.setStream(previous)
    # Then the line written has the card's label
    assert buffer.getvalue().rstrip().endswith("engagement.test: message from visitor: my card is [CARD]")


@pytest.fixture
def server_logger():
    logger = logging.getLogger("cea.test.server")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_server_handler_configured_outside_settings_gets_the_filter_once(server_logger):
    # Given a handler a server set up itself (as uvicorn and celery do)
    logger, handler = server_logger

    # When the filters are installed, twice
    install_pii_filters()
    install_pii_filters()

    # Then the handler has one filter, and what it writes is redacted
    assert sum(isinstance(f, PiiRedactionFilter) for f in handler.filters) == 1
    logger.warning("lookup of %s", "536-90-4399")
    assert handler.stream.getvalue() == "lookup of [NATIONAL_ID]\n"
