"""Providers' credentials: from the environment or from a secret file, never from the database.

A source named ``sms-uk`` with a Twilio account reads ``CEA_SOURCE_SMS_UK_ACCOUNT_SID`` and
``CEA_SOURCE_SMS_UK_AUTH_TOKEN``; each may instead be the path of a file holding the value, in
``CEA_SOURCE_SMS_UK_AUTH_TOKEN_FILE`` (Docker and Kubernetes secrets mount files). The variable's
name is ``CEA_SOURCE_`` + the source's name and the key, upper-cased, with ``-`` as ``_``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cea.common.errors import Conflict


class MissingCredential(Conflict):
    """A provider's credential is not configured: the send cannot start (never retried)."""

    code = "missing_credential"


def credential_variable(source_name: str, key: str) -> str:
    """The environment variable holding ``key`` for the source ``source_name``."""
    return f"CEA_SOURCE_{source_name}_{key}".upper().replace("-", "_")


def credential(source_name: str, key: str, *, required: bool = True) -> str:
    """``key`` for the source, from its variable or from the file its ``_FILE`` variable names.

    Raises ``MissingCredential`` naming the variable when it is required and neither is set,
    or when the file cannot be read. Trailing newlines of a file are dropped.
    """
    variable = credential_variable(source_name, key)
    value = os.environ.get(variable, "")
    if value:
        return value
    path = os.environ.get(f"{variable}_FILE", "")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise MissingCredential(
                f"{variable}_FILE names {path!r}, which cannot be read ({error.strerror}).", code="missing_credential"
            ) from error
    if required:
        raise MissingCredential(
            f"The source {source_name!r} has no {key.lower()}: set {variable} (or {variable}_FILE).",
            code="missing_credential",
        )
    return ""
