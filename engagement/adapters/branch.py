"""Face-to-face: a customer checks in at a branch (at a kiosk or with the reception staff).

Each visit is a conversation (external id ``<client>:<visit id>``) waiting in the branch's
queue, ``Branch <name>``, with a system message saying who came and why. A customer who gives
no identifier, or one that matches nobody, is an anonymous walk-in.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from cea.common.channels import Channel, Direction
from engagement.adapters.ingest import Ingested, already_ingested, queue_for_agents
from engagement.conversations.models import AuthorKind
from engagement.conversations.services import conversation_start, message_add


def branch_queue(branch: str) -> str:
    return f"Branch {branch}"


@transaction.atomic
def branch_check_in(
    *,
    client,
    visit_id: str,
    branch: str,
    reason: str,
    identifier_kind: str = "",
    customer_identifier: str = "",
    arrived_at: datetime | None = None,
) -> Ingested:
    """Open the visit's conversation in the branch's queue; the same ``visit_id`` twice is one visit.

    The visitor is identified only as a customer ``client`` may see: branch staff checking in
    another team's customer open an anonymous walk-in, as for an identifier on nobody's file.
    """
    external_id = f"{client.pk}:{visit_id}"
    duplicate = already_ingested(channels=[Channel.BRANCH], external_id=external_id)
    if duplicate is not None:
        return duplicate
    conversation, _ = conversation_start(
        channel=Channel.BRANCH,
        external_id=external_id,
        contact_kind=identifier_kind if customer_identifier else "",
        contact_value=customer_identifier,
        subject=reason,
        source="branch",
        context={"branch": branch, "visit_reason": reason},
        visible_to=client,
    )
    conversation = queue_for_agents(conversation=conversation, queue=branch_queue(branch), reason="Branch check-in")
    message, created = message_add(
        conversation=conversation,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.SYSTEM,
        author_name=str(client),
        body=f"Checked in at {branch}: {reason}",
        external_id=external_id,
        sent_at=arrived_at,
        payload={"event": "check_in", "branch": branch, "reason": reason, "visit_id": visit_id},
    )
    return Ingested(conversation=conversation, message=message, created=created)
