"""Where a connector's secret may come from: an allow-list, checked when saved and when used.

A connector sends its secret to a back-end's URL, so naming the secret must not be a way to
read any environment variable (``SECRET_KEY``, ``DATABASE_URL``) or any readable file
(``/etc/shadow``, ``.data/secret_key``). Environment variables must start with
``CEA_CONNECTOR_SECRET_ENV_PREFIX``; files must be inside ``CEA_CONNECTOR_SECRET_DIR`` once
symlinks and ``..`` are resolved (a relative name is a file in that folder).
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def secret_dir() -> Path:
    return Path(settings.CEA_CONNECTOR_SECRET_DIR).resolve()


def credential_env_problem(name: str) -> str | None:
    """Why ``name`` may not hold a connector's secret, or ``None`` if it may."""
    if not _ENV_NAME.fullmatch(name):
        return "The name of an environment variable (letters, digits, _), not a secret."
    prefix = settings.CEA_CONNECTOR_SECRET_ENV_PREFIX
    if not name.startswith(prefix):
        return f"Only environment variables whose name starts with {prefix} may hold a connector's secret."
    return None


def credential_file_resolved(name: str) -> Path | None:
    """The secret file ``name`` names, resolved; ``None`` if it is not inside the allowed folder."""
    folder = secret_dir()
    path = (folder / name).resolve()  # an absolute ``name`` replaces the folder
    return path if path.is_relative_to(folder) and path != folder else None


def credential_file_problem(name: str) -> str | None:
    if credential_file_resolved(name) is None:
        return f"The secret file must be inside the folder {secret_dir()}."
    return None
