"""What sentiment holds on a customer, for the right of access and erasure (records.privacy's registry;
registered in InsightsConfig.ready).

Scores are inferred data about a person: the strongly negative turns recorded for the customer (when, score,
what was done) are exported; erasure unlinks them from the customer (the team's figures keep the count).
Message, interaction and trend scores live on engagement's messages and records' interactions and customer
scores, and go with those rows' own export and erasure. No customer free text is stored here.
"""

from __future__ import annotations

from insights.sentiment.models import NegativeTurn


def export_for_customer(customer_id: int) -> list[dict]:
    return [
        {
            "at": turn.at.isoformat(),
            "conversation": turn.conversation_id,
            "score": turn.score,
            "threshold": turn.threshold,
            "priority_raised_by": turn.priority_raised_by,
            "supervisor_alerted": turn.supervisor_alerted,
        }
        for turn in NegativeTurn.objects.filter(customer_id=customer_id).order_by("id")
    ]


def erase_for_customer(customer_id: int) -> int:
    return NegativeTurn.objects.filter(customer_id=customer_id).update(customer=None)
