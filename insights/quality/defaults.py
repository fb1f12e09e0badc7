"""The default scorecard, "Service call" (a data migration makes it on a new database; the demo loader
makes it again where it is missing, e.g. after a flush). Edited in the console afterwards."""

from __future__ import annotations

from insights.quality.models import Scorecard

DEFAULT_SCORECARD = "Service call"
# (section, text, weight, answer type, scale max, allows N/A, auto-fail)
SERVICE_CALL = (
    ("Opening", "Greeted the customer and gave their name", 1, "yes_no", 5, False, False),
    ("Opening", "Verified the customer's identity before discussing the account", 3, "yes_no", 5, True, False),
    ("Resolution", "Understood and resolved the customer's need", 4, "scale", 5, False, False),
    ("Resolution", "Set clear expectations for any next step", 2, "yes_no", 5, True, False),
    ("Manner", "Showed empathy and a professional tone", 2, "scale", 5, False, False),
    ("Compliance", "Gave the required disclosures (recording, terms)", 1, "yes_no", 5, True, True),
)


def scorecard_default_ensure() -> Scorecard:
    """The default scorecard, made with its questions when no scorecard of that name exists (idempotent)."""
    existing = Scorecard.objects.filter(name=DEFAULT_SCORECARD).first()
    if existing is not None:
        return existing
    scorecard = Scorecard.objects.create(
        name=DEFAULT_SCORECARD, description="The default scorecard for calls and chats handled by an agent."
    )
    for order, (section, text, weight, answer_type, scale_max, allows_na, auto_fail) in enumerate(SERVICE_CALL):
        scorecard.questions.create(
            section=section,
            order=(order + 1) * 10,
            text=text,
            weight=weight,
            answer_type=answer_type,
            scale_max=scale_max,
            allows_na=allows_na,
            auto_fail=auto_fail,
        )
    return scorecard
