"""A customer's file that a provider serves (Twilio's MMS media, WhatsApp's media, Messenger's
attachments), fetched and checked in one way: ``provider_file_fetch``.

The fetch (``provider_http.provider_download``) goes only to the provider's hosts, re-checked on
every redirect, and sends the provider's credentials to the first URL's origin only; the file then
passes the files' checks (``files.file_checked``: its type sniffed from its bytes, its name and a
text's content redacted) like every file CEA keeps.
"""

from __future__ import annotations

import os
from collections.abc import Collection

from django.conf import settings

from cea.common.errors import ApplicationError
from engagement.adapters.provider_http import DownloadRefused, provider_download
from engagement.conversations.files import (
    ALLOWED_TYPES,
    MEDIA_TYPES,
    CheckedFile,
    file_checked,
    sniffed_media,
    sniffed_type,
)


def meta_media_hosts() -> list[str]:
    """The hosts Meta's files come from (``CEA_META_MEDIA_HOSTS``)."""
    return list(settings.CEA_META_MEDIA_HOSTS)


def provider_file_fetch(
    url: str,
    *,
    max_bytes: int,
    hosts: Collection[str],
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    filename_hint: str = "",
) -> CheckedFile:
    """The file at ``url`` (on ``hosts``), checked and ready to keep (``attachment_store``).

    Named ``filename_hint``, else as the provider names it, else ``file``; its extension made its
    sniffed type's (a CDN's path or a media id says nothing of the type). ``DownloadRefused`` with
    the download's code, or the files' check's (``type_not_allowed``, ``file_too_large`` …)."""
    download = provider_download(url, max_bytes=max_bytes, hosts=hosts, headers=headers, auth=auth)
    name = os.path.basename((filename_hint or download.filename).replace("\\", "/")).strip() or "file"
    types = {**ALLOWED_TYPES, **MEDIA_TYPES}
    kind = sniffed_media(download.content) or sniffed_type(download.content)
    if kind is not None and os.path.splitext(name)[1].lower() not in types[kind]:
        name = (os.path.splitext(name)[0] or "file")[:200] + types[kind][0]
    try:
        return file_checked(filename=name, content=download.content, max_bytes=max_bytes, media=True)
    except ApplicationError as error:
        raise DownloadRefused(str(error.message), code=error.code) from error
