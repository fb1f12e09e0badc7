from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "cea.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from cea.common.db import install_fast_trigger_helpers

        # Database set-up after every migrate, the one job Django's post_migrate exists for
        # (not domain control flow): pgtrigger re-creates its slow helper with each trigger.
        post_migrate.connect(install_fast_trigger_helpers, sender=self, dispatch_uid="cea-fast-trigger-helpers")
