from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "cea.common"
    label = "common"
    verbose_name = "Common"
