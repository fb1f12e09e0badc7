from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "engagement"

    def ready(self) -> None:
        # Register the app's Celery tasks in every process, not only in workers: routing sends its
        # own by name (engagement/routing/work.py), and a task sent by name runs eagerly (tests,
        # CELERY_TASK_ALWAYS_EAGER) only where it is registered.
        from engagement import personal_data, tasks  # noqa: F401

        # Erasure, the right of access and retention reach engagement's messages, attachments and
        # context log through records' registries.
        from engagement.retention import register as register_retention

        personal_data.register()
        register_retention()

        # Adherence follows presence changes through engagement.hooks (routing does not import wfm).
        from engagement.wfm.adherence.live import register as register_adherence

        register_adherence()

        # A call waiting in a queue is put through to the agent who accepts it (engagement.hooks).
        from engagement.adapters.voice_control.services import register as register_voice_control

        register_voice_control()
        # Replies on SMS, social DM and IoT leave through their source's provider (engagement.adapters.outbox).
        from engagement.adapters.outbox import register as register_provider_replies

        register_provider_replies()
        # The chat widget's origins read the answer of its out-of-hours callback booking (engagement.backoffice).
        from engagement.webchat.services import register as register_webchat

        register_webchat()
