"""Where redaction happens, path by path: what each keeps instead of the card, and what it leaves alone.

``tests/test_card_never_stored.py`` proves the card is nowhere in clear after every channel; these
show the paths it does not reach or whose shape matters: write-backs to a legacy system and
webhook answers (loopback servers), a fixed-width dead letter that must stay replayable, exports,
profile fields, and the structural payload a reply reads back.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from cea.common.pii import redact_text
from cea.common.redact import redact_cards, redact_cards_value
from engagement.conversations.services import conversation_start, message_add
from insights.reports.exports import as_csv
from integration.connectors.base import connector_for
from integration.outbox.services import outbox_enqueue
from integration.sample_systems import customer_master
from integration.webhooks.models import WebhookDelivery
from integration.webhooks.services import webhook_delivery_attempt, webhook_relay, webhook_subscription_create
from records.customers.services import customer_create
from tests.integration.factories import ConnectorFactory
from tests.integration.flatfile_support import drop_extract, flatfile_connector
from tests.integration.hooks_loopback import Answer, LegacyBackend, WebhookReceiver
from tests.support import isolated_redis, make_customer

pytestmark = pytest.mark.django_db

CARD = "4539 1488 0343 6467"
CARD_DIGITS = "4539148803436467"
MASKED = redact_text(CARD_DIGITS)


@pytest.fixture(autouse=True)
def _redis(settings):
    yield from isolated_redis(settings)


def test_card_only_redaction_masks_the_card_and_the_code_and_keeps_the_rest():
    # Given a text with an address, a phone number, a card and its code
    text = f"Write to alice@example.com or call +447911123456; card {CARD}, CVV 737."
    # When
    kept = redact_cards(text)
    # Then
    assert kept == f"Write to alice@example.com or call +447911123456; card {MASKED}, CVV [CVV]."
    assert redact_cards_value({"a": [text, 7], "b": ("x",)}) == {"a": [kept, 7], "b": ("x",)}


def test_a_message_payload_keeps_the_channels_addressing_and_loses_the_card():
    # Given an email conversation
    conversation, _ = conversation_start(channel="email", contact_kind="email", contact_value="alice@example.com")
    # When a message with its addressing and a card in its subject is added
    message, _ = message_add(
        conversation=conversation,
        direction="inbound",
        author_kind="customer",
        body=f"My card is {CARD}",
        payload={"message_id": "abc@mail.example.com", "to": ["support@cea.example"], "subject": f"Card {CARD}"},
    )
    # Then
    message.refresh_from_db()
    assert message.body == f"My card is {MASKED}"
    assert message.payload == {
        "message_id": "abc@mail.example.com",
        "to": ["support@cea.example"],
        "subject": f"Card {MASKED}",
    }


def test_a_profile_keeps_its_contact_data_and_masks_a_card_in_free_fields(team_a):
    # When a customer is created with a card in an address line and in custom attributes
    customer = customer_create(
        actor=None,
        given_name="Alice",
        family_name="Smith",
        team=team_a,
        email="alice@example.com",
        address_line1=f"Flat B, {CARD}",
        custom_attributes={"card_on_file": CARD_DIGITS, "note": "CVV 737"},
    )
    # Then
    customer.refresh_from_db()
    assert (customer.email, customer.address_line1) == ("alice@example.com", f"Flat B, {MASKED}")
    assert customer.custom_attributes == {"card_on_file": MASKED, "note": "CVV [CVV]"}


def test_a_write_back_carries_no_card_to_the_legacy_system(team_a, eager_tasks, django_capture_on_commit_callbacks):
    # Given a legacy back-end on loopback taking write-backs
    backend = LegacyBackend()
    backend.start()
    try:
        connector = ConnectorFactory(
            name="billing",
            kind="rest",
            system="billing",
            timeout_seconds=2,
            settings={
                "base_url": backend.base_url,
                "auth": "none",
                "write_backs": {"note": {"method": "POST", "path": "/writebacks/note"}},
            },
        )
        customer = make_customer(team_a)
        # When a write-back carrying an email address and a card is made and delivered
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            message = outbox_enqueue(
                connector=connector,
                kind="note",
                customer=customer,
                payload={"email": "alice@example.com", "text": f"Paid by {CARD} cvv 737"},
            )
        # Then the back-end got the email as it is and the card masked, as the outbox keeps it
        message.refresh_from_db()
        assert message.status == "delivered"
        assert message.payload == {"email": "alice@example.com", "text": f"Paid by {MASKED} cvv [CVV]"}
        assert list(backend.applied.values()) == [{"kind": "note", **message.payload}]
    finally:
        backend.stop()


def test_a_webhook_receivers_answer_is_logged_without_the_card(settings, admin_user, team_a):
    # Given a receiver on loopback that echoes a card in its answer
    settings.CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = WebhookReceiver(secret="hooks-secret-0123456789")
    receiver.start()
    try:
        receiver.answer_next(Answer(status=200, body=f'{{"echo": "{CARD}"}}'))
        webhook_subscription_create(
            actor=admin_user,
            name="CRM",
            url=receiver.url,
            events=["customer.created"],
            secret="hooks-secret-0123456789",
        )
        make_customer(team_a)
        webhook_relay()
        delivery = WebhookDelivery.objects.get()
        # When it is delivered
        webhook_delivery_attempt(delivery_id=delivery.pk)
        # Then the delivery log keeps the answer with the card masked
        delivery.refresh_from_db()
        assert (delivery.status, delivery.response_body) == ("delivered", f'{{"echo": "{MASKED}"}}')
    finally:
        receiver.stop()


def test_a_fixed_width_dead_letter_masks_the_card_in_its_field_and_stays_replayable(tmp_path):
    # Given an extract line whose surname field holds a card
    extract = drop_extract(tmp_path, 1)
    line = extract.path.read_text(encoding="latin-1").splitlines()[1]
    start, end = customer_master._AT["LAST-NAME"]
    carded = line[:start] + CARD.ljust(end - start) + line[end:]
    connector = connector_for(flatfile_connector(tmp_path))
    # When the dead-letter list keeps it
    kept = connector.dead_letter_line(carded)
    # Then only that field changed, to the masked card in the same width, and the line reads as before
    assert len(kept) == len(carded)
    assert kept[:start] + kept[end:] == carded[:start] + carded[end:]
    assert kept[start:end] == MASKED.ljust(end - start)
    assert connector.reparse({"key": "k", "text": kept}).fields["family_name"] == MASKED


def test_an_export_cell_is_redacted_and_still_never_a_formula():
    # When an export has a card in a cell and a formula-like cell
    exported = as_csv([["Customer", "Note"], ["Alice", f"=card {CARD}"]])
    # Then
    assert exported == f"Customer,Note\r\nAlice,'=card {MASKED}\r\n"
