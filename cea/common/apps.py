from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "cea.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from cea.common.db import install_fast_trigger_helpers
        from cea.common.log_filters import install_pii_filters, install_query_string_filters

        # The servers' request lines (uvicorn's websocket lines, which --no-access-log does not
        # silence; an access log if one is switched on) are written without query strings.
        install_query_string_filters()
        # Every record through every handler is redacted: settings.LOGGING's handlers have the
        # filter; the servers' own handlers (uvicorn configures them before loading the app) get it.
        install_pii_filters()

        # Database set-up after every migrate, the one job Django's post_migrate exists for
        # (not domain control flow): pgtrigger re-creates its slow helper with each trigger.
        post_migrate.connect(install_fast_trigger_helpers, sender=self, dispatch_uid="cea-fast-trigger-helpers")
