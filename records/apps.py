from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "System of Record"

    def ready(self) -> None:
        # The retention job's task and records' own retention handlers register on import.
        from records.privacy import retention  # noqa: F401
