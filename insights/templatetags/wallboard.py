"""How the wallboard writes its figures: waits as m:ss, percentages and seconds with one decimal or a dash."""

from __future__ import annotations

from django import template

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
    """``81.25`` → ``81.3`` (with ``unit`` appended, e.g. ``%``); nothing → a dash."""
    if value is None:
        return NONE
    return f"{value:.1f}".removesuffix(".0") + unit
