from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cea.accounts"
    label = "accounts"
    verbose_name = "Users, teams and API tokens"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save, pre_delete

        from cea.accounts import (
            schema,  # noqa: F401  (registers the OpenAPI extension)
            token_cache,
        )
        from cea.accounts.models import ApiToken, User

        # Any change of a token or its user invalidates the cached token (cea/accounts/token_cache.py).
        post_save.connect(token_cache.token_changed, sender=ApiToken, dispatch_uid="api-token-cache-token-saved")
        post_delete.connect(token_cache.token_changed, sender=ApiToken, dispatch_uid="api-token-cache-token-deleted")
        post_save.connect(token_cache.user_changed, sender=User, dispatch_uid="api-token-cache-user-saved")
        pre_delete.connect(token_cache.user_changed, sender=User, dispatch_uid="api-token-cache-user-deleted")
