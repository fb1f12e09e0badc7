"""What the router tells an agent's desktop: every agent has a Channels group, ``agent.<user id>``."""

from __future__ import annotations

from cea.common.channels import Channel
from cea.common.live import push_on_commit


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
        "channel_label": Channel(channel).label if channel in Channel.values else channel,
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
    push_on_commit(agent_group(user_id), event)
