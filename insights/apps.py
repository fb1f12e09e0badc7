from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"

    def ready(self) -> None:
        # engagement cannot import insights (imports go one way): insights plugs its message scorer
        # and its after-commit hooks into engagement's funnel here (engagement/conversations/hooks.py).
        from insights.compliance.services import compliance_hooks_register
        from insights.sentiment.services import sentiment_hooks_register

        sentiment_hooks_register()
        compliance_hooks_register()
