from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "System of Record"

    def ready(self) -> None:
        from records.privacy import personal_data

        personal_data.register()
