"""The start of a first-load worker process (``integration.sync.firstload``): Django set up before
anything of the project is imported, so this module imports nothing of it."""

from __future__ import annotations

import os


def start(settings_module: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()
