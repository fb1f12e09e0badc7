"""A live context value as a person reads it on the desk: labels, times, lists; the raw JSON one click away.

Context values are JSON (self-service's ``selfservice`` state, its ``handover`` record, the
customer's ``answers`` …). A text is shown as it is; a structure as nested labelled fields and
lists, times (ISO 8601 texts) as times, with a ``<details>`` holding the raw JSON. The desk's
script (static/engagement/desk_chat.js, ``readable``) renders pushed changes the same way.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
MAX_DEPTH = 4


def context_label(key: str) -> str:
    """``verification_level`` → ``Verification level``."""
    words = str(key).replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else str(key)


def _time(text: str) -> SafeString | None:
    if not ISO_TIME.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return format_html('<time datetime="{}">{}</time>', text, moment.strftime("%Y-%m-%d %H:%M"))


def _readable(value: Any, depth: int) -> SafeString:
    if value is None or value == "":
        return format_html('<span class="muted">{}</span>', "—")
    if isinstance(value, bool):
        return format_html("{}", "yes" if value else "no")
    if isinstance(value, str):
        return _time(value) or format_html("{}", value)
    if isinstance(value, int | float):
        return format_html("{}", value)
    if depth >= MAX_DEPTH:
        return format_html("<code>{}</code>", json.dumps(value, ensure_ascii=False, sort_keys=True))
    if isinstance(value, list):
        if not value:
            return format_html('<span class="muted">{}</span>', "none")
        items = format_html_join("", "<li>{}</li>", ((_readable(item, depth + 1),) for item in value))
        return format_html('<ul class="context-list">{}</ul>', items)
    if isinstance(value, dict):
        if not value:
            return format_html('<span class="muted">{}</span>', "none")
        fields = format_html_join(
            "",
            "<dt>{}</dt><dd>{}</dd>",
            ((context_label(key), _readable(item, depth + 1)) for key, item in value.items()),
        )
        return format_html('<dl class="context-fields">{}</dl>', fields)
    return format_html("{}", str(value))


def context_readable(*, value: Any) -> SafeString:
    """``value`` as HTML for the desk: a text as it is; a structure readable, its raw JSON in a ``<details>``."""
    if isinstance(value, str):
        return _readable(value, 0)
    raw = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)
    return mark_safe(  # noqa: S308 - both parts are built with format_html, which escapes
        _readable(value, 0)
        + format_html('<details class="context-raw"><summary>Raw</summary><pre>{}</pre></details>', raw)
    )
