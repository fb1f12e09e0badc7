from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "integration"

    def ready(self) -> None:
        from integration import personal_data

        personal_data.register()
