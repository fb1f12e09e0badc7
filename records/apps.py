from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "System of Record"

    def ready(self) -> None:
        from cea.common.pii import set_policy_provider
        from records.privacy import (
            personal_data,
            retention,  # noqa: F401  (the retention task and records' handlers)
        )
        from records.privacy.pii_policy import pii_policy_current

        # The redactor in the shared kernel reads the console's policy through this hook (it may
        # not import records).
        set_policy_provider(pii_policy_current)
        personal_data.register()
