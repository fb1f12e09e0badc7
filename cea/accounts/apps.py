from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cea.accounts"
    label = "accounts"
    verbose_name = "Users, teams and API tokens"

    def ready(self) -> None:
        from cea.accounts import schema  # noqa: F401  (registers the OpenAPI extension)
