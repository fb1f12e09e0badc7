"""The Celery app. Tasks live in each app's ``tasks.py`` and are discovered from INSTALLED_APPS."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cea.settings")

app = Celery("cea")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_worker_logs(**_kwargs) -> None:
    # The worker replaces the root logger's handlers with its own when it starts (after Django's
    # set-up put the redaction filter on settings.LOGGING's): they get the filter too.
    from cea.common.log_filters import install_pii_filters

    install_pii_filters()
