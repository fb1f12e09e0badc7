"""Default stage rules for the events a website, a shop and the back-ends send (docs/journeys.md).

campaign.* → awareness, product.* → consideration, account.activated and onboarding.* → onboarding,
loyalty.* → loyalty, at the precedences of the default rules of the same stage (0009). A rule is added
only where no rule has that kind pattern already (on any stage, active or not): a person's rules are
never changed.
"""

from django.db import migrations

# (stage, kind pattern, precedence): the funnel's order, as the stage's other default rules.
RULES = [
    ("awareness", "campaign.*", 10),
    ("consideration", "product.*", 20),
    ("onboarding", "account.activated", 30),
    ("onboarding", "onboarding.*", 30),
    ("loyalty", "loyalty.*", 40),
]


def kind_like(pattern: str) -> str:
    """insights.journeys.models.kind_like_of for an event rule (a migration cannot call the model's save)."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def add_rules(apps, schema_editor):
    JourneyStage = apps.get_model("insights", "JourneyStage")
    StageRule = apps.get_model("insights", "StageRule")
    stages = {stage.key: stage for stage in JourneyStage.objects.filter(key__in={key for key, _, _ in RULES})}
    for key, pattern, precedence in RULES:
        if key not in stages or StageRule.objects.filter(source="event", kind_pattern=pattern).exists():
            continue  # the stage was removed, or a person has a rule for these events already
        StageRule.objects.create(
            stage=stages[key], source="event", kind_pattern=pattern, precedence=precedence, kind_like=kind_like(pattern)
        )


def remove_rules(apps, schema_editor):
    """Back: the rules this migration would add, as they were added (edited ones are a person's and stay)."""
    StageRule = apps.get_model("insights", "StageRule")
    for key, pattern, precedence in RULES:
        StageRule.objects.filter(
            source="event", kind_pattern=pattern, stage__key=key, precedence=precedence, channel="", payload_key=""
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("insights", "0012_strategy_arbitration_and_uplift")]

    operations = [migrations.RunPython(add_rules, remove_rules)]
