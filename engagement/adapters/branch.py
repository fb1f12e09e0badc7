"""Face-to-face: a customer checks in at a branch (at a kiosk or with the reception staff).

Each visit is a conversation (external id ``<client>:<visit id>``) waiting in the branch's
queue, ``Branch <name>``, with a system message saying who came and why. A customer who gives
no identifier, or one that matches nobody, is an anonymous walk-in.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from cea.common.channels import Channel
from engagement.adapters.ingest import Ingested, conversation_start, delivery_ingest
from engagement.conversations.models import AuthorKind


def branch_queue(branch: str) -> str:
    return f"Branch {branch}"


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
    All or nothing, as every ``delivery_ingest``.
    """
    external_id = f"{client.pk}:{visit_id}"
    visit_conversation = partial(
        conversation_start,
        channel=Channel.BRANCH,
        external_id=external_id,
        contact_kind=identifier_kind if customer_identifier else "",
        contact_value=customer_identifier,
        subject=reason,
        source="branch",
        context={"branch": branch, "visit_reason": reason},
        visible_to=client,
    )
    return delivery_ingest(
        channels=[Channel.BRANCH],
        external_id=external_id,
        conversation=visit_conversation,
        queue=branch_queue(branch),
        queue_reason="Branch check-in",
        author_kind=AuthorKind.SYSTEM,
        author_name=str(client),
        body=f"Checked in at {branch}: {reason}",
        sent_at=arrived_at,
        payload={"event": "check_in", "branch": branch, "reason": reason, "visit_id": visit_id},
    )
