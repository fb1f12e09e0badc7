"""A customer with distinctive identifiers, copied across the platform, and the search for them.

``spread_customer`` exercises the real services so that the copies land where the platform puts
them (conversation and messages, the interaction's transcript and context snapshot, a case and its
notes, the context store and its log, journey events, audit history, webhook deliveries, a
write-back, a sync's dead letter, the aggregation cache in Redis, the console's log).
``identifiers_found`` searches every text, varchar, json, jsonb and array column of every table
of the database, and every Redis key and value, for them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from cea.common.channels import Direction
from engagement.context.services import context_write
from engagement.conversations.models import AuthorKind
from engagement.conversations.services import conversation_close, conversation_start, message_add
from engagement.idv.models import VerificationChallenge
from engagement.outbound.models import Callback
from engagement.recommendations.models import RecommendedAction
from integration.aggregation.aggregate import cache_key
from records.cases.services import case_add_note, case_create, case_update
from records.customers.models import Customer
from records.customers.services import customer_create, customer_update
from records.holdings.models import Holding, SourceRecord
from records.identities.models import Identity, IdentityKind
from records.journey.services import journey_record
from tests.integration.factories import (
    ConnectorFactory,
    OutboxMessageFactory,
    SyncFailureFactory,
    WebhookDeliveryFactory,
)

GIVEN = "Zebedee"
FAMILY = "Quixotelander"
EMAIL = "zebedee.quixote@example.org"
OLD_EMAIL = "zq.old.mailbox@example.net"
PHONE = "+447911876543"
POSTCODE = "ZZ9 9ZQ"
STREET = "42 Wibblewobble Lane"
NATIONAL_ID = "QQ123456C"
ACCOUNT = "ACC-99887766"
LEGACY_ID = "CUST-55443322"
FREE_TEXT = "Flibbertigibbet"  # what the customer says: their cat's name, in chat, notes, context …

IDENTIFIERS = [
    GIVEN,
    FAMILY,
    EMAIL,
    OLD_EMAIL,
    PHONE,
    "7911876543",
    POSTCODE,
    "Wibblewobble",
    NATIONAL_ID,
    ACCOUNT,
    LEGACY_ID,
    FREE_TEXT,
]


@dataclass
class Spread:
    customer: Customer
    national_id_digest: str


def spread_customer(*, actor, agent, team) -> Spread:
    customer = customer_create(
        actor=actor,
        team=team,
        given_name=GIVEN,
        family_name=FAMILY,
        email=OLD_EMAIL,
        phone=PHONE,
        address_line1=STREET,
        city="Quuxton",
        postcode=POSTCODE,
        date_of_birth=dt.date(1971, 2, 3),
        custom_attributes={"pet": FREE_TEXT},
        identities=[
            {"kind": IdentityKind.NATIONAL_ID, "value": NATIONAL_ID},
            {"kind": IdentityKind.ACCOUNT, "value": ACCOUNT},
        ],
    )
    customer_update(actor=actor, customer=customer, email=EMAIL)  # the old email stays in the audit history
    digest = Identity.objects.get(customer=customer, kind=IdentityKind.NATIONAL_ID).value

    conversation, _ = conversation_start(
        channel="chat",
        contact_kind="email",
        contact_value=EMAIL,
        customer=customer,
        subject=f"{GIVEN} moving house",
        team=team,
    )
    message_add(
        conversation=conversation,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        body=f"Hi, {GIVEN} {FAMILY} here, {PHONE}, new address {STREET} {POSTCODE}; my cat {FREE_TEXT} says hi",
    )
    message_add(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.AGENT,
        body=f"Thanks {GIVEN}, I have updated account {ACCOUNT} to {POSTCODE}.",
    )
    context_write(
        actor=agent,
        scope="customer",
        context_id=customer.pk,
        values={"pet": FREE_TEXT, "email": EMAIL},
        customer_id=customer.pk,
    )
    context_write(
        actor=agent, scope="conversation", context_id=conversation.pk, values={"said": f"{FREE_TEXT} {PHONE}"}
    )
    conversation.refresh_from_db()
    conversation_close(
        actor=agent,
        conversation=conversation,
        ended_at=timezone.now(),
        wrap_up_code="moved",
        notes=f"{FREE_TEXT}: {ACCOUNT}",
    )

    case = case_create(
        actor=actor, customer=customer, subject=f"Address change for {FAMILY}", description=f"{FREE_TEXT} at {STREET}"
    )
    case_add_note(actor=actor, case=case, body=f"Called {PHONE} about {FREE_TEXT}")
    case_update(actor=actor, case=case, description=f"{FREE_TEXT} moved to {POSTCODE}")

    journey_record(
        customer=customer,
        kind="custom.note",
        summary=f"{GIVEN} mentioned {FREE_TEXT}",
        payload={"email": EMAIL, "amount": 5, "status": "noted"},
    )
    connector = ConnectorFactory(system="crm")
    SourceRecord.objects.create(customer=customer, system="crm", external_id=LEGACY_ID)
    Holding.objects.create(
        customer=customer,
        system="crm",
        kind="account",
        external_id=ACCOUNT,
        name=f"{FAMILY} current account",
        data={"holder": f"{GIVEN} {FAMILY}"},
    )
    SyncFailureFactory(
        run__connector=connector,
        connector=connector,
        record_key=LEGACY_ID,
        payload={"email": EMAIL, "name": f"{GIVEN} {FAMILY}", "notes": FREE_TEXT},
        reason=f"bad postcode {POSTCODE}",
    )
    OutboxMessageFactory(
        connector=connector,
        customer=customer,
        payload={"address_line1": STREET, "postcode": POSTCODE, "note": FREE_TEXT},
    )
    WebhookDeliveryFactory(
        event_id=uuid.uuid4(),
        payload={
            "id": "x",
            "type": "customer.updated",
            "data": {
                "customer_id": customer.pk,
                "kind": "custom.note",
                "details": {"email": EMAIL, "note": FREE_TEXT, "status": "noted"},
            },
        },
        response_body=f"ok {EMAIL}",
    )
    RecommendedAction.objects.create(
        customer=customer,
        source_key="strategy:retention",
        title="Offer a loyalty discount",
        detail=f"Tell {GIVEN} about the discount",
        reasons=[f"{FAMILY} is at risk"],
        note=f"{FREE_TEXT} came up",
    )
    VerificationChallenge.objects.create(
        conversation=conversation,
        customer=customer,
        method="email",
        destination=EMAIL,
        code_hash="x",
        expires_at=timezone.now(),
    )
    Callback.objects.create(
        customer=customer,
        queue="general",
        reason=f"Call {GIVEN} back on {PHONE}",
        source="agent",
        due_at=timezone.now(),
    )
    LogEntry.objects.create(
        user=actor,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.pk),
        object_repr=str(customer),
        action_flag=ADDITION,
        change_message="[]",
    )
    _redis().set(cache_key(connector.pk, LEGACY_ID), json.dumps({"data": {"name": f"{GIVEN} {FAMILY}"}}), ex=600)
    return Spread(customer=customer, national_id_digest=digest)


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)


def text_columns() -> list[tuple[str, str]]:
    """Every (table, column) of the database that can hold text: char, varchar, text, json(b), arrays."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c"
            " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
            " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
            " AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'citext')"
            " ORDER BY 1, 2"
        )
        return cursor.fetchall()


def forget_leftovers(identifiers: list[str]) -> None:
    """Delete Redis keys an interrupted earlier run left holding the identifiers (Redis outlives
    the test database; ids repeat between test databases)."""
    client = _redis()
    for key in _redis_found(identifiers):
        client.delete(key)


def identifiers_found(identifiers: list[str]) -> list[str]:
    """Where any of ``identifiers`` appears (any case): ``table.column`` or ``redis:<key>``."""
    patterns = [f"%{value}%" for value in identifiers]
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                f"SELECT {quote(column)}::text FROM {quote(table)} WHERE {quote(column)}::text ILIKE ANY(%s) LIMIT 1",  # noqa: S608
                [patterns],
            )
            row = cursor.fetchone()
            if row:
                found.append(f"{table}.{column}: {row[0][:200]}")
    return found + [f"redis:{key}" for key in _redis_found(identifiers)]


def _redis_contents(client: redis.Redis, key: bytes) -> list[bytes]:
    """Every value stored under ``key``, as raw bytes (pickled values included)."""
    kind = client.type(key)
    if kind == b"string":
        return [client.get(key) or b""]
    if kind == b"hash":
        return [part for pair in client.hgetall(key).items() for part in pair]
    if kind == b"list":
        return client.lrange(key, 0, -1)
    if kind == b"set":
        return list(client.smembers(key))
    if kind == b"zset":
        return client.zrange(key, 0, -1)
    if kind == b"stream":
        return [json.dumps(client.xrange(key), default=repr).encode()]
    return []


def _redis_found(identifiers: list[str]) -> list[str]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    found = []
    lowered = [value.lower() for value in identifiers]
    for key in client.scan_iter(count=1000):
        text = b" ".join([key, *_redis_contents(client, key)]).decode("utf-8", "replace").lower()
        if any(value in text for value in lowered):
            found.append(key.decode("utf-8", "replace"))
    return found
