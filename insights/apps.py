from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"

    def ready(self) -> None:
        # engagement cannot import insights (imports go one way): insights plugs its message scorer
        # and its after-commit hooks into engagement's funnel here (engagement/hooks.py).
        from insights.compliance.services import compliance_hooks_register
        from insights.sentiment.services import sentiment_hooks_register

        sentiment_hooks_register()
        compliance_hooks_register()
        # Surveys follow ended conversations and may take an SMS reply: engagement calls what is
        # registered in engagement.hooks (it cannot import insights). Tasks are registered in every
        # process, so that a task sent by name runs eagerly where it is sent (tests).
        from engagement.hooks import conversation_closed_register, inbound_interceptor_register
        from insights.surveys import tasks  # noqa: F401
        from insights.surveys.services import survey_conversation_closed, survey_sms_claim

        conversation_closed_register(survey_conversation_closed)
        inbound_interceptor_register(survey_sms_claim)

        # Erasure and the right of access reach insights' own copies (survey comments, evaluators'
        # notes, compliance excerpts, negative turns) through records' registry.
        from insights.compliance import personal_data as compliance_data
        from insights.quality import personal_data as quality_data
        from insights.sentiment import personal_data as sentiment_data
        from insights.surveys import personal_data as surveys_data
        from records.privacy.registry import register_personal_data

        for name, part in (
            ("insights.surveys", surveys_data),
            ("insights.sentiment", sentiment_data),
            ("insights.compliance", compliance_data),
            ("insights.quality", quality_data),
        ):
            register_personal_data(name, export=part.export_for_customer, erase=part.erase_for_customer)
