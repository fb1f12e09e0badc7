"""The default journey stages and their rules (docs/journeys.md); edited in the console afterwards."""

from django.db import migrations

STAGES = [
    ("awareness", "Awareness", "Learn that we exist and what we offer", "Curious, unsure", "Web, social, ads"),
    ("consideration", "Consideration", "Compare options, get answers", "Hopeful, cautious", "Web chat, phone, email"),
    ("purchase", "Purchase", "A smooth, clear purchase", "Excited, anxious about the cost", "Web, shop, phone"),
    ("onboarding", "Onboarding", "Get started with the product", "Eager, easily frustrated", "Email, app, phone"),
    ("service", "Service", "Problems solved fast, first time", "Frustrated or reassured", "Phone, chat, email, cases"),
    ("loyalty", "Loyalty", "Recognition, fair value", "Trusting, content", "Email, app, account manager"),
    ("advocacy", "Advocacy", "A way to recommend us", "Proud, engaged", "Social, reviews, referrals"),
    ("lapsed", "Lapsed", "A reason to come back", "Indifferent, disappointed", "Email, outbound calls"),
]
# (stage, source, kind pattern, holding kind, inactivity days, precedence)
RULES = [
    ("awareness", "event", "customer.created", "", None, 10),
    ("consideration", "event", "quote.*", "", None, 20),
    ("purchase", "event", "order.*", "", None, 20),
    ("purchase", "holding", "", "order", None, 20),
    ("onboarding", "holding", "", "", None, 30),
    ("service", "case_opened", "", "", None, 40),
    ("loyalty", "case_resolved", "", "", None, 40),
    ("advocacy", "event", "referral.*", "", None, 20),
    ("advocacy", "event", "review.*", "", None, 20),
    ("service", "interaction", "", "", None, 50),
    ("lapsed", "inactivity", "", "", 90, 10),
]
KINDS = {
    "case_opened": "case.created",
    "case_resolved": "case.resolved",
    "holding": "holding.added",
    "interaction": "interaction.recorded",
    "inactivity": "",
}


def seed(apps, schema_editor):
    JourneyStage = apps.get_model("insights", "JourneyStage")
    StageRule = apps.get_model("insights", "StageRule")
    stages = {}
    for order, (key, name, needs, emotions, touchpoints) in enumerate(STAGES, start=1):
        stages[key], _ = JourneyStage.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "order": order * 10,
                "needs": needs,
                "emotions": emotions,
                "touchpoints": touchpoints,
                "is_drop_off": key == "lapsed",
            },
        )
    if StageRule.objects.exists():
        return
    for key, source, pattern, holding_kind, days, precedence in RULES:
        StageRule.objects.create(
            stage=stages[key],
            source=source,
            kind_pattern=pattern,
            holding_kind=holding_kind,
            inactivity_days=days,
            precedence=precedence,
            kind_like=pattern.replace("_", "\\_").replace("*", "%") if source == "event" else KINDS[source],
        )


class Migration(migrations.Migration):
    dependencies = [("insights", "0008_journey_stages")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
