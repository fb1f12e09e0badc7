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
from functools import partial

from cea.common.channels import Channel
from engagement.adapters.ingest import DEFAULT_QUEUES, Ingested, conversation_start, delivery_ingest, open_thread
from records.identities.models import IdentityKind


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
    """A message typed in the mobile app; the same ``client_message_id`` twice is one message.

    All or nothing, as every ``delivery_ingest``.
    """
    session_thread = partial(
        open_thread,
        channel=Channel.MOBILE_APP,
        thread_key=f"{client.pk}:{session_id}",
        contact_kind=identifier_kind if customer_identifier else "",
        contact_value=customer_identifier,
        source="mobile_app",
        context={"app_session": session_id},
    )
    return delivery_ingest(
        channels=[Channel.MOBILE_APP],
        external_id=f"{client.pk}:{client_message_id}",
        conversation=session_thread,
        queue=DEFAULT_QUEUES[Channel.MOBILE_APP],
        queue_reason="Mobile app message",
        body=text,
        sent_at=sent_at,
        payload={"client_message_id": client_message_id, "session_id": session_id},
    )


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
    """A contact form submitted on a website; the same ``(form_id, submission_id)`` twice is one message.

    All or nothing, as every ``delivery_ingest``.
    """
    external_id = f"{client.pk}:{form_id}:{submission_id}"
    submission_conversation = partial(
        conversation_start,
        channel=Channel.WEB_FORM,
        external_id=external_id,
        contact_kind=IdentityKind.EMAIL,
        contact_value=email,
        subject=subject,
        source="web_form",
        context={"web_form": form_id},
    )
    return delivery_ingest(
        channels=[Channel.WEB_FORM],
        external_id=external_id,
        conversation=submission_conversation,
        queue=DEFAULT_QUEUES[Channel.WEB_FORM],
        queue_reason="Web form submission",
        author_name=name,
        body=message,
        sent_at=submitted_at,
        payload={"form_id": form_id, "submission_id": submission_id, "name": name, "email": email, "subject": subject},
    )
