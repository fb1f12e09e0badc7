"""What the router tells browsers: every agent's desktop has a Channels group, ``agent.<user id>``;
and whoever shows routing's live state (the wallboards of insights) follows ``routing.changed``.

``routing.changed`` carries no state: it says that queues' work or agents' presence changed, so
read again. It is coalesced (``push_coalesced_on_commit``): at most one a second per process, and
one after the last change, however many changes a second the router makes. Engagement does not
know who listens (insights sits above it).
"""

from __future__ import annotations

from cea.common.channels import Channel
from cea.common.live import push_coalesced_on_commit, push_on_commit

ROUTING_CHANGED_GROUP = "routing.changed"
ROUTING_CHANGED = {"type": "routing.changed"}


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def offer_json(offer) -> dict:
    item = offer.work_item
    conversation = item.conversation
    customer = conversation.customer
    return offer_payload(
        offer_id=offer.pk,
        item=item,
        conversation_id=conversation.pk,
        channel=conversation.channel,
        queue_label=item.queue.label or item.queue.name,
        customer_label=str(customer) if customer else (conversation.contact_value or "Visitor"),
        subject=conversation.subject,
        verification_level=conversation.verification_level,
        offered_at=offer.offered_at,
        expires_at=offer.expires_at,
    )


def offer_payload(
    *,
    offer_id: int,
    item,
    conversation_id: int,
    channel: str,
    queue_label: str,
    customer_label: str,
    subject: str,
    verification_level: str,
    offered_at,
    expires_at,
) -> dict:
    """How an offer travels to the agent's desktop (from the router's own row, or from an ``Offer``)."""
    return {
        "id": offer_id,
        "work_item": item.pk,
        "conversation": conversation_id,
        "channel": channel,
        "channel_label": str(Channel(channel).label) if channel in Channel.values else channel,  # JSON: a str
        "queue": queue_label,
        "customer": customer_label,
        "subject": subject,
        "verification_level": verification_level,
        "priority": item.priority,
        "note": item.note,
        "transfer": item.transferred_from_id is not None,
        "offered_at": offered_at.isoformat(),
        "expires_at": expires_at.isoformat(),
        "seconds": max(0, round((expires_at - offered_at).total_seconds())),
    }


def push_to_agent(user_id: int, event: dict) -> None:
    """Push ``event`` to the agent's desktop after commit; what an agent is told changes routing's live state too."""
    # The router does not wait for Redis (issue 17): the offers still reach the desk in order.
    push_on_commit(agent_group(user_id), event, wait=False)
    routing_changed_on_commit()


def routing_changed_on_commit() -> None:
    """After commit, tell ``routing.changed`` that queues or agents changed (coalesced; see the module)."""
    push_coalesced_on_commit(ROUTING_CHANGED_GROUP, ROUTING_CHANGED)
