"""How the wallboard writes its figures: waits as m:ss, percentages and seconds with one decimal (in the
active language's decimal mark) or a dash."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import get_format, number_format

register = template.Library()

NONE = "–"


@register.filter
def wait(seconds: float | None) -> str:
    """``75.4`` → ``1:15``; ``3725`` → ``1:02:05``; nothing → a dash."""
    if seconds is None:
        return NONE
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def figure(value: float | None, unit: str = "") -> str:
    """``81.26`` → ``81.3`` (``81,3`` in German: the active language's decimal mark), with ``unit``
    appended (e.g. ``%``); nothing → a dash."""
    if value is None:
        return NONE
    text = number_format(Decimal(f"{value:.1f}"), decimal_pos=1)
    return text.removesuffix(f"{get_format('DECIMAL_SEPARATOR')}0") + unit
