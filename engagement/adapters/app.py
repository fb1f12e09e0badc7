"""Mobile app messages and web form submissions, sent in over the REST API by their back-ends.

Both are idempotent on an id the client chooses; ids are namespaced by the calling client (its
user id), so two clients cannot collide.

- A mobile app message joins the open conversation of its device/session (external id
  ``<client>:<session>:<n>``, see ``ingest.open_thread``); the customer identifier, when the
  app knows who is signed in, identifies the customer.
- A web form submission is a conversation of its own (external id
  ``<client>:<form>:<submission>``); its email address identifies the customer, and replies
  to it go out by email (``engagement.conversations.replies``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from cea.common.channels import Channel, Direction
from engagement.adapters.ingest import DEFAULT_QUEUES, Ingested, already_ingested, open_thread, queue_for_agents
from engagement.conversations.models import AuthorKind
from engagement.conversations.services import conversation_start, message_add
from records.identities.models import IdentityKind


@transaction.atomic
def app_message_ingest(
    *,
    client,
    client_message_id: str,
    session_id: str,
    text: str,
    identifier_kind: str = "",
    customer_identifier: str = "",
    sent_at: datetime | None = None,
) -> Ingested:
    """A message typed in the mobile app; the same ``client_message_id`` twice is one message."""
    external_id = f"{client.pk}:{client_message_id}"
    duplicate = already_ingested(channels=[Channel.MOBILE_APP], external_id=external_id)
    if duplicate is not None:
        return duplicate
    conversation, opened = open_thread(
        channel=Channel.MOBILE_APP,
        thread_key=f"{client.pk}:{session_id}",
        contact_kind=identifier_kind if customer_identifier else "",
        contact_value=customer_identifier,
        source="mobile_app",
        context={"app_session": session_id},
    )
    if opened:
        conversation = queue_for_agents(
            conversation=conversation, queue=DEFAULT_QUEUES[Channel.MOBILE_APP], reason="Mobile app message"
        )
    message, created = message_add(
        conversation=conversation,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        body=text,
        external_id=external_id,
        sent_at=sent_at,
        payload={"client_message_id": client_message_id, "session_id": session_id},
    )
    return Ingested(conversation=conversation, message=message, created=created)


@transaction.atomic
def web_form_ingest(
    *,
    client,
    submission_id: str,
    form_id: str,
    name: str,
    email: str,
    subject: str,
    message: str,
    submitted_at: datetime | None = None,
) -> Ingested:
    """A contact form submitted on a website; the same ``(form_id, submission_id)`` twice is one message."""
    external_id = f"{client.pk}:{form_id}:{submission_id}"
    duplicate = already_ingested(channels=[Channel.WEB_FORM], external_id=external_id)
    if duplicate is not None:
        return duplicate
    conversation, opened = conversation_start(
        channel=Channel.WEB_FORM,
        external_id=external_id,
        contact_kind=IdentityKind.EMAIL,
        contact_value=email,
        subject=subject,
        source="web_form",
        context={"web_form": form_id},
    )
    if opened:
        conversation = queue_for_agents(
            conversation=conversation, queue=DEFAULT_QUEUES[Channel.WEB_FORM], reason="Web form submission"
        )
    added, created = message_add(
        conversation=conversation,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        author_name=name,
        body=message,
        external_id=external_id,
        sent_at=submitted_at,
        payload={"form_id": form_id, "submission_id": submission_id, "name": name, "email": email, "subject": subject},
    )
    return Ingested(conversation=conversation, message=added, created=created)
