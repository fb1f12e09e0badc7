"""engagement/hooks.py: what the layers above register runs where engagement says, and a failing
conversation-closed hook does not undo the conversation's end."""

from __future__ import annotations

import logging

import pytest
from django.db import connection, transaction

from engagement import hooks

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failing_conversation_closed_hook_is_logged_and_the_others_and_the_transaction_go_on(caplog, monkeypatch):
    # Given a hook that breaks the database statement it runs, and one after it that works
    seen = []

    def broken(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    def working(**kwargs):
        seen.append(kwargs)

    monkeypatch.setattr(hooks, "_closed", [broken, working])
    # When a conversation's end notifies them inside its transaction
    with caplog.at_level(logging.ERROR, logger="engagement.hooks"), transaction.atomic():
        hooks.conversation_closed_notify(conversation_id=1, interaction_id=2, channel="chat")
        with connection.cursor() as cursor:  # the transaction is still usable
            cursor.execute("SELECT 1")
            still = cursor.fetchone()
    # Then the working hook ran, the broken one is logged, and the end's transaction committed
    assert seen == [{"conversation_id": 1, "interaction_id": 2, "channel": "chat"}]
    assert still == (1,)
    assert any("Conversation-closed hook broken failed for 2" in r.getMessage() for r in caplog.records)
