"""The defaults a contact centre starts from: channel loads, reason codes, wrap-up codes, a general queue.

Made by migration 0003 and by ``routing_defaults_ensure`` (idempotent: existing rows are kept as
edited). The router does not depend on these rows being present: a channel without a
``ChannelLoad`` takes ``DEFAULT_UNITS``, and the system reason code is made when first needed.
"""

from __future__ import annotations

from django.apps import apps as installed_apps

CHANNEL_UNITS = {"voice": 4}  # one call fills the default capacity of 4
DEFAULT_UNITS = 1  # every other channel: four chats or emails at once
CHANNELS = ["voice", "chat", "email", "sms", "social", "web_form", "mobile_app", "branch", "iot"]
MISSED_OFFER = ("missed_offer", "Missed an offer")
REASONS = [
    ("break", "Break", False),
    ("lunch", "Lunch", False),
    ("training", "Training", False),
    ("meeting", "Meeting", False),
    ("coaching", "Coaching", False),
    (*MISSED_OFFER, True),
]
WRAP_UPS = [
    ("resolved", "Resolved"),
    ("follow_up", "Follow-up needed"),
    ("case_opened", "Case opened"),
    ("transferred", "Transferred"),
    ("no_action", "No action needed"),
    ("complaint", "Complaint"),
]
DEFAULT_QUEUE = ("general", "General")


def routing_defaults_ensure(apps=None) -> None:
    """Create the default rows that are missing (``apps``: a migration's historical models)."""
    registry = installed_apps if apps is None else apps
    model = lambda name: registry.get_model("engagement", name)  # noqa: E731
    for channel in CHANNELS:
        model("ChannelLoad").objects.get_or_create(
            channel=channel, defaults={"units": CHANNEL_UNITS.get(channel, DEFAULT_UNITS)}
        )
    for code, label, system in REASONS:
        model("ReasonCode").objects.get_or_create(code=code, defaults={"label": label, "system": system})
    for code, label in WRAP_UPS:
        model("WrapUpCode").objects.get_or_create(code=code, defaults={"label": label})
    model("Queue").objects.get_or_create(name=DEFAULT_QUEUE[0], defaults={"label": DEFAULT_QUEUE[1]})
