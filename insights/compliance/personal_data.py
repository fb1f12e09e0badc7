"""What the compliance checks hold on a customer, for the right of access and erasure (records.privacy's
registry, registered in InsightsConfig.ready).

A failed forbidden-phrase verdict keeps an ``excerpt`` of the agent's words, which may quote the customer
(a name, an address): personal data. Erasure blanks the excerpts; the verdicts themselves (rule, pass/fail,
where) stay, as they are about the agent's conduct and hold nothing personal once the words are gone.
"""

from __future__ import annotations

from insights.compliance.models import ComplianceCheck


def export_for_customer(customer_id: int) -> list[dict]:
    """The verdicts on the customer's interactions, with their excerpts."""
    rows = ComplianceCheck.objects.filter(customer_id=customer_id).select_related("rule").order_by("id")
    return [
        {
            "interaction": check.interaction_id,
            "rule": check.rule.name,
            "passed": check.passed,
            "entry_index": check.entry_index,
            "excerpt": check.excerpt,
            "interaction_started_at": check.interaction_started_at.isoformat(),
        }
        for check in rows
    ]


def erase_for_customer(customer_id: int) -> int:
    """Blank the excerpts of the customer's verdicts; returns the rows changed."""
    return ComplianceCheck.objects.filter(customer_id=customer_id).exclude(excerpt="").update(excerpt="")
