"""Out-of-hours answers: a contact that reaches a closed queue is told so on its own channel.

``conversation_escalate`` (engagement.orchestration) has ``out_of_hours_answer_send`` run once the
escalation commits (``out_of_hours_answer_on_commit``): after the contact's own first message is kept
(an email's answer threads on it; a machine's mail, RFC 3834, is never answered), in a transaction
of its own with the conversation locked. When the queue's business hours (``Queue.business_hours``,
engagement.routing.hours) say it is closed and the console configured an ``OutOfHoursAnswer`` for
the queue and the conversation's channel, the answer goes out through the reply path
(``conversation_reply``: live on chat, by email as an auto-reply, through SMS/social's sender when
one exists), or, on voice, is recorded for the call-control webhook to say
(``out_of_hours_answer_for``). It offers to leave a message (the contact keeps waiting in the queue,
answered when it opens) and a callback: a signed link to book one (``callback_offer_token``; the
booking itself is ``engagement.backoffice.services.callback_offer_book``) when CEA knows the
customer (a callback needs one: an unidentified contact is offered the message only, and the marker
says ``customer_known``). A conversation is answered once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cea.common.channels import Direction
from cea.common.errors import Conflict, ValidationFailed
from engagement.backoffice.models import OutOfHoursAnswer
from engagement.conversations.models import AuthorKind, Conversation
from engagement.conversations.replies import SPOKEN_CHANNELS, conversation_reply
from engagement.conversations.services import message_add
from engagement.routing.hours import open_spans
from engagement.routing.models import Queue

logger = logging.getLogger("engagement.backoffice")

CALLBACK_OFFER_SALT = "cea.backoffice.callback-offer"
CALLBACK_OFFER_MAX_AGE = 7 * 24 * 3600  # seconds a callback offer's link is good for
LOOKAHEAD = timedelta(days=14)  # how far ahead the next opening is looked for


def queue_open_at(*, queue: Queue, at: datetime) -> bool:
    """Whether ``queue`` is open at ``at`` (a queue without business hours is always open)."""
    if queue.business_hours_id is None:
        return True
    spec = queue.business_hours.spec()  # type: ignore[union-attr]
    return bool(open_spans(spec, start=at, end=at + timedelta(seconds=1)))


def next_opening(*, queue: Queue, after: datetime) -> datetime | None:
    """When ``queue`` next opens after ``after`` (itself if open then); ``None`` if not within 14 days."""
    if queue.business_hours_id is None:
        return after
    spans = open_spans(queue.business_hours.spec(), start=after, end=after + LOOKAHEAD)  # type: ignore[union-attr]
    return spans[0].start if spans else None


def out_of_hours_answer_for(*, queue_name: str, channel: str, at: datetime | None = None) -> OutOfHoursAnswer | None:
    """The active answer configured for ``channel`` on the queue called ``queue_name`` if it is closed at ``at``."""
    queue = Queue.objects.select_related("business_hours").filter(name=queue_name).first()
    if queue is None or queue_open_at(queue=queue, at=at or timezone.now()):
        return None
    return OutOfHoursAnswer.objects.filter(queue=queue, channel=channel, is_active=True).first()


def callback_offer_token(*, conversation_id: int) -> str:
    """A signed token that lets the customer of ``conversation_id`` book one callback from it."""
    return signing.dumps({"conversation": conversation_id}, salt=CALLBACK_OFFER_SALT)


def callback_offer_conversation_id(*, token: str) -> int | None:
    """The conversation a callback offer's token was made for, or ``None`` if it is forged or too old."""
    try:
        value = signing.loads(token, salt=CALLBACK_OFFER_SALT, max_age=CALLBACK_OFFER_MAX_AGE)
    except signing.BadSignature:
        return None
    conversation_id = value.get("conversation") if isinstance(value, dict) else None
    return conversation_id if isinstance(conversation_id, int) else None


def callback_offer_url(*, token: str) -> str:
    """The page where the customer books the offered callback (absolute with ``CEA_PUBLIC_URL``)."""
    return settings.CEA_PUBLIC_URL.rstrip("/") + reverse("engagement:callback-offer", args=[token])


def _answer_text(answer: OutOfHoursAnswer, *, opens_at: datetime | None, callback_url: str) -> str:
    lines = [answer.text.strip()]
    if opens_at is not None:
        lines.append(f"We open again at {timezone.localtime(opens_at):%A %d %B, %H:%M}.")
    if answer.offer_message:
        lines.append("You can leave us a message here: we will answer it when we open.")
    if callback_url:
        lines.append(f"Or ask us to call you back: {callback_url}")
    return "\n".join(lines)


def out_of_hours_answer_on_commit(*, conversation: Conversation) -> None:
    """Send the out-of-hours answer, if one is due, once the current transaction commits; a call's
    at once (it is said in the same webhook's answer, and a call has no first message to wait for)."""
    if conversation.channel in SPOKEN_CHANNELS:
        out_of_hours_answer_send(conversation=conversation)
        return
    conversation_id = conversation.pk

    def answer() -> None:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
                if conversation is not None:
                    out_of_hours_answer_send(conversation=conversation)
        except Exception:  # an answer that cannot go is logged; the contact waits in the queue regardless
            logger.exception("The out-of-hours answer of conversation %s failed", conversation_id)

    transaction.on_commit(answer)


def out_of_hours_answer_send(*, conversation: Conversation, now: datetime | None = None) -> bool:
    """Send the conversation's queue's out-of-hours answer if the queue is closed; ``True`` if sent.

    Called with the conversation locked (``out_of_hours_answer_on_commit``). Once per inbound
    conversation; a channel without a configured answer gets none, nor does mail a machine sent.
    """
    now = now or timezone.now()
    if conversation.direction != Direction.INBOUND:  # CEA's own calls (callbacks) are not answered
        return False
    if conversation.messages.filter(payload__has_key="out_of_hours").exists():
        return False
    if conversation.messages.filter(direction=Direction.INBOUND, payload__automatic=True).exists():
        return False  # an auto-reply, a bounce or a list's mail: answering it could loop (RFC 3834)
    answer = out_of_hours_answer_for(queue_name=conversation.queue, channel=conversation.channel, at=now)
    if answer is None:
        return False
    queue = answer.queue
    opens_at = next_opening(queue=queue, after=now)
    # A callback needs a customer to call (``callback_offer_book``): an unidentified contact is not offered one.
    customer_known = conversation.customer_id is not None
    token = callback_offer_token(conversation_id=conversation.pk) if answer.offer_callback and customer_known else ""
    callback_url = callback_offer_url(token=token) if token else ""
    marker = {
        # An automatic answer says so (RFC 3834), so other systems do not answer it in turn.
        "auto_submitted": "auto-replied",
        "out_of_hours": {
            "queue": queue.name,
            "opens_at": opens_at.isoformat() if opens_at else None,
            "offer_message": answer.offer_message,
            "callback_token": token,
            "callback_url": callback_url,
            "customer_known": customer_known,
        },
    }
    text = _answer_text(answer, opens_at=opens_at, callback_url=callback_url)
    if conversation.channel in SPOKEN_CHANNELS:
        # Said by the call-control webhook (it reads this message or ``out_of_hours_answer_for``).
        message_add(
            conversation=conversation,
            direction=Direction.OUTBOUND,
            author_kind=AuthorKind.SYSTEM,
            body=text,
            payload={**marker, "spoken": True},
        )
        return True
    try:
        with transaction.atomic():  # a savepoint: an answer that cannot go never undoes the escalation
            conversation_reply(
                actor=None, conversation=conversation, body=text, author_kind=AuthorKind.SYSTEM, extra_payload=marker
            )
    except (Conflict, ValidationFailed) as refusal:
        logger.info("No out-of-hours answer for conversation %s: %s", conversation.pk, refusal)
        return False
    return True
