"""The personal data surveys hold on a customer, for the right of access and erasure
(registered with ``records.privacy.registry.register_personal_data`` at merge)."""

from __future__ import annotations

from django.db import transaction

from insights.surveys.models import Survey


def export_for_customer(customer_id: int) -> list[dict]:
    """Every survey of the customer: when, on which channel and to which address, what they answered."""
    surveys = Survey.objects.filter(customer_id=customer_id).order_by("created_at", "id")
    return [
        {
            "survey": survey.pk,
            "kind": survey.kind,
            "channel": survey.channel,
            "status": survey.status,
            "skip_reason": survey.skip_reason,
            "interaction": survey.interaction_id,
            "sent_to": survey.sent_to,
            "sent_at": survey.sent_at.isoformat() if survey.sent_at else None,
            "responded_at": survey.responded_at.isoformat() if survey.responded_at else None,
            "score": survey.score,
            "comment": survey.comment,
        }
        for survey in surveys
    ]


@transaction.atomic
def erase_for_customer(customer_id: int) -> int:
    """Blank the customer's comments and addresses and detach their surveys from them (the scores stay
    in the figures, tied to no one); returns the surveys anonymised."""
    return Survey.objects.filter(customer_id=customer_id).update(customer=None, comment="", sent_to="", answer_ref="")
